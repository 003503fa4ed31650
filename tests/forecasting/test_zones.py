"""Where a center's working day starts, from the hours its contacts arrive in."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from forecasting import zones


def _day(
    open_hours: list[int], per_hour: float, night: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of one day at the hour grid: `per_hour` contacts in open hours, `night` elsewhere."""
    minutes = np.arange(24) * 60
    contacts = np.array([per_hour if h in open_hours else night for h in range(24)])
    return minutes, contacts


def test_a_day_within_the_clock_keeps_midnight() -> None:
    assert zones.working_day_offset(*_day(list(range(7, 21)), 100.0)) == timedelta(0)


def test_a_us_center_exported_in_utc_starts_its_day_at_six() -> None:
    # open 07:00-21:00 in New York in summer: 11:00-01:00 UTC, quiet 01:00-11:00
    hours = [*range(11, 24), 0]
    assert zones.working_day_offset(*_day(hours, 100.0)) == timedelta(hours=6)


def test_a_center_east_of_its_clock_takes_the_next_date() -> None:
    # Sydney's 08:00-20:00 in UTC is 22:00-10:00: quiet 10:00-22:00, the day starts at 16:00
    # the day before, so it carries the date its morning falls on
    hours = [22, 23, *range(10)]
    assert zones.working_day_offset(*_day(hours, 100.0)) == timedelta(hours=-8)


def test_stray_night_contacts_do_not_open_the_night() -> None:
    hours = [*range(6, 24), 0, 1]  # open 06:00-02:00, a contact or two before opening
    minutes, contacts = _day(hours, 200.0, night=1.0)
    assert zones.working_day_offset(minutes, contacts) == timedelta(hours=4)


def test_quiet_at_midnight_or_never_quiet_keeps_midnight() -> None:
    # a bank open until 24:00 with a few calls after: quiet at midnight
    minutes, contacts = _day(list(range(7, 24)), 1000.0, night=40.0)
    assert zones.working_day_offset(minutes, contacts) == timedelta(0)
    # round the clock, the nights at a tenth of the day
    assert zones.working_day_offset(*_day(list(range(8, 20)), 100.0, night=10.0)) == timedelta(0)
