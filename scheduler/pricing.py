"""The cheapest weekly tour of one agent, by dynamic programming over their local days.

A tour is everything one agent works in the horizon: at most one candidate shift per
local day, with the minimum rest between shifts, at most so many consecutive working
days, and per calendar week at most so many working days and paid minutes between
the weekly bounds. The single-agent sweeps (`respond.py`) ask for the tour whose
shifts have the lowest total cost, once per agent and sweep, so the search runs over
whole numpy arrays of states instead of one state at a time.

State after a day: (when the day's shift ended, or off; working days in a row so
far; shifts of each paid length so far this week). Minimum rest only asks when the
shift before ended, and a day has fewer ends than shifts. Rest is checked against the
previous day's shift only; `TourPricer` refuses rules where a shift two or more days
earlier could still be too close (never with rest under a day). The ends of the day
before that leave enough rest before a shift are a prefix of them in order, so the
best state to come from is a running minimum; every (shift, state) move of a day is
one flat gather and a minimum per state reached, over the mixes the week can have
reached by then; which state a tour came from is looked up only along the tours
returned.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern, max_working_days, weekly_bounds, weeks

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


def week_limits(agent: Agent, rules: Rules, horizon: Horizon) -> list[WeekLimits]:
    """The agent's calendar weeks as a tour sees them."""
    limits = []
    for week in weeks(horizon.days):
        low, high = weekly_bounds(agent, rules, week)
        limits.append(WeekLimits(frozenset(week.days), max_working_days(rules, week), low, high))
    return limits


def agent_pricers(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    rules: Rules,
    horizon: Horizon,
) -> dict[str, TourPricer]:
    """Each agent's tour pricing; agents with the same candidate shifts (one shared table)
    and the same weekly bounds share one. NotPriceable when the rules need more state."""
    rest = int(rules.min_rest / horizon.interval)
    shared: dict[tuple[object, ...], TourPricer] = {}
    found = {}
    for agent in agents:
        limits = week_limits(agent, rules, horizon)
        key = (id(patterns[agent.agent_id]), tuple(limits))
        if key not in shared:
            days = patterns[agent.agent_id]
            shared[key] = TourPricer(days, rest, rules.max_consecutive_days, limits)
        found[agent.agent_id] = shared[key]
    return found


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
        self.weeks = weeks
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
        # A state after a day is when its shift ended (an end class: the day's distinct
        # ends, in order) or off: rest only asks when the shift before ended, and there
        # are fewer ends than shifts. A shift may follow the day before's end classes up
        # to reach[j][its start class] (those ending early enough, a prefix).
        self.ends, self.end_class, self.start_class, self.reach = [], [], [], []
        for j, d in enumerate(self.order):
            ends = sorted({p.end for p in days[d]})
            starts = sorted({p.start for p in days[d]})
            self.ends.append(ends)
            self.end_class.append(np.array([ends.index(p.end) for p in days[d]], dtype=int))
            self.start_class.append(np.array([starts.index(p.start) for p in days[d]], dtype=int))
            before = np.array(self.ends[j - 1] if j else [], dtype=int) + rest
            self.reach.append(np.searchsorted(before, np.array(starts, dtype=int), side="right"))
        # moves[j]: every (shift, run, mix) a shift of day order[j] can extend, as flat
        # indexes: where it reads the best state before (start class, run, mix), which
        # shift's weight it adds, and where it writes the state after (end class, run + 1,
        # next mix); several may write one state, so they are sorted by it and reduced.
        self.moves = [self._moves(j) for j in range(len(self.order))]

    def _moves(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d = self.order[j]
        width = (self.runs + 1) * self.size
        reads, shifts_of, writes = [], [], []
        runs = np.arange(self.runs)
        # Only mixes the week can have reached by this day, and not beyond its hours.
        week = next((w for w in self.weeks if d in w.days), None)
        before = sum(1 for e in self.order if e < d and (week is None or e in week.days))
        for k in range(len(self.days[d])):
            forward = self.next_[int(self.kind[d][k])]
            reachable = (forward >= 0) & (self.shifts <= before)
            if week is not None:
                reachable &= self.minutes[np.maximum(forward, 0)] <= week.max_minutes
            sources = np.nonzero(reachable)[0]
            read = self.start_class[j][k] * width + runs[:, None] * self.size + sources[None, :]
            row = 1 + self.end_class[j][k]
            write = row * width + (runs[:, None] + 1) * self.size + forward[sources][None, :]
            reads.append(read.ravel())
            writes.append(write.ravel())
            shifts_of.append(np.full(read.size, k))
        if not reads:
            empty = np.zeros(0, dtype=int)
            return empty, empty, empty, empty, empty
        read, write = np.concatenate(reads), np.concatenate(writes)
        order = np.argsort(write, kind="stable")
        targets, starts = np.unique(write[order], return_index=True)
        return read[order], np.concatenate(shifts_of)[order], targets, starts, order

    def _check_rest(self, rest: int) -> None:
        for j, d in enumerate(self.order):
            for later in self.order[j + 2 :]:
                for q in self.days[d]:
                    if any(p.start < q.end + rest for p in self.days[later]):
                        raise NotPriceable(f"rest reaches from day {d} to day {later}")

    def cheapest(self, weights: dict[int, np.ndarray], count: int = 1) -> list[tuple[float, Tour]]:
        """Up to `count` tours of least total weight (weights[d][k] for shift k of day d),
        cheapest first, each ending in a different state (last end, run, mix of lengths)."""
        value = np.full((1, self.runs + 1, self.size), INFINITY)
        value[0, 0, 0] = 0.0
        trail: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []
        last = self.order[-1]
        for j, d in enumerate(self.order):
            before = value
            value = self._step(value, j, weights[d])
            reset = None
            if d in self.week_end:
                value, reset = self._close_week(value, self.week_end[d], keep_mix=d == last)
            trail.append((before, reset, weights[d]))
        flat = value.ravel()
        ends = np.argsort(flat, kind="stable")[:count]
        return [
            (float(flat[e]), self._walk_back(trail, np.unravel_index(e, value.shape)))
            for e in ends
            if np.isfinite(flat[e])
        ]

    def _best_before(self, value: np.ndarray, j: int) -> np.ndarray:
        """Per start class of day order[j]: the best state of the day before that a shift
        starting then may follow (off, or a shift that ended early enough)."""
        off = value[0]
        if len(value) == 1:
            return np.broadcast_to(off, (len(self.reach[j]), *off.shape))
        running = np.minimum(np.minimum.accumulate(value[1:], axis=0), off)
        return np.concatenate((off[None], running))[self.reach[j]]

    def _step(self, value: np.ndarray, j: int, weight: np.ndarray) -> np.ndarray:
        after = np.full((1 + len(self.ends[j]), self.runs + 1, self.size), INFINITY)
        after[0, 0] = value.reshape(-1, self.size).min(axis=0)
        read, shift, targets, starts, _order = self.moves[j]
        if len(read):
            base = np.ascontiguousarray(self._best_before(value, j)).reshape(-1)
            cost = base[read] + weight[shift]
            after.reshape(-1)[targets] = np.minimum.reduceat(cost, starts)
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
        self,
        trail: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]],
        state: tuple[np.intp, ...],
    ) -> Tour:
        """The tour ending in `state`: each day, the shift ending in the state's end class
        that reaches it at least cost, and the state of the day before it came from."""
        y, run, mix = (int(s) for s in state)
        chosen = []
        for j in range(len(self.order) - 1, -1, -1):
            before, reset, weight = trail[j]
            if reset is not None:
                mix = int(reset[y, run])
            if y == 0:
                y, run = divmod(int(np.argmin(before[:, :, mix])), self.runs + 1)
                continue
            d = self.order[j]
            best: tuple[float, int, int, int] | None = None
            for k in map(int, np.flatnonzero(self.end_class[j] == y - 1)):
                came = int(self.prev[int(self.kind[d][k])][mix])
                if came < 0:
                    continue
                options = before[: 1 + self.reach[j][self.start_class[j][k]], run - 1, came]
                cost = float(options.min() + weight[k])
                if best is None or cost < best[0]:
                    best = (cost, k, came, int(np.argmin(options)))
            assert best is not None, "a state the step wrote has a shift that reaches it"
            _cost, shift, mix, y = best
            chosen.append((d, shift))
            run -= 1
        return tuple(reversed(chosen))
