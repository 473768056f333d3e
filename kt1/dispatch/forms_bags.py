"""Forms of the bag pages: the bag list filters, opening a bag for a destination, scanning items in
and out, sealing, handing bags over, receiving with the seal check and opening scan by scan.

Forms parse input and offer only what the person may pick; the dispatch services decide (who holds
what, which secrecy levels may share a bag, whose vetting covers the bag, which state allows the
step) and their refusals land on these forms through kt1.core.web.call_service.
"""

from __future__ import annotations

import re

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kt1.accounts.choices import POSTAL_ROLES
from kt1.accounts.models import RoleAssignment, User
from kt1.core.permissions import restrict
from kt1.directory.models import Facility
from kt1.items.forms_post import FacilityChoice, PersonChoice, PersonChoices, postal_staff

from .choices import BagStatus, TransferStatus
from .models import Bag, BagTransfer, MailTrip
from .policy import seal_hidden_from

DIRECTIONS = [("", _("Đi và đến")), ("out", _("Túi đi (đóng tại cơ sở của tôi)")),
              ("in", _("Túi đến (gửi đến cơ sở của tôi)"))]
JOINERS = re.compile(r"[\s,;\-]+")
S10_TOKEN = re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}")


# --- who and where ----------------------------------------------------------------------------------


def home_facility(user) -> Facility | None:
    """The facility a person works at (their first current facility role): where they open bags."""
    assignment = (RoleAssignment.objects.current().filter(user=user, facility__isnull=False)
                  .select_related("facility").order_by("pk").first())
    return assignment.facility if assignment else None


def destinations_for(user) -> QuerySet:
    """Active facilities of the person's province other than the one they work at."""
    home = home_facility(user)
    qs = restrict(Facility.objects.active(), user)
    if home is None:
        return qs.none()
    return qs.filter(province_id=home.province_id).exclude(pk=home.pk).order_by("postcode")


def staff_at(facility: Facility, *, exclude: User | None = None) -> QuerySet:
    """Active postal staff working at one facility: the people who may witness a receiving or an
    opening there and be named on its written record."""
    users = User.objects.filter(is_active=True, pk__in=RoleAssignment.objects.current().filter(
        role__in=POSTAL_ROLES, facility=facility).values("user_id"))
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return users.order_by("full_name", "username")


def _present_field() -> PersonChoices:
    return PersonChoices(
        label=_("Người chứng kiến"), queryset=User.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Những người có mặt; họ được ghi tên trong biên bản nếu có sai lệch và tự xác nhận biên bản."),
        error_messages={"invalid_choice": _("Người được chọn không làm việc tại cơ sở này.")})


def _scan_widget(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters",
                                  "class": "tracking scan-input", "autofocus": True, **attrs})


# --- list and new bag -------------------------------------------------------------------------------


class BagFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm"), required=False, max_length=60, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": _("Số hiệu túi, số niêm phong hoặc số hiệu bưu gửi")}))
    status = forms.ChoiceField(label=_("Trạng thái"), required=False, choices=[("", _("Tất cả")), *BagStatus.choices])
    direction = forms.ChoiceField(label=_("Chiều"), required=False, choices=DIRECTIONS)
    facility = FacilityChoice(label=_("Cơ sở"), queryset=Facility.objects.none(), required=False,
                              empty_label=_("— cơ sở của tôi —"),
                              error_messages={"invalid_choice": _("Cơ sở không thuộc phạm vi của bạn.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = restrict(Facility.objects.all(), viewer).order_by("postcode")

    def values(self) -> dict:
        if not self.is_valid():
            return {"q": "", "status": "", "direction": "", "facility": None}
        cd = self.cleaned_data
        return {"q": (cd.get("q") or "").strip(), "status": cd.get("status") or "",
                "direction": cd.get("direction") or "", "facility": cd.get("facility")}


class BagNewForm(forms.Form):
    destination = FacilityChoice(label=_("Nơi nhận túi"), queryset=Facility.objects.none(),
                                 error_messages={"invalid_choice": _("Nơi nhận không hợp lệ hoặc đã ngừng hoạt động."),
                                                 "required": _("Chọn nơi nhận túi.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = destinations_for(viewer)


# --- filling and sealing ----------------------------------------------------------------------------


class ScanForm(forms.Form):
    """One or more tracking numbers, typed or scanned (a scanner types the number and Enter, which
    submits the form). The services parse each number and name any that is wrong."""

    tracking_number = forms.CharField(label=_("Quét hoặc nhập số hiệu bưu gửi"), max_length=2000,
                                      widget=_scan_widget(placeholder="RR123456785VN"),
                                      error_messages={"required": _("Quét hoặc nhập số hiệu bưu gửi.")})

    def numbers(self) -> list[str]:
        """The numbers entered: several S10 identifiers run together or separated by spaces, commas
        or new lines; anything else is passed on whole, for the service to name what is wrong."""
        raw = (self.cleaned_data.get("tracking_number") or "").strip()
        compact = JOINERS.sub("", raw.upper())
        found = S10_TOKEN.findall(compact)
        if not found or "".join(found) != compact:
            return [raw]
        return list(dict.fromkeys(found))


class RemoveForm(forms.Form):
    tracking_number = forms.CharField(max_length=20, widget=forms.HiddenInput)


class SealForm(forms.Form):
    seal_number = forms.CharField(label=_("Số niêm phong (kẹp chì)"), max_length=30,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "class": "tracking"}),
                                  error_messages={"required": _("Nhập số niêm phong (kẹp chì) của túi.")})
    last_in_dispatch = forms.BooleanField(label=_("Túi cuối cùng của chuyến thư"), required=False)


# --- transfers --------------------------------------------------------------------------------------


class BagChoices(forms.ModelMultipleChoiceField):
    viewer = None  # set by the form: the seal number is named only to those who may be told it

    def label_from_instance(self, obj):
        secrecy = f", {obj.highest_secrecy}" if obj.highest_secrecy != "none" else ""
        if self.viewer is None or seal_hidden_from(self.viewer, obj):
            return gettext("%(b)s → %(d)s (%(n)d bưu gửi%(x)s)") % {
                "b": obj.identifier, "d": obj.destination, "n": obj.item_count, "x": secrecy}
        return gettext("%(b)s → %(d)s (niêm phong %(s)s, %(n)d bưu gửi%(x)s)") % {
            "b": obj.identifier, "d": obj.destination, "s": obj.seal_number, "n": obj.item_count, "x": secrecy}


def bags_to_hand_over(user) -> QuerySet:
    """Sealed bags the person holds that are not already on an unconfirmed transfer."""
    busy = BagTransfer.objects.filter(status=TransferStatus.OPEN).values("bags")
    return (restrict(Bag.objects.select_related("origin", "destination"), user)
            .filter(holder=user, status__in=[BagStatus.SEALED, BagStatus.IN_TRANSIT])
            .exclude(pk__in=busy).order_by("destination__postcode", "identifier"))


class TransferNewForm(forms.Form):
    """The holder lists sealed bags for a colleague or a vehicle crew, who confirms in their own
    session; nothing moves until then."""

    bags = BagChoices(label=_("Túi tôi đang giữ"), queryset=Bag.objects.none(), widget=forms.CheckboxSelectMultiple,
                      error_messages={"required": _("Chọn ít nhất một túi."),
                                      "invalid_choice": _("Bạn không giữ túi này, hoặc túi đang trong phiếu khác.")})
    taker = PersonChoice(label=_("Người nhận túi"), queryset=User.objects.none(), error_messages={
        "invalid_choice": _("Người được chọn không hợp lệ hoặc không còn làm việc."), "required": _("Chọn người nhận túi.")})
    mail_trip = forms.ModelChoiceField(queryset=MailTrip.objects.none(), required=False, widget=forms.HiddenInput,
                                       error_messages={"invalid_choice": _("Chuyến thư không hợp lệ.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bags"].queryset = bags_to_hand_over(viewer)
        self.fields["bags"].viewer = viewer
        self.fields["taker"].queryset = postal_staff(viewer).exclude(pk=viewer.pk)
        self.fields["mail_trip"].queryset = restrict(MailTrip.objects.all(), viewer)


# --- receiving and opening --------------------------------------------------------------------------


class ReceiveForm(forms.Form):
    seal_number = forms.CharField(label=_("Số niêm phong đọc trên túi"), max_length=30,
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "class": "tracking",
                                                                "autofocus": True}),
                                  help_text=_("Đọc số trên kẹp chì, không chép từ giấy tờ đi kèm."),
                                  error_messages={"required": _("Nhập số niêm phong đọc trên túi.")})
    seal_intact = forms.BooleanField(label=_("Niêm phong nguyên vẹn"), required=False,
                                     help_text=_("Bỏ chọn nếu kẹp chì, dây niêm phong hoặc túi có dấu hiệu bị tác động."))
    present = _present_field()

    def __init__(self, *args, bag: Bag, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = staff_at(bag.destination, exclude=viewer)


class OpenScanForm(ScanForm):
    damaged = forms.BooleanField(label=_("Bưu gửi hư hỏng"), required=False,
                                 help_text=_("Chọn khi bì rách, ướt, có dấu hiệu bị bóc."))
    present = _present_field()

    def __init__(self, *args, bag: Bag, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tracking_number"].label = _("Quét bưu gửi lấy ra khỏi túi")
        self.fields["present"].queryset = staff_at(bag.destination, exclude=viewer)

    def clean(self):
        data = super().clean()
        if data.get("tracking_number") and len(self.numbers()) > 1:
            self.add_error("tracking_number", gettext("Mở túi quét từng bưu gửi một."))
        return data


PASTE_MAX = 1000
PASTE_SEPARATORS = re.compile(r"[\s,;]+")


class PasteScanForm(forms.Form):
    """Many numbers pasted at once (a list exported from a handheld): sent as one batch, each
    number standing alone."""

    numbers_text = forms.CharField(label=_("Dán nhiều mã"), max_length=PASTE_MAX * 20,
                                   widget=forms.Textarea(attrs={"rows": 4, "class": "tracking", "autocomplete": "off"}),
                                   help_text=_("Mỗi số hiệu cách nhau bởi dấu cách, dấu phẩy hoặc xuống dòng."),
                                   error_messages={"required": _("Dán ít nhất một số hiệu.")})

    def clean_numbers_text(self):
        text = self.cleaned_data["numbers_text"]
        if len(self.numbers(text)) > PASTE_MAX:
            raise forms.ValidationError(gettext("Tối đa %(n)d số hiệu mỗi lần.") % {"n": PASTE_MAX})
        return text

    def numbers(self, text: str | None = None) -> list[str]:
        text = self.cleaned_data.get("numbers_text", "") if text is None else text
        return [n for n in PASTE_SEPARATORS.split(text.strip()) if n]


class UnscanForm(forms.Form):
    """Undo one scan before the finish: which item, and why (kept in the bag's history)."""

    tracking_number = forms.CharField(widget=forms.HiddenInput, max_length=40)
    reason = forms.CharField(label=_("Lý do hủy quét"), max_length=500,
                             error_messages={"required": _("Nhập lý do hủy quét.")})


class OpenFinishForm(forms.Form):
    present = _present_field()

    def __init__(self, *args, bag: Bag, viewer, **kwargs):
        # Shown under OpenScanForm, which has `present` too: own ids, so each label names its field.
        kwargs.setdefault("auto_id", "id_finish_%s")
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = staff_at(bag.destination, exclude=viewer)

