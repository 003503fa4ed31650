"""The backtest plot's default week is the center's working week, not the last 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from forecasting import files
from forecasting.model import HistoryRow
from forecasting.plot import last_working_week

ZONE = timezone(timedelta(hours=-4))
MONDAY = datetime(2003, 9, 1, tzinfo=ZONE)


def _center(days: int, open_weekdays: set[int]) -> files.History:
    rows = [
        HistoryRow(MONDAY + timedelta(days=d, hours=h), "retail", 10.0 + h)
        for d in range(days)
        if (MONDAY + timedelta(days=d)).weekday() in open_weekdays
        for h in range(8, 18)
    ]
    return files.build_history(rows, "constructed")


def test_a_weekday_center_plots_monday_to_friday() -> None:
    history = _center(40, {0, 1, 2, 3, 4})  # Monday 1 September to Friday 10 October
    start = last_working_week(history, 40)
    assert history.date_of(start).weekday() == 0
    assert start + 7 <= 40 and start > 40 - 14


def test_a_center_open_every_day_plots_its_last_seven() -> None:
    history = _center(40, set(range(7)))
    assert last_working_week(history, 40) == 33
