"""The intra-month pattern: days of the month that run above or below the level.

Banks see benefit and pay days (the 1st, the 3rd, the 15th), card issuers and utilities
their billing cycles, many centers the month's end. A week-ahead forecast that knows the
level but not the month's rhythm is off on those days, and the four-week mean cannot see
them at all (it averages over the month).

Estimated from the weekday-adjusted daily totals of normal days (`estimator.Prepared.z`):

1. each day's log ratio to the mean of the month centred on it (a window of one month
   averages the pattern out, so the ratio keeps it, while the level's wander, slower than
   a month, is divided away); days without a whole month around them are not used;
2. the ratios smoothed over the position in the month (Gaussian, `BANDWIDTH_DAYS`, the
   month taken as a circle: the 31st neighbours the 1st), evaluated on a grid of days;
3. shrunk towards no effect by empirical Bayes: each grid point's estimate times
   τ² / (τ² + its noise variance), τ² the spread of the estimates beyond their noise, the
   noise measured by how the months' own estimates disagree.

Where the pattern helps is not assumed: `selection` adopts it for a queue only when its
held-out forecasts beat the same model without it by more than a standard error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from forecasting.model import BoolArray, FloatArray

MONTH_DAYS = 365.25 / 12  # the circle's length, in days
GRID = np.arange(31, dtype=float)  # positions (days after the 1st) the profile is kept at
BANDWIDTH_DAYS = 0.8
HALF_WINDOW_DAYS = 15  # the centred month around a day: 31 calendar days
MIN_WINDOW_DAYS = 10  # normal days a centred month needs
MIN_RESIDUALS = 60  # days with a whole month around them: about three months of weekdays
MIN_MONTH_WEIGHT = 0.5  # a month speaks for a position with half a day's weight near it


def positions(first: date, days: int) -> FloatArray:
    """[days] where each day from `first` lies in its month, in days after the 1st scaled
    to a month of `MONTH_DAYS` (the 28th of February sits where the 30th of March does)."""
    out = np.zeros(days)
    for k in range(days):
        day = first + timedelta(days=k)
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        length = (following - day.replace(day=1)).days
        out[k] = (day.day - 1) / length * MONTH_DAYS
    return out


@dataclass(frozen=True)
class Profile:
    """Per queue, the log factor of each position in the month (0: no effect)."""

    log_factor: FloatArray  # [Q, len(GRID)]

    def at(self, where: FloatArray) -> FloatArray:
        """[Q, n] multiplicative factors of days at positions `where` [n]."""
        grid = np.append(GRID, MONTH_DAYS)  # close the circle
        values = np.concatenate([self.log_factor, self.log_factor[:, :1]], axis=1)
        return np.exp(np.array([np.interp(where, grid, row) for row in values]))


def _circular_kernel(where: FloatArray) -> FloatArray:
    """[len(GRID), n] Gaussian weights of days at `where` for each grid position."""
    gap = np.abs(GRID[:, None] - where[None, :]) % MONTH_DAYS
    gap = np.minimum(gap, MONTH_DAYS - gap)
    return np.exp(-0.5 * (gap / BANDWIDTH_DAYS) ** 2)


def _centred_ratios(z: FloatArray, usable: BoolArray) -> tuple[FloatArray, BoolArray]:
    """([D] log ratio of each day to its centred month's mean, [D] where it is defined)."""
    days = z.size
    values = np.where(usable, z, 0.0)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    counts = np.concatenate([[0], np.cumsum(usable)])
    centre = np.arange(HALF_WINDOW_DAYS, days - HALF_WINDOW_DAYS)
    lo, hi = centre - HALF_WINDOW_DAYS, centre + HALF_WINDOW_DAYS + 1
    n = counts[hi] - counts[lo]
    mean = (sums[hi] - sums[lo]) / np.maximum(n, 1)
    ratio, known = np.zeros(days), np.zeros(days, dtype=bool)
    ok = usable[centre] & (n >= MIN_WINDOW_DAYS) & (mean > 0) & (z[centre] > 0)
    ratio[centre[ok]] = np.log(z[centre[ok]] / mean[ok])
    known[centre[ok]] = True
    return ratio, known


def estimate(z: FloatArray, usable: BoolArray, where: FloatArray) -> Profile | None:
    """The profile of each queue from `z` [Q, D] on `usable` [Q, D] days at positions
    `where` [D]; None when no queue has `MIN_RESIDUALS` days to learn from."""
    q_count = z.shape[0]
    log_factor = np.zeros((q_count, GRID.size))
    learned = False
    for q in range(q_count):
        ratio, known = _centred_ratios(z[q], usable[q])
        month = np.cumsum(np.diff(where, prepend=where[0]) < 0)  # a new month where it falls
        if known.sum() < MIN_RESIDUALS:
            continue
        r = ratio[known] - ratio[known].mean()
        kernel = _circular_kernel(where[known])
        smooth = (kernel @ r) / np.maximum(kernel.sum(axis=1), 1e-12)
        noise = _noise(kernel, r, month[known])
        signal = max(0.0, float(np.mean(smooth**2 - noise)))
        shrunk = smooth * signal / (signal + noise)
        log_factor[q] = shrunk - shrunk.mean()
        learned = True
    return Profile(log_factor) if learned else None


def _noise(kernel: FloatArray, r: FloatArray, month: np.ndarray) -> FloatArray:
    """[len(GRID)] variance of the pooled estimate at each position, measured as the spread
    of the months' own estimates there over their number. Measured, not taken from the
    day-to-day variance: a level that wanders within the month makes neighbouring days'
    ratios alike, which a smoothed estimate would otherwise mistake for a pattern."""
    per_month = []
    for m in np.unique(month):
        k = kernel[:, month == m]
        weight = k.sum(axis=1)
        estimate = (k @ r[month == m]) / np.maximum(weight, 1e-12)
        per_month.append(np.where(weight >= MIN_MONTH_WEIGHT, estimate, np.nan))
    values = np.array(per_month)
    seen = (~np.isnan(values)).sum(axis=0)
    spread = np.full(GRID.size, np.inf)
    some = seen >= 2
    spread[some] = np.nanvar(values[:, some], axis=0, ddof=1) / seen[some]
    return spread
