"""Opening hours' next opening: pure logic of a region's daily window."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from switchboard.common.hours import OpeningHours

MADRID = ZoneInfo("Europe/Madrid")
Moment = tuple[int, int, int, int, int]  # year, month, day, hour, minute


@pytest.mark.parametrize(
    ("hours", "at", "opens"),
    [
        (("08:00", "20:00"), (2026, 3, 2, 12, 0), (2026, 3, 2, 12, 0)),  # open: at once
        (("08:00", "20:00"), (2026, 3, 2, 20, 0), (2026, 3, 3, 8, 0)),  # closing time
        (("08:00", "20:00"), (2026, 3, 3, 6, 30), (2026, 3, 3, 8, 0)),  # before opening
        (("22:00", "06:00"), (2026, 3, 2, 7, 0), (2026, 3, 2, 22, 0)),  # overnight window
        (("22:00", "06:00"), (2026, 3, 3, 2, 0), (2026, 3, 3, 2, 0)),
        (("08:00", "20:00"), (2026, 3, 28, 23, 0), (2026, 3, 29, 8, 0)),  # clocks go forward
    ],
)
def test_the_next_opening_is_the_first_open_moment_from_then(
    hours: tuple[str, str], at: Moment, opens: Moment
) -> None:
    window = OpeningHours("Europe/Madrid", *hours)
    moment = dt.datetime(*at, tzinfo=MADRID)
    assert window.next_opening(moment) == dt.datetime(*opens, tzinfo=MADRID)


def test_hours_never_open_give_the_moment_back() -> None:
    moment = dt.datetime(2026, 3, 2, 12, tzinfo=MADRID)
    assert OpeningHours("Europe/Madrid", "09:00", "09:00").next_opening(moment) == moment
