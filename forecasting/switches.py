"""The center's zone, read from its day's rhythm when its history's clock has none.

An export in UTC (cloud contact centers write UTC) carries one offset all year. The
center's day moves on that clock by an hour at each daylight-saving switch of its zone,
and a forecast made on it puts the day's shape an hour off for weeks after a switch (the
generated bank: week-ahead WAPE 0.26 instead of 0.053 the week after, 0.11 a month
later). When the times by which shares of each day's contacts came step by the switches
of a zone, and those steps are most of how the times wander, the history is read on
that zone's clock.

Zones that switch on the same dates (New York, Chicago and Halifax) fit the steps alike
and give the same days, weekdays, holidays and forecast, which is written on the file's
own clock, as the history was. The zone named is the one where the day's contacts centre
nearest 13:00, about the middle of a business day's; `--timezone` sets the zone outright.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

from forecasting import zones
from forecasting.model import MINUTES_PER_DAY, FloatArray, IntArray

MIN_DAYS_EACH_SIDE = 7  # days on each side of a switch before its step can be seen
MIN_BUSY_INTERVALS = 4  # a day counts with contacts in this many intervals or more
EXPLAINED = 0.5  # the zone's switches remove at least half of the hours' wander, or
STEP_WINDOW_DAYS = 14  # the fortnights on each side of each switch
STEP_TOLERANCE = 0.3  # step by the switch's hour, give or take this share of it
MARKS = (0.1, 0.25, 0.5, 0.75, 0.9)  # shares of a day's contacts whose times are compared
MIDDAY_MIN = 13 * 60  # about where a business day's contacts centre: names the zone
DECISIVE = math.log(100)  # hours that step with a zone, or stand still: a hundred to one
MIN_STEP_ERROR = 1.0  # minutes: marks on a coarse grid may not scatter at all


@dataclass(frozen=True)
class _Hours:
    """A day's rhythm on a one-offset clock: the days read, their marks and weekdays, the
    UTC noon of each working day, and where the contacts centre (minutes on the clock)."""

    days: IntArray
    marks: IntArray  # [MARKS, days]
    weekday: IntArray
    noons: IntArray
    centre: float


def _hours(epochs: IntArray, offset_s: int, contacts: FloatArray) -> _Hours:
    """The rhythm of the hours with contacts at `epochs` on a clock of offset `offset_s`."""
    local = (np.asarray(epochs) + offset_s) // 60
    shift = zones.working_day_offset(local, contacts).total_seconds() // 60
    day, minute = np.divmod(local - int(shift), MINUTES_PER_DAY)
    days, marks = _day_marks(day, minute, contacts)
    weekday = (days + 3) % 7  # 1 January 1970 was a Thursday
    noons = days * 86400 + (int(shift) + 12 * 60) * 60 - offset_s  # UTC, mid working day
    centre = float(np.average(minute, weights=contacts)) + shift  # on the file's clock
    return _Hours(days, marks, weekday, noons, centre)


def zone_from_hours(
    epochs: IntArray, offset_s: int, contacts: FloatArray, among: tuple[str, ...] | None = None
) -> ZoneInfo | None:
    """The zone whose daylight-saving switches the center's hours follow, or None.

    `epochs` are the UTC seconds of the distinct interval starts with contacts (their
    `contacts`), on a clock of one UTC offset `offset_s`; `among` the zones tried (every
    zone, else a center's `switching_zones` for one of its queues, whose days are among
    the center's: the same answer for a tenth of the work)."""
    if not np.size(epochs):
        return None  # no contacts: no hours to read
    hours = _hours(epochs, offset_s, contacts)
    days, marks, weekday = hours.days, hours.marks, hours.weekday
    wander = _wander(marks, weekday)
    if wander < 60 * MIN_DAYS_EACH_SIDE:
        return None  # the hours do not move on this clock: nothing to read
    best: tuple[float, float, str] | None = None
    deltas: dict[str, IntArray] = {}
    for offsets, name in _offset_patterns(tuple(hours.noons.tolist()), among).items():
        delta = (np.array(offsets) - offsets[0]) // 60
        moved = int(np.count_nonzero(delta))
        if min(moved, delta.size - moved) < MIN_DAYS_EACH_SIDE:
            continue
        deltas[name] = delta
        fit = _wander(marks + delta, weekday)
        middle = hours.centre + (float(np.mean(offsets)) - offset_s) / 60  # on the zone's clock
        from_midday = abs((middle - MIDDAY_MIN + 720) % MINUTES_PER_DAY - 720)
        if best is None or (fit, from_midday) < best[:2]:
            best = (fit, from_midday, name)
    if best is None:
        return None
    fit, _, name = best
    if fit > EXPLAINED * wander and not _steps_match(days, marks, weekday, deltas[name]):
        return None
    return ZoneInfo(name)


def _steps_match(days: IntArray, marks: IntArray, weekday: IntArray, delta: IntArray) -> bool:
    """Whether the day's middle marks step by the zone's hour at each of its switches: the
    median of the fortnight after against the fortnight before, within `STEP_TOLERANCE` of
    the hour at every switch with `MIN_DAYS_EACH_SIDE` on both sides. Round the clock the
    marks of single days scatter by more than the switches move them (a tenth of the
    contacts came by 06:00 one night, by 06:40 the next), so the share of the wander they
    explain says little; a fortnight's medians hold still, and step only when the clock does.
    """
    residual = marks[1:-1].astype(float)  # the quarter, half and three quarters
    for w in np.unique(weekday):
        same = weekday == w
        residual[:, same] -= np.median(residual[:, same], axis=1, keepdims=True)
    tested = 0
    for at in np.flatnonzero(np.diff(delta)) + 1:
        switch_day = days[at]
        before = (days >= switch_day - STEP_WINDOW_DAYS) & (days < switch_day)
        after = (days >= switch_day) & (days < switch_day + STEP_WINDOW_DAYS)
        before &= delta == delta[at - 1]
        after &= delta == delta[at]
        if min(np.count_nonzero(before), np.count_nonzero(after)) < MIN_DAYS_EACH_SIDE:
            continue
        expected = float(delta[at - 1] - delta[at])  # the marks move against the clock
        seen = float(
            np.median(
                np.median(residual[:, after], axis=1) - np.median(residual[:, before], axis=1)
            )
        )
        if abs(seen - expected) > STEP_TOLERANCE * abs(expected):
            return False
        tested += 1
    return tested > 0


def step_evidence(
    epochs: IntArray, offset_s: int, contacts: FloatArray, zone: tzinfo
) -> float | None:
    """How much better hours that stand still explain these than hours that step at
    `zone`'s switches: a log-likelihood ratio, above 0 for standing still, below for
    stepping (`DECISIVE` either way is a hundred to one); None when no switch of the zone
    has `MIN_DAYS_EACH_SIDE` days with contacts on both sides.

    A queue's own hours may name no zone (a few contacts a day scatter more than an hour,
    or too few days follow a switch for the hours' wander to show it) and still follow a
    zone another queue's hours name, or stand still while the center's step. At each
    switch, each mark's median over the fortnight after against the fortnight before (off
    its weekday's median), weighed by its standard error from the days' own spread (the
    time half the contacts came by scatters by hours when it falls between two peaks, the
    time a tenth came by does not); the marks' steps averaged by those weights, with the
    weighted mean of their errors (the marks of a day move together): a queue too small to
    tell says nothing either way."""
    if not np.size(epochs):
        return None
    hours = _hours(epochs, offset_s, contacts)
    days = hours.days
    if not days.size:
        return None
    noons = [datetime.fromtimestamp(n, UTC) for n in hours.noons.tolist()]
    offsets = np.array([zones.offset_seconds(zone, noon) for noon in noons])
    delta = (offsets - offsets[0]) // 60
    residual = hours.marks.astype(float)
    for w in np.unique(hours.weekday):
        same = hours.weekday == w
        residual[:, same] -= np.median(residual[:, same], axis=1, keepdims=True)
    ratio, tested = 0.0, 0
    for at in np.flatnonzero(np.diff(delta)) + 1:
        switch_day = days[at]
        before = (days >= switch_day - STEP_WINDOW_DAYS) & (days < switch_day)
        after = (days >= switch_day) & (days < switch_day + STEP_WINDOW_DAYS)
        before &= delta == delta[at - 1]
        after &= delta == delta[at]
        counts = np.count_nonzero(before), np.count_nonzero(after)
        if min(counts) < MIN_DAYS_EACH_SIDE:
            continue
        expected = float(delta[at - 1] - delta[at])  # the marks move against the clock
        seen = np.array([np.median(m[after]) - np.median(m[before]) for m in residual])
        # the standard error of a median is about 1.25 that of a mean
        errors = np.array(
            [
                1.2533
                * np.sqrt(_spread(m[before]) ** 2 / counts[0] + _spread(m[after]) ** 2 / counts[1])
                for m in residual
            ]
        )
        errors = np.maximum(errors, MIN_STEP_ERROR)
        weights = errors**-2.0
        step = float(np.sum(weights * seen) / weights.sum())
        error = float(np.sum(weights * errors) / weights.sum())
        ratio += ((step - expected) ** 2 - step**2) / (2 * error**2)
        tested += 1
    return ratio if tested else None


def _spread(values: FloatArray) -> float:
    """A robust standard deviation: the median absolute deviation, scaled to a normal's."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def _day_marks(day: IntArray, minute: IntArray, contacts: FloatArray) -> tuple[IntArray, IntArray]:
    """(days with `MIN_BUSY_INTERVALS` or more, [marks, days] minutes of their marks): the
    intervals by which a tenth, a quarter, half, three quarters and nine tenths of the
    day's contacts came. They move with the center's clock whether it opens and closes
    or is open round the clock (its first and last contacts are then the clock's
    midnight, and stray calls at night move them more than any switch)."""
    order = np.lexsort((minute, day))
    day, minute, contacts = day[order], minute[order], contacts[order]
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    ends = np.r_[starts[1:], day.size] - 1
    so_far = np.cumsum(contacts)
    before = np.r_[0.0, so_far[starts[1:] - 1]]
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, day.size]))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (so_far - before[group]) / (so_far[ends] - before)[group]
    # every day reaches its whole, even where rounding of a long sum says otherwise
    share[ends] = 1.0
    marks = []
    for quantile in MARKS:
        reached = np.flatnonzero(share >= quantile)
        _, first = np.unique(group[reached], return_index=True)
        marks.append(minute[reached[first]])
    kept = ends - starts + 1 >= MIN_BUSY_INTERVALS
    return day[starts][kept], np.array(marks)[:, kept]


def _wander(marks: IntArray, weekday: IntArray) -> float:
    """How far each day's marks lie from their weekday's median, summed (minutes): 0 for
    hours that never move."""
    total = 0.0
    for w in np.unique(weekday):
        same = marks[:, weekday == w]
        total += float(np.abs(same - np.median(same, axis=1, keepdims=True)).sum())
    return total


def switching_zones(epochs: IntArray, offset_s: int, contacts: FloatArray) -> tuple[str, ...]:
    """One zone of each distinct run of switches over the days of these hours (as
    `zone_from_hours` reads them), in `zones.zone_names` order."""
    if not np.size(epochs):
        return ()
    hours = _hours(epochs, offset_s, contacts)
    return tuple(_offset_patterns(tuple(hours.noons.tolist()), None).values())


@functools.lru_cache(maxsize=4)  # a center's, read again for its queues' candidates
def _offset_patterns(
    moments: tuple[int, ...], among: tuple[str, ...] | None
) -> dict[tuple[int, ...], str]:
    """Per distinct sequence of UTC offsets (seconds) at `moments` (UTC seconds) that
    changes, the first zone with it in `zones.zone_names` order (of `among` if given).
    Shared: not to be changed."""
    instants = [datetime.fromtimestamp(m, UTC) for m in moments]
    weekly = instants[:: max(1, len(instants) // 60)] + instants[-1:]
    patterns: dict[tuple[int, ...], str] = {}
    for name in zones.zone_names() if among is None else among:
        zone = ZoneInfo(name)
        if len({zones.offset_seconds(zone, moment) for moment in weekly}) == 1:
            continue  # no switch in the span (checked on a sample first: it is cheap)
        offsets = tuple(zones.offset_seconds(zone, moment) for moment in instants)
        patterns.setdefault(offsets, name)
    return patterns
