"""Items and custody over the API (issue 3 §8): register an item, read its envelope and timeline,
record custody events one by one or as a batch from a handheld.

Thin views in the HackSoft shape: each operation is one API class with its own input and output
serializers; it parses, calls a selector or a service, and serializes. Every read starts from the
caller's restricted queryset (kt1.items.selectors), so an item outside the caller's scope answers
404 exactly like an unknown one. Agency-private fields (registry number, document number, summary)
are only ever shown to clerks of the two agencies, through the audited kt1.items.private.

Two URLs carry two operations each (GET and POST); their URL classes combine the two operation
classes and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from kt1.api.auth import read_confirmed
from kt1.api.errors import _first_message
from kt1.core.choices import Secrecy
from kt1.core.errors import NotFound, PermissionDenied, ValidationFailed
from kt1.core.permissions import has_perm, restrict, scope_of
from kt1.directory.models import Agency, AgencyAddress
from kt1.items import selectors, services
from kt1.items.choices import EventCode, ItemKind, ItemStatus, NextAction, Urgency
from kt1.items.models import Item
from kt1.items.private import may_read_private, may_read_private_of, private_read
from kt1.items.transitions import EDGES

from .base import ScopedApiMixin, batch_entries_field, validate_entries

BATCH_MAX = 1000
# Whoever holds none of the permissions the custody state machine asks for cannot record any event.
EVENT_PERMISSIONS = frozenset(edge.permission for edge in EDGES)

_INVALID_CHOICE = gettext_lazy("Giá trị “{input}” không hợp lệ.")
_NOT_INTEGER = gettext_lazy("Phải là số nguyên.")
_ID = {"invalid": _NOT_INTEGER}
_DATE = {"invalid": gettext_lazy("Ngày theo dạng YYYY-MM-DD.")}


def _choice(choices, **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=choices, error_messages={"invalid_choice": _INVALID_CHOICE}, **kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset: a bare local time from a device in another zone (or with a
    wrong clock setting) would silently shift by hours."""

    default_error_messages = {
        "invalid": gettext_lazy("Thời điểm phải theo ISO 8601 có múi giờ, ví dụ 2026-03-01T08:30:00+07:00."),
        "naive": gettext_lazy("Thời điểm phải ghi rõ múi giờ, ví dụ 2026-03-01T08:30:00+07:00."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        return super().to_internal_value(value)


# --- shared output shapes -------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Mã lỗi ổn định (invalid, not_found, not_holder, ...)")
    message = serializers.CharField()
    detail = serializers.DictField(help_text="Lỗi theo từng trường")

    class Meta:
        ref_name = "Error"


class PersonRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="__str__")

    class Meta:
        ref_name = "PersonRef"


class AgencyRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    short_name = serializers.CharField()

    class Meta:
        ref_name = "AgencyRef"


class FacilityRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    postcode = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "FacilityRef"


class AddressRefOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    label = serializers.CharField()
    street = serializers.CharField()
    admin_unit = serializers.CharField(source="admin_unit.name")

    class Meta:
        ref_name = "AddressRef"


class PrivateOutput(serializers.Serializer):
    registry_number = serializers.CharField(allow_null=True)
    document_number = serializers.CharField(allow_null=True)
    summary = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "ItemPrivate"


class ItemOutput(serializers.Serializer):
    """What is written outside the envelope, and where the item is."""

    tracking_number = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    weight_g = serializers.IntegerField()
    secrecy = serializers.CharField()
    urgency = serializers.CharField()
    urgency_label = serializers.CharField(source="get_urgency_display")
    deliver_by = serializers.DateTimeField(allow_null=True)
    zone = serializers.CharField()
    sender_agency = AgencyRefOutput()
    recipient_agency = AgencyRefOutput()
    recipient_address = AddressRefOutput(allow_null=True)
    named_recipient = serializers.CharField()
    named_only = serializers.BooleanField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    is_returning = serializers.BooleanField()
    holder = PersonRefOutput(allow_null=True)
    holder_since = serializers.DateTimeField(allow_null=True)
    facility = FacilityRefOutput(allow_null=True)
    issuing_facility = FacilityRefOutput()
    registered_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    first_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "Item"

    def to_representation(self, item) -> dict[str, Any]:
        """The fields declared above, written out directly (a tracking lookup is the API's most
        frequent answer; DRF's generic walk costs more than the rest of the request).
        tests/api/test_items_api.py checks this against the generic representation."""
        moment = self.fields["registered_at"].to_representation
        address = item.recipient_address
        return {
            "tracking_number": item.tracking_number, "kind": item.kind, "kind_label": _label(get_language(), ItemKind, item.kind),
            "weight_g": item.weight_g, "secrecy": item.secrecy, "urgency": item.urgency,
            "urgency_label": _label(get_language(), Urgency, item.urgency),
            "deliver_by": None if item.deliver_by is None else moment(item.deliver_by), "zone": item.zone,
            "sender_agency": _agency_ref(item.sender_agency), "recipient_agency": _agency_ref(item.recipient_agency),
            "recipient_address": None if address is None else {
                "id": address.pk, "label": address.label, "street": address.street, "admin_unit": address.admin_unit.name},
            "named_recipient": item.named_recipient, "named_only": item.named_only, "status": item.status,
            "status_label": _label(get_language(), ItemStatus, item.status), "is_returning": item.is_returning,
            "holder": _person_ref(item.holder),
            "holder_since": None if item.holder_since is None else moment(item.holder_since),
            "facility": _facility_ref(item.facility), "issuing_facility": _facility_ref(item.issuing_facility),
            "registered_at": moment(item.registered_at),
            "accepted_at": None if item.accepted_at is None else moment(item.accepted_at),
            "first_attempt_at": None if item.first_attempt_at is None else moment(item.first_attempt_at),
            "delivered_at": None if item.delivered_at is None else moment(item.delivered_at),
        }


class ItemDetailOutput(ItemOutput):
    private = serializers.SerializerMethodField(
        help_text="Thông tin riêng của cơ quan: chỉ văn thư cơ quan gửi và cơ quan nhận thấy; người khác nhận null.")

    class Meta:
        ref_name = "ItemDetail"

    @extend_schema_field(PrivateOutput(allow_null=True))
    def get_private(self, item) -> dict | None:
        private = self.context.get("private")
        return None if private is None else PrivateOutput(private).data

    def to_representation(self, item) -> dict[str, Any]:
        return {**super().to_representation(item), "private": self.get_private(item)}


class EventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    event_uuid = serializers.UUIDField()
    code = serializers.CharField()
    code_label = serializers.CharField(source="get_code_display")
    status_after = serializers.CharField()
    status_after_label = serializers.CharField(source="get_status_after_display")
    actor = PersonRefOutput()
    giver = PersonRefOutput(allow_null=True)
    taker = PersonRefOutput(allow_null=True)
    facility = FacilityRefOutput(allow_null=True)
    occurred_at = serializers.DateTimeField(help_text="Thời điểm máy chủ ghi nhận")
    device_time = serializers.DateTimeField(allow_null=True, help_text="Thời điểm trên thiết bị")
    reason = serializers.CharField(source="reason.code", allow_null=True, help_text="Mã lý do phát không thành công")
    reason_label = serializers.CharField(source="reason.label", allow_null=True)
    next_action = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    handover = serializers.CharField(source="handover.number", allow_null=True, help_text="Số phiếu giao nhận")

    class Meta:
        ref_name = "CustodyEvent"

    def to_representation(self, event) -> dict[str, Any]:
        """The fields declared above, written out directly: a batch answers up to 1,000 events and
        DRF's generic walk over nested fields costs ~0.5 ms an event. tests/api/test_items_api.py
        checks this against the generic representation for every kind of event."""
        fields = self.fields
        return {
            "seq": event.seq, "event_uuid": str(event.event_uuid), "code": event.code,
            # Not get_FOO_display(): it hashes every choice's lazy label, translating each one.
            "code_label": str(EventCode(event.code).label), "status_after": event.status_after,
            "status_after_label": _label(get_language(), ItemStatus, event.status_after),
            "actor": _person_ref(event.actor), "giver": _person_ref(event.giver), "taker": _person_ref(event.taker),
            "facility": _facility_ref(event.facility),
            "occurred_at": fields["occurred_at"].to_representation(event.occurred_at),
            "device_time": None if event.device_time is None else fields["device_time"].to_representation(
                event.device_time),
            "reason": None if event.reason is None else event.reason.code,
            "reason_label": None if event.reason is None else event.reason.label,
            "next_action": event.next_action, "note": event.note,
            "handover": None if event.handover is None else event.handover.number,
        }


def _person_ref(user) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": str(user)}


def _agency_ref(agency) -> dict[str, Any]:
    return {"id": agency.pk, "name": agency.name, "short_name": agency.short_name}


def _facility_ref(facility) -> dict[str, Any] | None:
    return None if facility is None else {"id": facility.pk, "postcode": facility.postcode, "name": facility.name}


_ERRORS = {
    400: OpenApiResponse(ErrorOutput, description="Dữ liệu không hợp lệ (mã lỗi trong `code`)"),
    403: OpenApiResponse(ErrorOutput, description="Thấy bưu gửi nhưng không được thực hiện thao tác"),
    404: OpenApiResponse(ErrorOutput, description="Không có, hoặc ngoài phạm vi của người gọi"),
}


def _item_representation(item: Item, private: dict | None) -> dict:
    """ItemDetailOutput's shape; one ItemOutput for the process (a new serializer copies its fields)."""
    return {**_ITEM_OUTPUT.to_representation(item), "private": None if private is None else PrivateOutput(private).data}


_ITEM_OUTPUT = ItemOutput()


def _card_representation(card: dict[str, Any], private: dict | None) -> dict[str, Any]:
    """_item_representation of an item read as a row (kt1.items.selectors.item_card): the tracking
    lookup builds no model instance. tests/api/test_representations.py holds the two equal."""
    moment = _ITEM_OUTPUT.fields["registered_at"].to_representation  # DRF's own writing (None stays None)

    def facility(prefix: str) -> dict[str, Any] | None:
        pk = card[f"{prefix}_id"]
        return None if pk is None else {"id": pk, "postcode": card[f"{prefix}__postcode"], "name": card[f"{prefix}__name"]}

    def agency(prefix: str) -> dict[str, Any]:
        return {"id": card[f"{prefix}_id"], "name": card[f"{prefix}__name"], "short_name": card[f"{prefix}__short_name"]}

    address, holder = card["recipient_address_id"], card["holder_id"]
    language = get_language()
    return {
        "tracking_number": card["tracking_number"], "kind": card["kind"],
        "kind_label": _label(language, ItemKind, card["kind"]),
        "weight_g": card["weight_g"], "secrecy": card["secrecy"], "urgency": card["urgency"],
        "urgency_label": _label(language, Urgency, card["urgency"]), "deliver_by": moment(card["deliver_by"]),
        "zone": card["zone"], "sender_agency": agency("sender_agency"), "recipient_agency": agency("recipient_agency"),
        "recipient_address": None if address is None else {
            "id": address, "label": card["recipient_address__label"], "street": card["recipient_address__street"],
            "admin_unit": card["recipient_address__admin_unit__name"]},
        "named_recipient": card["named_recipient"], "named_only": card["named_only"], "status": card["status"],
        "status_label": _label(language, ItemStatus, card["status"]), "is_returning": card["is_returning"],
        # str(User): the full name, or the username without one.
        "holder": None if holder is None else {"id": holder, "name": card["holder__full_name"] or card["holder__username"]},
        "holder_since": moment(card["holder_since"]), "facility": facility("facility"),
        "issuing_facility": facility("issuing_facility"), "registered_at": moment(card["registered_at"]),
        "accepted_at": moment(card["accepted_at"]), "first_attempt_at": moment(card["first_attempt_at"]),
        "delivered_at": moment(card["delivered_at"]),
        "private": None if private is None else PrivateOutput(private).data,
    }


_LABELS: dict[tuple[str | None, type, str], str] = {}


def _label(language: str | None, choices, value: str) -> str:
    """choices(value).label in the active language (`language`), translated once per process."""
    key = (language, choices, value)
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = str(choices(value).label)
    return label


# --- items: list and create --------------------------------------------------------------------


class ItemListApi(ScopedApiMixin, ListAPIView):
    """Items the caller may see, newest first: an agency's outgoing or incoming items, or what the
    post holds in the caller's area."""

    required_permission = "items.view"

    class FilterSerializer(serializers.Serializer):
        direction = _choice(["outgoing", "incoming"], required=False, allow_blank=True,
                            help_text="Theo cơ quan của người gọi: bưu gửi đi hoặc đến")
        status = _choice(ItemStatus.choices, required=False, allow_blank=True)
        q = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                  help_text="Số hiệu, người nhận, tên cơ quan")
        secrecy = _choice(Secrecy.choices, required=False, allow_blank=True)
        urgency = _choice(Urgency.choices, required=False, allow_blank=True)
        date_from = serializers.DateField(required=False, allow_null=True, error_messages=_DATE,
                                          help_text="Ngày đăng ký, từ")
        date_to = serializers.DateField(required=False, allow_null=True, error_messages=_DATE,
                                        help_text="Ngày đăng ký, đến")
        held_by_me = serializers.BooleanField(required=False, default=False, error_messages={
            "invalid": gettext_lazy("Chỉ nhận true hoặc false.")})

        class Meta:
            ref_name = "ItemListFilter"

    serializer_class = ItemOutput

    @extend_schema(operation_id="items_list", parameters=[FilterSerializer], responses={200: ItemOutput(many=True),
                                                                                          400: _ERRORS[400]})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = ItemListApi.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        return selectors.item_list(
            viewer=self.request.user, direction=f.get("direction", ""), q=f.get("q", ""), status=f.get("status", ""),
            secrecy=f.get("secrecy", ""), urgency=f.get("urgency", ""), date_from=f.get("date_from"),
            date_to=f.get("date_to"), held_by_me=f.get("held_by_me", False),
        )


class ItemPrivateInput(serializers.Serializer):
    registry_number = serializers.CharField(required=False, allow_blank=True,
                                            max_length=services.PRIVATE_MAX["registry_number"])
    document_number = serializers.CharField(required=False, allow_blank=True,
                                            max_length=services.PRIVATE_MAX["document_number"])
    summary = serializers.CharField(required=False, allow_blank=True, max_length=services.PRIVATE_MAX["summary"],
                                    help_text="Trích yếu; không được ghi cho tài liệu Tuyệt mật (A)")


class ItemCreateApi(ScopedApiMixin, APIView):
    """Register an outgoing item; the answer carries its S10 tracking number.

    An agency clerk registers for their own agency (`sender_agency` may be left out when the clerk
    serves one agency) and holds the envelope until the post accepts it. A counter clerk may
    register at the counter on the agency's behalf, naming in `holder` the agency clerk who brought it.
    """

    required_permission = "items.view"

    class InputSerializer(serializers.Serializer):
        sender_agency = serializers.IntegerField(required=False, allow_null=True, error_messages=_ID,
                                                 help_text="Mặc định: cơ quan của văn thư gọi API")
        recipient_agency = serializers.IntegerField(error_messages=_ID)
        kind = _choice(ItemKind.choices)
        weight_g = serializers.IntegerField(error_messages={"invalid": gettext_lazy("Khối lượng phải là số gam nguyên.")})
        secrecy = _choice(Secrecy.choices, default=Secrecy.NONE)
        urgency = _choice(Urgency.choices, default=Urgency.NONE)
        deliver_by = AwareDateTimeField(required=False, allow_null=True, help_text="Chỉ cho bưu gửi hẹn giờ")
        named_recipient = serializers.CharField(required=False, allow_blank=True, max_length=150)
        named_only = serializers.BooleanField(required=False, default=False)
        recipient_address = serializers.IntegerField(required=False, allow_null=True, error_messages=_ID,
                                                     help_text="Mặc định: địa chỉ phát mặc định của cơ quan nhận")
        holder = serializers.IntegerField(required=False, allow_null=True, error_messages=_ID,
                                          help_text="Giao dịch viên đăng ký tại quầy: văn thư cơ quan gửi đang mang bưu gửi")
        private = ItemPrivateInput(required=False, help_text="Chỉ văn thư hai cơ quan đọc được; lưu mã hóa")

        class Meta:
            ref_name = "ItemCreateInput"

    @extend_schema(
        operation_id="items_create",
        request=InputSerializer,
        responses={201: ItemDetailOutput, 400: _ERRORS[400], 403: _ERRORS[403]},
    )
    def post(self, request, *args, **kwargs):
        user = request.user
        if not (has_perm(user, "items.register") or has_perm(user, "items.accept")):
            raise PermissionDenied(_("Bạn không có quyền đăng ký bưu gửi."))
        serializer = ItemCreateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        private = {k: v for k, v in (data.get("private") or {}).items() if v}
        sender_id = data.get("sender_agency")
        if sender_id is None:
            own = sorted(scope_of(user).agency_ids)
            sender_id = own[0] if len(own) == 1 else None
        recipient = _agency_in_scope(user, data["recipient_agency"], "recipient_agency", _("Cơ quan nhận"), "recipient")
        item = services.item_register(
            actor=user,
            data=services.ItemInput(
                sender_agency=_agency_in_scope(user, sender_id, "sender_agency", _("Cơ quan gửi")),
                recipient_agency=recipient, kind=data["kind"], weight_g=data["weight_g"], secrecy=data["secrecy"],
                urgency=data["urgency"], deliver_by=data.get("deliver_by"),
                named_recipient=data.get("named_recipient", ""), named_only=data.get("named_only", False),
                recipient_address=_address_in_scope(user, data.get("recipient_address")), private=private,
            ),
            holder=_holder(data.get("holder")),
        )
        item = selectors.item_get(viewer=user, tracking_number=item.tracking_number)
        # The registering clerk just wrote these values: echo them back without decrypting.
        echoed = {k: private.get(k) for k in services.PRIVATE_FIELDS} if may_read_private(user, item) else None
        return Response(_item_representation(item, echoed), status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api:item_detail", kwargs={"tracking_number": item.tracking_number})})


def _agency_in_scope(user, pk: int | None, field: str, label: str, action: str = "view") -> Agency | None:
    """An agency the caller may see (as sender) or address (as recipient: any agency of the country);
    one outside the scope answers exactly like an unknown one."""
    if pk is None:
        return None
    agency = restrict(Agency.objects.all(), user, action).filter(pk=pk).first()
    if agency is None:
        message = _("%(label)s “%(name)s” không tồn tại.") % {"label": label, "name": pk}
        raise ValidationFailed(message, detail={field: message})
    return agency


def _address_in_scope(user, pk: int | None) -> AgencyAddress | None:
    if pk is None:
        return None
    address = restrict(AgencyAddress.objects.all(), user, "recipient").filter(pk=pk).first()
    if address is None:
        message = _("%(label)s “%(name)s” không tồn tại.") % {"label": _("Địa chỉ phát"), "name": pk}
        raise ValidationFailed(message, detail={"recipient_address": message})
    return address


def _holder(pk: int | None):
    """The agency clerk a counter clerk names; the service checks they are a clerk of the sender
    (and says nothing about anyone else)."""
    if pk is None:
        return None
    from kt1.accounts.models import User

    return User.objects.filter(pk=pk, is_active=True).first()


class ItemCollectionApi(ItemListApi, ItemCreateApi):
    """/items/: GET is ItemListApi, POST is ItemCreateApi."""


# --- one item ---------------------------------------------------------------------------------------


class ItemDetailApi(ScopedApiMixin, APIView):
    """One item by its S10 identifier. A malformed identifier or a wrong check digit answers 400
    naming the problem; an unknown item or one outside the caller's scope answers 404."""

    required_permission = "items.view"

    # The token is confirmed in the item's own statement (kt1.api.auth.read_confirmed).
    confirms_token_in_read = True

    @extend_schema(operation_id="items_retrieve", responses={200: ItemDetailOutput, 400: _ERRORS[400], 404: _ERRORS[404]})
    def get(self, request, tracking_number: str):
        card = read_confirmed(self, request, lambda check: selectors.item_card(
            viewer=request.user, tracking_number=tracking_number, check=check))
        private = None
        if may_read_private_of(request.user, card["sender_agency_id"], card["recipient_agency_id"]):
            private = private_read(viewer=request.user,
                                   item=selectors.item_get(viewer=request.user, tracking_number=card["tracking_number"]))
        return Response(_card_representation(card, private))


# --- custody events ---------------------------------------------------------------------------------


class ItemEventListApi(ScopedApiMixin, APIView):
    """The custody timeline of one item, oldest first."""

    required_permission = "items.view"

    @extend_schema(operation_id="items_events_list",
                   responses={200: EventOutput(many=True), 400: _ERRORS[400], 404: _ERRORS[404]})
    def get(self, request, tracking_number: str):
        item = selectors.item_get(viewer=request.user, tracking_number=tracking_number)
        return Response(EventOutput(selectors.item_events(viewer=request.user, item=item), many=True).data)


class EventInput(serializers.Serializer):
    event_uuid = serializers.UUIDField(
        error_messages={"invalid": gettext_lazy("Mã sự kiện phải là một UUID.")},
        help_text="Do thiết bị sinh; gửi lại cùng mã và cùng nội dung thì nhận lại sự kiện đã ghi")
    code = _choice(EventCode.choices)
    taker = serializers.IntegerField(required=False, allow_null=True, error_messages=_ID,
                                     help_text="Người nhận (khi phát: văn thư cơ quan nhận)")
    giver = serializers.IntegerField(required=False, allow_null=True, error_messages=_ID,
                                     help_text="Người giao: phải là người đang giữ bưu gửi")
    facility = serializers.IntegerField(required=False, allow_null=True, error_messages=_ID)
    device_time = AwareDateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=20,
                                   help_text="Mã lý do phát không thành công (chỉ với EMH)")
    next_action = _choice(NextAction.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    signer_name = serializers.CharField(required=False, allow_blank=True, max_length=150)

    class Meta:
        ref_name = "CustodyEventInput"


def _custody_request(tracking_number: str, data: dict[str, Any]) -> services.CustodyRequest:
    device_time = data.get("device_time")
    return services.CustodyRequest(
        event_uuid=data["event_uuid"], tracking_number=tracking_number, code=data["code"],
        taker_id=data.get("taker"), giver_id=data.get("giver"), facility_id=data.get("facility"),
        # One instant, one spelling: a retry sent with another offset is the same event.
        device_time=device_time.astimezone(dt.UTC) if device_time else None,
        reason_code=data.get("reason") or "", next_action=data.get("next_action") or "",
        note=data.get("note") or "", signer_name=data.get("signer_name") or "",
    )


def _may_record_events(user) -> bool:
    return any(has_perm(user, code) for code in EVENT_PERMISSIONS)


class ItemEventCreateApi(ScopedApiMixin, APIView):
    """Record one custody event: 201 on first receipt, 200 with the original event when the same
    `event_uuid` comes again with the same content, 422 when it comes with different content,
    409 for an event the item's state does not allow, 400 for a refusal (code says which:
    not_holder, taker_not_cleared, unknown_reason, ...)."""

    required_permission = "items.view"
    InputSerializer = EventInput

    @extend_schema(
        operation_id="items_events_create", request=EventInput,
        responses={201: EventOutput, 200: OpenApiResponse(EventOutput, description="Đã ghi trước đó (gửi lại)"),
                   **_ERRORS, 409: OpenApiResponse(ErrorOutput, description="Trạng thái bưu gửi không cho phép"),
                   422: OpenApiResponse(ErrorOutput, description="Mã sự kiện đã dùng với nội dung khác")},
    )
    def post(self, request, tracking_number: str):
        item = selectors.item_get(viewer=request.user, tracking_number=tracking_number)
        if not _may_record_events(request.user):
            raise PermissionDenied(_("Bạn không có quyền ghi sự kiện giao nhận."))
        serializer = EventInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.custody_record(actor=request.user,
                                         request=_custody_request(item.tracking_number, serializer.validated_data))
        return Response(EventOutput(result.event).data,
                        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class ItemEventsApi(ItemEventListApi, ItemEventCreateApi):
    """/items/{tracking_number}/events/: GET is ItemEventListApi, POST is ItemEventCreateApi."""


# --- batch upload ---------------------------------------------------------------------------------


class EventBatchEntryInput(EventInput):
    tracking_number = serializers.CharField(max_length=40)

    class Meta:
        ref_name = "CustodyEventBatchEntry"


_BatchEntries = batch_entries_field(EventBatchEntryInput)


class BatchResultOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="Vị trí trong danh sách gửi lên, từ 0")
    event_uuid = serializers.CharField(allow_null=True)
    tracking_number = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "duplicate", "refused"])
    http_status = serializers.IntegerField(help_text="Mã HTTP nếu sự kiện được gửi riêng")
    code = serializers.CharField(allow_null=True, help_text="Mã lỗi khi bị từ chối")
    message = serializers.CharField(allow_null=True)
    detail = serializers.DictField()
    event = EventOutput(allow_null=True)

    class Meta:
        ref_name = "CustodyEventBatchResult"


class EventBatchApi(ScopedApiMixin, APIView):
    """Record up to 1000 custody events from one device (a shift's scans). Each event stands alone:
    a refused event does not undo the others; events of one item apply in the order sent."""

    required_permission = None

    class InputSerializer(serializers.Serializer):
        events = _BatchEntries(allow_empty=False, max_length=BATCH_MAX, error_messages={
            "empty": gettext_lazy("Gửi ít nhất một sự kiện."),
            "max_length": gettext_lazy("Tối đa {max_length} sự kiện mỗi lần gửi."),
            "not_a_list": gettext_lazy("“events” phải là một danh sách."),
        })

        class Meta:
            ref_name = "CustodyEventBatchInput"

    class OutputSerializer(serializers.Serializer):
        results = BatchResultOutput(many=True)
        created = serializers.IntegerField()
        duplicates = serializers.IntegerField()
        refused = serializers.IntegerField()

        class Meta:
            ref_name = "CustodyEventBatchOutput"

    @extend_schema(operation_id="events_batch_create", request=InputSerializer,
                   responses={200: OutputSerializer, 400: _ERRORS[400], 404: _ERRORS[404]})
    def post(self, request):
        if not _may_record_events(request.user):
            # Nothing here for people who record no custody: same answer as a missing collection.
            raise NotFound(_("Không tìm thấy."))
        serializer = EventBatchApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        results: list[dict[str, Any] | None] = []
        requests: list[services.CustodyRequest] = []
        positions: list[int] = []
        for index, raw, data, detail in validate_entries(serializer.validated_data["events"], EventBatchEntryInput(),
                                                         _("Mỗi sự kiện là một đối tượng.")):
            if data is None:
                results.append(_refused(index, raw, "invalid", _first_message(detail) or _("Dữ liệu không hợp lệ."),
                                        400, detail))
                continue
            requests.append(_custody_request(data["tracking_number"], data))
            positions.append(index)
            results.append(None)
        event_output = EventOutput()
        for position, outcome in zip(positions, services.custody_record_batch(actor=request.user, requests=requests),
                                     strict=True):
            req = requests[outcome.index]
            if outcome.ok:
                results[position] = {
                    "index": position, "event_uuid": outcome.event_uuid, "tracking_number": outcome.event.item.tracking_number,
                    "status": "created" if outcome.created else "duplicate",
                    "http_status": 201 if outcome.created else 200, "code": None, "message": None, "detail": {},
                    "event": event_output.to_representation(outcome.event),
                }
            else:
                exc = outcome.error
                results[position] = _refused(position, {"event_uuid": outcome.event_uuid,
                                                        "tracking_number": req.tracking_number},
                                             exc.code, str(exc.message), exc.http_status, exc.as_dict()["detail"])
        counts = {s: sum(1 for r in results if r["status"] == s) for s in ("created", "duplicate", "refused")}
        # The results are already in OutputSerializer's shape (it documents the schema).
        return Response({"results": results, "created": counts["created"], "duplicates": counts["duplicate"],
                         "refused": counts["refused"]})


def _refused(index: int, raw, code: str, message: str, http_status: int, detail) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    return {"index": index, "event_uuid": _text_or_none(raw.get("event_uuid")),
            "tracking_number": _text_or_none(raw.get("tracking_number")), "status": "refused",
            "http_status": http_status, "code": code, "message": message, "detail": detail, "event": None}


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)[:64]

