"""Every change in dispatch: bags, bag transfers, mail and vehicle trips, receiving and opening,
delivery rounds, and their reference data.

Custody rules carried over from items: a sealed bag holds its items, and the bag itself has exactly
one holder; a bag moves between people only when the taker confirms (BagTransfer); every taker is
active postal staff whose vetting covers the bag's highest secrecy. Each bag step is a BagEvent
sealed in the audit chain. Discrepancies on receiving or opening never stop the work: they create an
incident with its written record, and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, Subquery
from django.utils.translation import gettext as _

from kt1.accounts.choices import POSTAL_ROLES
from kt1.accounts.clearance import handling_clearance
from kt1.accounts.models import RoleAssignment, User
from kt1.audit.services import audit_batch, audit_record
from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, local_today, now
from kt1.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, ValidationFailed
from kt1.core.numbering import next_number
from kt1.core.permissions import has_perm, restrict, scope_of
from kt1.core.prepared import SENTINEL, prepared
from kt1.core.records import require_active_reference
from kt1.directory.models import AdministrativeUnit, Facility
from kt1.incidents.choices import IncidentKind
from kt1.incidents.services import incident_open
from kt1.items import s10
from kt1.items import services as item_services
from kt1.items.choices import EventCode, ItemStatus
from kt1.items.models import Item

from . import actions as A
from . import s9, single_scan
from .choices import (
    SEAL_IN_USE,
    BagEventCode,
    BagStatus,
    RoundResult,
    RoundStatus,
    TransferStatus,
    TripStatus,
)
from .models import (
    Bag,
    BagEvent,
    BagItem,
    BagTransfer,
    DeliveryRound,
    DeliveryRoute,
    MailRoute,
    MailTrip,
    RoundItem,
    RoundRule,
    RouteShift,
    SecrecyMixRule,
    Vehicle,
    VehicleTrip,
)
from .policy import seal_hidden_from

MAX_BAG_ITEMS = 2000


# --- helpers --------------------------------------------------------------------------------------


def _bag_event(bag: Bag, code: str, actor: User, *, giver=None, taker=None, facility=None, item=None,
               data: dict | None = None) -> BagEvent:
    bag.last_event_seq += 1
    event = BagEvent(bag=bag, seq=bag.last_event_seq, code=code, actor=actor, giver=giver, taker=taker,
                     facility=facility, item=item, occurred_at=now(), data=data or {})
    payload = {"bag": bag.pk, "identifier": bag.identifier, "seq": event.seq, "code": code, "actor": actor.pk,
               "giver": giver.pk if giver else None, "taker": taker.pk if taker else None,
               "facility": facility.pk if facility else None, "item": item.pk if item else None,
               "occurred_at": event.occurred_at.isoformat(), "data": event.data}
    event.audit_seq = audit_record(action=A.BAG_EVENT.code, actor=actor, obj=bag, data=payload).seq
    event.save()
    Bag.objects.filter(pk=bag.pk).update(last_event_seq=bag.last_event_seq)
    return event


def _first(queryset):
    """The row a lookup by a unique key finds, or None: .first() without the model's default
    ordering, which such a lookup does not need and which took a good part of building the query
    of each scan and each item added to a bag."""
    return next(iter(queryset.order_by()[:1]), None)


def _lock_bag(actor: User, bag_or_pk, action: str = "view") -> Bag:
    pk = bag_or_pk.pk if isinstance(bag_or_pk, Bag) else bag_or_pk
    bag = _first(restrict(Bag.objects.select_for_update(of=("self",)), actor, action).filter(pk=pk).select_related(
        "origin", "destination", "holder"))
    if bag is None:
        raise NotFound(_("Không tìm thấy túi thư."))
    return bag


def _require(actor: User, code: str, message: str) -> None:
    if not has_perm(actor, code):
        raise PermissionDenied(message)


def _actor_at(actor: User, facility: Facility) -> bool:
    return facility.pk in scope_of(actor).facility_ids


def _is_postal(user: User, at: dt.datetime | None = None) -> bool:
    return RoleAssignment.objects.current(at).filter(user=user, role__in=POSTAL_ROLES, user__is_active=True).exists()


def _require_cleared(user: User, level: str, what: str) -> None:
    if not _is_postal(user):
        raise ValidationFailed(_("%(u)s không phải nhân viên bưu chính đang làm việc.") % {"u": user},
                               code="taker_not_allowed", detail={what: _("Không hợp lệ.")})
    clearance = handling_clearance(user, level)
    if not clearance:
        raise ValidationFailed(clearance.reason, code="taker_not_cleared", detail={what: clearance.reason})


def current_mix_rule() -> SecrecyMixRule:
    rule = SecrecyMixRule.objects.valid_on(local_today()).order_by("-valid_from").first()
    if rule is None:
        raise ValidationFailed(_("Chưa có quy tắc đóng chung độ mật; đề nghị quản trị cấu hình."), code="no_mix_rule")
    return rule


def _highest(levels: Iterable[str]) -> str:
    ranked = sorted(levels, key=Secrecy.rank)
    return ranked[-1] if ranked else Secrecy.NONE


def _live_lines(bag: Bag):
    return BagItem.objects.filter(bag=bag, removed_at__isnull=True)


# --- reference data ------------------------------------------------------------------------------


@transaction.atomic
def mix_rule_set(*, actor: User, groups: list[list[str]], legal_basis: str = "",
                 valid_from: dt.date | None = None) -> SecrecyMixRule:
    """A new version of the rule saying which secrecy levels may share a bag. Audit: bag_mix_rule.set."""
    _require(actor, "dispatch.configure", _("Bạn không có quyền cấu hình quy tắc đóng túi."))
    seen: list[str] = []
    for group in groups or []:
        if not group or any(level not in Secrecy.values for level in group):
            raise ValidationFailed(_("Mỗi nhóm gồm các độ mật none, C, B, A."), detail={"groups": _("Không hợp lệ.")})
        seen.extend(group)
    if sorted(seen) != sorted(Secrecy.values):
        raise ValidationFailed(_("Mỗi độ mật phải thuộc đúng một nhóm."), detail={"groups": _("Không hợp lệ.")})
    start = valid_from or local_today()
    for old in SecrecyMixRule.objects.select_for_update().filter(valid_until__isnull=True):
        if old.valid_from >= start:
            raise ValidationFailed(_("Đã có phiên bản bắt đầu từ %(d)s.") % {"d": old.valid_from})
        old.valid_until = start
        old.save(update_fields=["valid_until"])
    rule = SecrecyMixRule.objects.create(groups=groups, legal_basis=(legal_basis or "").strip(), valid_from=start)
    audit_record(action=A.MIX_RULE_SET.code, actor=actor, obj=rule, data={"groups": groups, "from": start.isoformat()})
    return rule


@transaction.atomic
def round_rule_set(*, actor: User, unit_level: str, min_rounds_per_day: int, legal_basis: str = "",
                   valid_from: dt.date | None = None) -> RoundRule:
    """How many delivery rounds a day each unit level needs (data: 2; 1 at commune level). Audit:
    round_rule.set."""
    _require(actor, "dispatch.configure", _("Bạn không có quyền cấu hình."))
    if unit_level not in ("province", "ward", "commune", "special_zone"):
        raise ValidationFailed(_("Cấp địa bàn không hợp lệ."), detail={"unit_level": _("Không hợp lệ.")})
    if not isinstance(min_rounds_per_day, int) or not 1 <= min_rounds_per_day <= 10:
        raise ValidationFailed(_("Số chuyến phát mỗi ngày từ 1 đến 10."))
    start = valid_from or local_today()
    for old in RoundRule.objects.select_for_update().filter(unit_level=unit_level, valid_until__isnull=True):
        old.valid_until = start
        old.save(update_fields=["valid_until"])
    rule = RoundRule.objects.create(unit_level=unit_level, min_rounds_per_day=min_rounds_per_day,
                                    legal_basis=(legal_basis or "").strip(), valid_from=start)
    audit_record(action=A.ROUND_RULE_SET.code, actor=actor, obj=rule,
                 data={"unit_level": unit_level, "min": min_rounds_per_day})
    return rule


@transaction.atomic
def mail_route_create(*, actor: User, code: str, name: str, origin: Facility, destination: Facility,
                      shifts: list[tuple[str, dt.time]]) -> MailRoute:
    """A mail route with its daily shifts. Audit: mail_route.created."""
    _require(actor, "dispatch.configure", _("Bạn không có quyền cấu hình đường thư."))
    require_active_reference(origin, "origin", _("Điểm đầu"))
    require_active_reference(destination, "destination", _("Điểm cuối"))
    if origin.pk == destination.pk:
        raise ValidationFailed(_("Điểm đầu và điểm cuối phải khác nhau."))
    if not restrict(Facility.objects.filter(pk=origin.pk), actor).exists():
        raise NotFound(_("Không tìm thấy."))
    code = (code or "").strip().upper()
    if not code or MailRoute.objects.filter(code=code).exists():
        raise ValidationFailed(_("Mã đường thư trống hoặc đã tồn tại."), detail={"code": _("Không hợp lệ.")})
    if not shifts:
        raise ValidationFailed(_("Đường thư cần ít nhất một ca."), detail={"shifts": _("Bắt buộc.")})
    route = MailRoute.objects.create(code=code, name=(name or code).strip(), origin=origin, destination=destination)
    for shift_name, departs in shifts:
        RouteShift.objects.create(route=route, name=shift_name, departs_at=departs)
    audit_record(action=A.ROUTE_CREATED.code, actor=actor, obj=route, data={"code": code})
    return route


@transaction.atomic
def vehicle_create(*, actor: User, registration: str, facility: Facility, is_dedicated: bool,
                   description: str = "") -> Vehicle:
    """Audit: vehicle.created."""
    _require(actor, "dispatch.configure", _("Bạn không có quyền cấu hình phương tiện."))
    registration = (registration or "").strip().upper()
    if not registration or Vehicle.objects.filter(registration=registration).exists():
        raise ValidationFailed(_("Biển số trống hoặc đã có."), detail={"registration": _("Không hợp lệ.")})
    vehicle = Vehicle.objects.create(registration=registration, facility=facility, is_dedicated=bool(is_dedicated),
                                     description=(description or "").strip())
    audit_record(action=A.VEHICLE_CREATED.code, actor=actor, obj=vehicle, data={"registration": registration})
    return vehicle


@transaction.atomic
def delivery_route_create(*, actor: User, code: str, name: str, facility: Facility,
                          admin_units: list[AdministrativeUnit]) -> DeliveryRoute:
    """A post office's delivery route and the communes/wards it serves. Audit: delivery_route.created."""
    _require(actor, "dispatch.configure", _("Bạn không có quyền cấu hình tuyến phát."))
    code = (code or "").strip().upper()
    if not code or DeliveryRoute.objects.filter(code=code).exists():
        raise ValidationFailed(_("Mã tuyến phát trống hoặc đã tồn tại."), detail={"code": _("Không hợp lệ.")})
    if not admin_units:
        raise ValidationFailed(_("Chọn địa bàn tuyến phát phục vụ."), detail={"admin_units": _("Bắt buộc.")})
    route = DeliveryRoute.objects.create(code=code, name=(name or code).strip(), facility=facility)
    route.admin_units.set(admin_units)
    audit_record(action=A.DELIVERY_ROUTE_CREATED.code, actor=actor, obj=route,
                 data={"code": code, "units": [u.pk for u in admin_units]})
    return route


# --- bags ---------------------------------------------------------------------------------------


def _actor_facility(actor: User) -> Facility:
    assignment = (RoleAssignment.objects.current().filter(user=actor, facility__isnull=False).select_related("facility")
                  .order_by("pk").first())
    if assignment is None:
        raise PermissionDenied(_("Bạn không thuộc cơ sở bưu chính nào."))
    return assignment.facility


@transaction.atomic
def bag_create(*, actor: User, destination: Facility, origin: Facility | None = None,
               same_dispatch_as: Bag | None = None) -> Bag:
    """Open a new bag at the actor's facility for a destination facility. Audit: bag.event (created)."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền đóng túi thư."))
    origin = origin or _actor_facility(actor)
    if not _actor_at(actor, origin):
        raise PermissionDenied(_("Bạn chỉ đóng túi tại cơ sở của mình."))
    require_active_reference(destination, "destination", _("Nơi nhận"))
    if destination.pk == origin.pk:
        raise ValidationFailed(_("Nơi nhận phải khác nơi đóng túi."), detail={"destination": _("Không hợp lệ.")})
    moment = now()
    year = moment.astimezone(LOCAL_TZ).year
    if same_dispatch_as is not None:
        if (same_dispatch_as.origin_id, same_dispatch_as.destination_id) != (origin.pk, destination.pk):
            raise ValidationFailed(_("Túi cùng chuyến thư phải cùng nơi đóng và nơi nhận."))
        dispatch = same_dispatch_as.dispatch_number
    else:
        dispatch = next_number(f"dispatch-{origin.postcode}-{destination.postcode}-{year}") % 10000
    serial = Bag.objects.filter(origin=origin, destination=destination, dispatch_number=dispatch,
                                created_at__year=year).count() + 1
    ident = s9.Receptacle(origin.postcode, destination.postcode, year % 10, dispatch, serial, False, 0)
    bag = Bag.objects.create(identifier=str(ident), dispatch_number=dispatch, receptacle_serial=serial, origin=origin,
                             destination=destination, created_by=actor, created_at=moment, holder=actor, facility=origin)
    _bag_event(bag, BagEventCode.CREATED, actor, facility=origin, data={"destination": destination.postcode})
    return bag


def _scan_item(actor: User, tracking_number: str) -> Item:
    number = str(s10.parse(tracking_number))
    item = _first(restrict(Item.objects.select_for_update(of=("self",)), actor).filter(tracking_number=number))
    if item is None:
        raise NotFound(_("Không tìm thấy bưu gửi %(t)s.") % {"t": number}, code="item_not_found")
    return item


@transaction.atomic
def bag_add_item(*, actor: User, bag: Bag, tracking_number: str) -> BagItem:
    """Put an item the actor holds into an open bag, if its secrecy may share the bag (the
    configurable mix rule). Custody moves only when the bag is sealed. Audit: bag.event (item_added)."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền đóng túi thư."))
    bag = _lock_bag(actor, bag, "change")
    if bag.status != BagStatus.OPEN:
        raise Conflict(_("Túi %(b)s đã niêm phong.") % {"b": bag.identifier}, code="bag_not_open")
    item = _scan_item(actor, tracking_number)
    if item.holder_id != actor.pk:
        raise ValidationFailed(_("Bạn không giữ bưu gửi %(t)s.") % {"t": item.tracking_number}, code="not_holder")
    if item.status not in (ItemStatus.ACCEPTED, ItemStatus.DELIVERY_FAILED):
        raise Conflict(_("Bưu gửi %(t)s đang ở trạng thái “%(s)s”, không đóng túi được.") % {
            "t": item.tracking_number, "s": item.get_status_display()}, code="illegal_transition")
    live = _first(BagItem.objects.filter(item=item, removed_at__isnull=True, scanned_at__isnull=True).select_related("bag"))
    if live is not None:
        raise ValidationFailed(_("Bưu gửi %(t)s đã ở trong túi %(b)s.") % {"t": item.tracking_number,
                                                                         "b": live.bag.identifier}, code="in_bag")
    rule = current_mix_rule()
    # The secrecy levels already in the bag and how many lines it has, in one grouped query (not
    # every line's level, which made each add slower as the bag filled).
    in_bag = dict(_live_lines(bag).order_by().values_list("item__secrecy").annotate(n=Count("pk")))
    levels = set(in_bag) | {item.secrecy}
    if len({rule.group_of(level) for level in levels}) > 1:
        raise ValidationFailed(
            _("Bưu gửi độ mật “%(s)s” không được đóng chung túi với %(o)s (quy tắc: %(r)s).") % {
                "s": Secrecy(item.secrecy).label, "o": ", ".join(sorted(str(Secrecy(x).label) for x in levels - {item.secrecy})),
                "r": rule}, code="secrecy_mix")
    if sum(in_bag.values()) >= MAX_BAG_ITEMS:
        raise ValidationFailed(_("Túi đã đủ %(n)d bưu gửi.") % {"n": MAX_BAG_ITEMS})
    try:
        with transaction.atomic():
            line = BagItem.objects.create(bag=bag, item=item, added_by=actor)
    except IntegrityError as exc:  # a concurrent add of the same item to another bag
        raise ValidationFailed(_("Bưu gửi %(t)s đã ở trong một túi khác.") % {"t": item.tracking_number},
                               code="in_bag") from exc
    _bag_event(bag, BagEventCode.ITEM_ADDED, actor, facility=bag.origin, item=item)
    return line


@transaction.atomic
def bag_remove_item(*, actor: User, bag: Bag, tracking_number: str) -> BagItem:
    """Take an item out of a bag before sealing. Audit: bag.event (item_removed)."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền đóng túi thư."))
    bag = _lock_bag(actor, bag, "change")
    if bag.status != BagStatus.OPEN:
        raise Conflict(_("Túi %(b)s đã niêm phong."), code="bag_not_open")
    number = str(s10.parse(tracking_number))
    line = _live_lines(bag).filter(item__tracking_number=number).select_related("item").first()
    if line is None:
        raise ValidationFailed(_("Bưu gửi %(t)s không có trong túi.") % {"t": number}, code="not_in_bag")
    line.removed_at = now()
    line.save(update_fields=["removed_at"])
    _bag_event(bag, BagEventCode.ITEM_REMOVED, actor, facility=bag.origin, item=line.item)
    return line


@transaction.atomic
def bag_seal(*, actor: User, bag: Bag, seal_number: str, last_in_dispatch: bool = False) -> Bag:
    """Seal a bag: record the seal number, list its items, and move their custody to the bag.
    Refused for an empty bag or a seal number still on another bag in use. Audit: bag.event (sealed)
    plus one custody.recorded (KBAG) per item."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền niêm phong túi thư."))
    bag = _lock_bag(actor, bag, "change")
    if bag.status != BagStatus.OPEN:
        raise Conflict(_("Túi %(b)s đã niêm phong.") % {"b": bag.identifier}, code="bag_not_open")
    seal_number = (seal_number or "").strip().upper()
    if not seal_number or len(seal_number) > 30:
        raise ValidationFailed(_("Nhập số niêm phong (kẹp chì) của túi."), detail={"seal_number": _("Bắt buộc.")})
    clash = Bag.objects.filter(seal_number=seal_number, status__in=SEAL_IN_USE).exclude(pk=bag.pk).first()
    if clash is not None:
        # Name the other bag only to someone who may see it and its seal: the refusal must not
        # tell a guesser which bag carries a seal the receiving side has to read (kt1.dispatch.policy).
        if restrict(Bag.objects.filter(pk=clash.pk), actor, "view").exists() and not seal_hidden_from(actor, clash):
            message = _("Số niêm phong %(s)s đang dùng cho túi %(b)s chưa mở.") % {"s": seal_number, "b": clash.identifier}
        else:
            message = _("Số niêm phong %(s)s đang được dùng cho một túi chưa mở.") % {"s": seal_number}
        raise ValidationFailed(message, code="seal_in_use", detail={"seal_number": _("Đang được dùng.")})
    lines = list(_live_lines(bag).select_related("item"))
    if not lines:
        raise ValidationFailed(_("Không niêm phong túi rỗng."), code="empty_bag")
    items = list(Item.objects.select_for_update(of=("self",)).filter(pk__in=[line.item_id for line in lines])
                 .order_by("pk"))
    item_services.items_into_bag(actor=actor, bag=bag, items=items)
    weight = sum(i.weight_g for i in items)
    ident = s9.parse(bag.identifier)
    final = s9.Receptacle(ident.origin_postcode, ident.destination_postcode, ident.year_digit, ident.dispatch_number,
                          ident.receptacle_serial, bool(last_in_dispatch), weight)
    moment = now()
    bag.identifier = str(final)
    bag.status = BagStatus.SEALED
    bag.seal_number = seal_number
    bag.highest_secrecy = _highest(i.secrecy for i in items)
    bag.mix_rule = current_mix_rule()
    bag.item_count = len(items)
    bag.weight_g = weight
    bag.sealed_by = actor
    bag.sealed_at = moment
    bag.holder = actor
    try:
        with transaction.atomic():
            bag.save(update_fields=["identifier", "status", "seal_number", "highest_secrecy", "mix_rule", "item_count",
                                    "weight_g", "sealed_by", "sealed_at", "holder"])
    except IntegrityError as exc:  # the same seal number sealed concurrently on another bag
        raise ValidationFailed(_("Số niêm phong %(s)s đang được dùng.") % {"s": seal_number}, code="seal_in_use") from exc
    _bag_event(bag, BagEventCode.SEALED, actor, facility=bag.origin,
               data={"seal_number": seal_number, "items": len(items), "weight_g": weight,
                     "highest_secrecy": bag.highest_secrecy})
    return bag


@transaction.atomic
def bag_cancel(*, actor: User, bag: Bag) -> Bag:
    """Cancel an open bag; any items left in it are simply taken out (they never left the actor's
    hands). Audit: bag.event (cancelled)."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền đóng túi thư."))
    bag = _lock_bag(actor, bag, "change")
    if bag.status != BagStatus.OPEN:
        raise Conflict(_("Chỉ hủy được túi chưa niêm phong."), code="bag_not_open")
    _live_lines(bag).update(removed_at=now())
    bag.status = BagStatus.CANCELLED
    bag.save(update_fields=["status"])
    _bag_event(bag, BagEventCode.CANCELLED, actor, facility=bag.origin)
    return bag


# --- transfers between people (facility staff ⇄ vehicle crew) ---------------------------------


@transaction.atomic
def transfer_create(*, actor: User, taker: User, bags: list[Bag], mail_trip: MailTrip | None = None) -> BagTransfer:
    """The holder lists sealed bags for a taker; nothing moves until the taker confirms.
    Audit: bag_transfer.created."""
    if not (has_perm(actor, "dispatch.trip") or has_perm(actor, "dispatch.carry") or has_perm(actor, "dispatch.bag")):
        raise PermissionDenied(_("Bạn không có quyền giao nhận túi thư."))
    if taker is None or taker.pk == actor.pk:
        raise ValidationFailed(_("Chọn người nhận khác bạn."), detail={"taker": _("Không hợp lệ.")})
    if not bags:
        raise ValidationFailed(_("Chọn ít nhất một túi."), detail={"bags": _("Bắt buộc.")})
    locked = [_lock_bag(actor, b) for b in sorted(bags, key=lambda b: b.pk)]
    for bag in locked:
        if bag.status not in (BagStatus.SEALED, BagStatus.IN_TRANSIT):
            raise Conflict(_("Túi %(b)s chưa niêm phong hoặc đã nhận.") % {"b": bag.identifier}, code="illegal_transition")
        if bag.holder_id != actor.pk:
            raise ValidationFailed(_("Bạn không giữ túi %(b)s.") % {"b": bag.identifier}, code="not_holder")
        if BagTransfer.objects.filter(bags=bag, status=TransferStatus.OPEN).exists():
            raise ValidationFailed(_("Túi %(b)s đang trong một phiếu giao nhận chưa xác nhận.") % {"b": bag.identifier})
    _require_cleared(taker, _highest(b.highest_secrecy for b in locked), "taker")
    facility = locked[0].facility or _actor_facility(actor)
    moment = now()
    transfer = BagTransfer.objects.create(
        number=f"GT{moment:%y}-{next_number('bag-transfer' + moment.strftime('%y')):06d}", giver=actor, taker=taker,
        facility=facility, mail_trip=mail_trip, created_at=moment)
    transfer.bags.set(locked)
    audit_record(action=A.TRANSFER_CREATED.code, actor=actor, obj=transfer,
                 data={"number": transfer.number, "bags": [b.identifier for b in locked], "taker": taker.pk})
    return transfer


@transaction.atomic
def transfer_complete(*, actor: User, transfer: BagTransfer) -> BagTransfer:
    """The taker confirms in their own session: custody of every bag moves at once.
    Audit: bag_transfer.completed, bag.event (handed_over) per bag."""
    transfer = restrict(BagTransfer.objects.select_for_update(of=("self",)), actor).filter(pk=transfer.pk).first()
    if transfer is None:
        raise NotFound(_("Không tìm thấy phiếu giao nhận túi."))
    if transfer.status != TransferStatus.OPEN:
        raise Conflict(_("Phiếu %(n)s đã %(s)s.") % {"n": transfer.number, "s": transfer.get_status_display().lower()})
    if actor.pk != transfer.taker_id:
        raise PermissionDenied(_("Chỉ người nhận có tên trên phiếu mới được xác nhận."))
    bags = [_lock_bag(actor, b) for b in transfer.bags.order_by("pk")]
    _require_cleared(actor, _highest(b.highest_secrecy for b in bags), "taker")
    for bag in bags:
        if bag.holder_id != transfer.giver_id:
            raise ValidationFailed(_("Túi %(b)s không còn do bên giao giữ.") % {"b": bag.identifier}, code="not_holder")
        bag.holder = actor
        bag.save(update_fields=["holder"])
        _bag_event(bag, BagEventCode.HANDED_OVER, actor, giver=transfer.giver, taker=actor, facility=transfer.facility,
                   data={"transfer": transfer.number})
    transfer.status = TransferStatus.COMPLETED
    transfer.completed_at = now()
    transfer.save(update_fields=["status", "completed_at"])
    audit_record(action=A.TRANSFER_COMPLETED.code, actor=actor, obj=transfer, data={"number": transfer.number})
    return transfer


@transaction.atomic
def transfer_cancel(*, actor: User, transfer: BagTransfer) -> BagTransfer:
    """Either party withdraws an unconfirmed transfer. Audit: bag_transfer.cancelled."""
    transfer = restrict(BagTransfer.objects.select_for_update(of=("self",)), actor).filter(pk=transfer.pk).first()
    if transfer is None:
        raise NotFound(_("Không tìm thấy phiếu giao nhận túi."))
    if transfer.status != TransferStatus.OPEN:
        raise Conflict(_("Phiếu đã đóng."))
    if actor.pk not in (transfer.giver_id, transfer.taker_id):
        raise PermissionDenied(_("Chỉ bên giao hoặc bên nhận được hủy phiếu."))
    transfer.status = TransferStatus.CANCELLED
    transfer.completed_at = now()
    transfer.save(update_fields=["status", "completed_at"])
    audit_record(action=A.TRANSFER_CANCELLED.code, actor=actor, obj=transfer, data={"number": transfer.number})
    return transfer


# --- mail trips and vehicle trips ------------------------------------------------------------------


@transaction.atomic
def mail_trip_create(*, actor: User, route: MailRoute, shift: RouteShift, service_date: dt.date,
                     bags: list[Bag] = ()) -> MailTrip:
    """Plan the mail trip of a route's shift on a day and load sealed bags bound for its
    destination. Audit: mail_trip.created."""
    _require(actor, "dispatch.trip", _("Bạn không có quyền lập chuyến thư."))
    if shift.route_id != route.pk:
        raise ValidationFailed(_("Ca không thuộc đường thư này."), detail={"shift": _("Không hợp lệ.")})
    require_active_reference(route, "route", _("Đường thư"))
    if not _actor_at(actor, route.origin):
        raise PermissionDenied(_("Bạn chỉ lập chuyến thư xuất phát từ cơ sở của mình."))
    if MailTrip.objects.filter(route=route, shift=shift, service_date=service_date).exists():
        raise ValidationFailed(_("Đã có chuyến thư cho ca này trong ngày."), code="duplicate_trip")
    trip = MailTrip.objects.create(
        number=f"CT{service_date:%y%m%d}-{route.code}-{shift.pk}", route=route, shift=shift, service_date=service_date,
        created_by=actor)
    for bag in bags:
        mail_trip_load(actor=actor, trip=trip, bag=bag)
    audit_record(action=A.MAIL_TRIP_CREATED.code, actor=actor, obj=trip, data={"number": trip.number})
    return trip


@transaction.atomic
def mail_trip_load(*, actor: User, trip: MailTrip, bag: Bag) -> Bag:
    """Add a sealed bag to a planned trip. Audit: bag.event (data: loaded)."""
    _require(actor, "dispatch.trip", _("Bạn không có quyền lập chuyến thư."))
    trip = restrict(MailTrip.objects.select_for_update(of=("self",)), actor, "change").filter(pk=trip.pk).select_related(
        "route").first()
    if trip is None:
        raise NotFound(_("Không tìm thấy chuyến thư."))
    if trip.status != TripStatus.PLANNED:
        raise Conflict(_("Chuyến thư đã xuất phát."), code="illegal_transition")
    bag = _lock_bag(actor, bag)
    if bag.status != BagStatus.SEALED:
        raise Conflict(_("Chỉ túi đã niêm phong mới lên chuyến thư."), code="illegal_transition")
    if (bag.origin_id, bag.destination_id) != (trip.route.origin_id, trip.route.destination_id):
        raise ValidationFailed(_("Túi %(b)s không cùng nơi đóng và nơi nhận với đường thư %(r)s.") % {
            "b": bag.identifier, "r": trip.route.code}, code="wrong_route")
    if bag.trip_id and bag.trip_id != trip.pk:
        raise ValidationFailed(_("Túi %(b)s đã thuộc chuyến thư khác.") % {"b": bag.identifier})
    bag.trip = trip
    bag.save(update_fields=["trip"])
    return bag


@transaction.atomic
def vehicle_trip_create(*, actor: User, vehicle: Vehicle, driver: User, service_date: dt.date,
                        escort: User | None = None, mail_trips: list[MailTrip] = ()) -> VehicleTrip:
    """A vehicle trip with its crew. An escort is required when the vehicle is not a dedicated KT1
    vehicle (DOMAIN §3). Audit: vehicle_trip.created."""
    _require(actor, "dispatch.trip", _("Bạn không có quyền lập chuyến xe."))
    require_active_reference(vehicle, "vehicle", _("Xe"))
    if not vehicle.is_dedicated and escort is None:
        raise ValidationFailed(_("Xe %(v)s không phải xe chuyên dùng KT1: phải có người áp tải.") % {"v": vehicle},
                               code="escort_required", detail={"escort": _("Bắt buộc.")})
    if escort is not None and escort.pk == driver.pk:
        raise ValidationFailed(_("Lái xe và áp tải phải là hai người."), detail={"escort": _("Không hợp lệ.")})
    for person, field in ((driver, "driver"), (escort, "escort")):
        if person is not None and not has_perm(person, "dispatch.carry"):
            raise ValidationFailed(_("%(p)s không có vai trò lái xe hoặc áp tải.") % {"p": person},
                                   detail={field: _("Không hợp lệ.")})
    number = f"CX{service_date:%y%m%d}-{next_number('vehicle-trip' + service_date.strftime('%y%m%d')):03d}"
    trip = VehicleTrip.objects.create(number=number, vehicle=vehicle, driver=driver, escort=escort,
                                      service_date=service_date, created_by=actor)
    for mail_trip in mail_trips:
        MailTrip.objects.filter(pk=mail_trip.pk, status=TripStatus.PLANNED).update(vehicle_trip=trip)
    audit_record(action=A.VEHICLE_TRIP_CREATED.code, actor=actor, obj=trip,
                 data={"number": number, "vehicle": vehicle.registration, "driver": driver.pk,
                       "escort": escort.pk if escort else None})
    return trip


def _trip_for_crew(actor: User, trip: MailTrip) -> MailTrip:
    trip = restrict(MailTrip.objects.select_for_update(of=("self",)), actor).filter(pk=trip.pk).select_related(
        "vehicle_trip", "route__origin", "route__destination").first()
    if trip is None:
        raise NotFound(_("Không tìm thấy chuyến thư."))
    if trip.vehicle_trip is None:
        raise ValidationFailed(_("Chuyến thư chưa được xếp lên chuyến xe."), code="no_vehicle_trip")
    crew = {trip.vehicle_trip.driver_id, trip.vehicle_trip.escort_id} - {None}
    if actor.pk not in crew:
        raise PermissionDenied(_("Chỉ tổ lái của chuyến xe ghi xuất phát, đến nơi."))
    return trip


@transaction.atomic
def mail_trip_depart(*, actor: User, trip: MailTrip) -> MailTrip:
    """The crew departs: every bag of the trip must be in the crew's hands, and the crew cleared
    for the highest secrecy on board. Audit: mail_trip.departed, bag.event (departed) per bag."""
    trip = _trip_for_crew(actor, trip)
    if trip.status != TripStatus.PLANNED:
        raise Conflict(_("Chuyến thư đã xuất phát."), code="illegal_transition")
    bags = list(Bag.objects.select_for_update(of=("self",)).filter(trip=trip).order_by("pk"))
    if not bags:
        raise ValidationFailed(_("Chuyến thư không có túi nào."), code="empty_trip")
    vt = trip.vehicle_trip
    crew = [u for u in (vt.driver, vt.escort) if u is not None]
    level = _highest(b.highest_secrecy for b in bags)
    for person in crew:
        _require_cleared(person, level, "crew")
    not_held = [b.identifier for b in bags if b.holder_id not in {u.pk for u in crew}]
    if not_held:
        raise ValidationFailed(_("Tổ lái chưa nhận túi: %(l)s.") % {"l": ", ".join(not_held)}, code="not_holder")
    moment = now()
    for bag in bags:
        bag.status = BagStatus.IN_TRANSIT
        bag.facility = None
        bag.save(update_fields=["status", "facility"])
        _bag_event(bag, BagEventCode.DEPARTED, actor, facility=trip.route.origin, data={"trip": trip.number})
    trip.status = TripStatus.DEPARTED
    trip.departed_at = moment
    trip.save(update_fields=["status", "departed_at"])
    if vt.status == TripStatus.PLANNED:
        VehicleTrip.objects.filter(pk=vt.pk).update(status=TripStatus.DEPARTED, departed_at=moment)
    audit_record(action=A.MAIL_TRIP_DEPARTED.code, actor=actor, obj=trip, data={"bags": len(bags)})
    return trip


@transaction.atomic
def mail_trip_arrive(*, actor: User, trip: MailTrip) -> MailTrip:
    """The crew arrives at the route's destination. Audit: mail_trip.arrived, bag.event (arrived)."""
    trip = _trip_for_crew(actor, trip)
    if trip.status != TripStatus.DEPARTED:
        raise Conflict(_("Chuyến thư chưa xuất phát hoặc đã đến."), code="illegal_transition")
    moment = now()
    for bag in Bag.objects.select_for_update(of=("self",)).filter(trip=trip).order_by("pk"):
        bag.facility = trip.route.destination
        bag.save(update_fields=["facility"])
        _bag_event(bag, BagEventCode.ARRIVED, actor, facility=trip.route.destination, data={"trip": trip.number})
    trip.status = TripStatus.ARRIVED
    trip.arrived_at = moment
    trip.save(update_fields=["status", "arrived_at"])
    audit_record(action=A.MAIL_TRIP_ARRIVED.code, actor=actor, obj=trip, data={})
    return trip


# --- receiving and opening ---------------------------------------------------------------------


@transaction.atomic
def bag_receive(*, actor: User, bag: Bag, seal_number_read: str, seal_intact: bool, present: list[User] = ()) -> Bag:
    """The receiving officer (who now holds the bag at its destination) reads the seal number and
    confirms the seal is intact. A mismatch or a broken seal is recorded as a discrepancy with an
    incident and its written record; the bag is received either way so nothing is lost.
    Audit: bag.event (received), incident.opened when needed."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền nhận túi thư."))
    bag = _lock_bag(actor, bag)
    if bag.status not in (BagStatus.IN_TRANSIT, BagStatus.SEALED):
        raise Conflict(_("Túi %(b)s không ở trạng thái chờ nhận.") % {"b": bag.identifier}, code="illegal_transition")
    if not _actor_at(actor, bag.destination):
        raise ValidationFailed(_("Túi %(b)s gửi đến %(d)s, không nhận tại cơ sở của bạn.") % {
            "b": bag.identifier, "d": bag.destination}, code="wrong_facility")
    if bag.holder_id != actor.pk:
        raise ValidationFailed(_("Nhận bàn giao túi từ tổ lái trước khi kiểm tra niêm phong."), code="not_holder")
    read = (seal_number_read or "").strip().upper()
    if not read:
        raise ValidationFailed(_("Nhập số niêm phong đọc trên túi."), detail={"seal_number": _("Bắt buộc.")})
    matches = read == bag.seal_number
    moment = now()
    bag.status = BagStatus.RECEIVED
    bag.received_by = actor
    bag.received_at = moment
    bag.seal_intact = bool(seal_intact) and matches
    bag.facility = bag.destination
    bag.save(update_fields=["status", "received_by", "received_at", "seal_intact", "facility"])
    _bag_event(bag, BagEventCode.RECEIVED, actor, facility=bag.destination,
               data={"seal_read": read, "seal_matches": matches, "seal_intact": bool(seal_intact)})
    if not matches:
        incident_open(actor=actor, kind=IncidentKind.SEAL_MISMATCH, facility=bag.destination, bag=bag, present=present,
                      description=_("Túi %(b)s: số niêm phong đọc được %(r)s, khác số ghi khi niêm phong %(s)s.") % {
                          "b": bag.identifier, "r": read, "s": bag.seal_number})
    if not seal_intact:
        incident_open(actor=actor, kind=IncidentKind.SEAL_BROKEN, facility=bag.destination, bag=bag, present=present,
                      description=_("Túi %(b)s: niêm phong không nguyên vẹn khi nhận.") % {"b": bag.identifier})
    return bag


def _check_opening(actor: User, bag: Bag) -> None:
    if bag.status == BagStatus.OPENED:
        raise Conflict(_("Túi %(b)s đã kết thúc mở túi; không quét thêm được.") % {"b": bag.identifier},
                       code="illegal_transition")
    if bag.status != BagStatus.RECEIVED:
        raise Conflict(_("Chỉ mở túi đã nhận và kiểm tra niêm phong."), code="illegal_transition")
    if bag.received_by_id != actor.pk and bag.holder_id != actor.pk:
        raise ValidationFailed(_("Người nhận túi mới được mở túi."), code="not_holder")


@dataclass(frozen=True)
class ScanInput:
    """One scan sent by the opener: the tracking number read, and whether the item is damaged."""

    tracking_number: str
    damaged: bool = False


class ScanStatus:
    SCANNED = "scanned"  # a listed item: its line is marked (damaged or not)
    EXTRA = "extra"  # not on the bag's list: an extra-item incident was opened
    REFUSED = "refused"  # nothing recorded for this scan: `error` says why


@dataclass
class ScanOutcome:
    index: int
    tracking_number: str
    status: str
    line: BagItem | None = None
    error: ApplicationError | None = None


def bag_open_scan(*, actor: User, bag: Bag, tracking_number: str, damaged: bool = False,
                  present: list[User] = ()) -> BagItem | None:
    """One scan while opening a received bag: bag_open_scans with one scan, its refusal raised.
    Returns the bag line, or None for an extra item."""
    outcome = bag_open_scans(actor=actor, bag=bag, scans=[ScanInput(tracking_number, bool(damaged))],
                             present=present)[0]
    if outcome.error is not None:
        raise outcome.error
    return outcome.line


@transaction.atomic
def bag_open_scans(*, actor: User, bag: Bag, scans: Iterable[ScanInput],
                   present: list[User] = ()) -> list[ScanOutcome]:
    """Open a received bag item by item (the receiver, who holds the bag): the scans a handheld
    sends, in the order it read them, in one transaction. A listed item's scan is recorded on its
    bag line (scanned_at, scanned_by) and nothing else: no custody moves, no audit entry. The item
    stays held by the bag — "đã quét, chuyển giao khi kết thúc mở túi" — until bag_open_finish
    moves every scanned item to the person who scanned it, so it has exactly one holder at every
    moment. Discrepancies surface at once: an item not on the list (extra) or a damaged one opens
    an incident with its record and appends an item_scanned bag event.

    Each scan stands alone: a malformed number or a second scan of an item (already scanned
    before, or earlier in the same batch) is refused with its own error and the others stand.
    Set-based: the bag is read and locked once (FOR UPDATE, as the finish and the undo lock it, so
    none of them interleave with a batch), the lines of all the numbers are read with one query,
    and the listed, undamaged lines are marked by one conditional UPDATE (… AND scanned_at IS NULL),
    its row count checked. Refused as a whole, nothing recorded: the bag is not received (or
    already opened), the actor neither received nor holds it. One undamaged scan on PostgreSQL
    (the opening page) first tries kt1.dispatch.single_scan: the same checks, lock and UPDATE as
    one statement, which marks the line only when this path would; otherwise it wrote nothing and
    this path runs.
    Permission: dispatch.bag. Audit: none for an ordinary scan (sealed at the finish by its KOUT
    custody event); bag.event (item_scanned) and incident.opened for an extra or damaged item."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền mở túi thư."))
    scans = list(scans)
    if len(scans) == 1 and not scans[0].damaged:
        # One scan from the page, the common case (a listed item, not yet scanned) in one
        # statement on PostgreSQL; anything else (nothing written) takes the full path below.
        number = None
        with suppress(ApplicationError):  # a malformed number is refused by the full path
            number = str(s10.parse(scans[0].tracking_number))
        line = single_scan.scan_listed_line(actor=actor, bag_pk=bag.pk, number=number, moment=now()) if number else None
        if line is not None:
            return [ScanOutcome(0, number, ScanStatus.SCANNED, line=line)]
    opening = _lock_opening(actor, bag.pk)
    _check_opening(actor, opening)
    numbers: list[str | ApplicationError] = []
    for scan in scans:
        try:
            numbers.append(str(s10.parse(scan.tracking_number)))
        except ApplicationError as exc:
            numbers.append(exc)
    lines = _opening_lines(opening.pk, {n for n in numbers if isinstance(n, str)})
    outcomes: list[ScanOutcome] = []
    plain: list[BagItem] = []
    taken: set[int] = set()
    moment = now()
    with audit_batch():  # the chain head, locked once for the incidents and bag events, if any
        for index, (scan, number) in enumerate(zip(scans, numbers, strict=True)):
            if not isinstance(number, str):
                outcomes.append(ScanOutcome(index, str(scan.tracking_number), ScanStatus.REFUSED, error=number))
                continue
            line = lines.get(number)
            if line is None:
                _open_scan_extra(actor, opening, number, present)
                outcomes.append(ScanOutcome(index, number, ScanStatus.EXTRA))
                continue
            if line.scanned_at is not None or line.pk in taken:
                outcomes.append(ScanOutcome(index, number, ScanStatus.REFUSED, error=_already_scanned(number)))
                continue
            taken.add(line.pk)
            outcomes.append(ScanOutcome(index, number, ScanStatus.SCANNED, line=line))
            if not scan.damaged:
                plain.append(line)
            elif _mark_scanned([line], moment, actor, damaged=True):
                # Recorded at once (not at the finish): a discrepancy must surface when it is found.
                _bag_event(opening, BagEventCode.ITEM_SCANNED, actor, facility=opening.destination, item=line.item,
                           data={"tracking_number": number, "listed": True, "damaged": True})
                incident_open(actor=actor, kind=IncidentKind.DAMAGED_ITEM, facility=opening.destination, bag=opening,
                              item=line.item, present=present, description=_(
                                  "Bưu gửi %(t)s hư hỏng khi mở túi %(b)s.") % {"t": number, "b": opening.identifier})
        _mark_scanned(plain, moment, actor, damaged=False)
    for outcome in outcomes:
        if outcome.line is not None and outcome.line.scanned_at != moment:  # not marked: scanned meanwhile
            outcome.status, outcome.line = ScanStatus.REFUSED, None
            outcome.error = _already_scanned(outcome.tracking_number)
    return outcomes


def _already_scanned(number: str) -> ValidationFailed:
    return ValidationFailed(_("Bưu gửi %(t)s đã được quét.") % {"t": number}, code="already_scanned",
                            detail={"tracking_number": _("Đã quét")})


def _lock_opening(actor: User, bag_pk: int) -> Bag:
    """_lock_bag for the scans, compiled once per scope (kt1.core.prepared) and run again with the
    next bag: building and compiling the scoped query with the bag's origin, destination and
    holder was a third of a single scan's time."""
    query = prepared(("dispatch.bag_open_lock", scope_of(actor)), lambda: (
        restrict(Bag.objects.select_for_update(of=("self",)), actor, "view").filter(pk=_MARKED_PK)
        .select_related("origin", "destination", "holder").order_by()[:1]), sentinel=_MARKED_PK)
    found = query.fetch(bag_pk)
    if not found:
        raise NotFound(_("Không tìm thấy túi thư."))
    return found[0]


_MARKED_PK = -424242  # the marked value of a query compiled once and run with another primary key


def _opening_lines(bag_pk: int, numbers: set[str]) -> dict[str, BagItem]:
    """The live lines of the bag (scanned or not) for these tracking numbers, with their items, by
    number. One number (a scan from the page): one statement compiled once per bag and run again
    with the next number, as the tracking lookup is. Many: two indexed reads, the items' ids by
    number, then the bag's lines by item. Either way the line is found by its item's id: joined on
    the tracking number, PostgreSQL's plan on a table without statistics walked every line of the
    bag for each scan."""
    if len(numbers) == 1:
        query = prepared(("dispatch.bag_open_line", bag_pk), lambda: BagItem.objects.filter(
            bag_id=bag_pk, removed_at__isnull=True,
            item_id=Subquery(Item.objects.filter(tracking_number=SENTINEL).values("pk")[:1]),
        ).select_related("item").order_by()[:1])
        (number,) = numbers
        return {line.item.tracking_number: line for line in query.fetch(number)}
    items = list(Item.objects.filter(tracking_number__in=numbers).values_list("pk", flat=True))
    return {line.item.tracking_number: line for line in BagItem.objects.filter(
        bag_id=bag_pk, removed_at__isnull=True, item_id__in=items).select_related("item").order_by()}


def _open_scan_extra(actor: User, bag: Bag, number: str, present) -> None:
    item = _first(Item.objects.filter(tracking_number=number))
    incident_open(actor=actor, kind=IncidentKind.EXTRA_ITEM, facility=bag.destination, bag=bag, item=item,
                  present=present, description=_("Túi %(b)s: bưu gửi %(t)s không có trong danh sách túi.") % {
                      "b": bag.identifier, "t": number})
    _bag_event(bag, BagEventCode.ITEM_SCANNED, actor, facility=bag.destination, item=item,
               data={"tracking_number": number, "listed": False})


def _mark_scanned(lines: list[BagItem], moment: dt.datetime, actor: User, *, damaged: bool) -> set[int]:
    """The scans themselves: UPDATE the lines SET scanned_at, scanned_by, damaged WHERE id IN (…)
    AND scanned_at IS NULL, in chunks of 500 ids. The condition is the guard against a double
    scan; the bag's lock already keeps other scans out, so the row count should always be all of
    them — when it is not, what was marked is read back and the rest is refused as already
    scanned. Written as statements of fixed shape with the values prepared by the fields themselves
    (as kt1.core.records.update_rows does): QuerySet.update() cost more Python than the scan.
    Returns the ids marked; their objects get the new values."""
    if not lines:
        return set()
    meta = BagItem._meta
    connection = connections[router.db_for_write(BagItem)]
    quote = connection.ops.quote_name
    at, by, hurt = (meta.get_field(name) for name in ("scanned_at", "scanned_by", "damaged"))
    values = [at.get_db_prep_save(moment, connection), actor.pk, hurt.get_db_prep_save(damaged, connection)]
    pks = [line.pk for line in lines]
    count = 0
    with connection.cursor() as cursor:
        for start in range(0, len(pks), 500):
            chunk = pks[start:start + 500]
            # Only quoted names from the model's own metadata go into the text; every value is a parameter.
            sql = (f"UPDATE {quote(meta.db_table)} SET {quote(at.column)} = %s, {quote(by.column)} = %s, "  # noqa: S608
                   f"{quote(hurt.column)} = %s WHERE {quote(meta.pk.column)} IN ({', '.join(['%s'] * len(chunk))}) "
                   f"AND {quote(at.column)} IS NULL")
            cursor.execute(sql, [*values, *chunk])
            count += cursor.rowcount
    marked = set(pks) if count == len(pks) else set(
        BagItem.objects.filter(pk__in=pks, scanned_at=moment, scanned_by=actor).values_list("pk", flat=True))
    for line in lines:
        if line.pk in marked:
            line.scanned_at, line.scanned_by, line.damaged = moment, actor, damaged
    return marked


@transaction.atomic
def bag_open_unscan(*, actor: User, bag: Bag, tracking_number: str, reason: str) -> BagItem:
    """Undo a scan before the finish (the receiver, while the bag is received and not yet opened):
    the line goes back to not scanned, so the item is listed as remaining and someone may scan it
    again (e.g. the scanner's vetting was revoked after scanning, and the finish refuses to hand
    the item to them). Nothing else changes: the item never left the bag's custody. The reason is
    required and kept in the bag's history (an item_unscanned bag event, with who had scanned it
    and when). Permission: dispatch.bag. Audit: bag.event (item_unscanned)."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền mở túi thư."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Nhập lý do hủy quét."), code="reason_required", detail={"reason": _("Bắt buộc.")})
    number = str(s10.parse(tracking_number))
    opening = _lock_bag(actor, bag)
    _check_opening(actor, opening)
    line = _first(_live_lines(opening).filter(item__tracking_number=number).select_related("item"))
    if line is None:
        raise ValidationFailed(_("Bưu gửi %(t)s không có trong danh sách túi %(b)s.") % {
            "t": number, "b": opening.identifier}, code="not_in_bag", detail={"tracking_number": _("Không có trong túi")})
    if line.scanned_at is None:
        raise ValidationFailed(_("Bưu gửi %(t)s chưa được quét.") % {"t": number}, code="not_scanned",
                               detail={"tracking_number": _("Chưa quét")})
    was = {"scanned_by": line.scanned_by_id, "scanned_at": line.scanned_at.isoformat(), "damaged": line.damaged}
    line.scanned_at, line.scanned_by, line.damaged = None, None, False
    line.save(update_fields=["scanned_at", "scanned_by", "damaged"])
    _bag_event(opening, BagEventCode.ITEM_UNSCANNED, actor, facility=opening.destination, item=line.item,
               data={"tracking_number": number, "reason": reason, **was})
    return line


@transaction.atomic
def bag_open_finish(*, actor: User, bag: Bag, present: list[User] = ()) -> Bag:
    """Finish opening (the receiver). In one transaction, set-based like sealing: custody of every
    scanned item moves from the bag to the person who scanned it (one KOUT custody event each,
    device time = the scan time; items_out_of_bag), and every listed item not scanned is missing —
    one incident each, and the item stays in the bag's custody (never silently dropped). The bag's
    history gets one `opened` event listing the items handed over and the missing ones.
    Preconditions: the bag is received (not yet opened); the actor received or holds it; each
    scanner's vetting covers the items' secrecy now. Permission: dispatch.bag.
    Audit: custody.recorded (KOUT) per scanned item, incident.opened per missing item,
    bag.event (opened)."""
    _require(actor, "dispatch.bag", _("Bạn không có quyền mở túi thư."))
    bag = _lock_bag(actor, bag)  # FOR UPDATE: waits for a scan in flight (_line_to_scan), refuses later ones
    if bag.status != BagStatus.RECEIVED:
        raise Conflict(_("Chỉ mở túi đã nhận."), code="illegal_transition")
    if bag.received_by_id != actor.pk and bag.holder_id != actor.pk:
        raise ValidationFailed(_("Người nhận túi mới được mở túi."), code="not_holder")
    # The list as (item, scanned at, scanned by), in the order the items were added.
    lines = list(_live_lines(bag).order_by("added_at", "pk").values_list("item_id", "scanned_at", "scanned_by_id"))
    # Every item of the list, locked (in primary-key order, as sealing locks them) and read once.
    items = {i.pk: i for i in Item.objects.select_for_update(of=("self",)).filter(
        pk__in=[item_id for item_id, _at, _by in lines]).order_by("pk")}
    scanners = User.objects.in_bulk({by for _item, at, by in lines if at is not None})
    missing = [items[item_id] for item_id, at, _by in lines if at is None]
    # Only the bag can have let go of an item it holds, and only here: a scanned item no longer in
    # the bag was handed over at its scan (how opening worked before custody moved at the finish).
    moving = [(items[item_id], scanners[by], at) for item_id, at, by in lines
              if at is not None and items[item_id].holder_bag_id == bag.pk]
    # Custody moves first, its audit entries chained at the end of its own (deferred) batch; then the
    # missing items and the bag's event, chained after them on the head this transaction now holds.
    item_services.items_out_of_bag(actor=actor, bag=bag, facility=bag.destination,
                                   note=_("Mở túi %(b)s") % {"b": bag.identifier}, scans=moving)
    with audit_batch():
        for item in missing:
            incident_open(actor=actor, kind=IncidentKind.MISSING_ITEM, facility=bag.destination, bag=bag,
                          item=item, present=present,
                          description=_("Túi %(b)s: thiếu bưu gửi %(t)s khi mở túi.") % {
                              "b": bag.identifier, "t": item.tracking_number})
        moment = now()
        bag.status = BagStatus.OPENED
        bag.opened_by = actor
        bag.opened_at = moment
        bag.holder = None if not missing else bag.holder
        bag.save(update_fields=["status", "opened_by", "opened_at", "holder"])
        _bag_event(bag, BagEventCode.OPENED, actor, facility=bag.destination,
                   data={"handed_over": [item.tracking_number for item, _by, _at in moving],
                         "missing": [item.tracking_number for item in missing]})
    return bag


# --- delivery rounds -----------------------------------------------------------------------------


@transaction.atomic
def round_create(*, actor: User, route: DeliveryRoute, postman: User, service_date: dt.date,
                 tracking_numbers: list[str] = ()) -> DeliveryRound:
    """Plan a delivery round of a route for a postman with the items assigned. Each item must be
    held by the postman (hand them over first) and bound for an agency the route serves.
    Audit: delivery_round.created."""
    _require(actor, "dispatch.round", _("Bạn không có quyền lập chuyến phát."))
    route = restrict(DeliveryRoute.objects.all(), actor).filter(pk=route.pk).first()
    if route is None:
        raise NotFound(_("Không tìm thấy tuyến phát."))
    if not has_perm(postman, "items.deliver") or "postman" not in scope_of(postman).roles:
        raise ValidationFailed(_("%(p)s không phải bưu tá.") % {"p": postman}, detail={"postman": _("Không hợp lệ.")})
    number = f"CP{service_date:%y%m%d}-{route.code}-{next_number('round' + route.code + service_date.isoformat()):02d}"
    rnd = DeliveryRound.objects.create(number=number, route=route, postman=postman, service_date=service_date,
                                       created_by=actor)
    units = set(route.admin_units.values_list("pk", flat=True))
    for raw in tracking_numbers:
        item = _scan_item(actor, raw)
        target = item.sender_agency if item.is_returning else item.recipient_agency
        address_unit = item.recipient_address.admin_unit_id if item.recipient_address_id and not item.is_returning \
            else target.admin_unit_id
        if address_unit not in units:
            raise ValidationFailed(_("Bưu gửi %(t)s không thuộc địa bàn tuyến %(r)s.") % {
                "t": item.tracking_number, "r": route.code}, code="wrong_route")
        if item.holder_id != postman.pk:
            raise ValidationFailed(_("Bưu tá %(p)s chưa giữ bưu gửi %(t)s.") % {"p": postman, "t": item.tracking_number},
                                   code="not_holder")
        RoundItem.objects.get_or_create(round=rnd, item=item)
    audit_record(action=A.ROUND_CREATED.code, actor=actor, obj=rnd, data={"number": number, "items": rnd.lines.count()})
    return rnd


@transaction.atomic
def round_start(*, actor: User, rnd: DeliveryRound) -> DeliveryRound:
    """The postman leaves: each assigned item goes out for delivery (EDG). Audit: delivery_round.started."""
    rnd = restrict(DeliveryRound.objects.select_for_update(of=("self",)), actor).filter(pk=rnd.pk).first()
    if rnd is None:
        raise NotFound(_("Không tìm thấy chuyến phát."))
    if actor.pk != rnd.postman_id:
        raise PermissionDenied(_("Chỉ bưu tá của chuyến phát được bắt đầu."))
    if rnd.status != RoundStatus.PLANNED:
        raise Conflict(_("Chuyến phát đã bắt đầu."), code="illegal_transition")
    for line in rnd.lines.select_related("item"):
        if line.item.status in (ItemStatus.ACCEPTED, ItemStatus.DELIVERY_FAILED):
            item_services.custody_record(actor=actor, request=item_services.CustodyRequest(
                event_uuid=uuid.uuid4(), tracking_number=line.item.tracking_number, code=EventCode.OUT_FOR_DELIVERY,
                note=_("Chuyến phát %(n)s") % {"n": rnd.number}))
    rnd.status = RoundStatus.OUT
    rnd.started_at = now()
    rnd.save(update_fields=["status", "started_at"])
    audit_record(action=A.ROUND_STARTED.code, actor=actor, obj=rnd, data={"number": rnd.number})
    return rnd


@transaction.atomic
def round_complete(*, actor: User, rnd: DeliveryRound) -> DeliveryRound:
    """The postman is back: each line's result is read from the item's custody (delivered, failed
    attempt, or not attempted). Audit: delivery_round.completed."""
    rnd = restrict(DeliveryRound.objects.select_for_update(of=("self",)), actor).filter(pk=rnd.pk).first()
    if rnd is None:
        raise NotFound(_("Không tìm thấy chuyến phát."))
    if actor.pk != rnd.postman_id and "supervisor" not in scope_of(actor).roles:
        raise PermissionDenied(_("Chỉ bưu tá của chuyến phát hoặc kiểm soát viên được kết thúc."))
    if rnd.status != RoundStatus.OUT:
        raise Conflict(_("Chuyến phát chưa bắt đầu hoặc đã kết thúc."), code="illegal_transition")
    moment = now()
    results = {}
    for line in rnd.lines.select_related("item"):
        status = line.item.status
        if status in (ItemStatus.DELIVERED, ItemStatus.RETURNED):
            line.result = RoundResult.DELIVERED
        elif status == ItemStatus.DELIVERY_FAILED:
            line.result = RoundResult.FAILED
        else:
            line.result = RoundResult.NOT_ATTEMPTED
        line.recorded_at = moment
        line.save(update_fields=["result", "recorded_at"])
        results[line.item.tracking_number] = line.result
    rnd.status = RoundStatus.COMPLETED
    rnd.completed_at = moment
    rnd.save(update_fields=["status", "completed_at"])
    audit_record(action=A.ROUND_COMPLETED.code, actor=actor, obj=rnd, data={"results": results})
    return rnd
