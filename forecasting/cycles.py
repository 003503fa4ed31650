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
   would take for a pattern);
4. kept only where it is **the same in both halves of history** (`_consistent`): the
   pattern of the earlier half of the cycles must predict each cycle of the later half,
   and the later half's each of the earlier's (one-sided t-tests over those cycles, 90 %;
   for the fortnight only what differs between its two weeks, `_beyond_the_week`). A
   level that wanders by weeks lines its ups and downs up with some 14-day blocks (or
   months) in any history, and a shock in one phase looks like a pay week; neither
   repeats in the other half. The cycles, not the days, are the units: the days of one
   cycle share its wander, and the cycles are nearly independent of each other.

Where a cycle helps is not assumed either: `selection` adopts it for a queue only when its
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
MIN_CYCLE_COVER = 0.5  # a cycle counts in the halves' test where it speaks for half its places
# Student's t, one-sided 90 %, 1 to 15 degrees of freedom (more: the last, a little strict)
T_90 = (
    *(3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397),
    *(1.383, 1.372, 1.363, 1.356, 1.350, 1.345, 1.341),
)


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
        own = _per_cycle(kernel, r, instance[known])
        learned = True
        if not _consistent(_beyond_the_week(cycle, own)):
            continue  # no effect: what history shows is not a cycle's
        noise = _noise(own)
        signal = max(0.0, float(np.mean(smooth**2 - noise)))
        shrunk = smooth * signal / (signal + noise)
        log_factor[q] = shrunk - shrunk.mean()
    return Profile(cycle, log_factor) if learned else None


def _per_cycle(kernel: FloatArray, r: FloatArray, instance: np.ndarray) -> FloatArray:
    """[cycles, len(grid)] each cycle's own smoothed estimate at each position (NaN where
    it has less than `MIN_CYCLE_WEIGHT` of days near it)."""
    per_cycle = []
    for k in np.unique(instance):
        weights = kernel[:, instance == k]
        total = weights.sum(axis=1)
        estimate = (weights @ r[instance == k]) / np.maximum(total, 1e-12)
        per_cycle.append(np.where(total >= MIN_CYCLE_WEIGHT, estimate, np.nan))
    return np.array(per_cycle)


def _noise(values: FloatArray) -> FloatArray:
    """[len(grid)] variance of the pooled estimate at each position, measured as the
    spread of the cycles' own estimates `values` there over their number."""
    seen = (~np.isnan(values)).sum(axis=0)
    spread = np.full(values.shape[1], np.inf)
    some = seen >= 2
    spread[some] = np.nanvar(values[:, some], axis=0, ddof=1) / seen[some]
    return spread


def _beyond_the_week(cycle: Cycle, values: FloatArray) -> FloatArray:
    """`values` [cycles, grid] less what repeats every week within the cycle (the
    fortnight's: each weekday's mean over its two weeks). That part is the weekday
    factors' error, the same in every cycle: the halves would agree on it, and it is no
    evidence of pay weeks. A cycle that is no whole number of weeks (the month) is
    returned as it is: its days fall on every weekday in turn."""
    weeks = round(cycle.length / 7)
    if weeks < 2 or cycle.grid.size != 7 * weeks:
        return values
    folded = values.reshape(len(values), weeks, 7)
    return (folded - folded.mean(axis=1, keepdims=True)).reshape(len(values), -1)


def _consistent(values: FloatArray) -> bool:
    """Whether the cycles' own estimates `values` [cycles, grid], in time order, show the
    same pattern in both halves of history: the earlier half's pattern scores above 0 on
    the later half's cycles, and the later half's on the earlier's, each by a one-sided
    t-test at 90 % (the scores' spread pooled over both halves: n - 2 degrees of freedom
    for n cycles). Given one half, the other half's scores of cycles that are only wander
    are independent with mean 0, so each direction errs one time in ten; both at once
    about one in fifteen (measured on weekly log-AR(1) wanders). Needs two cycles that
    speak for half their places in each half."""
    covered = ~np.isnan(values)
    whole = values[covered.sum(axis=1) >= MIN_CYCLE_COVER * covered.any(axis=0).sum()]
    half = len(whole) // 2
    if half < 2:
        return False
    earlier, later = whole[:half], whole[half:]
    forward, backward = _scores(earlier, later), _scores(later, earlier)
    squares = sum(float(((s - s.mean()) ** 2).sum()) for s in (forward, backward))
    freedom = len(whole) - 2
    spread = np.sqrt(squares / freedom)
    critical = T_90[min(freedom, len(T_90)) - 1]
    return spread > 0 and all(
        float(s.mean()) > critical * spread / np.sqrt(s.size) for s in (forward, backward)
    )


def _scores(source: FloatArray, target: FloatArray) -> FloatArray:
    """[m] how much each of the cycles `target` [m, grid] follows the mean pattern of the
    cycles `source` [n, grid]: its mean product with that pattern (centred, scaled to a
    root mean square of 1) over the positions both have."""
    has = ~np.isnan(source)
    count = has.sum(axis=0)
    total = np.where(has, source, 0.0).sum(axis=0)
    pattern = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    pattern = pattern - np.nanmean(pattern)
    pattern = np.where(np.isnan(pattern), 0.0, pattern)
    pattern = pattern / max(float(np.sqrt(np.mean(pattern[count > 0] ** 2))), 1e-12)
    both = ~np.isnan(target) & (count > 0)[None, :]
    products = np.where(both, target * pattern[None, :], 0.0)
    return products.sum(axis=1) / np.maximum(both.sum(axis=1), 1)
