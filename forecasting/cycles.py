"""Calendar cycles longer than the week: the month's rhythm and the fortnight's.

Banks see benefit and pay days (the 1st, the 3rd, the 15th), card issuers and utilities
their billing cycles, many centers the month's end (`MONTH`); where pay comes every other
week, the pay week runs above the other (`FORTNIGHT`). A week-ahead forecast that knows
the level but not the cycle is off on those days, or every other week, and the four-week
mean cannot see them at all (it averages over the cycle).

Estimated per queue from the weekday-adjusted daily totals of normal days
(`estimator.Prepared.z`):

1. each day's log ratio to the mean of the whole cycle centred on it (a window of one
   cycle averages the pattern out, so the ratio keeps it, while the level's wander, slower
   than the cycle, is divided away); days without a whole cycle around them are not used;
2. the ratios smoothed over the position in the cycle (Gaussian, `BANDWIDTH_DAYS`, the
   cycle taken as a circle: the 31st neighbours the 1st), evaluated on a grid of days;
3. shrunk towards no effect by empirical Bayes: each grid point's estimate times
   τ² / (τ² + its noise variance), τ² the spread of the estimates beyond their noise, the
   noise measured by how the cycles' own estimates disagree (a level that wanders within
   a cycle makes neighbouring days alike, which an estimate from the day-to-day variance
   would take for a pattern).

Where a cycle helps is not assumed: `selection` adopts it for a queue only when its
held-out forecasts beat the same model without it by more than a standard error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from forecasting.model import BoolArray, FloatArray

BANDWIDTH_DAYS = 0.8
MIN_WINDOW_DAYS = 10  # normal days a centred cycle needs
MIN_RESIDUALS = 60  # days with a whole cycle around them: about three months of weekdays
MIN_CYCLE_WEIGHT = 0.5  # one cycle speaks for a position with half a day's weight near it


def _month_positions(first: date, days: int) -> FloatArray:
    """Days after the 1st, scaled to a month of 365.25 / 12 days (the 28th of February
    sits where the 30th of March does)."""
    out = np.zeros(days)
    for k in range(days):
        day = first + timedelta(days=k)
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        length = (following - day.replace(day=1)).days
        out[k] = (day.day - 1) / length * MONTH.length
    return out


def _fortnight_positions(first: date, days: int) -> FloatArray:
    """Days since a Monday of an even ISO week (the same days every year: a fixed cycle
    from the Monday of 1 January 2001, not from the history's start)."""
    start = (first - date(2001, 1, 1)).days
    return ((start + np.arange(days)) % 14).astype(float)


@dataclass(frozen=True)
class Cycle:
    """A calendar cycle: its length (the circle), the centred window that averages it out,
    and where each day lies in it."""

    name: str
    length: float  # days
    half_window: int  # the centred window is [d - half_window, d + half_window + extra]
    extra: int
    place: Callable[[date, int], FloatArray]

    @property
    def grid(self) -> FloatArray:
        return np.arange(int(np.ceil(self.length)), dtype=float)

    def positions(self, first: date, days: int) -> FloatArray:
        """[days] where each day from `first` lies in the cycle."""
        return self.place(first, days)


MONTH = Cycle("month", 365.25 / 12, 15, 1, _month_positions)  # 31 calendar days
FORTNIGHT = Cycle("fortnight", 14.0, 7, 0, _fortnight_positions)  # 14 days: each place once
CYCLES = (MONTH, FORTNIGHT)  # the order `selection` tries them in
Positions = dict[str, FloatArray]  # cycle name -> [D] positions of the days


def positions(first: date, days: int) -> Positions:
    """Where days [first, first + days) lie in every cycle."""
    return {cycle.name: cycle.positions(first, days) for cycle in CYCLES}


@dataclass(frozen=True)
class Profile:
    """Per queue, the log factor of each position in one cycle (0: no effect)."""

    cycle: Cycle
    log_factor: FloatArray  # [Q, len(cycle.grid)]

    def at(self, where: FloatArray) -> FloatArray:
        """[Q, n] multiplicative factors of days at positions `where` [n]."""
        grid = np.append(self.cycle.grid, self.cycle.length)  # close the circle
        values = np.concatenate([self.log_factor, self.log_factor[:, :1]], axis=1)
        return np.exp(np.array([np.interp(where, grid, row) for row in values]))

    def only(self, keep: list[bool]) -> Profile:
        """The same profile with no effect for the queues not kept."""
        return Profile(self.cycle, self.log_factor * np.asarray(keep, dtype=float)[:, None])


def _circular_kernel(cycle: Cycle, where: FloatArray) -> FloatArray:
    """[len(grid), n] Gaussian weights of days at `where` for each grid position."""
    gap = np.abs(cycle.grid[:, None] - where[None, :]) % cycle.length
    gap = np.minimum(gap, cycle.length - gap)
    return np.exp(-0.5 * (gap / BANDWIDTH_DAYS) ** 2)


def _centred_ratios(cycle: Cycle, z: FloatArray, usable: BoolArray) -> tuple[FloatArray, BoolArray]:
    """([D] log ratio of each day to its centred cycle's mean, [D] where it is defined)."""
    days = z.size
    values = np.where(usable, z, 0.0)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    counts = np.concatenate([[0], np.cumsum(usable)])
    after = cycle.half_window + cycle.extra - 1
    centre = np.arange(cycle.half_window, days - after)
    lo, hi = centre - cycle.half_window, centre + after + 1
    n = counts[hi] - counts[lo]
    mean = (sums[hi] - sums[lo]) / np.maximum(n, 1)
    ratio, known = np.zeros(days), np.zeros(days, dtype=bool)
    ok = usable[centre] & (n >= MIN_WINDOW_DAYS) & (mean > 0) & (z[centre] > 0)
    ratio[centre[ok]] = np.log(z[centre[ok]] / mean[ok])
    known[centre[ok]] = True
    return ratio, known


def estimate(cycle: Cycle, z: FloatArray, usable: BoolArray, where: FloatArray) -> Profile | None:
    """The cycle's profile of each queue from `z` [Q, D] on `usable` [Q, D] days at
    positions `where` [D]; None when no queue has `MIN_RESIDUALS` days to learn from."""
    q_count = z.shape[0]
    log_factor = np.zeros((q_count, cycle.grid.size))
    instance = np.cumsum(np.diff(where, prepend=where[0]) < 0)  # a new cycle where it falls
    learned = False
    for q in range(q_count):
        ratio, known = _centred_ratios(cycle, z[q], usable[q])
        if known.sum() < MIN_RESIDUALS:
            continue
        r = ratio[known] - ratio[known].mean()
        kernel = _circular_kernel(cycle, where[known])
        smooth = (kernel @ r) / np.maximum(kernel.sum(axis=1), 1e-12)
        noise = _noise(kernel, r, instance[known])
        signal = max(0.0, float(np.mean(smooth**2 - noise)))
        shrunk = smooth * signal / (signal + noise)
        log_factor[q] = shrunk - shrunk.mean()
        learned = True
    return Profile(cycle, log_factor) if learned else None


def _noise(kernel: FloatArray, r: FloatArray, instance: np.ndarray) -> FloatArray:
    """[len(grid)] variance of the pooled estimate at each position, measured as the
    spread of the cycles' own estimates there over their number."""
    per_cycle = []
    for k in np.unique(instance):
        weights = kernel[:, instance == k]
        total = weights.sum(axis=1)
        estimate = (weights @ r[instance == k]) / np.maximum(total, 1e-12)
        per_cycle.append(np.where(total >= MIN_CYCLE_WEIGHT, estimate, np.nan))
    values = np.array(per_cycle)
    seen = (~np.isnan(values)).sum(axis=0)
    spread = np.full(kernel.shape[0], np.inf)
    some = seen >= 2
    spread[some] = np.nanvar(values[:, some], axis=0, ddof=1) / seen[some]
    return spread
