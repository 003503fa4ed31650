"""Transients: a run of days far off the level that came back (a mailing, a campaign, an
incident that doubled or halved the calls for a few days).

Robust smoothing (`estimator.clip_days`) reads two days in a row beyond its bound on the
same side as the level moving: a channel moved out, a product moved in. A three-day
mailing at twice the calls is such a run too, and read so it became the level: the week
after was forecast 30 % high, and seasonal naive copied the doubled days into it. What
tells them apart is what follows. A run followed by a day back at the level from before
it, and clearly off the run's own level, did not move the level: it is left out of the
level, the weekday factors, the shapes and the baselines, as a freak day is, and named in
a note. A run still going at the end of history has shown no return yet: it moves the
level as before (a real step is followed at once).

"Far off" is the bound of robust smoothing: `CLIP_SIGMAS` robust standard deviations of
the day-to-day deviations of the queue's own totals from the level known the day before,
the day-level noise the model measures, not a fixed ratio.

"Came back" means the return holds: the `HOLD_DAYS` days after the run all lie nearer the
level from before than the run's own (one day of a lasting step that dipped within the
bound is no return: probe fc7 read a +15 % step as a run that came back).

A transient is a one-off. Runs that recur at the same place of a calendar cycle in the
same direction (`recurring`: statement days on the first two business days of every
month, a pay week every other week) are a pattern: left out every month, the month cycle
never saw them and the next ones were forecast as plain days (probe fc7). They stay normal
days for the cycles and the model to learn, and are named as recurring instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from forecasting import cycles
from forecasting.model import BoolArray, FloatArray, IntArray

MAX_DAYS = 10  # a longer run is a season or a step, not a transient: the level follows it
HOLD_DAYS = 2  # days after a run that must all be back at the level for it to have come back


@dataclass(frozen=True)
class Run:
    """Days `first`..`last` (indices into the history) of queue `queue` that ran `ratio`
    times the level before them and came back."""

    queue: int
    first: int
    last: int
    ratio: float
    recurs: str = ""  # the cycle ("month", "fortnight") it recurs in: a pattern, kept
    times: int = 0  # the cycles it was seen in


def came_back(z: FloatArray, start: int, level: float, bound: float, min_days: int) -> int:
    """The end (exclusive) of the run beyond `bound` (in log) of `level` that starts at
    `start` of the totals `z`, if it is a transient: at least `min_days` and at most
    `MAX_DAYS` long, followed by a day within the bound of `level` and beyond it of the
    run's own mean (back where it was, not a smaller step), and that return holding: each
    of the `HOLD_DAYS` days after the run (those there are) nearer `level` than the run's
    mean (a lasting step's one low day is no return). `start` itself when it is not (a
    single freak day, a step, or a run still going at the end of `z`)."""
    side = np.sign(np.log(z[start] / level))
    end = start
    while end < z.size and side * np.log(z[end] / level) > bound:
        end += 1
    length = end - start
    if end >= z.size or length < min_days or length > MAX_DAYS:
        return start
    run_level = float(np.mean(z[start:end]))
    first = abs(np.log(z[end] / level)) <= bound < abs(np.log(z[end] / run_level))
    after = z[end : end + HOLD_DAYS]
    held = np.abs(np.log(after / level)) < np.abs(np.log(after / run_level))
    return end if first and bool(held.all()) else start


@dataclass(frozen=True)
class Places:
    """Where each day [D] lies in the calendar cycles, as `cycles` places them, with the
    turn of the cycle it belongs to; and [Q, D] each queue's business day of the month (1:
    its first day with calls; 0: not a day with calls, or a month whose start history
    lacks)."""

    month: FloatArray
    month_turn: IntArray
    business: IntArray
    fortnight: FloatArray
    fortnight_turn: IntArray


def places(where: cycles.Positions, has_calls: BoolArray) -> Places:
    """The `Places` of days at cycle positions `where`, `has_calls` [Q, D] a queue's days
    with calls (a closed holiday is no business day)."""
    month, fortnight = where[cycles.MONTH.name], where[cycles.FORTNIGHT.name]
    month_turn = np.cumsum(np.diff(month, prepend=month[0]) < 0)
    business = np.zeros(has_calls.shape, dtype=int)
    for turn in np.unique(month_turn):
        days = month_turn == turn
        if turn == 0 and month[0] > 0:
            continue  # history starts within the month: its business days are unknown
        counted = np.cumsum(has_calls[:, days], axis=1)
        business[:, days] = np.where(has_calls[:, days], counted, 0)
    fortnight_turn = np.cumsum(np.diff(fortnight, prepend=fortnight[0]) < 0)
    return Places(month, month_turn, business, fortnight, fortnight_turn)


def _days(run: Run, has_calls: BoolArray) -> IntArray:
    return run.first + np.flatnonzero(has_calls[run.queue, run.first : run.last + 1])


def _same_in_month(a: IntArray, b: IntArray, q: int, at: Places) -> bool:
    """Days `a` and `b` share a place of the month: the same day (within the cycles'
    smoothing bandwidth) or the same business day."""
    gap = np.abs(at.month[a][:, None] - at.month[b][None, :]) % cycles.MONTH.length
    gap = np.minimum(gap, cycles.MONTH.length - gap)
    if (gap <= cycles.BANDWIDTH_DAYS).any():
        return True
    ba, bb = at.business[q, a], at.business[q, b]
    return bool(np.isin(ba[ba > 0], bb[bb > 0]).any())


def _same_in_fortnight(a: IntArray, b: IntArray, q: int, at: Places) -> bool:
    return bool(np.isin(at.fortnight[a], at.fortnight[b]).any())


def recurring(runs: list[Run], at: Places, has_calls: BoolArray) -> list[Run]:
    """`runs` with those that recur marked (`Run.recurs`): in a calendar cycle, runs of the
    queue on the same side linked by sharing a place (`_same_in_month`, `_same_in_fortnight`;
    a run at the start of history, its business days unknown, joins the others by its
    date) in two or more of its turns, and in at least half the turns the queue's history
    spans. So the statement days of five months of seven are a pattern, while two holiday
    weeks four weeks apart (the same place of two of fifteen fortnights) stay one-offs."""
    found = list(runs)
    days = [_days(run, has_calls) for run in runs]
    for cycle, same, turn in (
        (cycles.MONTH, _same_in_month, at.month_turn),
        (cycles.FORTNIGHT, _same_in_fortnight, at.fortnight_turn),
    ):
        for i, run in enumerate(runs):
            if found[i].recurs:
                continue
            with_calls = np.flatnonzero(has_calls[run.queue])
            span = float(with_calls[-1] - with_calls[0] + 1)
            group, todo = {i}, [i]
            while todo:  # the runs linked to this one, place by place
                j = todo.pop()
                for k, peer in enumerate(runs):
                    if k in group or peer.queue != run.queue:
                        continue
                    if (peer.ratio > 1) == (run.ratio > 1) and same(
                        days[j], days[k], run.queue, at
                    ):
                        group.add(k)
                        todo.append(k)
            turns = {int(turn[runs[k].first]) for k in group}
            if len(turns) >= max(2, math.ceil(span / cycle.length / 2)):
                for k in group:
                    found[k] = replace(runs[k], recurs=cycle.name, times=len(turns))
    return found


def notes(runs: list[Run], queues: list[str], date_of: Callable[[int], date]) -> list[str]:
    """One line per transient, naming its days and its ratio to the ordinary days; one per
    queue and cycle for the runs that recur there (kept as normal days)."""
    lines = []
    for run in runs:
        if run.recurs:
            continue
        lines.append(
            f"history {queues[run.queue]}: {_span(run, date_of)} ran ×{run.ratio:.1f} of "
            "ordinary days and came back: left out as a transient; give them as an event if "
            "they will recur"
        )
    named = sorted({(run.queue, run.recurs) for run in runs if run.recurs})
    for queue, cycle in named:
        alike = [run for run in runs if run.queue == queue and run.recurs == cycle]
        ratios = sorted(run.ratio for run in alike)
        spread = f"×{ratios[0]:.1f}" + (f"–{ratios[-1]:.1f}" if ratios[-1] > ratios[0] else "")
        lines.append(
            f"history {queues[queue]}: {len(alike)} runs of {spread} recur at the same place of "
            f"the {cycle} ({', '.join(_span(run, date_of) for run in alike)}): kept as normal "
            f"days, a {cycle} pattern, not transients"
        )
    return lines


def _span(run: Run, date_of: Callable[[int], date]) -> str:
    first, last = date_of(run.first), date_of(run.last)
    return first.isoformat() if first == last else f"{first.isoformat()}..{last:%m-%d}"
