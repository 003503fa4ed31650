"""Candidate shifts per agent and local day, on the UTC interval grid of the horizon.

An agent's rules live in their own time zone: their days are the dates from the
horizon start in that zone, shift starts are local clock times, and a shift must lie
wholly inside the UTC horizon. The solver only sees integer interval indexes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.model import Agent, Rules

DEFAULT_INTERVAL = timedelta(minutes=30)


def infer_interval(starts: Iterable[datetime], default: timedelta = DEFAULT_INTERVAL) -> timedelta:
    """The smallest gap between distinct interval starts; `default` for a single interval."""
    ordered = sorted(set(starts))
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b > a]
    return min(gaps, default=default)


def off_grid(starts: list[datetime], interval: timedelta) -> int | None:
    """Position of the first start that is not a whole number of intervals away from the
    first one (the grid's phase), None when all are on one grid."""
    for n, moment in enumerate(starts):
        if (moment - starts[0]) % interval:
            return n
    return None


@dataclass(frozen=True)
class Horizon:
    """The UTC grid: interval i starts at start + i * interval."""

    start: datetime
    days: int
    interval: timedelta

    @classmethod
    def from_date(
        cls, day: date, days: int, interval: timedelta, aligned_to: datetime | None = None
    ) -> Horizon:
        """`days` days from `day` 00:00 UTC; with `aligned_to`, from the first interval start
        of that instant's grid at or after 00:00 UTC (a 60-minute grid of a zone at a
        half-hour offset runs from 00:30 UTC)."""
        start = datetime.combine(day, time(0), UTC)
        if aligned_to is not None:
            start += (aligned_to - start) % interval
        return cls(start, days, interval)

    @property
    def size(self) -> int:
        return int(timedelta(days=self.days) / self.interval)

    def at(self, index: int) -> datetime:
        return self.start + index * self.interval

    def index(self, instant: datetime) -> int | None:
        """Index of an interval start, None when off the grid or outside the horizon."""
        offset = instant - self.start
        if offset % self.interval:
            return None
        index = int(offset / self.interval)
        return index if 0 <= index < self.size else None

    def local_date(self, day: int) -> date:
        return self.start.date() + timedelta(days=day)

    @property
    def agent_days(self) -> range:
        """Local day offsets an agent may work: the eve and the day after are edge days.

        In a time zone behind UTC the evening before the start date already lies in
        the UTC horizon (and ahead of UTC the morning after the last date); a shift
        there is allowed when it lies wholly inside the horizon.
        """
        return range(-1, self.days + 1)


def paid_minutes(length: timedelta, rules: Rules) -> int:
    """Paid minutes of a shift of this length: less the breaks it takes under an unpaid
    rule (every rule whose `min_shift` it reaches)."""
    unpaid = sum(
        (r.length for r in rules.breaks if not r.paid and length >= r.min_shift), timedelta(0)
    )
    return int((length - unpaid).total_seconds() // 60)


@dataclass(frozen=True)
class Pattern:
    """One possible shift of one agent on one of their local days."""

    day: int  # local day index from the horizon start date
    start: int  # first interval (UTC grid)
    end: int  # one past the last interval
    local_start: datetime
    paid_minutes: int
    night: bool
    early: bool
    late: bool
    break_starts: tuple[tuple[int, ...], ...]  # per rule: allowed first intervals, () = none


def misses(prefer: str | None, pattern: Pattern) -> bool:
    """The shift goes against an early or late wish."""
    return (prefer == "early" and not pattern.early) or (prefer == "late" and not pattern.late)


def _in_night(moment: time, rules: Rules) -> bool:
    if rules.night_start <= rules.night_end:
        return rules.night_start <= moment < rules.night_end
    return moment >= rules.night_start or moment < rules.night_end


def _touches_night(local_start: datetime, intervals: int, width: timedelta, rules: Rules) -> bool:
    """Some interval of the shift starts inside the night window, in local time."""
    zone = local_start.tzinfo
    first = local_start.astimezone(UTC)
    last = (first + (intervals - 1) * width).astimezone(zone)
    if last.utcoffset() != local_start.utcoffset():  # a clock change inside the shift
        return any(
            _in_night((first + n * width).astimezone(zone).time(), rules) for n in range(intervals)
        )
    step = int(width.total_seconds() // 60)
    begin = local_start.hour * 60 + local_start.minute
    return any(
        _in_night(time(minute // 60 % 24, minute % 60), rules)
        for minute in range(begin, begin + intervals * step, step)
    )


def start_times(rules: Rules) -> list[time]:
    """Local clock times a shift may start at, from earliest to latest by the granularity."""
    step = int(rules.start_granularity.total_seconds() // 60)
    first = rules.earliest_start.hour * 60 + rules.earliest_start.minute
    last = rules.latest_start.hour * 60 + rules.latest_start.minute
    return [time(minute // 60, minute % 60) for minute in range(first, last + 1, step)]


def team_patterns(
    agents: list[Agent], rules: Rules, horizon: Horizon
) -> dict[str, dict[int, list[Pattern]]]:
    """`agent_patterns` of every agent; agents in the same time zone with the same
    availability share one (read-only) table, so a thousand agents cost a few tables."""
    tables: dict[tuple[object, ...], dict[int, list[Pattern]]] = {}
    found = {}
    for agent in agents:
        wishes = rules.wishes(agent.agent_id)
        key = (agent.timezone, wishes.available_from, wishes.available_until, wishes.unavailable)
        if key not in tables:
            tables[key] = agent_patterns(agent, rules, horizon)
        found[agent.agent_id] = tables[key]
    return found


def agent_patterns(agent: Agent, rules: Rules, horizon: Horizon) -> dict[int, list[Pattern]]:
    """Per local day offset, the shifts this agent may work (availability and dates applied)."""
    zone = ZoneInfo(agent.timezone)
    wishes = rules.wishes(agent.agent_id)
    width = horizon.interval
    per_day: dict[int, list[Pattern]] = {}
    for day in horizon.agent_days:
        local_day = horizon.local_date(day)
        found: list[Pattern] = []
        per_day[day] = found
        if local_day in wishes.unavailable:
            continue
        for clock in start_times(rules):
            if wishes.available_from is not None and clock < wishes.available_from:
                continue
            local_start = datetime.combine(local_day, clock, zone)
            start = horizon.index(local_start.astimezone(UTC))
            if start is None or start < 0:
                continue
            for length in rules.shift_lengths:
                end = start + int(length / width)
                if end > horizon.size:
                    continue
                local_end = (local_start.astimezone(UTC) + length).astimezone(zone)
                if _into_leave(local_end, wishes.unavailable):
                    continue
                if wishes.available_until is not None and (
                    local_end.date() != local_day or local_end.time() > wishes.available_until
                ):
                    continue
                pattern = _pattern(day, start, end, local_start, length, rules, horizon)
                if pattern is not None:
                    found.append(pattern)
    return per_day


def _into_leave(local_end: datetime, unavailable: frozenset[date]) -> bool:
    """The shift runs past midnight into a day of leave: leave is the whole local day, not
    only no shift starting on it (a shift 22:30-00:30 the evening before works its first
    half hour)."""
    return (local_end - timedelta(microseconds=1)).date() in unavailable


def _pattern(
    day: int,
    start: int,
    end: int,
    local_start: datetime,
    length: timedelta,
    rules: Rules,
    horizon: Horizon,
) -> Pattern | None:
    """The shift, or None when a break it must contain does not fit its window."""
    width = horizon.interval
    night = _touches_night(local_start, end - start, width, rules)
    starts: list[tuple[int, ...]] = []
    for rule in rules.breaks:
        if length < rule.min_shift:
            starts.append(())
            continue
        span = int(rule.length / width)
        first = start + int(rule.earliest_after_start / width)
        last = start + int(rule.latest_after_start / width)
        allowed = tuple(i for i in range(first, last + 1) if i + span <= end)
        if not allowed:
            return None
        starts.append(allowed)
    clock = local_start.time()
    return Pattern(
        day=day,
        start=start,
        end=end,
        local_start=local_start,
        paid_minutes=paid_minutes(length, rules),
        night=night,
        early=clock < rules.early_before,
        late=clock >= rules.late_from,
        break_starts=tuple(starts),
    )


@dataclass(frozen=True)
class Week:
    """A calendar week from the horizon start; `days` includes adjacent edge days."""

    days: tuple[int, ...]
    calendar_days: int  # days of the horizon in it (7 for a full week)

    @property
    def full(self) -> bool:
        return self.calendar_days == 7


def weeks(days: int) -> list[Week]:
    """Weeks [0..6], [7..13], ...; the eve joins the first week, the day after the last one."""
    found = []
    for first in range(0, days, 7):
        span = list(range(first, min(first + 7, days)))
        if first == 0:
            span.insert(0, -1)
        if first + 7 >= days:
            span.append(days)
        found.append(Week(tuple(span), min(7, days - first)))
    return found


def weekly_bounds(agent: Agent, rules: Rules, week: Week) -> tuple[int, int]:
    """Paid minutes allowed in a week: agent and rules bounds combined.

    A partial week (a horizon shorter than a week, or its tail) has no minimum, and as
    maximum a working day's share of the weekly one (weekly maximum / (7 - days off)) for
    each day the days-off rule lets them work in it (`max_working_days`), but never less
    than the longest shift's paid hours: a one-day plan lets a full-timer work tomorrow's
    shift (40 h, 2 days off: 8 h a day; 1 day 8 h, 2 days 16 h, 4 days 24 h, as 3 may be
    worked). Never more than the weekly maximum, rounded up to the minute.
    """
    most = min(agent.max_hours, rules.max_hours_per_week)
    if week.full:
        low = max(agent.min_hours, rules.min_hours_per_week)
        return int(low * 60), math.ceil(most * 60 - 1e-6)
    days = max_working_days(rules, week)
    working = 7 - rules.days_off_per_week
    high = 0.0
    if days > 0 and working > 0:
        longest = max((paid_minutes(n, rules) for n in rules.shift_lengths), default=0) / 60
        high = min(most, max(most * days / working, longest))
    return 0, math.ceil(high * 60 - 1e-6)


def paid_in_week(chosen: dict[int, Pattern], week: Week) -> int:
    """Paid minutes of an agent's shifts (local day → shift) that fall in the week."""
    return sum(p.paid_minutes for d, p in chosen.items() if d in week.days)


def max_working_days(rules: Rules, week: Week) -> int:
    """Days an agent may work in a week given the days-off rule (pro rata when partial)."""
    return week.calendar_days - (rules.days_off_per_week * week.calendar_days) // 7
