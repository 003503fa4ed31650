"""Prediction intervals and exceedance probabilities of a negative-binomial count.

Contacts in an interval are counts: Poisson noise plus a share of variation the
model cannot know (weather, a news item, a day busier than usual). A negative
binomial with mean μ and variance μ + φμ² carries both; φ is calibrated per queue on
the held-out weeks (see `selection.calibrate`). Counts up to `_EXACT_LIMIT` use the
exact distribution, larger ones a normal approximation (the error is negligible there).
"""

from __future__ import annotations

import functools

import numpy as np

from forecasting.model import FloatArray

_EXACT_LIMIT = 150.0
_Z90 = 1.2815515655446004  # standard normal 90 % quantile


_CHUNK = 1024


def _chunks(size: int) -> list[slice]:
    return [slice(i, min(size, i + _CHUNK)) for i in range(0, size, _CHUNK)]


def _pmf_chunk(mu: FloatArray, phi: FloatArray) -> FloatArray:
    """pmf[i, k] of NB(mu_i, phi_i) for k = 0..K, by the ratio recurrence (no lgamma)."""
    top = float(np.max(mu, initial=0.0))
    sd = np.sqrt(top + float(np.max(phi * mu * mu, initial=0.0)))
    k_max = int(top + 10 * sd + 10)
    k = np.arange(1, k_max + 1, dtype=float)
    mu_c = mu[:, None]
    poisson = phi <= 1e-9
    r = np.where(poisson, 1.0, 1.0 / np.maximum(phi, 1e-9))[:, None]
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        nb_ratio = (k - 1 + r) / k * (mu_c / (r + mu_c))
        po_ratio = mu_c / k
        ratio = np.where(poisson[:, None], po_ratio, nb_ratio)
        p0 = np.where(poisson, np.exp(-mu), (r[:, 0] / (r[:, 0] + mu)) ** r[:, 0])
    table = np.empty((mu.size, k_max + 1))
    table[:, 0] = p0
    table[:, 1:] = p0[:, None] * np.cumprod(ratio, axis=1)
    return np.nan_to_num(table)


def bounds(
    mu: FloatArray, phi: FloatArray, coverage: float | FloatArray = 0.8
) -> tuple[FloatArray, FloatArray]:
    """(low, high) such that P(low <= y <= high) is about `coverage` for each mean
    (`coverage` may differ per element: see `selection._calibrate_interval`)."""
    mu = np.asarray(mu, dtype=float).ravel()
    phi = np.broadcast_to(np.asarray(phi, dtype=float), mu.shape).ravel()
    cov = np.broadcast_to(np.asarray(coverage, dtype=float), mu.shape).ravel()
    tail = (1.0 - cov) / 2.0
    low = np.zeros_like(mu)
    high = np.zeros_like(mu)
    exact = mu <= _EXACT_LIMIT
    if exact.any():
        m_ex, p_ex, t_ex, c_ex = mu[exact], phi[exact], tail[exact], cov[exact]
        lo_ex, hi_ex = np.zeros_like(m_ex), np.zeros_like(m_ex)
        for part in _chunks(m_ex.size):
            cdf = np.cumsum(_pmf_chunk(m_ex[part], p_ex[part]), axis=1)
            below = np.concatenate([np.zeros((cdf.shape[0], 1)), cdf[:, :-1]], axis=1)
            lo = np.abs(below - t_ex[part][:, None]).argmin(axis=1)
            floor = np.take_along_axis(below, lo[:, None], axis=1)
            # high: the count that brings the covered mass nearest `coverage` (for small
            # means the nearest upper quantile alone would cover far more than asked;
            # integer data cannot hit it exactly, nearest keeps it right on average).
            gap = np.abs(cdf - floor - c_ex[part][:, None])
            gap[np.arange(cdf.shape[1])[None, :] < lo[:, None]] = np.inf
            lo_ex[part] = lo
            hi_ex[part] = gap.argmin(axis=1).astype(float)
        low[exact], high[exact] = lo_ex, hi_ex
    if (~exact).any():
        m = mu[~exact]
        sd = np.sqrt(m + phi[~exact] * m * m)
        z = (
            np.array([_normal_quantile(1.0 - t) for t in tail[~exact]])
            if (np.any(np.abs(cov[~exact] - 0.8) > 1e-9))
            else np.full(m.size, _Z90)
        )
        low[~exact] = np.maximum(0.0, np.round(m - z * sd))
        high[~exact] = np.round(m + z * sd)
    return low, high


def exceed_probability(mu: FloatArray, phi: FloatArray, threshold: FloatArray) -> FloatArray:
    """P(y > threshold) under NB(mu, phi), elementwise."""
    mu = np.asarray(mu, dtype=float).ravel()
    phi = np.broadcast_to(np.asarray(phi, dtype=float), mu.shape).ravel()
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), mu.shape).ravel()
    out = np.zeros_like(mu)
    exact = mu <= _EXACT_LIMIT
    if exact.any():
        m_ex, p_ex, t_ex = mu[exact], phi[exact], thr[exact]
        o_ex = np.zeros_like(m_ex)
        for part in _chunks(m_ex.size):
            table = _pmf_chunk(m_ex[part], p_ex[part])
            k = np.arange(table.shape[1])
            o_ex[part] = (table * (k[None, :] > t_ex[part][:, None])).sum(axis=1)
        out[exact] = o_ex
    if (~exact).any():
        m = mu[~exact]
        sd = np.sqrt(m + phi[~exact] * m * m)
        z = (np.floor(thr[~exact]) + 0.5 - m) / sd
        out[~exact] = 0.5 * _erfc(z / np.sqrt(2.0))
    return np.clip(out, 0.0, 1.0)


def _erfc(x: FloatArray) -> FloatArray:
    """Complementary error function (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = (
        -z * z
        - 1.26551223
        + t
        * (
            1.00002368
            + t
            * (
                0.37409196
                + t
                * (
                    0.09678418
                    + t
                    * (
                        -0.18628806
                        + t
                        * (
                            0.27886807
                            + t
                            * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                        )
                    )
                )
            )
        )
    )
    value = t * np.exp(poly)
    return np.where(x >= 0, value, 2.0 - value)


@functools.lru_cache(maxsize=64)
def _normal_quantile(p: float) -> float:
    """Standard normal quantile by bisection on erfc (only for non-default coverages)."""
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 1 - 0.5 * float(_erfc(np.array([mid / np.sqrt(2.0)]))[0]) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
