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

    if "agency_clerk" in roles:
        for agency in Agency.objects.filter(pk__in=scope.agency_ids):
            tiles.append(Tile(_("Cơ quan của bạn"), agency.short_name, _url("directory:agency_detail", args=[agency.pk]),
                              "", "my-agency"))
    return tiles


def _url(name: str, query: str = "", args=None) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse(name, args=args) + query
    except NoReverseMatch:
        return ""
