"""Calendar cycles longer than the week: the month's rhythm, the fortnight's and the year's.

Banks see benefit and pay days (the 1st, the 3rd, the 15th), card issuers and utilities
their billing cycles, many centers the month's end (`MONTH`); where pay comes every other
week, the pay week runs above the other (`FORTNIGHT`). A week-ahead forecast that knows
the level but not the cycle is off on those days, or every other week, and the four-week
mean cannot see them at all (it averages over the cycle). Statement and billing runs, and
many pay days, fall on business days instead: the first two open days of the month, the
last one, moved by weekends and holidays (`BUSINESS_DAY`). Placed by calendar day, such an
effect is smeared over the 1st to the 5th (probe fc7: statement days forecast at 0.75-0.87
of actual, the days after them 4-21 % high); placed among the month's open days
(`OpenDays`: the center's open weekdays less the days it was closed), it falls where it
is. It stands in for the month where adopted (`Cycle.instead_of`): both place days of the
month, and each is learned alone, so together they would count the same days twice.

Estimated per queue from the weekday-adjusted daily totals of normal days
(`estimator.Prepared.z`):

1. each day's log ratio to the mean of the whole cycle centred on it (a window of one
   cycle averages the pattern out, so the ratio keeps it, while the level's wander, slower
   than the cycle, is divided away); days without a whole cycle around them are not used;
2. the ratios smoothed over the position in the cycle (Gaussian, `Cycle.bandwidth`, the
   cycle taken as a circle: the 31st neighbours the 1st), evaluated on a grid of days;
3. shrunk towards no effect by empirical Bayes: each grid point's estimate times
   τ² / (τ² + its noise variance), τ² the spread of the estimates beyond their noise, the
   noise measured by how the cycles' own estimates disagree (a level that wanders within
   a cycle makes neighbouring days alike, which an estimate from the day-to-day variance
   would take for a pattern).

The year (`YEAR`: a Christmas ramp, a summer peak) is learned the same way from 13 months
of history on, but a history of 18 months holds each place once or twice: its noise is
measured from neighbouring days instead (`_estimate_one_turn`).

Where a cycle helps is not assumed: `selection` adopts it for a queue only when its
held-out forecasts beat the same model without it by more than a standard error (the
business day: beat the setting with the month, where the month was adopted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from forecasting.model import BoolArray, FloatArray, IntArray

BANDWIDTH_DAYS = 0.8
MIN_WINDOW_DAYS = 10  # normal days a centred cycle needs
MIN_RESIDUALS = 60  # days with a whole cycle around them: about three months of weekdays
YEAR_DAYS = 364  # 52 weeks: a year that keeps the weekday
MIN_CYCLE_WEIGHT = 0.5  # one cycle speaks for a position with half a day's weight near it
DAY = "day"  # `Positions` key of each day's date (ordinal): places that need open days


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


def _year_positions(first: date, days: int) -> FloatArray:
    """Days since a fixed Monday (1 January 2001) modulo 52 weeks: a day and the day 364
    days before it share a place and a weekday (the calendar slips 1.25 days a year)."""
    start = (first - date(2001, 1, 1)).days
    return ((start + np.arange(days)) % YEAR_DAYS).astype(float)


def _fortnight_positions(first: date, days: int) -> FloatArray:
    """Days since a Monday of an even ISO week (the same days every year: a fixed cycle
    from the Monday of 1 January 2001, not from the history's start)."""
    start = (first - date(2001, 1, 1)).days
    return ((start + np.arange(days)) % 14).astype(float)


@dataclass(frozen=True)
class Cycle:
    """A calendar cycle: its length (the circle), the centred window that averages it out,
    and where each day lies in it (`place`: from the date alone; None: from the center's
    open days, `with_business_days`)."""

    name: str
    length: float  # days
    half_window: int  # the centred window is [d - half_window, d + half_window + extra]
    extra: int
    place: Callable[[date, int], FloatArray] | None
    turns_by: str = ""  # the cycle whose positions fall at a new turn ("": its own)
    instead_of: str = ""  # the cycle it replaces where adopted (both place the same days)
    bandwidth: float = BANDWIDTH_DAYS  # of the smoothing over positions
    every_place: bool = True  # every turn has every place (False: months of 20 open days)
    one_turn: bool = False  # learned from one turn: noise from neighbouring days (`YEAR`)
    min_days: int = 0  # history a profile needs (days before the origin)

    @property
    def grid(self) -> FloatArray:
        return np.arange(int(np.ceil(self.length)), dtype=float)

    def positions(self, first: date, days: int) -> FloatArray:
        """[days] where each day from `first` lies in the cycle."""
        assert self.place is not None, "placed from the center's open days"
        return self.place(first, days)


MONTH = Cycle("month", 365.25 / 12, 15, 1, _month_positions)  # 31 calendar days
FORTNIGHT = Cycle("fortnight", 14.0, 7, 0, _fortnight_positions)  # 14 days: each place once
# the open days of a month of a center open five weekdays (21.7 on average: 22 places),
# on the month's window; its places are exact (not moved by weekends, as a pay day on the
# 1st is to the 3rd), so neighbouring business days are not pooled (weight e^-3 at one
# place apart): the smoothing only carries a place between two of the grid's
BUSINESS_DAY = Cycle(
    "business-day",
    22.0,
    15,
    1,
    None,
    turns_by="month",
    instead_of="month",
    bandwidth=BANDWIDTH_DAYS / 2,
    every_place=False,
)
# the year, by 52 weeks: each day's ratio to the centred 8 weeks around it, a year later;
# one turn must do (18 months of history hold one Christmas), so its noise is measured
# from neighbouring days, not from the turns' disagreement; only with 13 months of history,
# enough for the week ahead to have its place a year before with its 8 weeks around it
YEAR = Cycle(
    "year",
    float(YEAR_DAYS),
    28,
    0,
    _year_positions,
    bandwidth=2.0,
    one_turn=True,
    min_days=YEAR_DAYS + 31,
)
CYCLES = (MONTH, FORTNIGHT, BUSINESS_DAY, YEAR)  # the order `selection` tries them in
Positions = dict[str, FloatArray]  # cycle name (or `DAY`) -> [D] positions of the days


def positions(first: date, days: int) -> Positions:
    """Where days [first, first + days) lie in every cycle placed by the date alone, with
    their dates (`DAY`) for those placed among open days (`with_business_days`)."""
    where = {cycle.name: cycle.positions(first, days) for cycle in CYCLES if cycle.place}
    where[DAY] = float(first.toordinal()) + np.arange(days, dtype=float)
    return where


@dataclass(frozen=True)
class OpenDays:
    """The center's business days: the weekdays it opens, less the days it was closed on
    them (holidays, closures) as far as known."""

    weekdays: tuple[bool, ...]  # [7], Monday first
    closed: frozenset[int] = frozenset()  # date ordinals

    def is_open(self, ordinal: int) -> bool:
        return self.weekdays[date.fromordinal(ordinal).weekday()] and ordinal not in self.closed

    @property
    def per_month(self) -> int:
        """Open days in a month of the mean length, rounded (22 for five weekdays)."""
        return round(sum(self.weekdays) * 365.25 / 12 / 7)


def open_days_of(where: Positions, has_calls: BoolArray, weekdays: BoolArray) -> OpenDays:
    """The `OpenDays` of a history: its open `weekdays` [7] less its days on them without a
    call (`has_calls` [D], the days at `where[DAY]`)."""
    day = where[DAY].astype(int)
    on_open_weekday = np.asarray(weekdays)[(day - 1) % 7]  # ordinal 1 is a Monday
    closed = frozenset(int(d) for d in day[on_open_weekday & ~has_calls])
    return OpenDays(tuple(bool(w) for w in weekdays), closed)


def with_business_days(where: Positions, open_days: OpenDays) -> Positions:
    """`where` with each day's place among the open days of its month (`BUSINESS_DAY`):
    counted from the month's start in its first half (0: the first open day), from its end
    in the second (the last open day one place before the circle closes, next to the
    first), so the first and the last business days keep their places in months of 20 or
    23 open days; scaled to the circle of a center open five weekdays (a closed day sits
    beside the open days next to it; it is not forecast). `where` unchanged without `DAY`
    or an open weekday."""
    per_month = open_days.per_month
    if DAY not in where or per_month <= 0:
        return where
    scale = BUSINESS_DAY.length / per_month
    months: dict[tuple[int, int], IntArray] = {}
    out = np.zeros(where[DAY].size)
    for k, ordinal in enumerate(where[DAY].astype(int)):
        day = date.fromordinal(int(ordinal))
        if (day.year, day.month) not in months:
            start = day.replace(day=1).toordinal()
            length = (day.replace(day=28) + timedelta(days=4)).replace(day=1).toordinal() - start
            flags = [open_days.is_open(start + i) for i in range(length)]
            months[day.year, day.month] = np.concatenate([[0], np.cumsum(flags)])
        counted = months[day.year, day.month]
        before = int(counted[day.day - 1])  # open days of the month before this one
        after = int(counted[-1] - counted[day.day])  # and after it
        out[k] = (before if before <= after else per_month - 1 - after) * scale
    return {**where, BUSINESS_DAY.name: out}


def turns(where: Positions, cycle: Cycle) -> IntArray:
    """[D] the turn of `cycle` each day lies in (0, 1, …: a new one where the positions of
    `cycle.turns_by`, else its own, fall)."""
    at = where[cycle.turns_by or cycle.name]
    return np.cumsum(np.diff(at, prepend=at[0]) < 0)


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
    return np.exp(-0.5 * (gap / cycle.bandwidth) ** 2)


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


def estimate(
    cycle: Cycle,
    z: FloatArray,
    usable: BoolArray,
    where: FloatArray,
    instance: IntArray | None = None,
) -> Profile | None:
    """The cycle's profile of each queue from `z` [Q, D] on `usable` [Q, D] days at
    positions `where` [D], in turns `instance` [D] of the cycle (default: a new turn where
    the positions fall); None when no queue has `MIN_RESIDUALS` days to learn from."""
    q_count = z.shape[0]
    if z.shape[1] < cycle.min_days:
        return None
    if cycle.one_turn:
        return _estimate_one_turn(cycle, z, usable, where)
    log_factor = np.zeros((q_count, cycle.grid.size))
    if instance is None:
        instance = np.cumsum(np.diff(where, prepend=where[0]) < 0)
    learned = False
    for q in range(q_count):
        ratio, known = _centred_ratios(cycle, z[q], usable[q])
        if known.sum() < MIN_RESIDUALS:
            continue
        r = ratio[known] - ratio[known].mean()
        kernel = _circular_kernel(cycle, where[known])
        smooth = (kernel @ r) / np.maximum(kernel.sum(axis=1), 1e-12)
        noise = _noise(kernel, r, instance[known])
        # a place fewer than two turns saw: history too short to learn the cycle, unless
        # some turns lack it (`Cycle.every_place`), when that place is left at no effect
        seen = np.isfinite(noise) | cycle.every_place
        signal = max(0.0, float(np.mean(smooth[seen] ** 2 - noise[seen]))) if seen.any() else 0.0
        shrunk = smooth * signal / (signal + noise)
        log_factor[q] = shrunk - shrunk.mean()
        learned = True
    return Profile(cycle, log_factor) if learned else None


def _estimate_one_turn(
    cycle: Cycle, z: FloatArray, usable: BoolArray, where: FloatArray
) -> Profile | None:
    """As `estimate`, for a cycle whose places a history may hold once (the year): each
    place's noise is the day-to-day noise of the ratios (half the variance of the
    differences of consecutive days, where a smooth pattern cancels) over the kernel's
    effective number of days; places no day is near stay at no effect."""
    q_count = z.shape[0]
    log_factor = np.zeros((q_count, cycle.grid.size))
    learned = False
    for q in range(q_count):
        ratio, known = _centred_ratios(cycle, z[q], usable[q])
        if known.sum() < MIN_RESIDUALS:
            continue
        r = ratio[known]
        kernel = _circular_kernel(cycle, where[known])
        total = kernel.sum(axis=1)
        smooth = (kernel @ r) / np.maximum(total, 1e-12)
        follows = np.flatnonzero(np.diff(np.flatnonzero(known)) == 1)
        day_var = 0.5 * float(np.mean(np.diff(r)[follows] ** 2)) if follows.size else np.inf
        noise = np.full(cycle.grid.size, np.inf)
        near = total >= MIN_CYCLE_WEIGHT
        noise[near] = day_var * (kernel[near] ** 2).sum(axis=1) / total[near] ** 2
        signal = max(0.0, float(np.mean(smooth[near] ** 2 - noise[near]))) if near.any() else 0.0
        log_factor[q] = np.where(near, smooth * signal / (signal + noise), 0.0)
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
