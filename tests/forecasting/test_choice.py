"""Model choice by rolling-origin backtest, and the intraday update that never hurts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np

from forecasting import estimator, files, intraday, selection, service, synthetic
from forecasting.model import History, HistoryRow

ZONE = timezone(timedelta(hours=1))
MONDAY = datetime(2025, 1, 6, tzinfo=ZONE)


def _history(counts: np.ndarray, width_min: int = 30) -> History:
    """A one-queue history from counts [days, slots] (zero counts are closed intervals)."""
    rows = [
        HistoryRow(MONDAY + timedelta(days=d, minutes=s * width_min), "q", float(counts[d, s]))
        for d in range(counts.shape[0])
        for s in range(counts.shape[1])
        if counts[d, s] > 0
    ]
    return files.build_history(rows, "constructed")


def test_the_baseline_is_chosen_where_it_is_best() -> None:
    # A working day whose busy hour comes half an hour later every week, no noise: last
    # week's same day (seasonal naive) is the best guess; averaging four weeks or many
    # (the four-week mean, the structural model) smears the peak.
    hours = (np.arange(48) + 0.5) / 2
    counts = np.zeros((70, 48))
    for d in range(70):
        if d % 7 < 5:
            peak = 9.0 + 0.5 * (d // 7)
            counts[d] = np.round(20 + 200 * np.exp(-0.5 * ((hours - peak) / 0.75) ** 2))
            counts[d, (hours < 7) | (hours > 21)] = 0
    history = _history(counts)
    start = history.day_start(70)
    result = service.forecast(history, start, timedelta(days=7), infer_holidays=False)
    assert result.choice["weights"] == [[0.0, 0.0, 1.0]]  # model, four-week mean, naive
    monday = [r.contacts for r in result.rows if r.interval_start.date() == start.date()]
    assert np.allclose(monday, counts[63][counts[63] > 0])  # last Monday, copied


def test_the_model_is_chosen_where_it_is_best(center: synthetic.Synthetic) -> None:
    history = files.build_history(center.rows, "synthetic")
    fitted = service.calibrated_fit(history, 56).fit
    assert fitted.weights is not None
    assert np.all(fitted.weights[:, 0] >= 0.5)  # a noisy center: the model carries the mix
    holdout = fitted.choice["holdout_wape"]
    assert isinstance(holdout, dict)
    for queue in range(2):  # never worse on its own backtest than the better baseline
        better = min(holdout["four_week_mean"][queue], holdout["seasonal_naive"][queue])
        assert holdout["mix"][queue] <= better


def test_the_intraday_update_falls_back_when_the_morning_tells_nothing() -> None:
    # every hour's volume varies on its own (no day-level effect): contacts so far say
    # nothing about later hours, so the backtest gives the update no gain
    rng = np.random.default_rng(3)
    base = synthetic.generate(
        days=57, width_min=30, queues=("q",), daily=(2000.0,), day_sd=0.001, seed=3
    )
    hourly = rng.uniform(0.5, 1.5, size=(57, 24)).repeat(2, axis=1)
    counts = rng.poisson(base.rate[0] * hourly).astype(float)
    counts[56, :24] *= 2  # and today's morning runs twice as busy as usual
    history = _history(counts)
    today = history.day_start(56)
    morning = service.project(history.cut(today), 56)
    noon = service.project(history.cut(today + timedelta(hours=12)), 56)
    assert morning.fit is not noon.fit and morning.first == noon.first == 56
    assert noon.fit.intraday_gain is not None
    assert np.all(noon.fit.intraday_gain == 0.0)
    assert np.allclose(noon.mean[0, 0, 24:], morning.mean[0, 0, 24:])  # the afternoon as it was
    lead = [lo // 30 for lo in intraday.SCORED_LEAD_MIN]
    assert noon.day_factor[0] == 1.0 and lead == [8, 12]


def test_the_intraday_update_follows_a_day_level_that_carries(
    center: synthetic.Synthetic,
) -> None:
    # the synthetic center's days run busier or quieter as a whole: the backtest finds
    # the morning worth following 4-6 h later
    history = files.build_history(center.rows, "synthetic")
    fitted = service.calibrated_fit(history, 56).fit
    assert fitted.intraday_gain is not None
    scored = intraday.LEAD_BUCKETS_MIN.index(intraday.SCORED_LEAD_MIN[0])
    assert np.all(fitted.intraday_gain[:, scored] > 0.0)


def test_the_model_choice_follows_a_level_that_stepped_down() -> None:
    # a center whose volume fell by 40 % three weeks ago and stayed there: the longest
    # level memory (the "simplest" setting) would keep forecasting the old level
    base = synthetic.generate(days=84, queues=("q",), daily=(1500.0,), day_sd=0.05, seed=4)
    counts = base.counts[0].copy()
    counts[63:] = np.round(counts[63:] * 0.6)
    history = _history(counts)
    fitted = service.calibrated_fit(history, 84).fit
    assert fitted.params[0].level_half_life_days < max(p[0] for p in selection.LEVEL_RULES)
    forecast = fitted.predict(np.array([0, 1, 2, 3, 4]))[0].sum(axis=1)
    recent = counts[77:82].sum(axis=1)  # last week's Monday to Friday
    assert np.all(np.abs(forecast / recent - 1.0) < 0.15)


def _shape_errors(moving_h: float) -> tuple[list[bool], float, float]:
    """On a 24-week bank history whose morning peak moves `moving_h` hours over it:
    (the shape's trend adopted per queue, error of the week after's shape with the trend,
    without it), the error being the summed absolute difference from the true shares over
    the queues and Monday to Friday."""
    days = 168  # a Monday: the first day is one
    scenario = replace(
        synthetic.SCENARIOS["bank_weekdays_7m"],
        width_min=30,
        days=days + 7,
        holidays=None,
        shape_drift_h=moving_h * (days + 7) / days,
    )
    generated = synthetic.generate_scenario(scenario, seed=3)
    history = files.build_history(generated.rows, "history.csv")
    adopted = [p.shape_trend for p in service.calibrated_fit(history, days).fit.params]
    weekdays = service.weekdays_of(history, 0, days)
    open_mask = estimator.open_slots(
        history.present[:days], history.contacts[:, :days].sum(axis=(0, 2)), weekdays
    )
    week = np.arange(days, days + 5)
    rate = generated.rate[[scenario.queues.index(q) for q in history.queues]][:, week]
    truth = rate / rate.sum(axis=2, keepdims=True)
    queues, errors = len(history.queues), []
    for trend in (True, False):
        fitted = estimator.fit(
            history.contacts[:, :days],
            np.zeros_like(history.contacts[:, :days]),  # no AHT: with_aht=False
            weekdays,
            open_mask,
            np.ones((queues, days), dtype=bool),
            30,
            [estimator.Params(shape_trend=trend)] * queues,
            with_aht=False,
        )
        shapes = fitted.shape[:, [history.weekday(int(d)) for d in week]]
        errors.append(float(np.abs(shapes - truth).sum()))
    return adopted, errors[0], errors[1]


def test_a_peak_that_moves_through_the_season_is_followed() -> None:
    """The morning peak an hour later after 24 weeks (a few minutes a week): the backtest
    takes the shapes' trend for both queues, and the week after's shares are closer to the
    truth with it than without."""
    adopted, trended, plain = _shape_errors(1.0)
    assert adopted == [True, True]
    assert trended < 0.8 * plain


def test_a_shape_that_stays_keeps_no_trend() -> None:
    adopted, trended, plain = _shape_errors(0.0)
    assert adopted == [False, False]
    assert plain <= trended


def test_origins_reach_back_half_a_year_where_history_has_it() -> None:
    """The latest 12 weeks are scored however short the history; older weeks, up to 26 in
    all, only with 13 weeks of history before them."""
    assert selection.origins_of(28) == [7, 14, 21]  # a month: three weeks to score
    seven_months = selection.origins_of(238)
    assert seven_months[-1] == 231 and len(seven_months) == 21
    assert seven_months[0] == 91  # the oldest older origin has 13 weeks before it
    year = selection.origins_of(365)
    assert len(year) == 26 and year[0] == 365 - 7 * 26
    assert selection.origins_of(91) == [91 - 7 * k for k in range(12, 0, -1)]


def test_held_out_days_are_brought_to_their_own_midnight() -> None:
    # The intraday gain multiplies a forecast made at the day's midnight: the held-out days
    # after an origin are first brought to the level a fit at their midnight would hold.
    days, slots = 14, 4
    opened = np.ones((days, slots), dtype=bool)
    model = np.full((1, days, slots), 10.0)
    actual = 1.5 * model  # every day runs half again over the week-ahead forecast
    normal = np.ones((1, days), dtype=bool)
    normal[0, 9] = False  # a freak day: it does not move the level
    mix = 0.5 * model + 0.5 * np.full_like(model, 12.0)

    def midnight(weight: float, half_life: float = 7.0, recent: float = 1.0) -> np.ndarray:
        return intraday.as_of_midnight(
            actual,
            mix,
            model,
            np.array([weight]),
            opened,
            normal,
            np.array([half_life]),
            np.array([recent]),
        )[0, :, 0]

    moved = midnight(0.5)
    assert moved[0] == moved[7] == mix[0, 0, 0]  # an origin's day is the week-ahead forecast
    assert np.all(np.diff(moved[:7]) > 0) and moved[6] < 0.5 * 15.0 + 6.0  # towards, not at
    assert moved[10] == moved[9]  # the freak day left the level where it was
    assert np.allclose(midnight(0.0), mix[0, :, 0])  # the baselines' parts stay
    assert midnight(1.0, half_life=3.0)[6] > midnight(1.0, half_life=14.0)[6]
    assert midnight(1.0, recent=0.0)[6] < midnight(1.0)[6]  # the long-run level moves slower
    no_normal_day = np.zeros_like(normal)  # a queue too new to have one: as it was
    unmoved = intraday.as_of_midnight(
        actual, mix, model, np.array([0.5]), opened, no_normal_day, np.array([7.0]), np.ones(1)
    )
    assert np.array_equal(unmoved, mix)
