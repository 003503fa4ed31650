"""The model on synthetic data whose truth is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from forecasting import estimator, files, service, synthetic


def _fit(center: synthetic.Synthetic, days: int) -> estimator.Fit:
    history = files.build_history(center.rows, "synthetic")
    return service.calibrated_fit(history, days).fit


def test_forecast_is_closer_to_the_truth_than_the_baselines(center: synthetic.Synthetic) -> None:
    days = 49
    fitted = _fit(center, days)
    weekdays = (center.first_day.weekday() + np.arange(days, days + 7)) % 7
    mean = fitted.predict(weekdays)
    order = [list(("booking", "baggage")).index(q) for q in ("baggage", "booking")]
    truth = center.rate[order, days : days + 7]
    naive = center.counts[order, days - 7 : days]
    four = center.counts[order, days - 28 : days].reshape(2, 4, 7, -1).mean(axis=1)
    error = np.abs(mean - truth).sum()
    assert error < np.abs(naive - truth).sum()
    assert error < np.abs(four - truth).sum()


def test_closed_intervals_carry_no_volume(center: synthetic.Synthetic) -> None:
    fitted = _fit(center, 49)
    closed = center.rate[:, :7].sum(axis=0) == 0  # the generator's closed hours
    weekdays = (center.first_day.weekday() + np.arange(7)) % 7
    mean = fitted.predict(weekdays)
    assert np.all(mean[:, closed] == 0)
    assert np.all(~fitted.open[weekdays][closed])


def test_weekday_factors_follow_the_week(center: synthetic.Synthetic) -> None:
    fitted = _fit(center, 49)
    # the generator: Monday busiest, Sunday quietest
    assert np.all(fitted.weekday_factor[:, 0] > fitted.weekday_factor[:, 6] * 2)
    assert np.allclose(fitted.weekday_factor.mean(axis=1), 1.0)


def test_a_freak_interval_does_not_bend_the_shape(center: synthetic.Synthetic) -> None:
    history = files.build_history(center.rows, "synthetic")
    spiked = history.contacts.copy()
    spiked[0, 42, 26] += 400  # one interval, ten times its usual volume
    weekdays = service.weekdays_of(history, 0, 49)
    open_mask = estimator.open_slots(
        history.present[:49], history.contacts[:, :49].sum(axis=(0, 2)), weekdays
    )
    use = np.ones((2, 49), dtype=bool)
    params = [estimator.Params(), estimator.Params()]
    clean = estimator.fit(
        history.contacts[:, :49], history.aht_s[:, :49], weekdays, open_mask, use, 30, params
    )
    dirty = estimator.fit(
        spiked[:, :49], history.aht_s[:, :49], weekdays, open_mask, use, 30, params
    )
    w = int(weekdays[42])
    assert dirty.shape[0, w, 26] < clean.shape[0, w, 26] * 1.3


def test_aht_follows_the_day(center: synthetic.Synthetic) -> None:
    fitted = _fit(center, 49)
    morning, evening = fitted.aht[1, 0, 16], fitted.aht[1, 0, 36]  # booking, 08:00 and 18:00
    # generator: 240 + 40 sin(2π(h-9)/24): about 230 at 08:00 and 268 at 18:00
    assert 200 < morning < 250
    assert 245 < evening < 295


def test_a_days_outage_or_incident_does_not_move_the_week_ahead() -> None:
    scenario = replace(synthetic.SCENARIOS["bank_weekdays_7m"], width_min=30)
    history = files.build_history(synthetic.generate_scenario(scenario, seed=3).rows, "h.csv")
    monday = (datetime(2025, 10, 13) - history.first_day).days  # forecast Monday to Friday

    def week_ahead(friday_factor: float) -> float:
        contacts = history.contacts.copy()
        contacts[:, monday - 3] *= friday_factor  # the Friday before the forecast
        changed = replace(history, contacts=contacts)
        projection = service.project(changed.cut(changed.day_start(monday)), monday + 4)
        return float(projection.mean.sum())

    usual = week_ahead(1.0)
    # inside the normal-day band (x0.4 .. x2.5): before, the level moved 17 % and 9 %
    assert week_ahead(2.0) == pytest.approx(usual, rel=0.065)  # an incident: twice the calls
    assert week_ahead(0.5) == pytest.approx(usual, rel=0.065)  # an outage: half got through


def test_a_level_that_moved_is_followed_not_clipped() -> None:
    scenario = replace(synthetic.SCENARIOS["bank_weekdays_7m"], width_min=30, holidays=None)
    history = files.build_history(synthetic.generate_scenario(scenario, seed=3).rows, "h.csv")
    monday = (datetime(2025, 10, 13) - history.first_day).days
    contacts = history.contacts.copy()
    contacts[:, monday - 10 :] *= 0.7  # a channel moved out ten days before, for good
    moved = replace(history, contacts=contacts)
    projection = service.project(moved.cut(moved.day_start(monday)), monday + 4)
    actual = contacts[:, monday : monday + 5].sum()
    # clipped day by day as freaks, the week ahead came out 32 % high
    assert projection.mean.sum() == pytest.approx(actual, rel=0.1)


def test_clipping_leaves_ordinary_days_and_bounds_a_freak_one() -> None:
    rng = np.random.default_rng(4)
    days, weekdays = 70, np.arange(70) % 7
    contacts = np.zeros((1, days, 48))  # 30 minutes, open 07:00-21:00
    contacts[0, :, 14:42] = 100.0 * np.exp(rng.normal(0.0, 0.03, (days, 1)))  # 3 % day noise
    contacts[0, 60] *= 2.0
    good = np.ones((1, days), dtype=bool)
    open_mask = np.zeros((7, 48), dtype=bool)
    open_mask[:, 14:42] = True
    cleaned = estimator.clip_days(contacts, weekdays, open_mask, good, 30)
    ratio = cleaned[0].sum(axis=1) / contacts[0].sum(axis=1)
    assert np.count_nonzero(ratio < 1.0) == 1 and ratio[60] < 0.6  # within 3 deviations
    np.testing.assert_array_equal(cleaned[0, :60], contacts[0, :60])


def test_a_trend_on_a_short_history_is_carried_from_where_the_level_is(
    center: synthetic.Synthetic,
) -> None:
    """Theta's level is the smoothed level moved along the trend by its lag. That lag is
    the mean age of the days it weighs: on four weeks of history with a 56-day half-life,
    two weeks, not the 80 days of an endless history (the bank month's smallest queue, a
    few calls a day gently falling, came out at 0: a level below zero, clipped)."""
    history = files.build_history(center.rows, "synthetic")
    days = 28
    falling = history.contacts[:, :days] * np.linspace(1.0, 0.8, days)[None, :, None]
    weekdays = service.weekdays_of(history, 0, days)
    open_mask = estimator.open_slots(
        history.present[:days], history.contacts[:, :days].sum(axis=(0, 2)), weekdays
    )
    use = np.ones((2, days), dtype=bool)
    params = [estimator.Params(level_half_life_days=56.0, theta=True)] * 2
    fitted = estimator.fit(falling, history.aht_s[:, :days], weekdays, open_mask, use, 30, params)
    ahead = fitted.predict(service.weekdays_of(history, days, 7)).sum(axis=(1, 2))
    # the same days at the level the history ended on (0.8 of where it began)
    flat = history.contacts[:, :days] * 0.8
    ended = estimator.fit(flat, history.aht_s[:, :days], weekdays, open_mask, use, 30, params)
    level = ended.predict(service.weekdays_of(history, days, 7)).sum(axis=(1, 2))
    assert np.all(np.abs(ahead / level - 1.0) < 0.1), ahead / level


@pytest.mark.parametrize("width", [720, 1440])
def test_half_day_and_day_intervals_forecast_the_same_volume(
    center: synthetic.Synthetic, width: int
) -> None:
    """--interval 12h or 1d divide a day (the docs allow them): the pooled shapes' local
    window is longer than such a day, which raised a ValueError before."""
    history = files.build_history(center.rows, "synthetic")
    start = history.day_start(49)
    fine = service.forecast(history, start, timedelta(days=7))
    coarse = service.forecast(history, start, timedelta(days=7), width_min=width)
    assert len(coarse.rows) == 7 * len(history.queues) * 1440 // width
    for queue in history.queues:
        ours = sum(r.contacts for r in coarse.rows if r.queue == queue)
        assert ours == pytest.approx(
            sum(r.contacts for r in fine.rows if r.queue == queue), rel=0.03
        )


def test_a_busy_days_stray_rows_open_no_hours_between_them() -> None:
    """A busy day is read on its own rows: two Saturdays of hundreds of evening calls, each
    with one stray call in the small hours, open the evening only (not the day between,
    as a first-to-last span of each day would: the bank's Sabbath read as open)."""
    days, slots = 8, 48
    present = np.zeros((days, slots), dtype=bool)
    present[:, 38:] = True
    present[1, 2] = present[4, 18] = True  # a stray call each
    totals = np.full(days, 300.0)
    weekdays = np.full(days, 5)
    open_mask = estimator.open_slots(present, totals, weekdays)
    assert np.flatnonzero(open_mask[5]).tolist() == list(range(38, 48))
