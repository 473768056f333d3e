"""Forms of the agency side of items: registering an outgoing item, asking for a pickup, and the
filters of the tracking lists.

Plain forms: the services build, validate and save (kt1.items.services). A form parses input and
offers only what the person may pick — their own agencies as sender, the ACTIVE agencies they can
see as recipient, the REGISTERED items of their agency that no open pickup already covers. The
domain rules (weight limits as data, Hẹn giờ in the future, no summary on an A item) stay in the
service, so the page and the API refuse the same things with the same sentence.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kt1.accounts.choices import Role
from kt1.accounts.clearance import handling_clearance
from kt1.accounts.models import RoleAssignment, User
from kt1.core.choices import Secrecy
from kt1.core.permissions import restrict, scope_of
from kt1.directory.forms import AgencyChoiceField
from kt1.directory.models import Agency, AgencyAddress, Facility

from . import selectors
from .choices import ItemKind, ItemStatus, PickupStatus, Urgency
from .models import Item, PickupRequest

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _any(choices) -> list:
    return [("", _("Tất cả")), *choices]


def _datetime_local(**kwargs) -> forms.DateTimeField:
    """A local (Asia/Ho_Chi_Minh) date-time picker; Django makes the value aware in the current
    time zone, and the database stores it in UTC."""
    return forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        **kwargs,
    )


def clerk_agencies(user) -> QuerySet:
    """The active agencies this person is a clerk of (sender of their outgoing items)."""
    return Agency.objects.active().filter(pk__in=scope_of(user).agency_ids).order_by("name")


class AddressChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.label}: {obj.street}, {obj.admin_unit.name}"


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        parts = [obj.tracking_number, obj.recipient_agency.name, obj.get_kind_display(), f"{obj.weight_g} g"]
        if obj.secrecy != Secrecy.NONE:
            parts.append(gettext("Độ mật %(l)s") % {"l": obj.secrecy})
        if obj.urgency != Urgency.NONE:
            parts.append(obj.get_urgency_display())
        return " — ".join(str(p) for p in parts)


def recipient_addresses(user, agency_id) -> QuerySet:
    """The active delivery addresses of a recipient agency the person can see (empty otherwise)."""
    try:
        agency_id = int(agency_id)
    except (TypeError, ValueError):
        return AgencyAddress.objects.none()
    agency = restrict(Agency.objects.filter(pk=agency_id), user, "recipient").first()
    if agency is None:
        return AgencyAddress.objects.none()
    return restrict(AgencyAddress.objects.active().filter(agency=agency).select_related("admin_unit"), user,
                    "recipient").order_by(
        "-is_default", "label", "pk")


# --- registering an outgoing item ----------------------------------------------------------------


class ItemRegisterForm(forms.Form):
    sender_agency = forms.ModelChoiceField(Agency.objects.none(), label=_("Cơ quan gửi"))
    recipient_agency = AgencyChoiceField(
        Agency.objects.none(), label=_("Cơ quan nhận"),
        error_messages={"invalid_choice": _("Cơ quan nhận không tồn tại hoặc không chọn được.")},
    )
    recipient_address = AddressChoiceField(
        AgencyAddress.objects.none(), label=_("Địa chỉ phát"), required=False,
        empty_label=_("Địa chỉ phát mặc định của cơ quan nhận"),
        error_messages={"invalid_choice": _("Địa chỉ phát không thuộc cơ quan nhận hoặc đã ngừng sử dụng.")},
    )
    kind = forms.ChoiceField(label=_("Loại bưu gửi"), choices=ItemKind.choices, error_messages={
        "invalid_choice": _("Loại bưu gửi phải là thư, gói hoặc kiện tài liệu.")})
    weight_g = forms.IntegerField(label=_("Khối lượng (g)"), widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                                  help_text=_("Số gam, đã cân cả bì."),
                                  error_messages={"invalid": _("Khối lượng phải là số gam nguyên.")})
    secrecy = forms.ChoiceField(label=_("Độ mật"), choices=Secrecy.choices, initial=Secrecy.NONE,
                                help_text=_("Ngoài bì chỉ ghi chữ A, B hoặc C."),
                                error_messages={"invalid_choice": _("Độ mật phải là không mật, C, B hoặc A.")})
    urgency = forms.ChoiceField(label=_("Độ khẩn"), choices=Urgency.choices, initial=Urgency.NONE,
                                error_messages={"invalid_choice": _("Độ khẩn không hợp lệ.")})
    deliver_by = _datetime_local(label=_("Hẹn phát trước"), required=False,
                                 help_text=_("Chỉ với bưu gửi Hẹn giờ: thời điểm đã thỏa thuận, giờ Việt Nam."))
    named_recipient = forms.CharField(label=_("Người nhận đích danh"), max_length=150, required=False)
    named_only = forms.BooleanField(label=_("Chỉ người có tên mới được bóc bì"), required=False)
    registry_number = forms.CharField(label=_("Số đăng ký (sổ đi)"), max_length=50, required=False)
    document_number = forms.CharField(label=_("Số, ký hiệu văn bản"), max_length=100, required=False)
    summary = forms.CharField(label=_("Trích yếu"), max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Không ghi trích yếu với tài liệu Tuyệt mật (A)."))

    PRIVATE = ("registry_number", "document_number", "summary")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        own = clerk_agencies(user)
        self.fields["sender_agency"].queryset = own
        own_ids = list(own.values_list("pk", flat=True))
        if len(own_ids) == 1:
            # One agency: it is the sender; nothing to choose.
            self.fields["sender_agency"].initial = own_ids[0]
            self.fields["sender_agency"].widget = forms.HiddenInput()
        visible = restrict(Agency.objects.all(), user, "recipient")
        recipients = restrict(Agency.objects.active(), user, "recipient").select_related("province")
        if len(own_ids) == 1:
            recipients = recipients.exclude(pk=own_ids[0])
        self.fields["recipient_agency"].queryset = recipients.order_by("name")
        self.fields["recipient_agency"].visible = visible
        # htmx: choosing the recipient reloads the address choices (the page works without it:
        # a re-displayed form lists the addresses of the recipient already chosen).
        self.fields["recipient_agency"].widget.attrs.update({
            "hx-get": reverse_lazy("items:recipient_addresses"), "hx-target": "#id_recipient_address",
            "hx-trigger": "change", "hx-swap": "innerHTML",
        })
        recipient_id = self.data.get(self.add_prefix("recipient_agency")) if self.is_bound else None
        self.fields["recipient_address"].queryset = recipient_addresses(user, recipient_id)

    @property
    def single_sender(self) -> Agency | None:
        field = self.fields["sender_agency"]
        if isinstance(field.widget, forms.HiddenInput):
            return field.queryset.first()
        return None

    def clean(self):
        data = super().clean()
        address, recipient = data.get("recipient_address"), data.get("recipient_agency")
        if address is not None and recipient is not None and address.agency_id != recipient.pk:
            self.add_error("recipient_address", gettext("Địa chỉ phát không thuộc cơ quan nhận đã chọn."))
        return data

    @property
    def envelope_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.PRIVATE]

    @property
    def private_fields(self) -> list:
        return [self[name] for name in self.PRIVATE]

    def private(self) -> dict[str, str]:
        return {k: self.cleaned_data.get(k) or "" for k in self.PRIVATE if self.cleaned_data.get(k)}


# --- pickup requests ---------------------------------------------------------------------------------


def pickup_candidates(user) -> QuerySet:
    """Outgoing items of the person's agencies still waiting for the post, not yet in an open pickup."""
    open_statuses = [PickupStatus.REQUESTED, PickupStatus.CONFIRMED]
    return (selectors.item_list(viewer=user, direction="outgoing", status=ItemStatus.REGISTERED)
            .filter(Q(pickup_request__isnull=True) | ~Q(pickup_request__status__in=open_statuses)))


class PickupRequestForm(forms.Form):
    agency = forms.ModelChoiceField(Agency.objects.none(), label=_("Cơ quan"))
    items = ItemChoiceField(Item.objects.none(), label=_("Bưu gửi cần thu gom"), to_field_name="tracking_number",
                            widget=forms.CheckboxSelectMultiple,
                            error_messages={"required": _("Chọn ít nhất một bưu gửi cần thu gom.")})
    wanted_by = _datetime_local(label=_("Cần thu gom trước"), required=False, help_text=_("Giờ Việt Nam; để trống nếu không gấp."))
    note = forms.CharField(label=_("Ghi chú"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        own = clerk_agencies(user)
        self.fields["agency"].queryset = own
        own_ids = list(own.values_list("pk", flat=True))
        if len(own_ids) == 1:
            self.fields["agency"].initial = own_ids[0]
            self.fields["agency"].widget = forms.HiddenInput()
        candidates = pickup_candidates(user)
        self.fields["items"].queryset = candidates
        if not self.is_bound and "items" not in self.initial:
            # The usual case is "collect everything that is waiting": start with all ticked.
            self.initial["items"] = [i.tracking_number for i in candidates[:100]]

    def clean(self):
        data = super().clean()
        agency, items = data.get("agency"), data.get("items")
        if agency is not None and items:
            foreign = [i.tracking_number for i in items if i.sender_agency_id != agency.pk]
            if foreign:
                self.add_error("items", gettext("Bưu gửi %(l)s không phải của cơ quan đã chọn.") % {"l": ", ".join(foreign)})
        return data


def pickup_postman_choices(pickup: PickupRequest) -> list[User]:
    """Postmen who could be sent for this pickup now: active, working in the pickup's province, and
    cleared (vetting + training) for the most secret item in it.

    Read straight from role assignments on purpose: a counter clerk may not browse people (the user
    scope), yet must pick a postman; only names of cleared postmen of the province are shown."""
    province_id = pickup.agency.province_id
    level = Secrecy.NONE
    for secrecy in pickup.items.values_list("secrecy", flat=True):
        if Secrecy.rank(secrecy) > Secrecy.rank(level):
            level = secrecy
    users = (User.objects.filter(is_active=True, pk__in=RoleAssignment.objects.current().filter(
        role=Role.POSTMAN, facility__in=Facility.objects.active().filter(province_id=province_id)).values("user_id"))
             .order_by("full_name", "username"))
    return [u for u in users if handling_clearance(u, level)]


# --- list filters (GET) ------------------------------------------------------------------------------


class ItemFilterForm(forms.Form):
    """Filters of the outgoing / incoming lists. Invalid values are ignored (the list shows as if
    the filter were absent) rather than answering an error page for a hand-edited URL."""

    q = forms.CharField(label=_("Tìm"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Số hiệu, cơ quan, người nhận")}))
    agency = forms.TypedChoiceField(label=_("Cơ quan"), coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(label=_("Trạng thái"), choices=_any(ItemStatus.choices), required=False)
    secrecy = forms.ChoiceField(label=_("Độ mật"), choices=_any(Secrecy.choices), required=False)
    urgency = forms.ChoiceField(label=_("Độ khẩn"), choices=_any(Urgency.choices), required=False)
    date_from = forms.DateField(label=_("Từ ngày"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("Đến ngày"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        own = list(clerk_agencies(user))
        if len(own) > 1:
            self.fields["agency"].choices = _any([(a.pk, a.name) for a in own])
        else:
            del self.fields["agency"]

    def values(self) -> dict:
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        date_from: dt.date | None = data.get("date_from")
        date_to: dt.date | None = data.get("date_to")
        return {
            "agency_id": data.get("agency"), "q": (data.get("q") or "").strip(), "status": data.get("status") or "",
            "secrecy": data.get("secrecy") or "", "urgency": data.get("urgency") or "",
            "date_from": date_from, "date_to": date_to,
        }


class PickupFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), choices=_any(PickupStatus.choices), required=False)

    def values(self) -> dict:
        self.is_valid()
        return {"status": getattr(self, "cleaned_data", {}).get("status") or ""}
