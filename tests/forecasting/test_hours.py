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


def test_a_silence_beside_days_of_a_contact_or_two_is_chance_not_a_trillion() -> None:
    """A center of a few contacts a day: the Mondays next to a silent interval brought one
    contact each, all in that interval. Its rate per other contact has no denominator:
    the silence was read as too long to be chance and filled in with 3e12 contacts."""
    weekdays = np.arange(56) % 7
    contacts = np.zeros((1, 56, 3))
    contacts[0, ::7, 1] = 1.0
    contacts[0, 21:35:7, 1] = 0.0  # two Mondays silent there, with 3 contacts elsewhere
    contacts[0, 21:35:7, 0] = 3.0
    open_mask, adjusted = hours.as_open_now(contacts, contacts.sum(axis=0) > 0, weekdays)
    assert open_mask[0, 1]
    np.testing.assert_array_equal(adjusted, contacts)


def test_a_queue_with_shorter_hours_is_forecast_zero_outside_them(bank: History) -> None:
    """retail open 09:00-17:00 in a center whose cards queue is open 07:00-21:00: retail's
    shape lives on its own hours (its pooled, smoothed share leaked into the center's)."""
    retail = bank.queues.index("retail")
    hours_of_retail = np.zeros(bank.slots_per_day, dtype=bool)
    hours_of_retail[18:34] = True  # 09:00-17:00
    contacts = bank.contacts.copy()
    contacts[retail][:, ~hours_of_retail] = 0.0
    forecast, actual = _week(replace(bank, contacts=contacts))
    assert forecast[retail][:, ~hours_of_retail].sum() == 0  # every day, every such slot
    assert forecast[retail].sum() == pytest.approx(actual[retail].sum(), rel=0.06)
    cards = bank.queues.index("cards")
    assert forecast[cards][:, EVENING].min() > 0  # the center's hours stay the center's
    assert forecast[cards].sum() == pytest.approx(actual[cards].sum(), rel=0.06)


def test_queue_hours_close_a_long_silence_not_a_small_queues_quiet_hour() -> None:
    weekdays = np.arange(56) % 7
    contacts = np.zeros((2, 56, 4))
    contacts[0] = 20.0  # open in all four slots
    contacts[1, :, 1:3] = 30.0  # open in slots 1 and 2 only
    contacts[1, ::9, 3] = 1.0  # a stray call now and then in slot 3
    open_mask = np.ones((7, 4), dtype=bool)
    queue_open = hours.queue_hours(contacts, weekdays, open_mask)
    assert queue_open[0].all()
    assert (queue_open[1] == np.array([False, True, True, False])).all()
    small = contacts.copy()
    small[1] = 0.0
    small[1, ::3, 0] = 1.0  # a queue of one contact every few days: its silences are chance
    small[1, 1::3, 1:] = 1.0
    assert hours.queue_hours(small, weekdays, open_mask)[1].all()
