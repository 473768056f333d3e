"""Time in one place: stored values are aware UTC; people see Asia/Ho_Chi_Minh."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> dt.datetime:
    return timezone.now()


def local_today() -> dt.date:
    """The calendar day in Vietnam: validity dates (effective-dated rules) are local days."""
    return timezone.now().astimezone(LOCAL_TZ).date()
