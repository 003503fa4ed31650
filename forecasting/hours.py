"""Opening hours that change: evenings closed from this month, an hour added last week.

The open intervals of a weekday are those with rows on a quarter of its last 8 days
(`estimator.open_slots`): robust to a quiet interval, but weeks late to see a change. And
the model learns each interval's share of the day from weeks of history: a newly opened
hour, silent in most of them, got a fraction of its share; a closed one kept its own.

Here a silence in an interval is read as closed when it is too long to be chance at the
interval's rate next to it (as a queue's, `lifetimes.CLOSED_SURPRISE`): silent on the
last two such weekdays, or on the last day of every weekday it opens on, the interval is
closed now; silent before it opened, or for a day (an outage), its contacts there are
filled in at that rate, so the fit sees the hours as they are now. Intervals closed now
are left out of every day, so the level follows today's hours. And an interval with
contacts on the last day of every weekday the center opens is open (new hours from
Monday), a week before the quarter rule would see it.

Each queue of several has its own hours within the center's (`queue_hours`): an office
open 08-18 beside a hotline open round the clock is closed at night, so its shape is not
pooled or smoothed into the night.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting import counts, estimator
from forecasting.lifetimes import CLOSED_SURPRISE
from forecasting.model import BoolArray, FloatArray, IntArray
from forecasting.runs import runs_of

NEIGHBOUR_DAYS = 8  # the same weekdays next to a silence that give the interval's rate
CLOSED_WEEKS = 2  # silent on the last weekday only may be an outage; two in a row close it


@dataclass(frozen=True)
class SilentSpell:
    """Days of one weekday whose interval `slot` was silent against its rate next to it."""

    weekday: int
    slot: int
    days: IntArray  # indices into the history's days
    near: IntArray  # the same weekdays that give the rate: after the silence, else before
    to_the_end: bool


def as_open_now(
    contacts: FloatArray, present: BoolArray, weekdays: IntArray
) -> tuple[BoolArray, FloatArray]:
    """(open intervals [7, S] as of the end of history, contacts [Q, D, S] as if every day
    had had those hours): see the module's docstring. An interval silent to the end on the
    last day of every weekday it opens on (a week) is closed too: an outage is a day."""
    weekdays = np.asarray(weekdays)
    center = contacts.sum(axis=0)  # [D, S]
    open_mask = estimator.open_slots(present, center.sum(axis=1), weekdays)
    open_mask |= _opened_last_week(center, weekdays, open_mask)
    silences = _silences(center, weekdays, open_mask)
    ending = {(x.weekday, x.slot): x for x in silences if x.to_the_end}
    closing = set()
    for slot in range(open_mask.shape[1]):
        opens_on = [int(w) for w in np.flatnonzero(open_mask[:, slot])]
        a_week = len(opens_on) >= 2 and all((w, slot) in ending for w in opens_on)
        for w in opens_on:
            x = ending.get((w, slot))
            if x is not None and (a_week or x.days.size >= CLOSED_WEEKS):
                closing.add((w, slot))
    adjusted = contacts.copy()
    queue_total = contacts.sum(axis=2)  # [Q, D]
    for x in silences:
        if (x.weekday, x.slot) not in closing:  # filled in at the rate next to it
            others = queue_total[:, x.near] - contacts[:, x.near, x.slot]
            near_slot = contacts[:, x.near, x.slot].sum(axis=1)
            # per contact of the day's other intervals; at most one (the days next to the
            # silence may have had nothing else: a rate without a denominator)
            rate = near_slot / np.maximum(np.maximum(others.sum(axis=1), near_slot), 1e-12)
            adjusted[:, x.days, x.slot] = rate[:, None] * queue_total[:, x.days]
    for w, slot in closing:
        open_mask[w, slot] = False
    for w in range(7):  # intervals closed now are out of every day: the level follows them
        same = np.flatnonzero(weekdays == w)
        closed = np.flatnonzero(~open_mask[w])
        adjusted[:, same[:, None], closed[None, :]] = 0.0
    return open_mask, adjusted


def _opened_last_week(center: FloatArray, weekdays: IntArray, open_mask: BoolArray) -> BoolArray:
    """[7, S] intervals closed by the quarter-of-8 rule that had contacts on the last day
    of every weekday the center opens (two or more): a week of them is new hours (opened
    from Monday), where one day's would be a stray call."""
    day_total = center.sum(axis=1)
    last: dict[int, int] = {}  # weekday the center opens -> its last day with contacts
    for weekday in np.flatnonzero(open_mask.any(axis=1)):
        days = np.flatnonzero((weekdays == weekday) & (day_total > 0))
        if days.size:
            last[int(weekday)] = int(days[-1])
    opened = np.zeros_like(open_mask)
    if len(last) < 2:
        return opened
    busy = np.array([center[day] > 0 for day in last.values()])  # [weekdays, S]
    new = busy.all(axis=0) & ~open_mask[list(last)].any(axis=0)
    for w in last:
        opened[w] = new
    return opened


def _silences(center: FloatArray, weekdays: IntArray, open_mask: BoolArray) -> list[SilentSpell]:
    """The runs of silence in the open intervals [D, S] of `center` too long to be chance
    (`_surprise` beyond `CLOSED_SURPRISE`), against the interval's contacts on the same
    weekdays next to the run and those days' other contacts."""
    day_total = center.sum(axis=1)
    found = []
    for w in range(7):
        days = np.flatnonzero((weekdays == w) & (day_total > 0))
        for s in np.flatnonzero(open_mask[w]) if days.size else ():
            others = day_total - center[:, s]
            for first, last in runs_of(center[days, s] <= 0):
                run = days[first : last + 1]
                after = days[last + 1 : last + 1 + NEIGHBOUR_DAYS]
                near = after if after.size else days[max(0, first - NEIGHBOUR_DAYS) : first]
                if (
                    near.size
                    and _surprise(center[near, s].sum(), others[near].sum(), others[run].sum())
                    > CLOSED_SURPRISE
                ):
                    found.append(SilentSpell(w, int(s), run, near, not after.size))
    return found


def _surprise(near_slot: float, near_others: float, run_others: float) -> float:
    """-log P(none of the interval's `near_slot` contacts falls in the silent days) if the
    interval keeps its share of every day: each of them lands in the silent days as often
    as their contacts (`run_others`) are to all (`near_slot + near_others` besides), the
    conditional test of two Poisson rates. Where the days next to the silence brought a
    contact or two and nothing else (a center of a few a day) it says chance, as it is."""
    near = near_slot + near_others
    if near_slot <= 0 or near <= 0:
        return 0.0
    return float(near_slot * np.log1p(run_others / near))


def queue_hours(contacts: FloatArray, weekdays: IntArray, open_mask: BoolArray) -> BoolArray:
    """[Q, 7, S] each queue's open intervals: the center's (`open_mask`), less the runs of
    intervals in which the queue had contacts on fewer than a quarter of its last 8 days of
    that weekday (the center's rule, `estimator.open_slots`, on the queue's own days), where
    that silence is too long to be chance: at the share those intervals have of the other
    queues' contacts on the same days, the queue would have brought E contacts there, and
    the chance of seeing as few is under 1/1000 (`CLOSED_SURPRISE`). An office open 08-18
    in a center open round the clock is closed at night; a small queue's quiet evening is
    not. A weekday the queue has not had yet (opened on a Wednesday) gets the hours of
    those it has had. A queue alone is the center: its hours are the center's."""
    weekdays = np.asarray(weekdays)
    q_count = contacts.shape[0]
    result = np.array(np.broadcast_to(open_mask, (q_count, *open_mask.shape)), dtype=bool)
    if q_count < 2:
        return result
    totals = contacts.sum(axis=2)  # [Q, D]
    center = contacts.sum(axis=0)  # [D, S]
    for q in range(q_count):
        others = center - contacts[q]
        had = np.zeros(7, dtype=bool)
        for w in range(7):
            days = np.flatnonzero((weekdays == w) & (totals[q] > 0))[-NEIGHBOUR_DAYS:]
            if not days.size:
                continue
            had[w] = True
            seen = (contacts[q, days] > 0).sum(axis=0)
            rare = open_mask[w] & (seen < max(1.0, 0.25 * days.size))
            other_total = max(float(others[days].sum()), 1e-12)
            for first, last in runs_of(rare):
                share = float(others[days, first : last + 1].sum()) / other_total
                expected = share * float(totals[q, days].sum())
                observed = float(contacts[q, days, first : last + 1].sum())
                if counts.too_low(observed, expected):
                    result[q, w, first : last + 1] = False
        if had.any():  # a weekday it has not had yet: the hours of those it has had
            result[q, ~had] &= result[q, had].any(axis=0)
    return result
