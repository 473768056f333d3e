"""Time in one place: stored values are aware UTC; people see Asia/Ho_Chi_Minh.

Everything that stamps a record calls `now()` from here, so a demo loader or an import of
historical records can run the real services at a past moment (`simulated_time`) and every row
and audit entry agrees on when it happened. Production code never enters a simulation.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_simulated: contextvars.ContextVar[list[dt.datetime] | None] = contextvars.ContextVar("kt1_simulated_now", default=None)


def now() -> dt.datetime:
    simulated = _simulated.get()
    return simulated[0] if simulated else timezone.now()


def local_today() -> dt.date:
    """The calendar day in Vietnam: validity dates (effective-dated rules) are local days."""
    return now().astimezone(LOCAL_TZ).date()


class SimulatedClock:
    def __init__(self, cell: list[dt.datetime]):
        self._cell = cell

    def set(self, moment: dt.datetime) -> None:
        if timezone.is_naive(moment):
            raise ValueError("simulated time must be aware")
        self._cell[0] = moment

    def advance(self, **delta) -> dt.datetime:
        self._cell[0] = self._cell[0] + dt.timedelta(**delta)
        return self._cell[0]

    @property
    def now(self) -> dt.datetime:
        return self._cell[0]


@contextmanager
def simulated_time(start: dt.datetime) -> Iterator[SimulatedClock]:
    """Run code as if it were `start` (and later, via .set/.advance). For demo data and imports."""
    if timezone.is_naive(start):
        raise ValueError("simulated time must be aware")
    token = _simulated.set([start])
    try:
        yield SimulatedClock(_simulated.get())
    finally:
        _simulated.reset(token)
