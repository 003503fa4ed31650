"""The center's zone, read from opening hours that step at daylight-saving switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from forecasting import switches


def _business_day(hour: float) -> float:
    """Contacts of a business day's interval: a morning peak at 10:30, a lower one at 15:30."""
    morning = np.exp(-0.5 * ((hour - 10.5) / 1.6) ** 2)
    afternoon = 0.7 * np.exp(-0.5 * ((hour - 15.5) / 2.2) ** 2)
    return float(5.0 + 100.0 * (morning + afternoon))


def _hours(
    zone: str, first: date, days: int, opens: int, closes: int, moved: date | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and contacts of a weekday center open `opens`-`closes` on `zone`'s clock
    (an hour later from `moved` on), every 30 minutes, as an export in UTC writes them."""
    epochs, contacts = [], []
    clock = ZoneInfo(zone)
    for k in range(days):
        day = first + timedelta(days=k)
        if day.weekday() >= 5:
            continue
        late = 60 if moved is not None and day >= moved else 0
        for minute in range(opens * 60 + late, closes * 60 + late, 30):
            local = datetime(day.year, day.month, day.day, tzinfo=clock) + timedelta(minutes=minute)
            epochs.append(int(local.timestamp()))
            contacts.append(_business_day(minute / 60 + 0.25))
    return np.array(epochs), np.array(contacts)


@pytest.mark.parametrize(
    ("zone", "first", "opens", "closes"),
    [
        ("America/New_York", date(2025, 9, 1), 7, 21),  # back in November
        ("Europe/Paris", date(2025, 2, 3), 8, 18),  # forward in March
        ("Australia/Sydney", date(2025, 3, 3), 8, 20),  # back in April
        ("Europe/Berlin", date(2025, 9, 1), 0, 24),  # round the clock, back in October
    ],
)
def test_hours_that_step_at_a_zones_switch_name_its_clock(
    zone: str, first: date, opens: int, closes: int
) -> None:
    """A zone that switches when the center's zone does (Chicago or Halifax for New York
    give the same days and forecast; the name is where the contacts centre nearest 13:00)."""
    epochs, contacts = _hours(zone, first, 120, opens, closes)
    found = switches.zone_from_hours(epochs, 0, contacts)
    assert found is not None
    days = [datetime.combine(first, time(12), UTC) + timedelta(days=k) for k in range(120)]
    center, read = ZoneInfo(zone), found

    def steps(clock: tzinfo) -> list[timedelta]:
        offsets = [day.astimezone(clock).utcoffset() or timedelta(0) for day in days]
        return [offset - offsets[0] for offset in offsets]

    assert steps(read) == steps(center) and any(steps(center))


def test_hours_that_do_not_move_on_the_clock_name_no_zone() -> None:
    # a New York history written on its own clock (offsets that switch are read as such;
    # here one summer's): the hours stand still
    epochs, contacts = _hours("America/New_York", date(2025, 5, 5), 120, 7, 21)
    summer = int(timedelta(hours=-4).total_seconds())
    assert switches.zone_from_hours(epochs, summer, contacts) is None
    # a zone without switches, exported in UTC
    epochs, contacts = _hours("Asia/Tokyo", date(2025, 2, 3), 120, 9, 18)
    assert switches.zone_from_hours(epochs, 0, contacts) is None


def test_new_hours_on_no_switch_date_name_no_zone() -> None:
    """Opening an hour later from a Wednesday in May is the center's decision, not a clock's."""
    epochs, contacts = _hours("Asia/Tokyo", date(2025, 3, 3), 140, 9, 18, moved=date(2025, 5, 14))
    assert switches.zone_from_hours(epochs, 0, contacts) is None
