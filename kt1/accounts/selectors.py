"""Reads of people and personnel records, from the viewer's restricted querysets."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from kt1.core.clock import now
from kt1.core.permissions import get_in_scope, restrict

from .choices import VettingStatus
from .models import RoleAssignment, Training, User, Vetting


def user_list(*, viewer, q: str = "", role: str = "", active: bool | None = True) -> QuerySet:
    qs = restrict(User.objects.all(), viewer)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(email__icontains=q))
    if role:
        qs = qs.filter(pk__in=RoleAssignment.objects.current().filter(role=role).values("user_id"))
    if active is not None:
        qs = qs.filter(is_active=active)
    current = RoleAssignment.objects.current().select_related("agency", "facility", "province")
    return qs.prefetch_related(Prefetch("role_assignments", queryset=current, to_attr="current_roles")).order_by("username")


def user_get(*, viewer, pk: int, action: str = "view") -> User:
    return get_in_scope(User.objects.all(), viewer, action, pk=pk)


def user_roles(*, viewer, user: User, include_ended: bool = False) -> QuerySet:
    qs = restrict(RoleAssignment.objects.filter(user=user).select_related("agency", "facility", "province"), viewer)
    return qs if include_ended else qs.current()


def vetting_list(*, viewer, status: str = "", q: str = "", expiring_within_days: int | None = None) -> QuerySet:
    qs = restrict(Vetting.objects.select_related("user", "requested_by", "decided_by"), viewer)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(user__username__icontains=q) | Q(user__full_name__icontains=q))
    if expiring_within_days is not None:
        moment = now()
        qs = qs.filter(
            status=VettingStatus.APPROVED, valid_until__gt=moment, valid_until__lte=moment + dt.timedelta(days=expiring_within_days)
        )
    return qs.order_by("-requested_at")


def vetting_get(*, viewer, pk: int, action: str = "view") -> Vetting:
    return get_in_scope(Vetting.objects.select_related("user", "requested_by", "decided_by", "revoked_by"), viewer, action, pk=pk)


def user_vettings(*, viewer, user: User) -> QuerySet:
    return restrict(Vetting.objects.filter(user=user).select_related("requested_by", "decided_by"), viewer)


def user_trainings(*, viewer, user: User) -> QuerySet:
    return restrict(Training.objects.filter(user=user).select_related("recorded_by"), viewer)
