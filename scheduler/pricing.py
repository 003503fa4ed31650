"""The cheapest weekly tour of one agent, by dynamic programming over their local days.

A tour is everything one agent works in the horizon: at most one candidate shift per
local day, with the minimum rest between shifts, at most so many consecutive working
days, and per calendar week at most so many working days and paid minutes between
the weekly bounds. Column generation (`tours.py`) asks for the tour whose shifts
have the lowest total weight (the LP's reduced costs), many times per solve, so the
search runs over whole numpy arrays of states instead of one state at a time.

State after a day: (the shift worked that day or none, working days in a row so far,
shifts of each paid length so far this week). Minimum rest is checked against the
previous day's shift only; `TourPricer` refuses rules where a shift two or more days
earlier could still be too close (never with rest under a day). The shifts of the day
before that leave enough rest before a shift are those ending early enough, a prefix
of them sorted by end, so the best state to come from is a running minimum over that
order; which state it was is looked up only along the cheapest tours.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from scheduler.patterns import Pattern

INFINITY = np.inf

# Count vectors (shifts per paid length in one week) beyond which pricing is refused.
MAX_COUNT_STATES = 4096

Tour = tuple[tuple[int, int], ...]  # ((local day, index of the shift in that day's list), ...)


@dataclass(frozen=True)
class WeekLimits:
    """One calendar week as the tour sees it."""

    days: frozenset[int]
    max_days: int
    min_minutes: int
    max_minutes: int


class NotPriceable(ValueError):
    """The rules need a state this dynamic program does not keep."""


class TourPricer:
    """Everything about one cell's shifts that does not depend on the weights."""

    def __init__(
        self,
        days: dict[int, list[Pattern]],
        rest: int,
        max_consecutive: int,
        weeks: list[WeekLimits],
    ) -> None:
        self.order = sorted(days)
        self.days = days
        self.runs = max_consecutive
        present = set(self.order)
        self.week_end = {max(w.days & present): w for w in weeks if w.days & present}
        self._check_rest(rest)
        # Count vectors: shifts of each paid length so far this week ("mixes").
        lengths = sorted({p.paid_minutes for shifts in days.values() for p in shifts})
        self.kind = {d: np.array([lengths.index(p.paid_minutes) for p in days[d]]) for d in days}
        top = max((w.max_days for w in weeks), default=0)
        mixes = [c for c in itertools.product(range(top + 1), repeat=len(lengths)) if sum(c) <= top]
        if len(mixes) > MAX_COUNT_STATES:
            raise NotPriceable(f"{len(mixes)} mixes of shift lengths per week")
        index = {c: n for n, c in enumerate(mixes)}
        self.size = len(mixes)
        self.minutes = np.array([sum(np.multiply(c, lengths)) for c in mixes])
        self.shifts = np.array([sum(c) for c in mixes])
        # next_[kind][n]: the mix n with one more shift of that kind (-1: none); prev: inverse.
        self.next_ = [
            np.array([index.get((*c[:kind], c[kind] + 1, *c[kind + 1 :]), -1) for c in mixes])
            for kind in range(len(lengths))
        ]
        self.prev = [np.full(self.size, -1) for _ in lengths]
        for kind, forward in enumerate(self.next_):
            valid = forward >= 0
            self.prev[kind][forward[valid]] = np.nonzero(valid)[0]
        # allowed[j][y, k]: shift k of day order[j] may follow state y of the day before
        # (y = 0 off, y = 1 + shift index); by_end[j]: the day before's shifts by end;
        # reach[j][k]: how many of them, in that order, shift k may follow.
        self.allowed, self.by_end, self.reach = [], [], []
        for j, d in enumerate(self.order):
            before = self.days[self.order[j - 1]] if j else []
            rows = [np.ones(len(days[d]), dtype=bool)]
            rows += [np.array([p.start >= q.end + rest for p in days[d]]) for q in before]
            self.allowed.append(np.array(rows).reshape(len(rows), len(days[d])))
            ends = np.array([q.end + rest for q in before], dtype=int)
            by_end = np.argsort(ends, kind="stable")
            self.by_end.append(by_end)
            starts = np.array([p.start for p in days[d]], dtype=int)
            self.reach.append(np.searchsorted(ends[by_end], starts, side="right"))
        # moves[j]: per paid length, (its shifts of day order[j], the states a shift of it
        # comes from, the states it leads to), as index grids.
        self.moves = []
        for d in self.order:
            moves = []
            for kind, forward in enumerate(self.next_):
                shifts = np.nonzero(self.kind[d] == kind)[0] if days[d] else np.array([], int)
                sources = np.nonzero(forward >= 0)[0]
                if len(shifts) and len(sources):
                    read = np.ix_(shifts, np.arange(self.runs), sources)
                    write = np.ix_(1 + shifts, np.arange(1, self.runs + 1), forward[sources])
                    moves.append((shifts, read, write))
            self.moves.append(moves)

    def _check_rest(self, rest: int) -> None:
        for j, d in enumerate(self.order):
            for later in self.order[j + 2 :]:
                for q in self.days[d]:
                    if any(p.start < q.end + rest for p in self.days[later]):
                        raise NotPriceable(f"rest reaches from day {d} to day {later}")

    def cheapest(self, weights: dict[int, np.ndarray], count: int = 1) -> list[tuple[float, Tour]]:
        """Up to `count` tours of least total weight (weights[d][k] for shift k of day d),
        cheapest first, each ending in a different state (last shift, run, mix of lengths)."""
        value = np.full((1, self.runs + 1, self.size), INFINITY)
        value[0, 0, 0] = 0.0
        trail: list[tuple[np.ndarray, np.ndarray | None]] = []
        last = self.order[-1]
        for j, d in enumerate(self.order):
            before = value
            value = self._step(value, j, weights[d])
            reset = None
            if d in self.week_end:
                value, reset = self._close_week(value, self.week_end[d], keep_mix=d == last)
            trail.append((before, reset))
        flat = value.ravel()
        ends = np.argsort(flat, kind="stable")[:count]
        return [
            (float(flat[e]), self._walk_back(trail, np.unravel_index(e, value.shape)))
            for e in ends
            if np.isfinite(flat[e])
        ]

    def _step(self, value: np.ndarray, j: int, weight: np.ndarray) -> np.ndarray:
        d = self.order[j]
        count = len(self.days[d])
        runs = self.runs
        after = np.full((1 + count, runs + 1, self.size), INFINITY)
        after[0, 0] = value.reshape(-1, self.size).min(axis=0)
        # base[k]: the best state of the day before that shift k may follow.
        base = np.broadcast_to(value[0], (count, runs + 1, self.size)).copy()
        reach = self.reach[j]
        if len(value) > 1 and reach.any():
            running = np.minimum.accumulate(value[1:][self.by_end[j]], axis=0)
            follows = reach > 0
            base[follows] = np.minimum(base[follows], running[reach[follows] - 1])
        for shifts, read, write in self.moves[j]:
            after[write] = base[read] + weight[shifts][:, None, None]
        return after

    def _close_week(
        self, value: np.ndarray, week: WeekLimits, keep_mix: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """States outside the week's limits dropped; the mix reset to none for the next
        week, unless `keep_mix` (the last week: tours of different mixes stay apart)."""
        ok = (
            (self.shifts <= week.max_days)
            & (self.minutes >= week.min_minutes)
            & (self.minutes <= week.max_minutes)
        )
        masked = np.where(ok[None, None, :], value, INFINITY)
        if keep_mix:
            return masked, None
        reset = np.argmin(masked, axis=2)
        closed = np.full_like(value, INFINITY)
        closed[:, :, 0] = np.take_along_axis(masked, reset[:, :, None], axis=2)[:, :, 0]
        return closed, reset

    def _walk_back(
        self, trail: list[tuple[np.ndarray, np.ndarray | None]], state: tuple[np.intp, ...]
    ) -> Tour:
        """The tour ending in `state`: each day's state of the day before found again as
        the cheapest one it may come from (the first, on ties, as the step took it)."""
        y, run, counts = (int(s) for s in state)
        chosen = []
        for j in range(len(self.order) - 1, -1, -1):
            before, reset = trail[j]
            if reset is not None:
                counts = int(reset[y, run])
            if y == 0:
                y, run = divmod(int(np.argmin(before[:, :, counts])), self.runs + 1)
                continue
            d = self.order[j]
            k = y - 1
            chosen.append((d, k))
            counts = int(self.prev[int(self.kind[d][k])][counts])
            run -= 1
            options = np.where(self.allowed[j][:, k], before[:, run, counts], INFINITY)
            y = int(np.argmin(options))
        return tuple(reversed(chosen))
