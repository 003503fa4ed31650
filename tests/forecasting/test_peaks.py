"""Peak alerts: the calibrated cut, the intraday cut for today's rest, the count-noise bound."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from forecasting import backtest, files, intervals, intraday, selection, service, synthetic
from forecasting.model import FloatArray


def test_the_cut_is_the_probability_of_the_peak_that_completes_the_target_recall() -> None:
    peaks = np.linspace(1.0, 0.01, 100)  # held-out peaks' P(exceed), highest first
    prob = np.concatenate([peaks, [0.5, 0.5]])
    is_peak = np.arange(102) < 100
    cut = selection._alert_probability(prob, is_peak, 0.9)
    # aims one binomial standard error above 90 %: sqrt(0.9 * 0.1 / 100) = 0.03
    assert cut == pytest.approx(peaks[92])  # the 93rd of 100 peaks by probability
    assert (prob[is_peak] >= cut).mean() == pytest.approx(0.93)
    assert (prob[is_peak] >= cut + 1e-9).mean() < 0.93  # any higher cut misses the aim
    # too few held-out peaks to learn from: the default
    few = selection._alert_probability(prob, np.arange(102) < 3, 0.9)
    assert few == selection.DEFAULT_ALERT_PROBABILITY


def test_intraday_update_follows_a_busy_morning_and_narrows() -> None:
    phi, day_var = np.array([0.05, 0.05]), np.array([0.02, 0.02])
    mean = np.full((2, 20), 40.0)
    actual = mean.copy()
    actual[0, :10] *= 1.3  # queue 0: 30 % busier so far; queue 1 as forecast
    opened = np.ones(20, dtype=bool)
    full = np.ones((2, len(intraday.LEAD_BUCKETS_MIN)))
    updated, rest = intraday.update(mean, actual, opened, 10, phi, day_var, full, 30)
    factor = updated[:, 10:] / mean[:, 10:]
    assert np.all((factor[0] > 1.2) & (factor[0] < 1.3))  # shrunk a little towards 1
    assert np.all(factor[1] == 1.0)
    assert np.all(updated[:, :10] == mean[:, :10])  # the past is not re-forecast
    assert np.all(rest[:, 10:] < phi[:, None])  # most of the day-level uncertainty is gone
    # a gain of 0 (the backtest found the morning worth nothing) keeps the forecast
    none = np.zeros_like(full)
    kept, same = intraday.update(mean, actual, opened, 10, phi, day_var, none, 30)
    assert np.array_equal(kept, mean)
    assert np.allclose(same, phi[:, None])


def test_a_partial_day_uses_the_intraday_cut_later_days_the_week_ahead_one(
    center: synthetic.Synthetic,
) -> None:
    history = files.build_history(center.rows, "history.csv")
    noon = history.cut(history.day_start(50) + timedelta(hours=12))
    projection = service.project(noon, 52)
    fit = projection.fit
    _, end_slot = noon.end_index()
    assert np.all(projection.cut[0, end_slot:] == fit.alert_probability_today)
    assert np.all(projection.cut[1:] == fit.alert_probability)
    # the intraday forecast is sharper, so the cut that keeps 90 % recall is higher
    assert fit.alert_probability_today > fit.alert_probability


def test_noise_bound_rises_with_volume() -> None:
    rng = np.random.default_rng(5)
    shape = rng.uniform(0.5, 1.5, 2000)
    bounds = []
    for volume in (8.0, 80.0, 8000.0):
        mean = volume * shape
        threshold = np.full(mean.size, np.percentile(rng.poisson(mean), 90))
        bounds.append(backtest.noise_bound(mean, np.full(mean.size, 0.0), threshold, draws=10))
    assert bounds[0] < bounds[1] < bounds[2]
    assert bounds[2] > 0.9  # large counts: peaks are nearly certain from the rate alone
    assert bounds[0] < 0.3  # a handful of contacts: count noise decides


def _world(rng: np.random.Generator, phi: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Forecast means, a threshold, and counts drawn as the model describes them."""
    mean = 6.0 * rng.uniform(0.5, 1.5, 4000)
    rate = rng.gamma(1.0 / phi, mean * phi)
    counts = rng.poisson(rate).astype(float)
    return mean, np.full(mean.size, np.percentile(counts, 90)), counts


def test_noise_bound_on_the_actual_peaks_agrees_when_the_model_is_right() -> None:
    mean, threshold, counts = _world(np.random.default_rng(7), 0.2)
    phi = np.full(mean.size, 0.2)
    simulated = backtest.noise_bound(mean, phi, threshold, draws=20)
    conditioned = backtest.noise_bound(mean, phi, threshold, draws=20, actual=counts)
    assert abs(conditioned - simulated) < 0.05


def test_noise_bound_on_the_actual_peaks_is_not_raised_by_a_forecast_biased_up() -> None:
    mean, threshold, counts = _world(np.random.default_rng(8), 0.2)
    phi = np.full(mean.size, 0.2)
    right = backtest.noise_bound(mean, phi, threshold, draws=20, actual=counts)
    high = 1.3 * mean  # the simulated world of this forecast has more peaks than happened
    simulated = backtest.noise_bound(high, phi, threshold, draws=20)
    conditioned = backtest.noise_bound(high, phi, threshold, draws=20, actual=counts)
    assert simulated > right + 0.05
    assert abs(conditioned - right) < abs(simulated - right)


def test_precision_at_recall_takes_the_fewest_top_alerts_that_reach_the_recall() -> None:
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    peak = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 1], dtype=bool)
    # 4 peaks: recall 0.5 needs 2 of them, caught by the top 3; 0.75 needs the top 6
    assert backtest.precision_at_recall(score, peak, 0.5) == pytest.approx(2 / 3)
    assert backtest.precision_at_recall(score, peak, 0.75) == pytest.approx(3 / 6)
    assert backtest.precision_at_recall(score, peak, 1.0) == pytest.approx(4 / 10)
    # a ranking that puts every peak first is perfect at any recall
    assert backtest.precision_at_recall(peak.astype(float), peak, 0.9) == 1.0
    assert np.isnan(backtest.precision_at_recall(score, np.zeros(10, dtype=bool), 0.9))


def test_the_ranking_in_hindsight_is_no_better_than_the_bound_when_the_model_is_right() -> None:
    # a forecast that knows the rate's distribution (mean and φ right) ranks intervals by
    # its mean; the oracle knows each rate, so it reaches at least that precision
    mean, threshold, counts = _world(np.random.default_rng(9), 0.2)
    phi = np.full(mean.size, 0.2)
    peak = counts > threshold
    ours = backtest.precision_at_recall(
        intervals.exceed_probability(mean, phi, threshold), peak, 0.9
    )
    bound = backtest.noise_bound(mean, phi, threshold, 0.9, draws=20, actual=counts)
    assert ours < bound
