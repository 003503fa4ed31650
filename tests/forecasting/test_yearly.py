"""The yearly term: learned from last year's same weeks where history holds them, and
adopted by the backtest only where it helps (a Christmas ramp), not where there is none."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from forecasting import cycles, selection
from forecasting.estimator import Fit

FIRST = date(2024, 1, 1)  # a Monday
DAYS = 714  # to 2025-12-15, a Monday: two Christmas ramps, the second one rising
SLOTS = 24  # hourly
WEEKDAY = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.9, 0.9])
SHAPE = np.exp(-0.5 * ((np.arange(SLOTS) - 13.0) / 4.0) ** 2)
SHAPE /= SHAPE.sum()


def _season(day: date) -> float:
    """The planted yearly factor: a ramp to +30 % around 18 December, 15 % below after
    Christmas until Epiphany, no effect the rest of the year."""
    peak = date(day.year, 12, 18)
    ramp = (
        0.3 * np.exp(-0.5 * ((day - peak).days / 9.0) ** 2) if day < date(day.year, 12, 27) else 0
    )
    after = -0.15 if day >= date(day.year, 12, 27) or day <= date(day.year, 1, 6) else 0.0
    return 1.0 + ramp + after


def _mean_totals(first: date, days: int, christmas: bool) -> np.ndarray:
    """[days] expected daily totals: a level of 2000 with 10 % growth a year, weekdays and,
    with `christmas`, the season."""
    out = np.zeros(days)
    for k in range(days):
        day = first + timedelta(days=k)
        season = _season(day) if christmas else 1.0
        out[k] = 2000.0 * (1.0 + 0.1 * k / 365.0) * WEEKDAY[day.weekday()] * season
    return out


def _calibrated(christmas: bool, seed: int) -> tuple[Fit, np.ndarray]:
    """The fit on two years of hourly history (3 % day noise, Poisson intervals) and its
    daily totals forecast for the week after it."""
    rng = np.random.default_rng(seed)
    totals = _mean_totals(FIRST, DAYS, christmas) * rng.lognormal(0.0, 0.03, DAYS)
    contacts = rng.poisson(totals[:, None] * SHAPE[None, :]).astype(float)[None]
    weekdays = np.array([(FIRST + timedelta(days=k)).weekday() for k in range(DAYS)])
    fit = selection.calibrate(
        contacts,
        np.full(contacts.shape, 300.0),
        weekdays,
        np.ones((7, SLOTS), dtype=bool),
        np.ones((1, DAYS), dtype=bool),
        60,
        np.array([1e9]),
        where=cycles.positions(FIRST, DAYS),
    )
    after = FIRST + timedelta(days=DAYS)
    ahead = np.array([(after + timedelta(days=k)).weekday() for k in range(7)])
    forecast = fit.predict_model(ahead, np.arange(7), cycles.positions(after, 7)).sum(axis=2)[0]
    return fit, forecast


def test_last_years_christmas_ramp_is_adopted_and_forecast() -> None:
    fit, forecast = _calibrated(christmas=True, seed=4)
    adopted = fit.choice["cycles"]
    assert isinstance(adopted, list) and "year" in adopted[0]
    truth = _mean_totals(FIRST, DAYS + 7, christmas=True)[DAYS:]
    flat = _mean_totals(FIRST, DAYS + 7, christmas=False)[DAYS:]
    assert np.all(truth / flat > 1.2)  # the week ahead is the ramp's top
    # within noise: 3 % a day, a level that must be read through last year's ramp
    assert np.all(np.abs(forecast / truth - 1.0) < 0.07)
    assert abs(forecast.sum() / truth.sum() - 1.0) < 0.04


def test_no_yearly_pattern_is_not_adopted() -> None:
    for seed in (4, 5):
        fit, _ = _calibrated(christmas=False, seed=seed)
        adopted = fit.choice["cycles"]
        assert isinstance(adopted, list) and all("year" not in names for names in adopted)


def test_a_year_of_history_learns_no_yearly_term() -> None:
    z = np.ones((1, cycles.YEAR.min_days - 1))
    usable = np.ones_like(z, dtype=bool)
    where = cycles.positions(FIRST, z.shape[1])["year"]
    assert cycles.estimate(cycles.YEAR, z, usable, where) is None


def test_a_day_and_the_day_52_weeks_before_share_a_place_and_a_weekday() -> None:
    where = cycles.positions(date(2024, 12, 20), 365)["year"]
    assert where[364] == where[0]
    assert (date(2024, 12, 20) + timedelta(days=364)).weekday() == date(2024, 12, 20).weekday()
