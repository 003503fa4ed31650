"""Poisson tails of a count: is a day's total, or an interval's silence, chance?

A rule in ratios (a day under 0.4 × its weekday's usual total is abnormal) holds for a
center of hundreds a day and fails one of a few: an empty day at 0.7 a day is the most
likely day there is. Such rules are gated here by how unlikely the count is at the rate
expected, as a count of independent arrivals (Poisson). numpy and no scipy for two tails.
"""

from __future__ import annotations

import math

import numpy as np

from forecasting.lifetimes import CLOSED_SURPRISE
from forecasting.model import BoolArray, FloatArray, IntArray

# Terms of a Poisson sum further than this from the larger of the mode and the bound
# (in standard deviations, plus a few) are below e⁻⁷² of it: left out. Summing all k + 1
# terms took memory in k: a week's total of a center of 10⁹ a day asked for 26 GiB.
_SPREAD_SD = 12.0
_CHUNK = 1 << 20  # terms summed at a time


def log_cdf(observed: float, expected: float) -> float:
    """log P(X <= observed) for X ~ Poisson(expected) (observed rounded down), a
    log-sum-exp of the terms that matter (within `_SPREAD_SD` deviations of the mode or
    of the bound), a chunk at a time: time and memory grow with √expected, not with k."""
    k = int(np.floor(observed + 1e-9))
    if expected <= 0:
        return 0.0
    spread = _SPREAD_SD * math.sqrt(expected) + 50.0
    first = max(0, int(min(k, expected) - spread))
    last = min(k, int(expected + spread))
    log_rate = math.log(expected)
    # log term(j) = -expected + j log(expected) - log(j!), carried from chunk to chunk
    before = -expected + first * log_rate - math.lgamma(first + 1)
    top, total = before, 1.0  # the running log-sum-exp: exp(top) * total
    for start in range(first + 1, last + 1, _CHUNK):
        steps = np.arange(start, min(start + _CHUNK, last + 1), dtype=float)
        logs = before + np.cumsum(log_rate - np.log(steps))
        before = float(logs[-1])
        high = max(top, float(logs.max()))
        total = total * math.exp(top - high) + float(np.exp(logs - high).sum())
        top = high
    return min(0.0, top + math.log(total))


def log_sf(observed: float, expected: float) -> float:
    """log P(X >= observed) for X ~ Poisson(expected) (observed rounded up)."""
    k = int(np.ceil(observed - 1e-9))
    if k <= 0:
        return 0.0
    if expected <= 0:
        return -math.inf
    below = log_cdf(k - 1, expected)
    return math.log(-math.expm1(below)) if below < 0 else -math.inf


def too_low(observed: float, expected: float) -> bool:
    """As few as `observed` is not chance at `expected`."""
    return log_cdf(observed, expected) < -CLOSED_SURPRISE


def too_high(observed: float, expected: float) -> bool:
    """As many as `observed` is not chance at `expected`."""
    return log_sf(observed, expected) < -CLOSED_SURPRISE


def stray_weekdays(totals: FloatArray, weekdays: IntArray, use: BoolArray) -> BoolArray:
    """[Q, 7]: the weekdays whose contacts on the days in `use` ([Q, D] as `totals`) are
    too few to be chance at the rate per day of the queue's busiest weekday: a closed
    Sunday's stray calls, told from the days of a queue of a few a day, whose empty
    Monday is chance."""
    onehot = (np.asarray(weekdays)[:, None] == np.arange(7)[None, :]).astype(float)  # [D, 7]
    sums = np.where(use, totals, 0.0) @ onehot  # [Q, 7]
    days = use.astype(float) @ onehot
    busiest = (sums / np.maximum(days, 1.0)).max(axis=1)  # [Q] per day
    result = np.zeros(sums.shape, dtype=bool)
    for q, w in zip(*np.nonzero(days > 0), strict=True):
        result[q, w] = too_low(float(sums[q, w]), float(busiest[q] * days[q, w]))
    return result
