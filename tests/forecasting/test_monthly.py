"""The intra-month pattern: where in the month a day lies, what history says of it, and
that the model choice takes it only where it helps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from forecasting import files, monthly, service, synthetic
from forecasting.model import History


def test_positions_scale_every_month_to_the_same_circle() -> None:
    where = monthly.positions(date(2025, 2, 27), 4)  # 27 and 28 February, 1 and 2 March
    assert where[0] == pytest.approx(26 / 28 * monthly.MONTH_DAYS)
    assert where[1] == pytest.approx(27 / 28 * monthly.MONTH_DAYS)
    assert where[2] == 0.0
    assert where[3] == pytest.approx(monthly.MONTH_DAYS / 31)


def _totals(extra: dict[int, float], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seven months of weekday totals around 1 with 3 % noise, `extra` on days of the month."""
    first = date(2025, 3, 3)
    days = 214
    rng = np.random.default_rng(seed)
    dates = [first + timedelta(days=k) for k in range(days)]
    z = np.array([1.0 + extra.get(d.day, 0.0) for d in dates]) * rng.normal(1.0, 0.03, days)
    usable = np.array([d.weekday() < 5 for d in dates])
    return z[None], usable[None], monthly.positions(first, days)


def test_a_pay_day_is_learned_and_an_ordinary_day_is_left_alone() -> None:
    z, usable, where = _totals({1: 0.15, 2: 0.15, 15: 0.10}, seed=3)
    profile = monthly.estimate(z, usable, where)
    assert profile is not None
    first, fifteenth, ninth = profile.at(np.array([0.5, 14.0, 8.0]))[0]
    assert first > 1.06 * ninth  # planted: 15 %
    assert fifteenth > 1.03 * ninth  # planted: 10 %
    assert abs(ninth - 1.0) < 0.04  # ordinary days sit a little under the month's mean


def test_noise_alone_learns_next_to_nothing() -> None:
    for seed in range(5):
        z, usable, where = _totals({}, seed=seed)
        profile = monthly.estimate(z, usable, where)
        assert profile is not None
        assert np.all(np.abs(profile.at(np.arange(31.0)) - 1.0) < 0.015)


def test_too_short_a_history_learns_nothing() -> None:
    z, usable, where = _totals({1: 0.15}, seed=1)
    assert monthly.estimate(z[:, :70], usable[:, :70], where[:70]) is None


def _bank(name: str) -> History:
    scenario = replace(synthetic.SCENARIOS[name], width_min=30, days=214, holidays=None)
    return files.build_history(synthetic.generate_scenario(scenario, seed=2).rows, "history.csv")


def _wednesdays(history: History, monday: datetime) -> tuple[np.ndarray, list[bool]]:
    """([Q, 2] forecast totals of the Wednesdays 2 and 9 days after `monday`, both made at
    `monday`: the same level and weekday, so their ratio is what the month adds), the
    month choice."""
    result = service.forecast(history.cut(monday), monday, timedelta(days=10))
    totals = np.zeros((len(history.queues), 2))
    for row in result.rows:
        days = (row.interval_start - monday).days
        if days in (2, 9):
            totals[history.queues.index(row.queue), days // 9] += row.contacts
    month = result.choice["month"]
    assert isinstance(month, list)
    return totals, month


def test_the_model_takes_the_pattern_where_the_month_has_one() -> None:
    """A bank with pay and benefit days on the 1st-3rd: the backtest adopts the pattern for
    both queues and Wednesday the 1st is forecast above the next Wednesday; the same bank
    without them forecasts both Wednesdays alike (where the one-standard-error test lets a
    pattern through, about one queue in six, what noise taught it is next to nothing)."""
    monday = datetime(2025, 9, 29)  # Wednesday is 1 October
    first, month = _wednesdays(_bank("bank_paydays_7m"), monday)
    assert month == [True, True]
    assert np.all(first[:, 0] > 1.04 * first[:, 1])
    plain, _ = _wednesdays(_bank("bank_weekdays_7m"), monday)
    assert np.all(np.abs(plain[:, 0] / plain[:, 1] - 1.0) < 0.015)
