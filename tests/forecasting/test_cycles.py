"""Calendar cycles: where in the month and the fortnight a day lies, what history says of
them, and that the model choice takes a cycle only where it helps."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from forecasting import cycles, files, service, synthetic
from forecasting.model import History


def test_positions_scale_every_month_to_the_same_circle() -> None:
    where = cycles.positions(date(2025, 2, 27), 4)["month"]  # 27, 28 February, 1, 2 March
    length = cycles.MONTH.length
    assert where[0] == pytest.approx(26 / 28 * length)
    assert where[1] == pytest.approx(27 / 28 * length)
    assert where[2] == 0.0
    assert where[3] == pytest.approx(length / 31)


def test_the_fortnight_is_fixed_to_the_calendar_not_to_the_history() -> None:
    where = cycles.positions(date(2025, 3, 3), 15)["fortnight"]
    later = cycles.positions(date(2025, 3, 10), 8)["fortnight"]
    assert list(later) == list(where[7:])  # the same days, wherever the history starts
    assert where[0] in (0.0, 7.0) and date(2025, 3, 3).weekday() == 0  # a Monday starts a week
    assert where[14] == where[0]


def _totals(extra: dict[int, float], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seven months of weekday totals around 1 with 3 % noise, `extra` on days of the month."""
    first = date(2025, 3, 3)
    days = 214
    rng = np.random.default_rng(seed)
    dates = [first + timedelta(days=k) for k in range(days)]
    z = np.array([1.0 + extra.get(d.day, 0.0) for d in dates]) * rng.normal(1.0, 0.03, days)
    usable = np.array([d.weekday() < 5 for d in dates])
    return z[None], usable[None], cycles.positions(first, days)["month"]


def test_a_pay_day_is_learned_and_an_ordinary_day_is_left_alone() -> None:
    z, usable, where = _totals({1: 0.15, 2: 0.15, 15: 0.10}, seed=3)
    profile = cycles.estimate(cycles.MONTH, z, usable, where)
    assert profile is not None
    first, fifteenth, ninth = profile.at(np.array([0.5, 14.0, 8.0]))[0]
    assert first > 1.06 * ninth  # planted: 15 %
    assert fifteenth > 1.03 * ninth  # planted: 10 %
    assert abs(ninth - 1.0) < 0.04  # ordinary days sit a little under the month's mean


def test_noise_alone_learns_next_to_nothing() -> None:
    for seed in range(5):
        z, usable, where = _totals({}, seed=seed)
        profile = cycles.estimate(cycles.MONTH, z, usable, where)
        assert profile is not None
        assert np.all(np.abs(profile.at(np.arange(31.0)) - 1.0) < 0.015)


def test_too_short_a_history_learns_nothing() -> None:
    z, usable, where = _totals({1: 0.15}, seed=1)
    assert cycles.estimate(cycles.MONTH, z[:, :70], usable[:, :70], where[:70]) is None


def _bank(name: str) -> History:
    scenario = replace(synthetic.SCENARIOS[name], width_min=30, days=214, holidays=None)
    return files.build_history(synthetic.generate_scenario(scenario, seed=2).rows, "history.csv")


def _two_days(
    history: History, monday: datetime, first: int, second: int
) -> tuple[np.ndarray, list[list[str]]]:
    """([Q, 2] forecast totals of the days `first` and `second` days after `monday`, both
    made at `monday`: the same level and, a week apart, the same weekday, so their ratio is
    what the cycles add), the cycles adopted per queue."""
    result = service.forecast(history.cut(monday), monday, timedelta(days=second + 1))
    totals = np.zeros((len(history.queues), 2))
    for row in result.rows:
        days = (row.interval_start - monday).days
        if days in (first, second):
            totals[history.queues.index(row.queue), int(days == second)] += row.contacts
    adopted = result.choice["cycles"]
    assert isinstance(adopted, list)
    return totals, adopted


def test_the_model_takes_the_month_where_the_month_has_a_rhythm() -> None:
    """A bank with pay and benefit days on the 1st-3rd: the backtest adopts the month's
    cycle (by calendar day or by business day) for both queues and Wednesday the 1st is
    forecast above the next Wednesday; the same bank without them forecasts both
    Wednesdays alike, within 2 %.

    Not that the plain bank takes no cycle: with three cycles tried at one standard error
    each, about a third of queues without any take one from noise (this bank's cards
    queue takes the business days), and a stricter test lost real cycles for no gain
    where none is (docs/forecasting-experiments.md, "Cycles adopted from noise"). What
    noise teaches is what must stay small: the month's factors within 1.5 % of each
    other here; the business days' within 2 %, since their places are not pooled (each
    learned from about one day a month where the month's smoothing pools about two: √2
    wider; on 500 histories of 3 % day noise a business-day place left ±2 % in 3 %)."""
    monday = datetime(2025, 9, 29)  # Wednesday is 1 October
    first, adopted = _two_days(_bank("bank_paydays_7m"), monday, 2, 9)
    assert all({"month", "business-day"} & set(names) for names in adopted)
    assert np.all(first[:, 0] > 1.04 * first[:, 1])
    plain, plain_adopted = _two_days(_bank("bank_weekdays_7m"), monday, 2, 9)
    bound = {True: 0.02, False: 0.015}
    for row, names in zip(plain, plain_adopted, strict=True):
        assert abs(row[0] / row[1] - 1.0) < bound["business-day" in names], (row, names)


def test_the_model_takes_the_fortnight_where_pay_comes_every_other_week() -> None:
    """A bank paid every other week (the pay week 5-8 % up): the fortnight's cycle is
    adopted and the pay week's Monday is forecast above the next Monday's."""
    monday = datetime(2025, 9, 22)
    assert synthetic.fortnight_day(monday.date()) == 0  # the pay week
    fortnight, adopted = _two_days(_bank("bank_biweekly_7m"), monday, 0, 7)
    assert all("fortnight" in names for names in adopted)
    assert np.all(fortnight[:, 0] > 1.03 * fortnight[:, 1])
    plain, _ = _two_days(_bank("bank_weekdays_7m"), monday, 0, 7)
    assert np.all(np.abs(plain[:, 0] / plain[:, 1] - 1.0) < 0.015)
