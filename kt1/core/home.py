"""The role-aware home page: what this person has to do now, as tiles built from selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from kt1.core.clock import now
from kt1.core.permissions import restrict, scope_of


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    url: str = ""
    tone: str = ""  # "", "attention", "bad", "good"
    testid: str = ""


def home_tiles(user) -> list[Tile]:
    from kt1.accounts.choices import POSTAL_ROLES, VettingStatus
    from kt1.accounts.clearance import handling_clearance
    from kt1.accounts.selectors import vetting_list
    from kt1.audit.models import AuditEntry
    from kt1.directory.models import Agency, Facility
    from kt1.directory.selectors import mandatory_coverage

    scope = scope_of(user)
    roles = scope.roles
    tiles: list[Tile] = []

    if "police" in roles or "supervisor" in roles or "admin" in roles:
        pending = vetting_list(viewer=user, status=VettingStatus.REQUESTED).count()
        tiles.append(Tile(_("Đề nghị thẩm tra chờ kết luận"), str(pending), _url("accounts:vetting_list", "?status=requested"),
                          "attention" if pending else "good", "pending-vettings"))
        expiring = vetting_list(viewer=user, expiring_within_days=30).count()
        tiles.append(Tile(_("Thẩm tra hết hạn trong 30 ngày"), str(expiring), _url("accounts:vetting_list", "?expiring=30"),
                          "attention" if expiring else "good", "expiring-vettings"))
    if "police" in roles or "supervisor" in roles:
        since = now() - dt.timedelta(hours=24)
        failures = restrict(AuditEntry.objects.filter(occurred_at__gte=since, action__in=["user.locked_out", "user.sign_in_failed"]), user)
        failures = failures.count()
        tiles.append(Tile(_("Đăng nhập thất bại 24 giờ qua"), str(failures), _url("audit:entry_list"),
                          "bad" if failures else "good", "failed-signins"))

    if "admin" in roles or "oversight" in roles or "finance" in roles or "police" in roles:
        coverage = mandatory_coverage(viewer=user)
        tiles.append(Tile(
            _("Cơ quan bắt buộc đang sử dụng KT1"),
            f"{coverage.enrolled}/{coverage.mandatory} ({coverage.percent}%)",
            _url("directory:agency_list", "?mandatory=yes&enrolled=no"),
            "attention" if coverage.enrolled < coverage.mandatory else "good",
            "coverage",
        ))
    if "admin" in roles:
        active_agencies = restrict(Agency.objects.active(), user)
        without_address = active_agencies.exclude(addresses__valid_until__isnull=True).count()
        tiles.append(Tile(_("Cơ quan chưa có địa chỉ phát"), str(without_address), _url("directory:agency_list"),
                          "attention" if without_address else "good", "agencies-without-address"))
        tiles.append(Tile(_("Cơ sở bưu chính đang hoạt động"), str(restrict(Facility.objects.active(), user).count()),
                          _url("directory:facility_list"), "", "facilities"))

    if roles & (POSTAL_ROLES | {"agency_clerk"}):
        clearance = handling_clearance(user)
        if clearance:
            from kt1.core.choices import Secrecy

            value = _("Được giao nhận tới độ mật: %(level)s") % {"level": Secrecy(clearance.max_secrecy).label}
            tiles.append(Tile(_("Quyền giao nhận bưu gửi KT1"), value, "", "good", "clearance"))
        else:
            tiles.append(Tile(_("Quyền giao nhận bưu gửi KT1"), clearance.reason, "", "bad", "clearance"))

    tiles.extend(_item_tiles(user, scope))
    tiles.extend(_dispatch_tiles(user, scope))

    if "agency_clerk" in roles:
        for agency in Agency.objects.filter(pk__in=scope.agency_ids):
            tiles.append(Tile(_("Cơ quan của bạn"), agency.short_name, _url("directory:agency_detail", args=[agency.pk]),
                              "", "my-agency"))
    return tiles


def _item_tiles(user, scope) -> list[Tile]:
    from kt1.items.choices import ItemStatus, PickupStatus
    from kt1.items.models import Item
    from kt1.items.selectors import handovers_waiting_for, item_list, pickup_list

    tiles = []
    if scope.has("items.custody") or scope.has("items.register"):
        waiting = handovers_waiting_for(viewer=user).count()
        tiles.append(Tile(_("Phiếu giao nhận chờ bạn ký nhận"), str(waiting), _url("items:handover_list"),
                          "attention" if waiting else "good", "handovers-waiting"))
    if scope.has("items.custody"):
        held = restrict(Item.objects.filter(holder=user), user).count()
        tiles.append(Tile(_("Bưu gửi bạn đang giữ"), str(held), _url("items:my_items"), "", "items-held"))
    if scope.has("items.pickup.confirm"):
        pending = pickup_list(viewer=user, status=PickupStatus.REQUESTED).count()
        tiles.append(Tile(_("Yêu cầu thu gom chờ xác nhận"), str(pending), _url("items:pickup_list", "?status=requested"),
                          "attention" if pending else "good", "pickups-waiting"))
    if scope.has("items.register") and scope.agency_ids:
        outgoing = item_list(viewer=user, direction="outgoing", status=ItemStatus.REGISTERED).count()
        tiles.append(Tile(_("Bưu gửi đi chờ bưu điện nhận"), str(outgoing), _url("items:outgoing", "?status=registered"),
                          "attention" if outgoing else "", "outgoing-registered"))
        incoming = item_list(viewer=user, direction="incoming", status=ItemStatus.OUT_FOR_DELIVERY).count()
        tiles.append(Tile(_("Bưu gửi đến đang trên đường phát"), str(incoming),
                          _url("items:incoming", "?status=out_for_delivery"), "", "incoming-out"))
    return tiles


def _dispatch_tiles(user, scope) -> list[Tile]:
    from kt1.dispatch.choices import BagStatus
    from kt1.dispatch.models import Bag
    from kt1.dispatch.selectors import transfers_waiting_for
    from kt1.incidents.choices import IncidentStatus
    from kt1.incidents.models import Incident

    tiles = []
    if scope.has("dispatch.bag") or scope.has("dispatch.carry"):
        waiting = transfers_waiting_for(viewer=user).count()
        tiles.append(Tile(_("Túi thư chờ bạn xác nhận nhận"), str(waiting), _url("dispatch:transfer_inbox"),
                          "attention" if waiting else "good", "bag-transfers-waiting"))
    if scope.has("dispatch.bag"):
        to_receive = restrict(Bag.objects.filter(holder=user, status__in=[BagStatus.IN_TRANSIT, BagStatus.SEALED],
                                                 destination_id__in=scope.facility_ids), user).count()
        tiles.append(Tile(_("Túi thư đến chờ kiểm tra niêm phong"), str(to_receive), _url("dispatch:bag_list", "?direction=in"),
                          "attention" if to_receive else "good", "bags-to-receive"))
    if scope.has("incidents.view") and (scope.roles & {"supervisor", "police", "oversight", "admin"}):
        open_incidents = restrict(Incident.objects.exclude(status=IncidentStatus.CLOSED), user).count()
        tiles.append(Tile(_("Sự cố chưa kết thúc"), str(open_incidents), _url("incidents:incident_list"),
                          "bad" if open_incidents else "good", "open-incidents"))
    return tiles


def _url(name: str, query: str = "", args=None) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return ""
