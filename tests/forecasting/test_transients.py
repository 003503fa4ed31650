"""Transients: a run of days far off the level that came back is left out and named; a
step that persists, or a run still going at the end of history, moves the level."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from forecasting import files, service, synthetic, transients
from forecasting.model import History


@pytest.fixture(scope="module")
def bank() -> History:
    scenario = replace(synthetic.SCENARIOS["bank_weekdays_7m"], width_min=30, holidays=None)
    return files.build_history(synthetic.generate_scenario(scenario, seed=3).rows, "h.csv")


def _week_ahead(history: History, contacts: np.ndarray, monday: int) -> service.Projection:
    changed = replace(history, contacts=contacts)
    return service.project(changed.cut(changed.day_start(monday)), monday + 4)


def _runs(projection: service.Projection) -> list[transients.Run]:
    runs = projection.fit.choice["transients"]
    assert isinstance(runs, list)
    return runs


def test_a_mailing_that_came_back_is_left_out_and_named(bank: History) -> None:
    monday = (datetime(2025, 10, 13) - bank.first_day).days
    mailing = slice(monday - 7, monday - 4)  # Monday to Wednesday of the week before
    contacts = bank.contacts.copy()
    contacts[:, mailing] *= 2.0
    plain = _week_ahead(bank, bank.contacts, monday)
    mailed = _week_ahead(bank, contacts, monday)
    # read as the level moving, the week after came out 30 % high (issue 22, probe fc6)
    assert mailed.mean.sum() == pytest.approx(plain.mean.sum(), rel=0.03)
    runs = _runs(mailed)
    assert {(run.first, run.last) for run in runs} == {(monday - 7, monday - 5)}
    assert {run.queue for run in runs} == set(range(len(bank.queues)))
    assert all(1.7 < run.ratio < 2.3 for run in runs)
    note = transients.notes(runs[:1], bank.queues, lambda k: bank.date_of(k))[0]
    assert note.startswith(f"history {bank.queues[runs[0].queue]}: 2025-10-06..10-08 ran ×")
    assert "of ordinary days and came back: left out as a transient" in note
    assert "give them as an event" in note


def test_a_step_that_persists_still_moves_the_level(bank: History) -> None:
    monday = (datetime(2025, 10, 13) - bank.first_day).days
    contacts = bank.contacts.copy()
    contacts[:, monday - 10 :] *= 1.5  # a product moved in ten days before, for good
    projection = _week_ahead(bank, contacts, monday)
    assert _runs(projection) == []
    actual = contacts[:, monday : monday + 5].sum()
    assert projection.mean.sum() == pytest.approx(actual, rel=0.1)


def test_a_run_at_the_very_end_is_not_judged_a_transient(bank: History) -> None:
    monday = (datetime(2025, 10, 13) - bank.first_day).days
    contacts = bank.contacts.copy()
    contacts[:, monday - 5 : monday - 2] *= 2.0  # Wednesday to Friday: no return seen yet
    plain = _week_ahead(bank, bank.contacts, monday)
    running = _week_ahead(bank, contacts, monday)
    assert _runs(running) == []
    # today's rule: two days beyond the bound are the level moving
    assert running.mean.sum() > 1.3 * plain.mean.sum()


def test_came_back_needs_a_return_to_the_level_from_before() -> None:
    level, bound = 100.0, 0.1
    mailing = np.array([100.0, 200.0, 190.0, 180.0, 101.0, 99.0])
    assert transients.came_back(mailing, 1, level, bound, 2) == 4
    one_day = np.array([100.0, 200.0, 101.0, 99.0])  # a freak day: clipped, not a run
    assert transients.came_back(one_day, 1, level, bound, 2) == 1
    step = np.array([100.0, 200.0, 190.0, 205.0, 198.0])  # still going at the end
    assert transients.came_back(step, 1, level, bound, 2) == 1
    smaller = np.array([100.0, 120.0, 118.0, 109.0, 112.0])  # a small step's noisy day
    assert transients.came_back(smaller, 1, level, bound, 2) == 1
    season = np.array([100.0, *([160.0] * (transients.MAX_DAYS + 1)), 100.0])
    assert transients.came_back(season, 1, level, bound, 2) == 1


def test_the_note_names_one_day_by_its_date() -> None:
    run = transients.Run(0, 3, 3, 0.45)
    line = transients.notes([run], ["retail"], lambda k: date(2003, 9, 26 + k))[0]
    assert line.startswith("history retail: 2003-09-29 ran ×0.5 of ordinary days")


def test_the_forecast_names_a_transient_to_the_planner(bank: History) -> None:
    monday = (datetime(2025, 10, 13) - bank.first_day).days
    contacts = bank.contacts.copy()
    contacts[:, monday - 7 : monday - 4] *= 2.0
    mailed = replace(bank, contacts=contacts).cut(bank.day_start(monday))
    result = service.forecast(mailed, bank.day_start(monday), timedelta(days=5))
    named = [note for note in result.notes if "left out as a transient" in note]
    assert len(named) == len(bank.queues)
    assert all(": 2025-10-06..10-08 ran ×" in note for note in named)
