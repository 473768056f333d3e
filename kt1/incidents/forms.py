"""Forms of the incident pages: the list filters and the closing conclusion."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kt1.core.permissions import restrict
from kt1.directory.models import Facility
from kt1.items.forms_post import FacilityChoice

from .choices import IncidentKind, IncidentStatus


class IncidentFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm"), required=False, max_length=60, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": _("Số sự cố, biên bản, số hiệu bưu gửi, túi hoặc số niêm phong")}))
    kind = forms.ChoiceField(label=_("Loại sự cố"), required=False, choices=[("", _("Tất cả")), *IncidentKind.choices])
    status = forms.ChoiceField(label=_("Trạng thái"), required=False,
                               choices=[("", _("Tất cả")), *IncidentStatus.choices])
    facility = FacilityChoice(label=_("Nơi xảy ra"), queryset=Facility.objects.none(), required=False,
                              empty_label=_("Tất cả"),
                              error_messages={"invalid_choice": _("Cơ sở không thuộc phạm vi của bạn.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = restrict(Facility.objects.all(), viewer).order_by("postcode")

    def values(self) -> dict:
        if not self.is_valid():
            return {"q": "", "kind": "", "status": "", "facility": None}
        cd = self.cleaned_data
        facility = cd.get("facility")
        return {"q": (cd.get("q") or "").strip(), "kind": cd.get("kind") or "", "status": cd.get("status") or "",
                "facility": facility.pk if facility else None}


class CloseForm(forms.Form):
    conclusion = forms.CharField(label=_("Kết luận"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                                 error_messages={"required": _("Ghi kết luận.")})
