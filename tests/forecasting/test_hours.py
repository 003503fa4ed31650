"""Opening hours that change: evenings closed, an hour added, an afternoon's outage."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from forecasting import files, hours, service, synthetic
from forecasting.model import History

MONDAY = datetime(2025, 9, 29)  # the forecast week: Monday 29 September to Friday
EVENING = slice(38, 42)  # 19:00-21:00 at 30 minutes
EARLY = slice(14, 16)  # 07:00-08:00


@pytest.fixture(scope="module")
def bank() -> History:
    """A bank's two queues, weekdays 07:00-21:00 at 30 minutes, no holidays, 2025-03-03 ..
    2025-10-24."""
    scenario = replace(
        synthetic.SCENARIOS["bank_weekdays_7m"], width_min=30, holidays=None, days=236
    )
    return files.build_history(synthetic.generate_scenario(scenario, seed=3).rows, "h.csv")


def _closed(history: History, days: slice, slots: slice) -> History:
    """The history with no contacts (no rows) in `slots` of `days`."""
    contacts, present = history.contacts.copy(), history.present.copy()
    contacts[:, days, slots] = 0.0
    present[days, slots] = False
    return replace(history, contacts=contacts, present=present)


def _week(history: History) -> tuple[np.ndarray, np.ndarray]:
    """(forecast, actual) [Q, 5, S] of the forecast week; no row is a forecast of 0."""
    monday = (MONDAY - history.first_day).days
    result = service.forecast(history.cut(MONDAY), MONDAY, timedelta(days=5))
    forecast = np.zeros((len(history.queues), 5, history.slots_per_day))
    for row in result.rows:
        day, slot = history.index_of(row.interval_start)
        forecast[history.queues.index(row.queue), day - monday, slot] = row.contacts
    return forecast, history.contacts[:, monday : monday + 5]


def _wape(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.abs(forecast - actual).sum() / actual.sum())


def test_evenings_closed_since_last_week_get_no_rows_and_cost_nothing(bank: History) -> None:
    monday = (MONDAY - bank.first_day).days
    as_usual = _wape(*_week(bank))
    forecast, actual = _week(_closed(bank, slice(monday - 7, None), EVENING))
    assert forecast[:, :, EVENING].sum() == 0  # no rows: forecast at the old volume before
    assert _wape(forecast, actual) < as_usual + 0.005


@pytest.mark.parametrize("weeks", [1, 2])
def test_an_hour_opened_weeks_ago_gets_its_share(bank: History, weeks: int) -> None:
    monday = (MONDAY - bank.first_day).days
    forecast, actual = _week(_closed(bank, slice(0, monday - 7 * weeks), EARLY))
    # before: closed after one week (a quarter of 8 weekdays with rows opened it), and a
    # tenth of its share after two (its silent months before counted in it)
    assert forecast[:, :, EARLY].sum() == pytest.approx(actual[:, :, EARLY].sum(), rel=0.1)


def test_a_stray_call_does_not_open_an_hour(bank: History) -> None:
    monday = (MONDAY - bank.first_day).days
    contacts = bank.contacts.copy()
    contacts[0, monday - 3, 12] = 1.0  # Friday 06:00: one call while closed
    stray = replace(bank, contacts=contacts)
    forecast, _ = _week(stray)
    assert forecast[:, :, 12].sum() == 0


def test_an_afternoon_outage_does_not_lower_those_hours(bank: History) -> None:
    monday = (MONDAY - bank.first_day).days
    forecast, _ = _week(bank)
    afternoon = slice(28, 34)
    outage, _ = _week(_closed(bank, slice(monday - 3, monday - 2), afternoon))
    assert outage[:, :, afternoon].sum() == pytest.approx(forecast[:, :, afternoon].sum(), rel=0.02)


def test_a_quiet_interval_is_chance_and_stays_as_it_was() -> None:
    weekdays = np.arange(56) % 7
    contacts = np.zeros((1, 56, 3))
    contacts[0, :, 0] = 100.0
    contacts[0, ::7, 1] = np.tile([1.0, 0.0], 4)  # about half a contact on Mondays
    contacts[0, 35::7, 1] = 0.0  # silent on the last three Mondays: chance at that rate
    open_mask, adjusted = hours.as_open_now(contacts, contacts.sum(axis=0) > 0, weekdays)
    assert open_mask[0].tolist() == [True, True, False]
    np.testing.assert_array_equal(adjusted, contacts)
    contacts[0, ::7, 1] = 30.0
    contacts[0, 49::7, 1] = 0.0  # silent on the last Monday, where 30 came: an outage
    open_mask, adjusted = hours.as_open_now(contacts, contacts.sum(axis=0) > 0, weekdays)
    assert open_mask[0].tolist() == [True, True, False]
    assert adjusted[0, 49, 1] == pytest.approx(30.0)  # filled in at the rate before
    contacts[0, 42::7, 1] = 0.0  # and the Monday before: closed now
    open_mask, adjusted = hours.as_open_now(contacts, contacts.sum(axis=0) > 0, weekdays)
    assert open_mask[0].tolist() == [True, False, False]
    assert adjusted[0, :, 1].sum() == 0  # left out of every day: the level follows the hours
