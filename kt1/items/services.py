"""Every change to items and their custody.

The custody engine (`custody_record`) is the one place an item changes status or holder. It locks
the item row, checks the state machine, the actor's permission and scope, that the giver holds the
item, that the taker may take it (active, right role, vetting covering the item's secrecy now),
appends the event, updates the projection (status, holder, facility), and seals the event in the
audit chain, all in one transaction. A refused request changes nothing and is itself audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid as uuidlib
from collections.abc import Iterable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kt1.accounts.choices import POSTAL_ROLES, Role
from kt1.accounts.clearance import HandlingProfile, handling_clearance, handling_profiles
from kt1.accounts.models import RoleAssignment, User
from kt1.audit.services import audit_batch, audit_record
from kt1.core.choices import Secrecy
from kt1.core.clock import local_today, now
from kt1.core.errors import (
    ApplicationError,
    IdempotencyMismatch,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from kt1.core.fieldcrypto import encrypt_json
from kt1.core.numbering import next_number
from kt1.core.permissions import has_perm, restrict, scope_of
from kt1.core.records import insert_rows, require_active_reference, update_rows
from kt1.directory.choices import FacilityKind
from kt1.directory.models import Agency, AgencyAddress, Facility

from . import actions as A
from . import s10
from .choices import (
    EventCode,
    HandoverKind,
    HandoverStatus,
    ItemKind,
    ItemStatus,
    NextAction,
    PickupStatus,
    Urgency,
    Zone,
)
from .models import (
    CustodyEvent,
    DeliveryFailureReason,
    HandoverLine,
    HandoverList,
    Item,
    KindRule,
    PickupRequest,
    SerialRange,
)
from .transitions import BAG_ONLY_CODES, edge_for

PRIVATE_FIELDS = ("registry_number", "document_number", "summary")
PRIVATE_MAX = {"registry_number": 50, "document_number": 100, "summary": 1000}
DEFAULT_SERVICE_INDICATOR = "KT"


# --- identifiers ----------------------------------------------------------------------------------


@transaction.atomic
def serial_range_create(*, actor, facility: Facility, first_serial: int, last_serial: int,
                        service_indicator: str = DEFAULT_SERVICE_INDICATOR) -> SerialRange:
    """Configure a block of S10 serials for an issuing facility. Audit: serial_range.created."""
    if not has_perm(actor, "items.configure"):
        raise PermissionDenied(_("Bạn không có quyền cấu hình dải số hiệu."))
    require_active_reference(facility, "facility", _("Cơ sở"))
    if not restrict(Facility.objects.filter(pk=facility.pk), actor).exists():
        raise NotFound(_("Không tìm thấy."))
    service_indicator = (service_indicator or "").strip().upper()
    if len(service_indicator) != 2 or not service_indicator.isalpha():
        raise ValidationFailed(_("Mã dịch vụ gồm đúng 2 chữ cái."), detail={"service_indicator": _("Không hợp lệ.")})
    if not (0 <= first_serial <= last_serial <= 99_999_999):
        raise ValidationFailed(_("Dải số phải nằm trong 00000000–99999999 và số đầu không lớn hơn số cuối."))
    overlapping = SerialRange.objects.filter(service_indicator=service_indicator, first_serial__lte=last_serial,
                                             last_serial__gte=first_serial)
    if overlapping.exists():
        raise ValidationFailed(_("Dải số trùng với dải %(r)s đã cấu hình.") % {"r": overlapping.first()})
    rng = SerialRange.objects.create(facility=facility, service_indicator=service_indicator, first_serial=first_serial,
                                     last_serial=last_serial, next_serial=first_serial)
    audit_record(action=A.SERIAL_RANGE_CREATED.code, actor=actor, obj=rng,
                 data={"facility": facility.postcode, "first": first_serial, "last": last_serial, "si": service_indicator})
    return rng


def _allocate_tracking_number(facility: Facility) -> str:
    """Take the next unused serial of the facility's active range (locked). Serials are never
    reused: a number already on an item is skipped, so none repeats within 12 months or ever."""
    rng = (SerialRange.objects.select_for_update().filter(facility=facility, is_active=True,
                                                          next_serial__lte=F("last_serial"))
           .order_by("first_serial").first())
    if rng is None:
        raise ValidationFailed(
            _("Cơ sở %(f)s chưa có dải số hiệu còn trống; đề nghị quản trị cấu hình thêm.") % {"f": facility},
            code="no_serial_range",
        )
    while rng.next_serial <= rng.last_serial:
        number = s10.build(rng.service_indicator, rng.next_serial)
        rng.next_serial += 1
        if not Item.objects.filter(tracking_number=number).exists():
            rng.save(update_fields=["next_serial"])
            return number
    rng.is_active = False
    rng.save(update_fields=["next_serial", "is_active"])
    return _allocate_tracking_number(facility)


def issuing_facility_for(actor: User, sender: Agency) -> Facility:
    """Postal staff issue from their own facility; an agency's pre-registration draws from the
    provincial post office of the sender's province."""
    assignment = (RoleAssignment.objects.current().filter(user=actor, role__in=POSTAL_ROLES, facility__isnull=False)
                  .select_related("facility").order_by("pk").first())
    if assignment and assignment.facility.is_active and assignment.facility.province_id == sender.province_id:
        return assignment.facility
    post = Facility.objects.active().filter(province_id=sender.province_id, kind=FacilityKind.PROVINCIAL_POST).first()
    if post is None:
        raise ValidationFailed(_("Tỉnh của cơ quan gửi chưa có bưu điện tỉnh trong danh mục."))
    return post


# --- registration -----------------------------------------------------------------------------


@dataclass
class ItemInput:
    sender_agency: Agency | None
    recipient_agency: Agency | None
    kind: str
    weight_g: Any
    secrecy: str = Secrecy.NONE
    urgency: str = Urgency.NONE
    deliver_by: dt.datetime | None = None
    named_recipient: str = ""
    named_only: bool = False
    recipient_address: AgencyAddress | None = None
    private: dict[str, str] = field(default_factory=dict)


def _validate_item(data: ItemInput) -> tuple[KindRule, int, dict[str, str]]:
    errors: dict[str, str] = {}
    if data.sender_agency is None:
        errors["sender_agency"] = _("Chọn cơ quan gửi.")
    if data.recipient_agency is None:
        errors["recipient_agency"] = _("Chọn cơ quan nhận.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), detail=errors)
    require_active_reference(data.sender_agency, "sender_agency", _("Cơ quan gửi"))
    require_active_reference(data.recipient_agency, "recipient_agency", _("Cơ quan nhận"))
    if data.sender_agency.pk == data.recipient_agency.pk:
        errors["recipient_agency"] = _("Cơ quan nhận phải khác cơ quan gửi.")
    if data.kind not in ItemKind.values:
        errors["kind"] = _("Loại bưu gửi phải là thư, gói hoặc kiện tài liệu.")
    if data.secrecy not in Secrecy.values:
        errors["secrecy"] = _("Độ mật phải là không mật, C, B hoặc A.")
    if data.urgency not in Urgency.values:
        errors["urgency"] = _("Độ khẩn không hợp lệ.")
    try:
        weight = int(data.weight_g)
        if isinstance(data.weight_g, float) and data.weight_g != weight:
            raise ValueError
    except (TypeError, ValueError):
        weight = None
        errors["weight_g"] = _("Khối lượng phải là số gam nguyên.")
    if weight is not None and weight <= 0:
        errors["weight_g"] = _("Khối lượng phải lớn hơn 0 gam.")
    rule = None
    if "kind" not in errors:
        rule = KindRule.objects.valid_on(local_today()).filter(kind=data.kind).order_by("-valid_from").first()
        if rule is None:
            errors["kind"] = _("Chưa có quy định khối lượng cho loại bưu gửi này; đề nghị quản trị cấu hình.")
        elif weight is not None and weight > rule.max_weight_g:
            errors["weight_g"] = _("Khối lượng %(w)s g vượt mức tối đa %(m)s g của %(k)s.") % {
                "w": weight, "m": rule.max_weight_g, "k": ItemKind(data.kind).label}
    if data.urgency == Urgency.SCHEDULED:
        if data.deliver_by is None:
            errors["deliver_by"] = _("Bưu gửi hẹn giờ phải có thời điểm hẹn phát.")
        elif data.deliver_by <= now():
            errors["deliver_by"] = _("Thời điểm hẹn phát phải ở tương lai.")
    elif data.deliver_by is not None:
        errors["deliver_by"] = _("Chỉ bưu gửi hẹn giờ mới có thời điểm hẹn phát.")
    if data.named_only and not (data.named_recipient or "").strip():
        errors["named_recipient"] = _("Ghi tên người nhận khi chỉ người có tên mới được bóc bì.")
    private = {k: str(v).strip() for k, v in (data.private or {}).items() if v not in (None, "")}
    unknown = set(private) - set(PRIVATE_FIELDS)
    if unknown:
        errors["private"] = _("Trường riêng không hợp lệ: %(f)s") % {"f": ", ".join(sorted(unknown))}
    for key, limit in PRIVATE_MAX.items():
        if len(private.get(key, "")) > limit:
            errors[key] = _("Quá %(n)d ký tự.") % {"n": limit}
    if data.secrecy == Secrecy.A and private.get("summary"):
        errors["summary"] = _("Tài liệu Tuyệt mật (A) không được ghi trích yếu (Nghị định 63/2026/NĐ-CP).")
    if data.recipient_address is not None and (
        data.recipient_address.agency_id != data.recipient_agency.pk or not data.recipient_address.is_active
    ):
        errors["recipient_address"] = _("Địa chỉ phát không thuộc cơ quan nhận hoặc đã ngừng sử dụng.")
    if errors:
        raise ValidationFailed(next(iter(errors.values())), detail=errors)
    return rule, weight, private


@transaction.atomic
def item_register(*, actor: User, data: ItemInput, holder: User | None = None, event_uuid: uuidlib.UUID | None = None,
                  pickup_request: PickupRequest | None = None) -> Item:
    """Register an outgoing item and give it its S10 identifier.

    An agency clerk registers for their own agency and holds the envelope until the post accepts
    it. A counter clerk may register on the agency's behalf at the counter, naming the agency clerk
    who brought it (the holder). Permission: items.register (clerk) or items.accept (counter).
    Audit: item.registered, custody.recorded (KREG)."""
    scope = scope_of(actor)
    clerk_registers = has_perm(actor, "items.register") and data.sender_agency is not None and \
        data.sender_agency.pk in scope.agency_ids
    if not clerk_registers and not has_perm(actor, "items.accept"):
        raise PermissionDenied(_("Bạn không được đăng ký bưu gửi cho cơ quan này."))
    rule, weight, private = _validate_item(data)
    if not restrict(Agency.objects.filter(pk=data.sender_agency.pk), actor).exists():
        raise ValidationFailed(_("Cơ quan gửi không thuộc phạm vi của bạn."), detail={"sender_agency": _("Không hợp lệ.")})
    if clerk_registers:
        holder = actor
    else:
        if holder is None or not _is_clerk_of(holder, data.sender_agency):
            raise ValidationFailed(_("Chọn văn thư của cơ quan gửi đang mang bưu gửi đến quầy."),
                                   detail={"holder": _("Bắt buộc.")})
    address = data.recipient_address or AgencyAddress.objects.active().filter(
        agency=data.recipient_agency).order_by("-is_default", "pk").first()
    facility = issuing_facility_for(actor, data.sender_agency)
    moment = now()
    item = Item.objects.create(
        tracking_number=_allocate_tracking_number(facility), kind=data.kind, weight_g=weight, secrecy=data.secrecy,
        urgency=data.urgency, deliver_by=data.deliver_by,
        zone=Zone.WITHIN if data.sender_agency.province_id == data.recipient_agency.province_id else Zone.BETWEEN,
        sender_agency=data.sender_agency, recipient_agency=data.recipient_agency, recipient_address=address,
        named_recipient=(data.named_recipient or "").strip(), named_only=bool(data.named_only),
        private_data=encrypt_json(private) if private else "", status=ItemStatus.REGISTERED, holder=holder,
        holder_since=moment, issuing_facility=facility, registered_by=actor, registered_at=moment, kind_rule=rule,
        pickup_request=pickup_request,
    )
    audit_record(action=A.ITEM_REGISTERED.code, actor=actor, obj=item,
                 data={"tracking_number": item.tracking_number, "secrecy": item.secrecy, "urgency": item.urgency,
                       "kind_rule": rule.pk})
    _append_event(item=item, code=EventCode.REGISTERED, actor=actor, giver=None, taker=holder, facility=None,
                  event_uuid=event_uuid or uuidlib.uuid4(), fingerprint="", status_after=ItemStatus.REGISTERED)
    return item


def _is_clerk_of(user: User, agency: Agency) -> bool:
    return RoleAssignment.objects.current().filter(user=user, role=Role.AGENCY_CLERK, agency=agency,
                                                   user__is_active=True).exists()


# --- the custody engine ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CustodyRequest:
    """One custody event as a client sends it. `event_uuid` makes it idempotent."""

    event_uuid: uuidlib.UUID
    tracking_number: str
    code: str
    taker_id: int | None = None
    giver_id: int | None = None
    facility_id: int | None = None
    device_time: dt.datetime | None = None
    reason_code: str = ""
    next_action: str = ""
    note: str = ""
    signer_name: str = ""

    def fingerprint(self) -> str:
        payload = {
            "tracking_number": s10.normalise(self.tracking_number), "code": self.code, "taker": self.taker_id,
            "giver": self.giver_id, "facility": self.facility_id,
            "device_time": self.device_time.isoformat() if self.device_time else None,
            "reason": self.reason_code, "next_action": self.next_action, "note": self.note, "signer": self.signer_name,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class CustodyResult:
    event: CustodyEvent
    created: bool  # False when the same event_uuid was already recorded (a retry)


def _profile(taker: User, at: dt.datetime) -> HandlingProfile:
    """The taker's handling profile: read once per batch (the memo), else now."""
    memo = _batch_memo.get()
    profile = memo.get(("profile", taker.pk)) if memo is not None else None
    if profile is None:
        profile = handling_profiles([taker], at)[taker.pk]
        if memo is not None:
            memo["profile", taker.pk] = profile
    return profile


def _taker_ok(taker: User, item: Item, at: dt.datetime, *, recipient_clerk_of: Agency | None = None) -> None:
    """The taker must be an active person in the right role whose vetting covers the item now.
    Within a batch, a taker's roles, vettings and trainings are read once (as the actor's own roles
    are once per request): a vetting revoked while a batch is being written counts from the next one."""
    if taker is None:
        raise ValidationFailed(_("Chọn người nhận bàn giao."), detail={"taker": _("Bắt buộc.")})
    profile = _profile(taker, at)
    if recipient_clerk_of is not None:
        if not (taker.is_active and profile.has_role({Role.AGENCY_CLERK}, recipient_clerk_of.pk)):
            raise ValidationFailed(_("%(t)s không phải văn thư của %(a)s.") % {"t": taker, "a": recipient_clerk_of},
                                   code="taker_not_allowed", detail={"taker": _("Không hợp lệ.")})
    elif not (taker.is_active and profile.has_role(POSTAL_ROLES)):
        raise ValidationFailed(_("%(t)s không phải nhân viên bưu chính đang làm việc.") % {"t": taker},
                               code="taker_not_allowed", detail={"taker": _("Không hợp lệ.")})
    clearance = profile.clearance(item.secrecy)
    if not clearance:
        raise ValidationFailed(clearance.reason, code="taker_not_cleared", detail={"taker": clearance.reason})


def _append_event(*, item: Item, code: str, actor: User, giver, taker, facility, event_uuid, fingerprint: str,
                  status_after: str, device_time=None, reason=None, next_action: str = "", note: str = "",
                  handover=None, bag=None, save_seq: bool = True) -> CustodyEvent:
    """Append the item's next event, sealed by its audit entry. save_seq=False: the caller writes
    item.last_event_seq itself, together with the rest of the projection."""
    item.last_event_seq += 1
    event = CustodyEvent(
        item=item, seq=item.last_event_seq, event_uuid=event_uuid, fingerprint=fingerprint, code=code,
        status_after=status_after, actor=actor, giver=giver, taker=taker, facility=facility, occurred_at=now(),
        device_time=device_time, reason=reason, next_action=next_action or "", note=(note or "")[:500],
        handover=handover, bag=bag,
    )
    entry = audit_record(action=A.CUSTODY_RECORDED.code, actor=actor, obj=item, data=event_payload(event))
    writes = _batch_writes.get()
    if writes is not None:
        # Inserted with the batch's other events, once their entries are chained (audit_seq then).
        writes.events.append((event, entry))
        return event
    event.audit_seq = entry.seq
    event.save()
    if save_seq:
        Item.objects.filter(pk=item.pk).update(last_event_seq=item.last_event_seq)
    return event


def event_payload(event: CustodyEvent) -> dict[str, Any]:
    """What the audit chain seals for a custody event; verify_audit recomputes and compares it."""
    return {
        "event_uuid": str(event.event_uuid), "item": event.item_id, "tracking_number": event.item.tracking_number,
        "seq": event.seq, "code": event.code, "status_after": event.status_after, "actor": event.actor_id,
        "giver": event.giver_id, "taker": event.taker_id, "facility": event.facility_id,
        "occurred_at": event.occurred_at.isoformat(),
        "device_time": event.device_time.isoformat() if event.device_time else None,
        "reason": event.reason_id, "next_action": event.next_action, "note": event.note, "handover": event.handover_id,
        "bag": event.bag_id,
    }


def _actor_facility(actor: User, requested: Facility | None) -> Facility | None:
    scope = scope_of(actor)
    if requested is not None:
        if requested.pk not in scope.facility_ids:
            raise ValidationFailed(_("Cơ sở %(f)s không thuộc phạm vi của bạn.") % {"f": requested},
                                   detail={"facility": _("Không hợp lệ.")})
        return requested
    memo = _batch_memo.get()
    if memo is not None and ("facility", actor.pk) in memo:
        return memo["facility", actor.pk]
    assignment = (RoleAssignment.objects.current().filter(user=actor, facility__isnull=False).order_by("pk")
                  .select_related("facility").first())
    facility = assignment.facility if assignment else None
    if memo is not None:
        # Like the actor's scope (kt1.core.permissions.scope_of), read once per request.
        memo["facility", actor.pk] = facility
    return facility


def _apply(item: Item, req: CustodyRequest, *, actor: User, handover: HandoverList | None = None,
           taker_override: User | None = None) -> CustodyEvent:
    """Validate one request against a locked item and append its event. Raises on any refusal."""
    moment = now()
    if req.code in BAG_ONLY_CODES:
        raise ValidationFailed(_("Sự kiện “%(c)s” chỉ được ghi khi niêm phong hoặc mở túi thư.") % {
            "c": EventCode(req.code).label}, code="bag_only_event")
    edge = edge_for(item.status, req.code)
    if edge.moves_custody:
        _refuse_if_in_open_bag(item)
    if not has_perm(actor, edge.permission):
        raise PermissionDenied(_("Bạn không có quyền ghi sự kiện “%(c)s”.") % {"c": EventCode(req.code).label})
    holder = item.holder
    giver = None
    taker = None
    if req.giver_id is not None and req.giver_id != item.holder_id:
        raise ValidationFailed(_("Người giao không phải người đang giữ bưu gửi %(t)s.") % {"t": item.tracking_number},
                               code="not_holder", detail={"giver": _("Không đang giữ bưu gửi.")})
    if edge.moves_custody:
        giver = holder
        if req.code == EventCode.DELIVERED:
            # The postman (holder) hands the item to the recipient clerk, who signs.
            if actor.pk != item.holder_id:
                raise ValidationFailed(_("Chỉ người đang giữ bưu gửi mới được phát."), code="not_holder")
            target_agency = item.sender_agency if item.is_returning else item.recipient_agency
            taker = taker_override or _user(req.taker_id)
            _taker_ok(taker, item, moment, recipient_clerk_of=target_agency)
        else:
            # A handover completes only when the taker accepts it: the taker is the one recording it.
            taker = taker_override or actor
            if req.taker_id is not None and req.taker_id != taker.pk:
                raise ValidationFailed(_("Sự kiện giao nhận phải do chính người nhận ghi."), code="taker_must_record")
            if taker.pk == item.holder_id:
                raise ValidationFailed(_("Bạn đang giữ bưu gửi %(t)s rồi.") % {"t": item.tracking_number},
                                       code="already_holder")
            _taker_ok(taker, item, moment)
    elif req.code == EventCode.CANCELLED:
        if item.sender_agency_id not in scope_of(actor).agency_ids:
            raise PermissionDenied(_("Chỉ văn thư cơ quan gửi được hủy đăng ký."))
    elif req.code == EventCode.RETURN_STARTED:
        if not (actor.pk == item.holder_id or "supervisor" in scope_of(actor).roles):
            raise ValidationFailed(_("Chỉ người đang giữ bưu gửi hoặc kiểm soát viên được chuyển hoàn."), code="not_holder")
    elif actor.pk != item.holder_id:
        raise ValidationFailed(_("Bạn không giữ bưu gửi %(t)s.") % {"t": item.tracking_number}, code="not_holder",
                               detail={"tracking_number": _("Không đang giữ bưu gửi.")})
    reason = None
    next_action = ""
    if req.code == EventCode.DELIVERY_FAILED:
        reason = _memoised(("reason", req.reason_code), lambda: DeliveryFailureReason.objects.valid_on(
            local_today()).filter(code=req.reason_code).first())
        if reason is None:
            raise ValidationFailed(_("Chọn lý do phát không thành công trong danh mục."), code="unknown_reason",
                                   detail={"reason": _("Không hợp lệ.")})
        next_action = req.next_action or reason.default_next_action
        if next_action not in NextAction.values:
            raise ValidationFailed(_("Hướng xử lý không hợp lệ."), detail={"next_action": _("Không hợp lệ.")})
    elif req.reason_code or req.next_action:
        raise ValidationFailed(_("Lý do và hướng xử lý chỉ ghi khi phát không thành công."))
    facility = _actor_facility(actor, _memoised(("facility", req.facility_id), lambda: Facility.objects.filter(
        pk=req.facility_id).first()) if req.facility_id else None)
    if req.facility_id and facility is None:
        raise ValidationFailed(_("Không có cơ sở này."), detail={"facility": _("Không hợp lệ.")})
    if req.code in (EventCode.INTO_SORTING, EventCode.OUT_OF_SORTING, EventCode.AT_DELIVERY_OFFICE) and facility is None:
        raise ValidationFailed(_("Sự kiện này cần cơ sở bưu chính."), detail={"facility": _("Bắt buộc.")})
    if req.device_time and req.device_time > moment + dt.timedelta(minutes=10):
        raise ValidationFailed(_("Giờ thiết bị ở tương lai; kiểm tra đồng hồ thiết bị."),
                               detail={"device_time": _("Không hợp lệ.")})

    status_after = edge.target or item.status
    if req.code == EventCode.DELIVERED and item.is_returning:
        status_after = ItemStatus.RETURNED
    event = _append_event(item=item, code=req.code, actor=actor, giver=giver, taker=taker, facility=facility,
                          event_uuid=req.event_uuid, fingerprint=req.fingerprint(), status_after=status_after,
                          device_time=req.device_time, reason=reason, next_action=next_action,
                          note=req.note if not req.signer_name else f"{req.note} [ký: {req.signer_name}]".strip(),
                          handover=handover, save_seq=False)
    changed = {"status": status_after, "last_event_seq": item.last_event_seq}
    if edge.moves_custody:
        changed.update(holder=taker, holder_since=event.occurred_at)
    if facility is not None and req.code != EventCode.DELIVERED:
        changed["facility"] = facility
    if req.code == EventCode.ACCEPTED:
        changed["accepted_at"] = event.occurred_at
    if req.code in (EventCode.DELIVERY_FAILED, EventCode.DELIVERED) and item.first_attempt_at is None:
        changed["first_attempt_at"] = event.occurred_at
    if req.code == EventCode.DELIVERED:
        changed["delivered_at"] = event.occurred_at
        changed["facility"] = None
    if req.code == EventCode.RETURN_STARTED:
        changed["is_returning"] = True
    for name, value in changed.items():
        setattr(item, name, value)
    writes = _batch_writes.get()
    if writes is not None:
        writes.items[item.pk] = item  # the locked row's new projection, written once when the batch ends
        writes.fields.update(changed)
    else:
        Item.objects.filter(pk=item.pk).update(**changed)
    return event


def _memoised(key, read):
    """read() once per batch (people, reasons, facilities are read once per batch), every time outside one."""
    memo = _batch_memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _user(pk: int | None) -> User | None:
    memo = _batch_memo.get()
    if memo is not None and ("user", pk) in memo:
        return memo["user", pk]
    user = User.objects.filter(pk=pk).first()
    if memo is not None and user is not None:
        memo["user", pk] = user
    return user


def _lock_item(actor: User, tracking_number: str) -> Item:
    number = str(s10.parse(tracking_number))
    item = restrict(Item.objects.select_for_update(of=("self",)), actor).filter(tracking_number=number).select_related(
        "holder", "sender_agency", "recipient_agency").first()
    if item is None:
        raise NotFound(_("Không tìm thấy bưu gửi %(t)s.") % {"t": number}, code="item_not_found")
    return item


def _existing(req: CustodyRequest, event: CustodyEvent | None | bool = False) -> CustodyEvent | None:
    """The event already recorded under req.event_uuid (looked up unless given), or None; raises
    IdempotencyMismatch when that uuid was used for a different request."""
    if event is False:
        event = CustodyEvent.objects.filter(event_uuid=req.event_uuid).select_related("item").first()
    if event is None:
        return None
    if event.fingerprint != req.fingerprint():
        raise IdempotencyMismatch(
            _("Mã sự kiện %(u)s đã được dùng cho một sự kiện khác.") % {"u": req.event_uuid},
            detail={"event_uuid": _("Đã dùng với nội dung khác.")},
        )
    return event


def _audit_refusal(actor: User, req: CustodyRequest, exc: ApplicationError) -> None:
    """A refused custody request changes nothing but is itself recorded (security log)."""
    with transaction.atomic():
        audit_record(action=A.CUSTODY_REFUSED.code, actor=actor,
                     data={"tracking_number": req.tracking_number, "code": req.code, "event_uuid": str(req.event_uuid),
                           "error": exc.code, "message": str(exc.message)})


def custody_record(*, actor: User, request: CustodyRequest) -> CustodyResult:
    """Record one custody event (idempotent by event_uuid). See the module docstring for the checks.
    Audit: custody.recorded, or custody.refused when refused."""
    try:
        with transaction.atomic():
            existing = _existing(request)
            if existing is not None:
                return CustodyResult(existing, created=False)
            item = _lock_item(actor, request.tracking_number)
            event = _apply(item, request, actor=actor)
            return CustodyResult(event, created=True)
    except IntegrityError:
        # A concurrent retry of the same event_uuid won the race: answer with its result.
        existing = _existing(request)
        if existing is not None:
            return CustodyResult(existing, created=False)
        raise
    except ApplicationError as exc:
        if not isinstance(exc, IdempotencyMismatch):
            _audit_refusal(actor, request, exc)
        raise


@dataclass
class BatchOutcome:
    index: int
    event_uuid: str
    ok: bool
    created: bool = False
    event: CustodyEvent | None = None
    error: ApplicationError | None = None


_batch_memo: ContextVar[dict | None] = ContextVar("kt1_custody_batch_memo", default=None)


@dataclass
class _BatchWrites:
    """What a batch of custody events writes, held until the batch ends: the events (one INSERT)
    and each changed item's final projection (one UPDATE for all of them)."""

    events: list[tuple[CustodyEvent, Any]] = field(default_factory=list)  # each with its audit entry
    items: dict[int, Item] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)

    def flush(self) -> None:
        """After the audit batch ended: the entries have their seq now."""
        for event, entry in self.events:
            event.audit_seq = entry.seq
        insert_rows([event for event, _entry in self.events])
        update_rows(list(self.items.values()), sorted(self.fields))


_batch_writes: ContextVar[_BatchWrites | None] = ContextVar("kt1_custody_batch_writes", default=None)


def custody_record_batch(*, actor: User, requests: Iterable[CustodyRequest]) -> list[BatchOutcome]:
    """Record many events from one device. Each event stands alone: one refused event does not undo
    the others (a handheld uploads a shift's scans; each scan is a fact or a refusal). Events of one
    item apply in the order sent.

    Every event gets exactly the checks, event row, projection and audit entry that custody_record
    gives it, but set-based: one transaction, one durable commit. The items are locked first, in
    primary-key order (the order every other custody writer takes, item before audit head); the
    audit head only at the end, to chain the batch's entries, until the commit (so batches of
    other devices check their events meanwhile). What the checks read is read once
    for the whole batch: which of the items the caller may see (a request is one authorisation
    decision per item, taken when it starts), which of them lie in a bag, the takers' roles,
    vettings and trainings, reasons and facilities. Each event is then checked against the locked
    items' state as the earlier events of the batch left it, in memory, and the writes are made
    together when the batch ends: the events in one INSERT, the audit entries in one, the items'
    projections in one UPDATE. A refusal is raised before anything of its event is recorded, so the
    refused event is audited and skipped while the others stand. Should the database fail the
    transaction (a deadlock, a concurrent retry of the same event_uuid), nothing of it was stored
    and the batch is recorded event by event instead."""
    requests = list(requests)
    try:
        return _record_batch_together(actor, requests)
    except DatabaseError:
        return _record_batch_one_by_one(actor, requests)


def _record_batch_together(actor: User, requests: list[CustodyRequest]) -> list[BatchOutcome]:
    outcomes = []
    memo_token = _batch_memo.set({})
    writes = _BatchWrites()
    writes_token = _batch_writes.set(writes)
    try:
        with transaction.atomic():
            numbers = set()
            for req in requests:
                with suppress(ApplicationError):  # a malformed number is refused below, with its event
                    numbers.add(str(s10.parse(req.tracking_number)))
            # Locking reveals nothing: whether the caller may see an item is checked per event. The
            # locked rows are the items' state from here on: only this transaction changes them.
            locked = {i.tracking_number: i for i in Item.objects.select_for_update(of=("self",)).filter(
                tracking_number__in=numbers).select_related("holder", "sender_agency", "recipient_agency").order_by("pk")}
            recorded = {e.event_uuid: e for e in CustodyEvent.objects.filter(
                event_uuid__in=[r.event_uuid for r in requests]).select_related("item")}
            _preload_batch(actor, requests, locked)
            # Deferred: the chain head is locked only to chain this batch's entries, at its end.
            with audit_batch(deferred=True) as chain:
                for index, req in enumerate(requests):
                    mark = chain.mark()
                    try:
                        existing = _existing(req, recorded.get(req.event_uuid))
                        if existing is not None:
                            outcomes.append(BatchOutcome(index, str(req.event_uuid), True, False, existing))
                            continue
                        event = _apply(_visible_item(actor, req.tracking_number, locked), req, actor=actor)
                        recorded[req.event_uuid] = event
                        outcomes.append(BatchOutcome(index, str(req.event_uuid), True, True, event))
                    except ApplicationError as exc:
                        if chain.mark() != mark:
                            raise RuntimeError("a custody refusal came after its event was written") from exc
                        if not isinstance(exc, IdempotencyMismatch):
                            _audit_refusal(actor, req, exc)
                        outcomes.append(BatchOutcome(index, str(req.event_uuid), False, error=exc))
            writes.flush()
    finally:
        _batch_writes.reset(writes_token)
        _batch_memo.reset(memo_token)
    return outcomes


def _preload_batch(actor: User, requests: list[CustodyRequest], locked: dict[str, Item]) -> None:
    """Read, in a few queries, what the checks of a whole batch need (see custody_record_batch)."""
    from kt1.dispatch.models import BagItem

    memo = _batch_memo.get()
    pks = [item.pk for item in locked.values()]
    memo["visible"] = set(restrict(Item.objects.filter(pk__in=pks), actor).values_list("pk", flat=True))
    # Only a holder of the item's lock puts it in a bag (kt1.dispatch.services.bag_add_item): while a
    # batch holds the locks, an item found outside every bag stays outside.
    in_bags = set(BagItem.objects.filter(item_id__in=pks, removed_at__isnull=True, scanned_at__isnull=True)
                  .values_list("item_id", flat=True))
    for pk in pks:
        if pk not in in_bags:
            memo["not_in_bag", pk] = True
    people = {pk for req in requests for pk in (req.taker_id, req.giver_id) if pk is not None} - {actor.pk}
    users = {actor.pk: actor, **User.objects.in_bulk(people)}
    for pk, user in users.items():
        memo["user", pk] = user
    for pk, profile in handling_profiles(users.values(), now()).items():
        memo["profile", pk] = profile


def _visible_item(actor: User, tracking_number: str, locked: dict[str, Item]) -> Item:
    """_lock_item for a batch: the item was locked (and read) with the others, and whether the
    caller may see it was read for all of them (_preload_batch)."""
    number = str(s10.parse(tracking_number))
    item = locked.get(number)
    if item is None or item.pk not in _batch_memo.get()["visible"]:
        raise NotFound(_("Không tìm thấy bưu gửi %(t)s.") % {"t": number}, code="item_not_found")
    return item


def _record_batch_one_by_one(actor: User, requests: list[CustodyRequest]) -> list[BatchOutcome]:
    outcomes = []
    for index, req in enumerate(requests):
        try:
            result = custody_record(actor=actor, request=req)
            outcomes.append(BatchOutcome(index, str(req.event_uuid), True, result.created, result.event))
        except ApplicationError as exc:
            outcomes.append(BatchOutcome(index, str(req.event_uuid), False, error=exc))
    return outcomes


# --- handover lists -------------------------------------------------------------------------------


def _signature_ok(signature: str) -> str:
    signature = (signature or "").strip()
    if signature and (not signature.startswith("data:image/png;base64,") or len(signature) > 200_000):
        raise ValidationFailed(_("Chữ ký không hợp lệ."), detail={"signature": _("Không hợp lệ.")})
    return signature


_HANDOVER_EVENT = {
    HandoverKind.PICKUP: EventCode.ACCEPTED,
    HandoverKind.COUNTER: EventCode.ACCEPTED,
    HandoverKind.INTERNAL: EventCode.HANDOVER,
    HandoverKind.DELIVERY: EventCode.DELIVERED,
    HandoverKind.RETURN: EventCode.DELIVERED,
}


@transaction.atomic
def handover_create(*, actor: User, kind: str, tracking_numbers: list[str], giver: User, taker: User,
                    giver_signature: str = "", giver_signed_name: str = "", note: str = "",
                    envelope_ok: dict[str, bool] | None = None, weights: dict[str, int] | None = None) -> HandoverList:
    """Draw up a handover list (one line per item). The giver must hold every item.

    * pickup / counter: the postal taker (actor) lists what the agency clerk hands over; the clerk
      signs on the taker's screen (drawn signature + name); the taker completes it with
      handover_complete.
    * internal: the giver (actor, holder) lists items for a colleague; the colleague completes it
      in their own session.
    * delivery / return: the postman (actor, holder) lists items for the recipient (or sender)
      clerk, who signs on the postman's screen at completion.
    Audit: handover.created."""
    if kind not in HandoverKind.values:
        raise ValidationFailed(_("Loại phiếu giao nhận không hợp lệ."))
    numbers = []
    for raw in tracking_numbers:
        number = str(s10.parse(raw))
        if number not in numbers:
            numbers.append(number)
    if not numbers:
        raise ValidationFailed(_("Phiếu giao nhận phải có ít nhất một bưu gửi."), detail={"tracking_numbers": _("Bắt buộc.")})
    if kind in (HandoverKind.PICKUP, HandoverKind.COUNTER):
        if not has_perm(actor, "items.accept") or actor.pk != taker.pk:
            raise PermissionDenied(_("Chỉ giao dịch viên hoặc bưu tá nhận bưu gửi mới lập phiếu chấp nhận."))
        if not (giver_signature and (giver_signed_name or "").strip()):
            raise ValidationFailed(_("Văn thư bên giao phải ghi tên và ký trên màn hình."),
                                   detail={"giver_signature": _("Bắt buộc.")})
    elif actor.pk != giver.pk:
        raise PermissionDenied(_("Chỉ người đang giữ bưu gửi mới lập phiếu giao."))
    if giver.pk == taker.pk:
        raise ValidationFailed(_("Bên giao và bên nhận phải là hai người khác nhau."))
    items = list(restrict(Item.objects.select_for_update(of=("self",)), actor).filter(tracking_number__in=numbers)
                 .select_related("pickup_request", "sender_agency", "recipient_agency"))
    found = {i.tracking_number: i for i in items}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise NotFound(_("Không tìm thấy bưu gửi: %(l)s.") % {"l": ", ".join(missing)}, code="item_not_found")
    expected_code = _HANDOVER_EVENT[kind]
    agency = None
    for number in numbers:
        item = found[number]
        if item.holder_id != giver.pk:
            raise ValidationFailed(_("%(g)s không giữ bưu gửi %(t)s.") % {"g": giver, "t": number}, code="not_holder")
        edge_for(item.status, expected_code)
        if kind in (HandoverKind.DELIVERY, HandoverKind.RETURN):
            target = item.sender_agency if item.is_returning else item.recipient_agency
            if (kind == HandoverKind.RETURN) != item.is_returning:
                raise ValidationFailed(_("Bưu gửi %(t)s không thuộc loại phiếu này.") % {"t": number})
            if agency is not None and target.pk != agency.pk:
                raise ValidationFailed(_("Một phiếu phát chỉ cho một cơ quan nhận."))
            agency = target
        elif kind in (HandoverKind.PICKUP, HandoverKind.COUNTER):
            if kind == HandoverKind.PICKUP and not (
                item.pickup_request_id and item.pickup_request.status == PickupStatus.CONFIRMED
                and item.pickup_request.postman_id == actor.pk
            ):
                raise ValidationFailed(_("Bưu gửi %(t)s không thuộc yêu cầu thu gom đã phân công cho bạn.") % {"t": number},
                                       code="not_assigned")
            if agency is not None and item.sender_agency_id != agency.pk:
                raise ValidationFailed(_("Một phiếu chấp nhận chỉ cho một cơ quan gửi."))
            agency = item.sender_agency
    if kind in (HandoverKind.DELIVERY, HandoverKind.RETURN):
        _taker_ok(taker, found[numbers[0]], now(), recipient_clerk_of=agency)
        for number in numbers[1:]:
            _taker_ok(taker, found[number], now(), recipient_clerk_of=agency)
    else:
        for number in numbers:
            _taker_ok(taker, found[number], now())
    open_lines = HandoverLine.objects.filter(item__in=items, handover__status=HandoverStatus.OPEN)
    if open_lines.exists():
        line = open_lines.select_related("handover", "item").first()
        raise ValidationFailed(_("Bưu gửi %(t)s đang nằm trong phiếu %(n)s chưa ký.") % {
            "t": line.item.tracking_number, "n": line.handover.number}, code="in_open_handover")
    moment = now()
    prefix = {"pickup": "TG", "counter": "CN", "internal": "GN", "delivery": "PH", "return": "CH"}[kind]
    facility = _actor_facility(actor, None)
    handover = HandoverList.objects.create(
        number=f"{prefix}{moment:%y}-{next_number('handover-' + kind + moment.strftime('%y')):06d}", kind=kind,
        giver=giver, taker=taker, facility=facility, agency=agency, created_by=actor, created_at=moment,
        giver_signed_at=moment, giver_signed_name=(giver_signed_name or giver.full_name or giver.username).strip(),
        giver_signature=_signature_ok(giver_signature), note=(note or "").strip()[:500],
    )
    for line_no, number in enumerate(numbers, start=1):
        item = found[number]
        weight = (weights or {}).get(number, item.weight_g)
        HandoverLine.objects.create(handover=handover, line_no=line_no, item=item, weight_g=weight,
                                    envelope_ok=(envelope_ok or {}).get(number, True))
    audit_record(action=A.HANDOVER_CREATED.code, actor=actor, obj=handover,
                 data={"number": handover.number, "kind": kind, "items": numbers, "giver": giver.pk, "taker": taker.pk})
    return handover


@transaction.atomic
def handover_complete(*, actor: User, handover: HandoverList, taker_signature: str = "", taker_signed_name: str = "",
                      device_time: dt.datetime | None = None) -> HandoverList:
    """The taker signs: custody of every line moves at once (all or nothing).

    For internal, pickup and counter lists the taker is the signed-in actor. For delivery and return
    lists the actor is the postman and the recipient clerk signs on the screen (name + drawing).
    Audit: handover.completed and one custody.recorded per line."""
    handover = restrict(HandoverList.objects.select_for_update(of=("self",)), actor).filter(pk=handover.pk).first()
    if handover is None:
        raise NotFound(_("Không tìm thấy phiếu giao nhận."))
    if handover.status != HandoverStatus.OPEN:
        raise _closed(handover)
    on_screen = handover.kind in (HandoverKind.DELIVERY, HandoverKind.RETURN)
    if on_screen:
        if actor.pk != handover.giver_id:
            raise PermissionDenied(_("Chỉ bưu tá lập phiếu mới hoàn tất phiếu phát."))
        if not (taker_signature and (taker_signed_name or "").strip()):
            raise ValidationFailed(_("Văn thư bên nhận phải ghi tên và ký trên màn hình."),
                                   detail={"taker_signature": _("Bắt buộc.")})
    elif actor.pk != handover.taker_id:
        raise PermissionDenied(_("Chỉ người nhận có tên trên phiếu mới được ký nhận."))
    code = _HANDOVER_EVENT[handover.kind]
    lines = list(handover.lines.select_related("item").order_by("line_no"))
    items = {i.pk: i for i in Item.objects.select_for_update(of=("self",)).filter(pk__in=[line.item_id for line in lines])
             .select_related("holder", "sender_agency", "recipient_agency")}
    taker = handover.taker
    for line in lines:
        item = items[line.item_id]
        req = CustodyRequest(event_uuid=uuidlib.uuid4(), tracking_number=item.tracking_number, code=code,
                             taker_id=taker.pk, giver_id=handover.giver_id, device_time=device_time,
                             note=_("Phiếu %(n)s") % {"n": handover.number},
                             signer_name=(taker_signed_name or "").strip() if on_screen else "")
        _apply(item, req, actor=actor, handover=handover, taker_override=taker)
    moment = now()
    handover.status = HandoverStatus.COMPLETED
    handover.taker_signed_at = moment
    handover.taker_signed_name = (taker_signed_name or "").strip() if on_screen else (taker.full_name or taker.username)
    handover.taker_signature = _signature_ok(taker_signature)
    handover.closed_at = moment
    handover.save(update_fields=["status", "taker_signed_at", "taker_signed_name", "taker_signature", "closed_at"])
    if handover.kind == HandoverKind.PICKUP:
        PickupRequest.objects.filter(items__in=[line.item_id for line in lines], status=PickupStatus.CONFIRMED).update(
            status=PickupStatus.COLLECTED, handover=handover)
    audit_record(action=A.HANDOVER_COMPLETED.code, actor=actor, obj=handover,
                 data={"number": handover.number, "lines": len(lines)})
    return handover


def _closed(handover: HandoverList) -> ApplicationError:
    from kt1.core.errors import Conflict

    return Conflict(_("Phiếu %(n)s đã %(s)s.") % {"n": handover.number, "s": handover.get_status_display().lower()},
                    code="handover_closed")


@transaction.atomic
def handover_cancel(*, actor: User, handover: HandoverList, reason: str) -> HandoverList:
    """Either party withdraws an unsigned list; nothing moves. Audit: handover.cancelled."""
    handover = restrict(HandoverList.objects.select_for_update(of=("self",)), actor).filter(pk=handover.pk).first()
    if handover is None:
        raise NotFound(_("Không tìm thấy phiếu giao nhận."))
    if handover.status != HandoverStatus.OPEN:
        raise _closed(handover)
    if actor.pk not in (handover.giver_id, handover.taker_id, handover.created_by_id):
        raise PermissionDenied(_("Chỉ bên giao hoặc bên nhận được hủy phiếu."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Ghi lý do hủy phiếu."), detail={"reason": _("Bắt buộc.")})
    handover.status = HandoverStatus.CANCELLED
    handover.closed_at = now()
    handover.note = (f"{handover.note} | " if handover.note else "") + _("Hủy: %(r)s") % {"r": reason.strip()}
    handover.save(update_fields=["status", "closed_at", "note"])
    audit_record(action=A.HANDOVER_CANCELLED.code, actor=actor, obj=handover, data={"reason": reason.strip()})
    return handover


# --- pickup requests --------------------------------------------------------------------------


@transaction.atomic
def pickup_request(*, actor: User, agency: Agency, tracking_numbers: list[str], address: AgencyAddress | None = None,
                   wanted_by: dt.datetime | None = None, note: str = "") -> PickupRequest:
    """An agency clerk asks the post to collect registered items. Audit: pickup.requested."""
    if not has_perm(actor, "items.pickup.request") or agency.pk not in scope_of(actor).agency_ids:
        raise PermissionDenied(_("Chỉ văn thư của cơ quan được yêu cầu thu gom."))
    require_active_reference(agency, "agency", _("Cơ quan"))
    address = address or AgencyAddress.objects.active().filter(agency=agency).order_by("-is_default", "pk").first()
    if address is None or address.agency_id != agency.pk or not address.is_active:
        raise ValidationFailed(_("Cơ quan chưa có địa chỉ thu gom còn hiệu lực."), detail={"address": _("Bắt buộc.")})
    if wanted_by is not None and wanted_by <= now():
        raise ValidationFailed(_("Thời điểm cần thu gom phải ở tương lai."), detail={"wanted_by": _("Không hợp lệ.")})
    numbers = sorted({str(s10.parse(n)) for n in tracking_numbers})
    if not numbers:
        raise ValidationFailed(_("Chọn ít nhất một bưu gửi cần thu gom."), detail={"tracking_numbers": _("Bắt buộc.")})
    items = list(Item.objects.select_for_update(of=("self",)).filter(tracking_number__in=numbers, sender_agency=agency))
    if len(items) != len(numbers):
        missing = sorted(set(numbers) - {i.tracking_number for i in items})
        raise NotFound(_("Không tìm thấy bưu gửi: %(l)s.") % {"l": ", ".join(missing)}, code="item_not_found")
    for item in items:
        if item.status != ItemStatus.REGISTERED:
            raise ValidationFailed(_("Bưu gửi %(t)s đã được bưu điện nhận.") % {"t": item.tracking_number})
        if item.pickup_request_id and item.pickup_request.status in (PickupStatus.REQUESTED, PickupStatus.CONFIRMED):
            raise ValidationFailed(_("Bưu gửi %(t)s đã có trong yêu cầu thu gom %(n)s.") % {
                "t": item.tracking_number, "n": item.pickup_request.number})
    moment = now()
    post = Facility.objects.active().filter(province_id=agency.province_id, admin_unit_id=address.admin_unit_id,
                                            kind=FacilityKind.POST_OFFICE).order_by("postcode").first() or \
        Facility.objects.active().filter(province_id=agency.province_id, kind=FacilityKind.PROVINCIAL_POST).first()
    pickup = PickupRequest.objects.create(
        number=f"TG{moment:%y}-{next_number('pickup' + moment.strftime('%y')):06d}", agency=agency, address=address,
        requested_by=actor, requested_at=moment, wanted_by=wanted_by, note=(note or "").strip()[:500], facility=post,
    )
    Item.objects.filter(pk__in=[i.pk for i in items]).update(pickup_request=pickup)
    audit_record(action=A.PICKUP_REQUESTED.code, actor=actor, obj=pickup, data={"number": pickup.number, "items": numbers})
    return pickup


@transaction.atomic
def pickup_confirm(*, actor: User, pickup: PickupRequest, postman: User) -> PickupRequest:
    """The counter clerk confirms a pickup and assigns a cleared postman. Audit: pickup.confirmed."""
    pickup = restrict(PickupRequest.objects.select_for_update(of=("self",)), actor).filter(pk=pickup.pk).first()
    if pickup is None:
        raise NotFound(_("Không tìm thấy yêu cầu thu gom."))
    if not has_perm(actor, "items.pickup.confirm"):
        raise PermissionDenied(_("Bạn không có quyền xác nhận yêu cầu thu gom."))
    if pickup.status != PickupStatus.REQUESTED:
        from kt1.core.errors import Conflict

        raise Conflict(_("Yêu cầu %(n)s đang ở trạng thái “%(s)s”.") % {"n": pickup.number, "s": pickup.get_status_display()})
    if postman is None or not RoleAssignment.objects.current().filter(user=postman, role=Role.POSTMAN,
                                                                     user__is_active=True).exists():
        raise ValidationFailed(_("Chọn một bưu tá đang làm việc."), detail={"postman": _("Không hợp lệ.")})
    highest = max((Secrecy.rank(i.secrecy) for i in pickup.items.all()), default=0)
    level = [Secrecy.NONE, Secrecy.C, Secrecy.B, Secrecy.A][highest]
    clearance = handling_clearance(postman, level)
    if not clearance:
        raise ValidationFailed(clearance.reason, code="taker_not_cleared", detail={"postman": clearance.reason})
    pickup.status = PickupStatus.CONFIRMED
    pickup.confirmed_by = actor
    pickup.confirmed_at = now()
    pickup.postman = postman
    pickup.save(update_fields=["status", "confirmed_by", "confirmed_at", "postman"])
    audit_record(action=A.PICKUP_CONFIRMED.code, actor=actor, obj=pickup, data={"postman": postman.pk})
    return pickup


@transaction.atomic
def pickup_cancel(*, actor: User, pickup: PickupRequest, reason: str) -> PickupRequest:
    """The agency or the post cancels a pickup not yet collected. Audit: pickup.cancelled."""
    pickup = restrict(PickupRequest.objects.select_for_update(of=("self",)), actor).filter(pk=pickup.pk).first()
    if pickup is None:
        raise NotFound(_("Không tìm thấy yêu cầu thu gom."))
    if not (has_perm(actor, "items.pickup.request") or has_perm(actor, "items.pickup.confirm")):
        raise PermissionDenied(_("Bạn không có quyền hủy yêu cầu thu gom."))
    if pickup.status not in (PickupStatus.REQUESTED, PickupStatus.CONFIRMED):
        from kt1.core.errors import Conflict

        raise Conflict(_("Yêu cầu %(n)s không còn hủy được.") % {"n": pickup.number})
    if not (reason or "").strip():
        raise ValidationFailed(_("Ghi lý do hủy."), detail={"reason": _("Bắt buộc.")})
    pickup.status = PickupStatus.CANCELLED
    pickup.note = (f"{pickup.note} | " if pickup.note else "") + _("Hủy: %(r)s") % {"r": reason.strip()}
    pickup.save(update_fields=["status", "note"])
    Item.objects.filter(pickup_request=pickup, status=ItemStatus.REGISTERED).update(pickup_request=None)
    audit_record(action=A.PICKUP_CANCELLED.code, actor=actor, obj=pickup, data={"reason": reason.strip()})
    return pickup


# --- reference data of items -------------------------------------------------------------------


@transaction.atomic
def failure_reason_create(*, actor: User, code: str, label: str, default_next_action: str = NextAction.RETRY,
                          valid_from: dt.date | None = None) -> DeliveryFailureReason:
    """Add a delivery-failure reason to the configurable list. Audit: failure_reason.created."""
    if not has_perm(actor, "items.configure"):
        raise PermissionDenied(_("Bạn không có quyền cấu hình danh mục."))
    code = (code or "").strip().upper()
    label = (label or "").strip()
    if not code or not label:
        raise ValidationFailed(_("Nhập mã và nội dung lý do."))
    if DeliveryFailureReason.objects.filter(code=code).exists():
        raise ValidationFailed(_("Mã lý do “%(c)s” đã tồn tại.") % {"c": code}, detail={"code": _("Đã tồn tại.")})
    if default_next_action not in NextAction.values:
        raise ValidationFailed(_("Hướng xử lý không hợp lệ."))
    reason = DeliveryFailureReason.objects.create(code=code, label=label, default_next_action=default_next_action,
                                                  valid_from=valid_from or local_today())
    audit_record(action=A.FAILURE_REASON_CREATED.code, actor=actor, obj=reason, data={"code": code})
    return reason


@transaction.atomic
def kind_rule_set(*, actor: User, kind: str, max_weight_g: int, legal_basis: str = "",
                  valid_from: dt.date | None = None) -> KindRule:
    """Set a new version of an item kind's weight limit from a date (the previous version ends
    that day). Audit: kind_rule.set."""
    if not has_perm(actor, "items.configure"):
        raise PermissionDenied(_("Bạn không có quyền cấu hình danh mục."))
    if kind not in ItemKind.values:
        raise ValidationFailed(_("Loại bưu gửi không hợp lệ."))
    if not isinstance(max_weight_g, int) or max_weight_g <= 0:
        raise ValidationFailed(_("Khối lượng tối đa phải là số gam dương."))
    start = valid_from or local_today()
    for old in KindRule.objects.select_for_update().filter(kind=kind).filter(Q(valid_until__isnull=True) |
                                                                              Q(valid_until__gt=start)):
        if old.valid_from >= start:
            raise ValidationFailed(_("Đã có phiên bản bắt đầu từ %(d)s.") % {"d": old.valid_from})
        old.valid_until = start
        old.save(update_fields=["valid_until"])
    rule = KindRule.objects.create(kind=kind, max_weight_g=max_weight_g, legal_basis=(legal_basis or "").strip(),
                                   valid_from=start)
    audit_record(action=A.KIND_RULE_SET.code, actor=actor, obj=rule,
                 data={"kind": kind, "max_weight_g": max_weight_g, "valid_from": start.isoformat()})
    return rule


def private_data_rekey(*, batch_size: int = 500) -> int:
    """Re-encrypt every item's private data with the newest KT1_FIELD_KEYS key (operators run
    `kt1 rotate_field_keys` after putting a new key first). Batches commit separately so a long
    run can be resumed; each batch is audited. Returns how many items were re-encrypted."""
    from kt1.core.fieldcrypto import rotate

    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(Item.objects.select_for_update().filter(pk__gt=last_pk).exclude(private_data="")
                         .order_by("pk")[:batch_size])
            if not batch:
                return done
            for item in batch:
                Item.objects.filter(pk=item.pk).update(private_data=rotate(item.private_data))
            last_pk = batch[-1].pk
            done += len(batch)
            audit_record(action=A.PRIVATE_REKEYED.code, actor=None, actor_username="system",
                         data={"items": len(batch), "up_to_item": last_pk})


# --- bags (called by kt1.dispatch.services only) --------------------------------------------------


def _refuse_if_in_open_bag(item: Item) -> None:
    from kt1.dispatch.models import BagItem

    memo = _batch_memo.get()
    # Only a holder of the item's lock puts it in a bag (kt1.dispatch.services.bag_add_item): while a
    # batch holds the lock, an item found outside every bag stays outside.
    if memo is not None and ("not_in_bag", item.pk) in memo:
        return
    line = BagItem.objects.filter(item=item, removed_at__isnull=True, scanned_at__isnull=True).select_related("bag").first()
    if line is not None:
        raise ValidationFailed(_("Bưu gửi %(t)s đang nằm trong túi %(b)s; lấy ra khỏi túi trước.") % {
            "t": item.tracking_number, "b": line.bag.identifier}, code="in_bag")
    if memo is not None:
        memo["not_in_bag", item.pk] = True


def items_into_bag(*, actor: User, bag, items: list[Item]) -> list[CustodyEvent]:
    """Sealing a bag: custody of each item (held by the sealer) moves to the bag. The caller holds
    the transaction and the locks on the bag and the items.

    The seal closes once, so every KBAG event of the bag carries the same moment. Each event is
    checked and sealed by its own audit entry, item by item as before, but with the chain head
    locked once (audit_batch); the events are then inserted in one statement and the items'
    projection (holder, status, last_event_seq) moved in one, instead of three statements per item:
    a 500-item bag seals in well under a second."""
    moment = now()
    note = (_("Túi %(b)s") % {"b": bag.identifier})[:500]
    events = []
    with audit_batch():
        for item in items:
            edge = edge_for(item.status, EventCode.INTO_BAG)
            if not has_perm(actor, edge.permission):
                raise PermissionDenied(_("Bạn không có quyền niêm phong túi thư."))
            if item.holder_id != actor.pk:
                raise ValidationFailed(_("Bạn không giữ bưu gửi %(t)s.") % {"t": item.tracking_number},
                                       code="not_holder")
            event = CustodyEvent(item=item, seq=item.last_event_seq + 1, event_uuid=uuidlib.uuid4(), fingerprint="",
                                 code=EventCode.INTO_BAG, status_after=edge.target, actor=actor, giver=actor,
                                 taker=None, facility=bag.origin, occurred_at=moment, note=note, bag=bag)
            event.audit_seq = audit_record(action=A.CUSTODY_RECORDED.code, actor=actor, obj=item,
                                           data=event_payload(event)).seq
            events.append(event)
    CustodyEvent.objects.bulk_create(events)
    for target in {event.status_after for event in events}:
        # The items are locked by the caller: last_event_seq + 1 is the seq each event just took.
        Item.objects.filter(pk__in=[e.item_id for e in events if e.status_after == target]).update(
            status=target, holder=None, holder_bag=bag, holder_since=moment, facility=bag.origin,
            last_event_seq=F("last_event_seq") + 1)
    for item, event in zip(items, events, strict=True):
        item.status, item.holder, item.holder_bag, item.facility = event.status_after, None, bag, bag.origin
        item.holder_since, item.last_event_seq = moment, event.seq
    return events


def items_out_of_bag(*, actor: User, bag, facility: Facility, scans: list[tuple[Item, User, dt.datetime]],
                     note: str = "") -> list[CustodyEvent]:
    """Finishing the opening of a bag: custody of every scanned item moves from the bag to the
    person who scanned it, whose vetting must cover the item's secrecy now. `scans` lists
    (item, who scanned it, when); the caller (kt1.dispatch.services.bag_open_finish) holds the
    transaction and the locks on the bag and the items.

    Until this runs a scanned item is still held by the bag: a scan records the line only, so at
    every moment the item has exactly one holder. Like items_into_bag, every KOUT event carries
    the same moment (custody moves when the opening is finished: occurred_at and holder_since)
    and the scan time as its device time; each event is checked and sealed by its own audit
    entry (audit_batch(deferred=True), as the custody batch: the entries are chained, the head
    locked, when the last event is checked), the events are inserted in one statement and the
    items' projection moved with one UPDATE per taker."""
    moment = now()
    note = (note or "")[:500]
    events = []
    cleared: set[tuple[int, str]] = set()  # (taker, secrecy) already checked: the answer is the same
    memo_token = _batch_memo.set({}) if _batch_memo.get() is None else None
    try:
        with audit_batch(deferred=True):
            for item, taker, scanned_at in scans:
                edge = edge_for(item.status, EventCode.OUT_OF_BAG)
                if not has_perm(actor, edge.permission):
                    raise PermissionDenied(_("Bạn không có quyền mở túi thư."))
                if item.holder_bag_id != bag.pk:
                    raise ValidationFailed(_("Bưu gửi %(t)s không thuộc túi %(b)s.") % {
                        "t": item.tracking_number, "b": bag.identifier}, code="not_in_bag")
                if (taker.pk, item.secrecy) not in cleared:
                    # Its answer and wording depend on the taker and the secrecy level only (read once
                    # per taker: the memo), and every event of the finish has the same moment.
                    _taker_ok(taker, item, moment)
                    cleared.add((taker.pk, item.secrecy))
                event = CustodyEvent(item=item, seq=item.last_event_seq + 1, event_uuid=uuidlib.uuid4(), fingerprint="",
                                     code=EventCode.OUT_OF_BAG, status_after=edge.target, actor=actor, giver=None,
                                     taker=taker, facility=facility, occurred_at=moment, device_time=scanned_at,
                                     note=note, bag=bag)
                events.append((event, audit_record(action=A.CUSTODY_RECORDED.code, actor=actor, obj=item,
                                                   data=event_payload(event))))
    finally:
        if memo_token is not None:
            _batch_memo.reset(memo_token)
    for event, entry in events:  # chained when the audit batch ended (or by the caller's batch)
        event.audit_seq = entry.seq
    events = [event for event, _entry in events]
    insert_rows(events)  # as the custody batch writes its events: one prepared INSERT on PostgreSQL
    for taker_id, target in {(e.taker_id, e.status_after) for e in events}:
        # The items are locked by the caller: last_event_seq + 1 is the seq each event just took.
        Item.objects.filter(pk__in=[e.item_id for e in events if (e.taker_id, e.status_after) == (taker_id, target)]
                            ).update(status=target, holder_id=taker_id, holder_bag=None, holder_since=moment,
                                     facility=facility, last_event_seq=F("last_event_seq") + 1)
    for event in events:
        item = event.item
        item.status, item.holder, item.holder_bag, item.facility = event.status_after, event.taker, None, facility
        item.holder_since, item.last_event_seq = moment, event.seq
    return events
