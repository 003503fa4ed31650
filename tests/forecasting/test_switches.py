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
    assert _steps(found, first, 120) == _steps(ZoneInfo(zone), first, 120)
    assert any(_steps(found, first, 120))


def _steps(clock: tzinfo, first: date, days: int) -> list[timedelta]:
    """How the clock's offset differs from its first noon's, noon by noon."""
    noons = [datetime.combine(first, time(12), UTC) + timedelta(days=k) for k in range(days)]
    offsets = [noon.astimezone(clock).utcoffset() or timedelta(0) for noon in noons]
    return [offset - offsets[0] for offset in offsets]


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


def _round_the_clock(
    zone: str, first: date, days: int, per_day: float, drift_min: float = 0.0, seed: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and Poisson counts of a center open round the clock on `zone`'s clock (peaks
    at 10:30 and 18:00, quiet nights), every 15 minutes, as an export in UTC writes them;
    its hours move `drift_min` later over the days, little by little."""
    rng = np.random.default_rng(seed)
    clock = ZoneInfo(zone)
    epochs, contacts = [], []
    for k in range(days):
        day = first + timedelta(days=k)
        late = drift_min * k / days
        hours = (np.arange(96) * 15 + 7.5 - late) / 60
        shape = 0.15 + np.exp(-((hours - 10.5) ** 2) / 8) + 0.8 * np.exp(-((hours - 18) ** 2) / 6)
        counts = rng.poisson(per_day * shape / shape.sum())
        midnight = datetime(day.year, day.month, day.day, tzinfo=clock)
        for slot in np.flatnonzero(counts):
            epochs.append(int((midnight + timedelta(minutes=15 * int(slot))).timestamp()))
            contacts.append(float(counts[slot]))
    return np.array(epochs), np.array(contacts)


def test_a_round_the_clock_center_of_a_thousand_contacts_a_day_is_read_on_its_zone() -> None:
    """Round the clock, the marks of single days scatter by more than the switch moves
    them (the switches explained 40 % of their wander on such a center, below the half
    asked, and its export in UTC was read an hour off for half the year); the fortnights
    on each side of each switch step by the hour."""
    epochs, contacts = _round_the_clock("Europe/Madrid", date(2025, 1, 6), 300, 1150)
    found = switches.zone_from_hours(epochs, 0, contacts)
    assert found is not None
    assert _steps(found, date(2025, 1, 6), 300) == _steps(
        ZoneInfo("Europe/Madrid"), date(2025, 1, 6), 300
    )


def test_a_round_the_clock_center_on_a_clock_without_switches_or_drifting_names_no_zone() -> None:
    # the same center on Tokyo's clock (no switch), exported in UTC
    epochs, contacts = _round_the_clock("Asia/Tokyo", date(2025, 1, 6), 300, 1150)
    assert switches.zone_from_hours(epochs, 0, contacts) is None
    # on UTC's own clock, its hours drifting an hour later over the year: no step
    epochs, contacts = _round_the_clock("UTC", date(2025, 1, 6), 300, 1150, drift_min=60)
    assert switches.zone_from_hours(epochs, 0, contacts) is None
