import datetime as dt

import pytest

from kt1.core import clock


def test_simulated_time_drives_now_and_local_today():
    start = dt.datetime(2026, 9, 1, 1, 30, tzinfo=dt.UTC)
    with clock.simulated_time(start) as sim:
        assert clock.now() == start
        assert clock.local_today() == dt.date(2026, 9, 1)
        sim.advance(hours=20)
        assert clock.local_today() == dt.date(2026, 9, 2)  # 21:30 UTC is 04:30 next day in Vietnam
    assert clock.now() > start + dt.timedelta(days=30)


def test_simulated_time_must_be_aware():
    with pytest.raises(ValueError), clock.simulated_time(dt.datetime(2026, 9, 1)):  # noqa: DTZ001
        pass
