"""A center so small that most of its open days bring no contact: its empty days are chance,
not closures, no holiday calendar is read into them, and its hours and level are read
from enough of its days to tell."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from forecasting import closures, files
from switchboard.cli import main
from switchboard.common.calendar import HolidayCalendar


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real parser with the forecasting commands only (as in test_cli)."""
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"forecasting.cli": ("history", "forecast")}
    )


def _write_center(
    path: Path,
    zone: str,
    first: date,
    end: date,
    per_day: float,
    zeros: bool,
    closed_on: HolidayCalendar | None = None,
) -> float:
    """A one-queue center open Mon–Fri 08:00–18:00 at 30 minutes, Poisson `per_day`
    contacts a day spread evenly (seeded); closed (no rows) on `closed_on`'s holidays.
    Returns the mean weekly volume written."""
    rng = np.random.default_rng(20)
    tz = ZoneInfo(zone)
    rate = per_day / 20  # 20 half-hours a day
    lines = ["interval_start,queue,contacts"]
    total, day = 0, first
    while day < end:
        shut = closed_on is not None and closed_on.is_holiday(day)
        if day.weekday() < 5 and not shut:
            for slot in range(20):
                start = datetime(day.year, day.month, day.day, 8, tzinfo=tz)
                count = int(rng.poisson(rate))
                total += count
                if count or zeros:
                    moment = start + timedelta(minutes=30 * slot)
                    lines.append(f"{moment.isoformat()},fax,{count}")
        day += timedelta(days=1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return total / ((end - first).days / 7)


def _forecast(history: Path, start: str, days: int, out: Path) -> dict[date, float]:
    """Per day, the contacts forecast by the real `switchboard forecast`."""
    argv = ["forecast", "--history", str(history), "--start", start, "--horizon", f"{days}d"]
    code = main([*argv, "--out", str(out)])
    assert code == 0
    per_day: dict[date, float] = {}
    with out.open() as handle:
        for row in csv.DictReader(handle):
            moment = datetime.fromisoformat(row["interval_start"]).date()
            per_day[moment] = per_day.get(moment, 0.0) + float(row["contacts"])
    return per_day


WEEKDAYS = np.array([True] * 5 + [False] * 2)


@pytest.mark.parametrize("zeros", [True, False], ids=["zeros-written", "contacts-only"])
def test_a_near_empty_centers_empty_days_are_chance_and_tell_no_calendar(
    zeros: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """~0.7 contacts a day: half its weekdays are empty, none of them a closure, and no
    country's holidays are read into them (Cameroon's, Benin's, ... before)."""
    history = tmp_path / "tiny.csv"
    _write_center(history, "Europe/Berlin", date(2024, 6, 3), date(2025, 3, 22), 0.7, zeros)
    loaded = files.read_history(history)
    assert not closures.closed_days(loaded, loaded.days, WEEKDAYS).any()
    _forecast(history, "2025-03-24T00:00:00+01:00", 7, tmp_path / "fc.csv")
    printed = capsys.readouterr().out
    assert not [line for line in printed.splitlines() if line.startswith("holidays:")], printed


def test_a_busy_center_closed_on_its_holidays_still_forecasts_them_closed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "busy.csv"
    us = HolidayCalendar("US")
    first, end = date(2024, 6, 3), date(2025, 1, 18)
    weekly = _write_center(history, "America/New_York", first, end, 200.0, False, us)
    loaded = files.read_history(history)
    closed = closures.closed_days(loaded, loaded.days, WEEKDAYS)
    shut = [loaded.date_of(int(d)) for d in np.flatnonzero(closed)]
    holidays = [
        first + timedelta(days=k)
        for k in range((end - first).days)
        if (first + timedelta(days=k)).weekday() < 5 and us.is_holiday(first + timedelta(days=k))
    ]
    assert shut == holidays and len(shut) >= 8
    # the week of Martin Luther King Jr. Day (Monday 2025-01-20)
    per_day = _forecast(history, "2025-01-20T00:00:00-05:00", 7, tmp_path / "fc.csv")
    printed = capsys.readouterr().out
    assert "holidays: US inferred" in printed, printed
    assert sorted(d.weekday() for d in per_day) == [1, 2, 3, 4], per_day
    assert abs(sum(per_day.values()) - 0.8 * weekly) <= 0.15 * weekly, (per_day, weekly)


@pytest.mark.parametrize("per_day", [0.7, 5.0, 12.0])
@pytest.mark.parametrize("zeros", [True, False], ids=["zeros-written", "contacts-only"])
def test_a_small_centers_forecast_covers_its_hours_at_its_rate(
    per_day: float, zeros: bool, tmp_path: Path
) -> None:
    """Open 08:00-18:00 on weekdays with a handful of contacts a day: a day's first and last
    contact span a fraction of its hours, so hours are read from days pooled until they
    hold enough contacts (5 a day was forecast 2e12 in one interval, 0.7 a day at a third
    of its rate in five intervals of the week)."""
    history = tmp_path / "small.csv"
    _write_center(history, "Europe/Berlin", date(2024, 6, 3), date(2025, 3, 22), per_day, zeros)
    out = tmp_path / "fc.csv"
    argv = ["forecast", "--history", str(history), "--start", "2025-03-24T00:00:00+01:00"]
    assert main([*argv, "--horizon", "5d", "--out", str(out)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    berlin = ZoneInfo("Europe/Berlin")
    slots = {datetime.fromisoformat(row["interval_start"]).astimezone(berlin) for row in rows}
    for day in range(24, 29):
        hours = {s.hour for s in slots if s.day == day}
        assert hours >= set(range(9, 17)), (day, sorted(hours))  # at least 09:00-17:00
        assert hours <= set(range(7, 19)), (day, sorted(hours))
    total = sum(float(row["contacts"]) for row in rows)
    assert 0.6 * 5 * per_day <= total <= 1.6 * 5 * per_day, total
