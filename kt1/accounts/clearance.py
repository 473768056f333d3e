"""The one answer to "may this person handle a KT1 item of secrecy S at time T?" (DOMAIN §11).

Custody checks call `handling_clearance` for every taker. A person may handle an item when, at T,
they are an active user with a current postal or clerk role, hold a police vetting in force whose
authorised level covers S, and hold a KT1 training valid on T's local day. When the vetting lapses
(expiry or revocation) the right lapses with it: nothing else needs to be switched off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from kt1.core.choices import Secrecy
from kt1.core.clock import LOCAL_TZ, now

from .choices import POSTAL_ROLES, Role, VettingStatus
from .models import RoleAssignment, Training, Vetting

HANDLING_ROLES = frozenset(POSTAL_ROLES | {Role.AGENCY_CLERK})


@dataclass(frozen=True)
class Clearance:
    allowed: bool
    reason: str = ""
    vetting_id: int | None = None
    max_secrecy: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


def handling_clearance(user, secrecy: str = Secrecy.NONE, at: dt.datetime | None = None) -> Clearance:
    at = at or now()
    if secrecy not in Secrecy.values:
        raise ValueError(f"unknown secrecy {secrecy!r}")
    if user is None or not user.is_active:
        return Clearance(False, _("Tài khoản không hoạt động."))
    if not RoleAssignment.objects.current(at).filter(user=user, role__in=HANDLING_ROLES).exists():
        return Clearance(False, _("%(name)s không có vai trò được giao nhận bưu gửi KT1.") % {"name": user})
    vettings = Vetting.objects.filter(
        user=user, status__in=[VettingStatus.APPROVED, VettingStatus.REVOKED], decided_at__lte=at
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at)).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
    best = max(vettings, key=lambda v: Secrecy.rank(v.max_secrecy or Secrecy.NONE), default=None)
    if best is None:
        return Clearance(False, _("%(name)s chưa có kết quả thẩm tra chính trị còn hiệu lực.") % {"name": user})
    if not Secrecy.covers(best.max_secrecy or Secrecy.NONE, secrecy):
        return Clearance(
            False,
            _("%(name)s chỉ được tiếp xúc tới độ mật “%(level)s”; bưu gửi có độ mật “%(need)s”.")
            % {"name": user, "level": Secrecy(best.max_secrecy).label, "need": Secrecy(secrecy).label},
            vetting_id=best.pk,
            max_secrecy=best.max_secrecy,
        )
    day = at.astimezone(LOCAL_TZ).date()
    trained = Training.objects.filter(user=user, completed_on__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )
    if not trained.exists():
        return Clearance(False, _("%(name)s chưa có chứng nhận đào tạo KT1 còn hiệu lực.") % {"name": user})
    return Clearance(True, vetting_id=best.pk, max_secrecy=best.max_secrecy)
