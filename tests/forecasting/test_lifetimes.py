"""Queues come and go: a queue opened weeks ago, one closed, one open only on weekends."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from forecasting import files, lifetimes, service, synthetic
from forecasting.model import History

MONDAY = datetime(2025, 9, 29)  # the forecast week: Monday 29 September to Friday


@pytest.fixture(scope="module")
def bank() -> History:
    """A bank's two queues (cards, retail), weekdays 07:00-21:00 at 30 minutes, no holidays,
    2025-03-03 .. 2025-10-24."""
    scenario = replace(
        synthetic.SCENARIOS["bank_weekdays_7m"], width_min=30, holidays=None, days=236
    )
    return files.build_history(synthetic.generate_scenario(scenario, seed=3).rows, "h.csv")


def _with(history: History, queue: int, days: slice) -> History:
    """The history with `queue` silent on `days`."""
    contacts = history.contacts.copy()
    contacts[queue, days] = 0.0
    return replace(history, contacts=contacts)


def _week_totals(history: History) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(forecast, actual) contacts per queue over the forecast week, and the notes."""
    monday = (MONDAY - history.first_day).days
    result = service.forecast(history.cut(MONDAY), MONDAY, timedelta(days=5))
    forecast = np.zeros(len(history.queues))
    for row in result.rows:
        forecast[history.queues.index(row.queue)] += row.contacts
    actual = history.contacts[:, monday : monday + 5].sum(axis=(1, 2))
    return forecast, actual, result.notes


def test_a_queue_opened_three_weeks_ago_is_forecast_at_its_volume(bank: History) -> None:
    opened = (MONDAY - bank.first_day).days - 21
    forecast, actual, notes = _week_totals(_with(bank, 1, slice(0, opened)))
    # its empty months before are not its normal days (they pulled it to nothing before)
    assert forecast[1] == pytest.approx(actual[1], rel=0.08)
    assert forecast[0] == pytest.approx(actual[0], rel=0.12)
    assert notes == []


def test_a_closed_queue_is_forecast_zero_and_said_so(bank: History) -> None:
    closed = (MONDAY - bank.first_day).days - 10  # a Friday: it took its last call Thursday
    silent = _with(bank, 1, slice(closed, None))
    forecast, actual, notes = _week_totals(silent)
    assert actual[1] == 0 and forecast[1] == 0  # its silence was read as outliers before
    assert forecast[0] == pytest.approx(actual[0], rel=0.12)
    assert len(notes) == 1 and notes[0].startswith("queue retail: no contacts since 2025-09-19")
    assert "forecast 0, as closed" in notes[0]


def test_a_short_silence_of_a_small_queue_is_chance_not_closing() -> None:
    weekdays = np.arange(28) % 7
    contacts = np.zeros((2, 28, 4))
    contacts[0, :, 1] = np.where(weekdays < 5, 2.0, 0.0)  # two contacts a weekday
    contacts[1, :, 2] = np.where(weekdays < 5, 50.0, 0.0)
    contacts[0, 24:] = 0.0  # silent Thursday 25 .. Sunday 28: two open days, about 4 expected
    assert lifetimes.closed_queues(contacts, weekdays) == []
    contacts[0, 21:] = 0.0  # silent from Monday 22: five open days, about 10 expected
    (silence,) = lifetimes.closed_queues(contacts, weekdays)
    assert (silence.queue, silence.since, silence.open_days) == (0, 21, 5)
    assert silence.expected == pytest.approx(10.0)


def test_a_weekend_queue_is_not_closed_on_a_friday() -> None:
    weekdays = np.arange(26) % 7  # the history ends on a Friday
    contacts = np.zeros((2, 26, 4))
    contacts[0, :, 1] = np.where(weekdays >= 5, 80.0, 0.0)  # weekends only
    contacts[1, :, 2] = 50.0  # the center is open every day
    assert lifetimes.closed_queues(contacts, weekdays) == []
    assert lifetimes.in_service(contacts)[0].tolist() == [False] * 5 + [True] * 21


def test_a_new_queue_gets_the_weekdays_it_has_not_had_from_the_center(bank: History) -> None:
    """retail opened on the Wednesday before the forecast week: its Monday and Tuesday are
    the center's weekday ratio times its level (they were forecast 0)."""
    retail = bank.queues.index("retail")
    opened = (MONDAY - bank.first_day).days - 5  # Wednesday 24 September
    history = _with(bank, retail, slice(0, opened))
    monday = (MONDAY - bank.first_day).days
    result = service.forecast(history.cut(MONDAY), MONDAY, timedelta(days=5))
    days = np.zeros((len(bank.queues), 5))
    for row in result.rows:
        days[bank.queues.index(row.queue), row.interval_start.weekday()] += row.contacts
    actual = history.contacts[:, monday : monday + 5].sum(axis=2)
    assert days[retail] == pytest.approx(actual[retail], rel=0.15)  # Monday, Tuesday too
    assert days[retail].sum() == pytest.approx(actual[retail].sum(), rel=0.08)


def test_a_queue_closed_on_a_weekday_stays_closed_on_it(bank: History) -> None:
    """retail never open on Fridays: the other queues' Friday is no reason to open it."""
    retail = bank.queues.index("retail")
    contacts = bank.contacts.copy()
    fridays = np.array([bank.weekday(d) == 4 for d in range(bank.days)])
    contacts[retail, fridays] = 0.0
    result = service.forecast(replace(bank, contacts=contacts).cut(MONDAY), MONDAY, timedelta(5))
    days = np.zeros((len(bank.queues), 5))
    for row in result.rows:
        days[bank.queues.index(row.queue), row.interval_start.weekday()] += row.contacts
    assert days[retail, 4] == 0 and days[retail, :4].min() > 0
