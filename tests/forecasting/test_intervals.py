"""Negative-binomial bounds and exceedance probabilities against simulation."""

from __future__ import annotations

import numpy as np

from forecasting import intervals


def test_bounds_cover_about_eighty_percent_of_simulated_counts() -> None:
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.2, 400.0, size=3000)
    phi = np.full(mu.size, 0.02)
    low, high = intervals.bounds(mu, phi)
    day = rng.gamma(1 / 0.02, 0.02, size=mu.size)
    draws = rng.poisson(mu * day)
    covered = np.mean((draws >= low) & (draws <= high))
    assert 0.76 <= covered <= 0.84
    assert np.all(low <= high)


def test_wider_dispersion_gives_wider_bounds() -> None:
    mu = np.array([50.0, 500.0])
    narrow = intervals.bounds(mu, np.zeros(2))
    wide = intervals.bounds(mu, np.full(2, 0.1))
    assert np.all(wide[1] - wide[0] > narrow[1] - narrow[0])


def test_exceed_probability_matches_simulation() -> None:
    rng = np.random.default_rng(5)
    mu = np.array([3.0, 30.0, 300.0])
    phi = np.array([0.0, 0.05, 0.05])
    threshold = np.array([5.0, 35.0, 330.0])
    got = intervals.exceed_probability(mu, phi, threshold)
    for i in range(3):
        factor = rng.gamma(1 / phi[i], phi[i], 20000) if phi[i] > 0 else np.ones(20000)
        simulated = np.mean(rng.poisson(mu[i] * factor) > threshold[i])
        assert abs(got[i] - simulated) < 0.02
