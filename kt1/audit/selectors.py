"""Reads of the audit log, always from the viewer's restricted queryset."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from kt1.core.clock import LOCAL_TZ
from kt1.core.permissions import restrict

from . import registry
from .models import AuditEntry


def security_action_codes() -> list[str]:
    return [a.code for a in registry.all_actions() if a.security]


def entry_list(
    *,
    viewer,
    action: str = "",
    q: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    security_only: bool = False,
) -> QuerySet:
    """Entries the viewer may read, newest first. Dates are local days (Asia/Ho_Chi_Minh),
    both ends included."""
    qs = restrict(AuditEntry.objects.select_related("actor"), viewer)
    if action:
        qs = qs.filter(action=action)
    if security_only:
        qs = qs.filter(action__in=security_action_codes())
    if q:
        qs = qs.filter(
            Q(actor_username__icontains=q) | Q(actor__full_name__icontains=q) | Q(object_repr__icontains=q) | Q(object_id=q)
        )
    if date_from:
        qs = qs.filter(occurred_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=LOCAL_TZ))
    if date_to:
        qs = qs.filter(occurred_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=LOCAL_TZ))
    return qs.order_by("-seq")
