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


@dataclass(frozen=True)
class HandlingProfile:
    """Everything that decides one person's clearance at one moment: read once (three queries for
    any number of people, `handling_profiles`), then asked for any secrecy level. A batch of custody
    events asks it for every taker without going back to the database."""

    user: object
    at: dt.datetime
    roles: frozenset[tuple[str, int | None]]  # current (role, agency_id) pairs
    best_vetting: Vetting | None
    trained: bool

    def has_role(self, roles, agency_id: int | None = None) -> bool:
        return any(role in roles and (agency_id is None or agency == agency_id) for role, agency in self.roles)

    def clearance(self, secrecy: str = Secrecy.NONE) -> Clearance:
        if secrecy not in Secrecy.values:
            raise ValueError(f"unknown secrecy {secrecy!r}")
        user = self.user
        if user is None or not user.is_active:
            return Clearance(False, _("Tài khoản không hoạt động."))
        if not self.has_role(HANDLING_ROLES):
            return Clearance(False, _("%(name)s không có vai trò được giao nhận bưu gửi KT1.") % {"name": user})
        best = self.best_vetting
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
        if not self.trained:
            return Clearance(False, _("%(name)s chưa có chứng nhận đào tạo KT1 còn hiệu lực.") % {"name": user})
        return Clearance(True, vetting_id=best.pk, max_secrecy=best.max_secrecy)


def handling_profiles(users, at: dt.datetime | None = None) -> dict[int, HandlingProfile]:
    """The handling profiles of these people at `at` (default now), by user id: their current roles,
    their best vetting in force and whether a KT1 training is valid on at's local day."""
    at = at or now()
    users = {u.pk: u for u in users if u is not None}
    roles: dict[int, set] = {pk: set() for pk in users}
    best: dict[int, Vetting] = {}
    trained: set[int] = set()
    if users:
        for user_id, role, agency_id in RoleAssignment.objects.current(at).filter(user_id__in=users).values_list(
                "user_id", "role", "agency_id"):
            roles[user_id].add((role, agency_id))
        vettings = Vetting.objects.filter(
            user_id__in=users, status__in=[VettingStatus.APPROVED, VettingStatus.REVOKED], decided_at__lte=at
        ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at)).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=at))
        for v in vettings.order_by("pk"):
            current = best.get(v.user_id)
            if current is None or Secrecy.rank(v.max_secrecy or Secrecy.NONE) > Secrecy.rank(current.max_secrecy or Secrecy.NONE):
                best[v.user_id] = v
        day = at.astimezone(LOCAL_TZ).date()
        trained = set(Training.objects.filter(user_id__in=users, completed_on__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)).values_list("user_id", flat=True))
    return {pk: HandlingProfile(user=u, at=at, roles=frozenset(roles[pk]), best_vetting=best.get(pk),
                                trained=pk in trained) for pk, u in users.items()}


def handling_clearance(user, secrecy: str = Secrecy.NONE, at: dt.datetime | None = None) -> Clearance:
    if secrecy not in Secrecy.values:
        raise ValueError(f"unknown secrecy {secrecy!r}")
    if user is None or not user.is_active:
        return Clearance(False, _("Tài khoản không hoạt động."))
    return handling_profiles([user], at)[user.pk].clearance(secrecy)
