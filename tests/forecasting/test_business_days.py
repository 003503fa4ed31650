"""The month's business days: statement and billing runs on the n-th open day of the
month (moved by weekends and holidays) are placed among the month's open days, and the
model takes that place only where the backtest says it pays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np

from forecasting import cycles, files, service, synthetic
from forecasting.model import History

FIVE_DAYS = cycles.OpenDays((True,) * 5 + (False,) * 2)


def _places(first: date, days: int, open_days: cycles.OpenDays) -> dict[date, float]:
    where = cycles.with_business_days(cycles.positions(first, days), open_days)
    return {first + timedelta(days=k): float(x) for k, x in enumerate(where["business-day"])}


def test_the_first_and_last_open_days_keep_their_places_whatever_the_calendar() -> None:
    """January 2026 opens on Friday the 2nd after New Year's Day (closed); its last open
    day, Friday the 30th, sits where the last open day of every month does, next to the
    first; a weekend sits where the open day after it does."""
    new_year = replace(FIVE_DAYS, closed=frozenset({date(2026, 1, 1).toordinal()}))
    places = _places(date(2025, 12, 29), 40, new_year)
    assert places[date(2026, 1, 2)] == 0.0  # the first business day
    assert places[date(2026, 1, 5)] == 1.0  # the second, after the weekend
    assert places[date(2026, 1, 3)] == places[date(2026, 1, 4)] == 1.0
    last = cycles.BUSINESS_DAY.length - 1
    assert places[date(2026, 1, 30)] == last
    assert places[date(2025, 12, 31)] == last  # December's last, with 23 open days
    assert places[date(2026, 2, 2)] == 0.0
    # without the closure, the 1st is the first business day and the 2nd the second
    plain = _places(date(2025, 12, 29), 40, FIVE_DAYS)
    assert (plain[date(2026, 1, 1)], plain[date(2026, 1, 2)]) == (0.0, 1.0)


def _bank(business_days: tuple[tuple[int, float], ...]) -> History:
    """Eight months of a bank (US holidays closed: Labor Day moves September's first
    business day to the 2nd) at 30 minutes."""
    scenario = replace(
        synthetic.SCENARIOS["bank_weekdays_7m"],
        width_min=30,
        days=250,
        business_days=business_days,
    )
    rows = synthetic.generate_scenario(scenario, seed=2).rows
    return files.build_history(rows, "history.csv")


def _week(history: History, monday: datetime) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """([Q, 16] forecast day totals of the 16 days from `monday`, made at `monday`;
    [Q, 16] actual day totals (of the days history holds); the cycles adopted per
    queue)."""
    result = service.forecast(history.cut(monday), monday, timedelta(days=16))
    forecast = np.zeros((len(history.queues), 16))
    for row in result.rows:
        day = (row.interval_start - monday).days
        forecast[history.queues.index(row.queue), day] += row.contacts
    first = history.index_of(monday)[0]
    actual = history.contacts[:, first : first + 16].sum(axis=2)
    adopted = result.choice["cycles"]
    assert isinstance(adopted, list)
    return forecast, actual, adopted


def test_statement_days_on_the_first_two_business_days_are_learned() -> None:
    """Statement days (the first two business days of every month at 1.5 times a day):
    the backtest adopts the business-day cycle for both queues, and the week from Monday
    3 November (1 November a Saturday: its first business days are the 3rd and the 4th)
    is forecast within noise of what came, statement days and the days after them alike.
    Placed by calendar day (the month cycle), the effect was spread over the 1st to the
    5th: the statement days forecast at 0.68-0.80 of actual, the 5th up to 1.10."""
    monday = datetime(2025, 11, 3)
    forecast, actual, adopted = _week(_bank(((1, 0.5), (2, 0.5))), monday)
    assert all("business-day" in names for names in adopted)
    # within noise (a day's own 3 %, the level's wander, Poisson)
    ratio = forecast[:, :5] / actual[:, :5]
    assert np.all(np.abs(ratio - 1.0) < 0.12), ratio
    # what the cycle adds: Monday the 3rd and Tuesday the 4th over Monday the 10th and
    # Tuesday the 18th, all forecast on the 3rd (one level): the planted 1.5, less the
    # statement days' share of the month's mean (by calendar day: 1.08-1.15)
    added = forecast[:, :2] / forecast[:, [7, 15]]
    assert np.all((added > 1.35) & (added < 1.55)), added


def test_a_bank_without_them_does_not_take_the_cycle() -> None:
    """The same bank without statement days: the business-day cycle is not adopted."""
    _, _, adopted = _week(_bank(()), datetime(2025, 11, 3))
    assert not any("business-day" in names for names in adopted)


def test_a_holiday_ahead_moves_the_first_business_day_of_the_forecast() -> None:
    """A forecast made in December: New Year's Day (a Thursday, the center closed on its
    holidays) is no business day, so Friday the 2nd and Monday the 5th are January's
    first two and both carry the statement days' rise (counting the 1st, the 5th was
    taken for the third business day, an ordinary one)."""
    history = files.build_history(
        synthetic.generate_scenario(
            replace(
                synthetic.SCENARIOS["bank_weekdays_7m"],
                width_min=30,
                days=320,
                business_days=((1, 0.5), (2, 0.5)),
            ),
            seed=2,
        ).rows,
        "history.csv",
    )
    forecast, _, adopted = _week(history, datetime(2025, 12, 29))
    assert all("business-day" in names for names in adopted)
    assert np.all(forecast[:, 3] == 0.0)  # New Year's Day, closed
    # the 2nd and the 5th over the next Friday and Monday (the 9th, the 12th), one level
    added = forecast[:, [4, 7]] / forecast[:, [11, 14]]
    assert np.all(added > 1.3), added
