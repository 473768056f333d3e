"""Forms of the post-side pages: pickup confirmation and collection, counter acceptance, events on
items a person holds, handover lists, delivery.

Forms parse input and offer only what a person may pick; the custody services decide (who holds
what, whose vetting covers which secrecy, which transition is legal) and their refusals land on
these forms through kt1.core.web.call_service.

People to choose from (a postman, a colleague, an agency clerk) are not "users in my scope" in the
people-management sense: a counter clerk may not browse personnel records, yet must name the clerk
standing at the counter. The pickers below therefore list only names of people holding a current
role that fits the operation, in the agency or province the person already works with.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kt1.accounts.choices import POSTAL_ROLES, Role
from kt1.accounts.models import RoleAssignment, User
from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ
from kt1.core.errors import ValidationFailed
from kt1.core.permissions import restrict, scope_of
from kt1.directory.models import Agency, Facility

from . import s10
from .choices import EventCode, HandoverKind, HandoverStatus, ItemKind, NextAction, Urgency
from .models import DeliveryFailureReason, Item

SIGNATURE_PREFIX = "data:image/png;base64,"


# --- who can be chosen ----------------------------------------------------------------------------


def _active_users(assignments: QuerySet) -> QuerySet:
    return User.objects.filter(is_active=True, pk__in=assignments.values("user_id")).order_by("full_name", "username")


def agency_clerks(agency: Agency | None) -> QuerySet:
    """Active clerks of one agency (the caller has already found the agency in the viewer's scope)."""
    if agency is None:
        return User.objects.none()
    return _active_users(RoleAssignment.objects.current().filter(role=Role.AGENCY_CLERK, agency=agency))


def postal_staff(viewer, *, roles=POSTAL_ROLES, province_ids=None) -> QuerySet:
    """Active postal staff working at an active facility of the viewer's provinces."""
    provinces = province_ids if province_ids is not None else scope_of(viewer).province_ids
    return _active_users(RoleAssignment.objects.current().filter(
        role__in=roles, facility__province_id__in=list(provinces), facility__in=Facility.objects.active()))


def postmen_for(pickup) -> QuerySet:
    return postal_staff(None, roles=[Role.POSTMAN], province_ids=[pickup.agency.province_id])


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name or obj.username} ({obj.username})"


class PersonChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name or obj.username} ({obj.username})"


# --- shared fields --------------------------------------------------------------------------------


class SignaturePad(forms.Widget):
    """A canvas the person draws on; kt1/static/kt1/signature.js writes the drawing as a PNG data
    URI into the hidden input named like the field. Pages using it load that script."""

    template_name = "items/handover_signature_widget.html"

    def format_value(self, value):
        value = value or ""
        return value if value.startswith(SIGNATURE_PREFIX) else ""


class SignatureField(forms.CharField):
    widget = SignaturePad

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Chữ ký (ký trên màn hình)"))
        kwargs.setdefault("error_messages", {"required": _("Hãy ký trên màn hình trước khi xác nhận.")})
        kwargs.setdefault("max_length", 200_000)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and not value.startswith(SIGNATURE_PREFIX):
            raise ValidationError(gettext("Chữ ký không hợp lệ; hãy ký lại."), code="invalid")
        return value


class TrackingNumbersField(forms.CharField):
    """Tracking numbers typed or scanned, one per line (a scanner types the number then Enter)."""

    widget = forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false",
                                   "class": "scan"})

    def clean(self, value):
        value = super().clean(value)
        numbers: list[str] = []
        errors: list[str] = []
        for raw in (value or "").replace(",", "\n").replace(";", "\n").splitlines():
            if not raw.strip():
                continue
            try:
                number = str(s10.parse(raw))
            except ValidationFailed as exc:
                errors.append(str(exc.message))
                continue
            if number not in numbers:
                numbers.append(number)
        if errors:
            raise ValidationError(errors)
        return numbers


def _person_field(label, **kwargs) -> PersonChoice:
    return PersonChoice(label=label, queryset=User.objects.none(), error_messages={
        "invalid_choice": _("Người được chọn không hợp lệ hoặc không còn làm việc."),
        "required": _("Bắt buộc."),
    }, **kwargs)


def _signed_name(label) -> forms.CharField:
    return forms.CharField(label=label, max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))


# --- pickups --------------------------------------------------------------------------------------


class PickupConfirmForm(forms.Form):
    """Counter clerk or supervisor confirms a pickup request and assigns a postman. The agency-side
    pickup page renders it (`PickupConfirmForm(pickup=pickup)`) and posts to items:pickup_confirm."""

    postman = _person_field(_("Bưu tá thu gom"))

    def __init__(self, *args, pickup, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["postman"].queryset = postmen_for(pickup)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"}))


class PickupCollectForm(forms.Form):
    """The assigned postman at the agency: which items he takes, the envelope check and weight of
    each, and the agency clerk who hands them over, signing on the postman's screen."""

    giver = _person_field(_("Văn thư giao bưu gửi"))
    giver_signed_name = _signed_name(_("Họ tên văn thư (tự ghi)"))
    signature = SignatureField()

    def __init__(self, *args, pickup, items: list[Item], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        self.fields["giver"].queryset = agency_clerks(pickup.agency)
        holders = {i.holder_id for i in items}
        if len(holders) == 1 and not self.is_bound:
            self.initial["giver"] = next(iter(holders))
        self.line_fields = []
        for item in items:
            n = item.tracking_number
            self.fields[f"take_{n}"] = forms.BooleanField(label=_("Nhận %(n)s") % {"n": n}, required=False, initial=True)
            self.fields[f"ok_{n}"] = forms.BooleanField(label=_("Bì, niêm phong nguyên vẹn"), required=False,
                                                        initial=True)
            self.fields[f"weight_{n}"] = forms.IntegerField(label=_("Khối lượng cân được (g)"), min_value=1,
                                                            initial=item.weight_g)
            self.line_fields.append((item, self[f"take_{n}"], self[f"ok_{n}"], self[f"weight_{n}"]))

    def clean(self):
        data = super().clean()
        if not self.chosen_numbers():
            raise ValidationError(gettext("Chọn ít nhất một bưu gửi để nhận."))
        return data

    def chosen_numbers(self) -> list[str]:
        return [i.tracking_number for i in self.items if self.cleaned_data.get(f"take_{i.tracking_number}")]

    def envelope_ok(self) -> dict[str, bool]:
        return {n: bool(self.cleaned_data.get(f"ok_{n}")) for n in self.chosen_numbers()}

    def weights(self) -> dict[str, int]:
        return {n: self.cleaned_data[f"weight_{n}"] for n in self.chosen_numbers()
                if self.cleaned_data.get(f"weight_{n}")}


# --- counter --------------------------------------------------------------------------------------


class AgencyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.short_name})"


def agencies_for(viewer) -> QuerySet:
    return restrict(Agency.objects.active(), viewer).order_by("name")


class CounterAgencyForm(forms.Form):
    """Step one at the counter (GET): which agency the clerk standing there comes from."""

    agency = AgencyChoice(label=_("Cơ quan gửi"), queryset=Agency.objects.none(),
                          error_messages={"invalid_choice": _("Cơ quan không hợp lệ hoặc đã ngừng hiệu lực.")})

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies_for(viewer)


class CounterAcceptForm(forms.Form):
    """The counter clerk takes registered items from the agency clerk present, who signs on the
    counter clerk's screen."""

    giver = _person_field(_("Văn thư mang bưu gửi đến"))
    tracking_numbers = TrackingNumbersField(
        label=_("Số hiệu bưu gửi"), help_text=_("Mỗi dòng một số hiệu; có thể quét mã vạch (máy quét tự xuống dòng)."))
    giver_signed_name = _signed_name(_("Họ tên văn thư (tự ghi)"))
    signature = SignatureField()

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["giver"].queryset = agency_clerks(agency)


class CounterRegisterForm(forms.Form):
    """Register an item at the counter on the agency's behalf (envelope data only: the agency's
    registry number, document number and summary are entered by the agency, never at the post)."""

    holder = _person_field(_("Văn thư mang bưu gửi đến"))
    recipient_agency = AgencyChoice(label=_("Cơ quan nhận"), queryset=Agency.objects.none(),
                                    error_messages={"invalid_choice": _("Cơ quan không hợp lệ hoặc đã ngừng hiệu lực.")})
    kind = forms.ChoiceField(label=_("Loại bưu gửi"), choices=ItemKind.choices)
    weight_g = forms.IntegerField(label=_("Khối lượng (g)"), min_value=1)
    secrecy = forms.ChoiceField(label=_("Độ mật (ghi ngoài bì)"), choices=Secrecy.choices)
    urgency = forms.ChoiceField(label=_("Độ khẩn"), choices=Urgency.choices)
    deliver_by = forms.DateTimeField(label=_("Hẹn phát trước"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
                                     help_text=_("Chỉ cho bưu gửi hẹn giờ."))
    named_recipient = forms.CharField(label=_("Người nhận đích danh"), max_length=150, required=False)
    named_only = forms.BooleanField(label=_("Chỉ người có tên mới được bóc bì"), required=False)

    def __init__(self, *args, viewer, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.fields["holder"].queryset = agency_clerks(agency)
        # Any agency of the country may receive (liên tỉnh); the sender stays one of the counter's province.
        self.fields["recipient_agency"].queryset = restrict(Agency.objects.active(), viewer, "recipient").exclude(
            pk=agency.pk).order_by("name")

    def clean_deliver_by(self):
        value = self.cleaned_data.get("deliver_by")
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=LOCAL_TZ)
        return value


# --- events on items a person holds ---------------------------------------------------------------

BULK_CODES = [
    (EventCode.OUT_FOR_DELIVERY.value, _("Đem đi phát (EDG)")),
    (EventCode.INTO_SORTING.value, _("Đến cơ sở khai thác (EDD)")),
    (EventCode.OUT_OF_SORTING.value, _("Rời cơ sở khai thác (EDE)")),
    (EventCode.AT_DELIVERY_OFFICE.value, _("Đến bưu cục phát (EMG)")),
    (EventCode.SEAL_CHECKED.value, _("Kiểm tra bì, niêm phong (KSEAL)")),
]
EVENT_CODES = [*BULK_CODES, (EventCode.DELIVERY_FAILED.value, _("Phát không thành công (EMH)"))]
LOCATION_CODES = {EventCode.INTO_SORTING, EventCode.OUT_OF_SORTING, EventCode.AT_DELIVERY_OFFICE}


class FacilityChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.postcode} {obj.name}"


def _facility_field() -> FacilityChoice:
    return FacilityChoice(label=_("Tại cơ sở"), queryset=Facility.objects.none(), required=False,
                          empty_label=_("— cơ sở tôi đang làm việc —"),
                          error_messages={"invalid_choice": _("Cơ sở không thuộc phạm vi của bạn.")})


def my_facilities(viewer) -> QuerySet:
    return Facility.objects.active().filter(pk__in=list(scope_of(viewer).facility_ids)).order_by("postcode")


class BulkEventForm(forms.Form):
    """One event for several items I hold. `batch` makes a double submit a harmless retry: each
    event's id is derived from it, so the engine recognises the repeat."""

    items = forms.MultipleChoiceField(label=_("Bưu gửi"), choices=(), widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": _("Chọn ít nhất một bưu gửi."),
                                                      "invalid_choice": _("Bạn không giữ bưu gửi %(value)s.")})
    code = forms.ChoiceField(label=_("Thao tác"), choices=BULK_CODES)
    facility = _facility_field()
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)
    batch = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, viewer, held: list[Item], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(i.tracking_number, i.tracking_number) for i in held]
        self.fields["facility"].queryset = my_facilities(viewer)
        if not self.is_bound:
            self.initial["batch"] = uuid.uuid4()


class EventForm(forms.Form):
    """One event on one item (the engine refuses an illegal one with a 409 page)."""

    code = forms.ChoiceField(label=_("Sự kiện"), choices=EVENT_CODES)
    facility = _facility_field()
    reason = forms.ModelChoiceField(label=_("Lý do phát không thành công"), queryset=DeliveryFailureReason.objects.none(),
                                    required=False, to_field_name="code")
    next_action = forms.ChoiceField(label=_("Hướng xử lý"), required=False,
                                    choices=[("", _("— theo lý do —")), *NextAction.choices])
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)
    event = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = my_facilities(viewer)
        self.fields["reason"].queryset = DeliveryFailureReason.objects.active().order_by("code")
        if not self.is_bound:
            self.initial["event"] = uuid.uuid4()


class AttemptFailedForm(forms.Form):
    reason = forms.ModelChoiceField(label=_("Lý do phát không thành công"), queryset=DeliveryFailureReason.objects.none(),
                                    to_field_name="code", empty_label=_("— chọn lý do —"),
                                    error_messages={"required": _("Chọn lý do."),
                                                    "invalid_choice": _("Lý do không có trong danh mục đang dùng.")})
    next_action = forms.ChoiceField(label=_("Hướng xử lý tiếp theo"), required=False,
                                    choices=[("", _("— theo lý do đã chọn —")), *NextAction.choices])
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)
    event = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = DeliveryFailureReason.objects.active().order_by("code")
        if not self.is_bound:
            self.initial["event"] = uuid.uuid4()


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("Lý do chuyển hoàn"), max_length=300)
    event = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        # Shown on the item page next to EventForm, which has `note` and `event` too: own ids, so
        # the label "Lý do chuyển hoàn" points at this form's field, not the event form's.
        kwargs.setdefault("auto_id", "id_return_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["event"] = uuid.uuid4()


# --- handover lists -------------------------------------------------------------------------------


class HandoverFilterForm(forms.Form):
    q = forms.CharField(label=_("Tìm"), required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Số phiếu hoặc số hiệu")}))
    status = forms.ChoiceField(label=_("Trạng thái"), required=False,
                               choices=[("", _("Tất cả")), *HandoverStatus.choices])
    kind = forms.ChoiceField(label=_("Loại"), required=False, choices=[("", _("Tất cả")), *HandoverKind.choices])

    def values(self) -> dict:
        if not self.is_valid():
            return {"q": "", "status": "", "kind": ""}
        return {k: (self.cleaned_data.get(k) or "").strip() for k in ("q", "status", "kind")}


class InternalHandoverForm(forms.Form):
    """The holder lists items for a colleague, who signs in their own session."""

    items = forms.MultipleChoiceField(label=_("Bưu gửi tôi đang giữ"), choices=(), required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      error_messages={"invalid_choice": _("Bạn không giữ bưu gửi %(value)s.")})
    scanned = TrackingNumbersField(label=_("Hoặc quét / nhập số hiệu"), required=False,
                                   help_text=_("Mỗi dòng một số hiệu."))
    taker = _person_field(_("Người nhận bàn giao"))
    note = forms.CharField(label=_("Ghi chú"), max_length=300, required=False)

    def __init__(self, *args, viewer, held: list[Item], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(i.tracking_number, i.tracking_number) for i in held]
        self.fields["taker"].queryset = postal_staff(viewer).exclude(pk=viewer.pk)

    def clean(self):
        data = super().clean()
        numbers = list(data.get("items") or [])
        for n in data.get("scanned") or []:
            if n not in numbers:
                numbers.append(n)
        if not numbers and not self.errors:
            raise ValidationError(gettext("Chọn hoặc quét ít nhất một bưu gửi."))
        data["tracking_numbers"] = numbers
        return data


class OnScreenSignatureForm(forms.Form):
    """The recipient (or, returning, the sender) clerk signs on the postman's screen."""

    taker_signed_name = _signed_name(_("Họ tên người ký nhận (tự ghi)"))
    signature = SignatureField()


class DeliverForm(OnScreenSignatureForm):
    items = forms.MultipleChoiceField(label=_("Bưu gửi giao"), choices=(), widget=forms.CheckboxSelectMultiple,
                                      error_messages={"required": _("Chọn ít nhất một bưu gửi."),
                                                      "invalid_choice": _("Bưu gửi %(value)s không có trong danh sách phát này.")})
    taker = _person_field(_("Văn thư ký nhận"))

    field_order = ["items", "taker", "taker_signed_name", "signature"]

    def __init__(self, *args, agency: Agency, items: list[Item], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(i.tracking_number, i.tracking_number) for i in items]
        self.fields["taker"].queryset = agency_clerks(agency)
        if not self.is_bound:
            self.initial["items"] = [i.tracking_number for i in items]
