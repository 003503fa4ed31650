"""Verifies any schedule against the agents file and the rules, independently of the solver.

It re-derives shifts from the segments (an agent's contiguous segments form a shift)
and checks every hard rule in the agent's local time. It shares no code with the
model beyond the data classes and the week and hour bounds, so a solver bug shows.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.model import BREAK_ACTIVITIES, Agent, BreakRule, Rules, Segment, Violation
from scheduler.patterns import max_working_days, weekly_bounds, weeks


@dataclass
class _Shift:
    agent_id: str
    segments: list[Segment]

    @property
    def start(self) -> datetime:
        return self.segments[0].start

    @property
    def end(self) -> datetime:
        return self.segments[-1].end


def _shifts(segments: list[Segment]) -> dict[str, list[_Shift]]:
    by_agent: dict[str, list[Segment]] = defaultdict(list)
    for segment in segments:
        by_agent[segment.agent_id].append(segment)
    shifts: dict[str, list[_Shift]] = {}
    for agent_id, rows in by_agent.items():
        rows.sort(key=lambda s: s.start)
        found: list[_Shift] = []
        for segment in rows:
            if found and segment.start <= found[-1].end:
                found[-1].segments.append(segment)
            else:
                found.append(_Shift(agent_id, [segment]))
        shifts[agent_id] = found
    return shifts


def check(
    segments: list[Segment],
    agents: list[Agent],
    rules: Rules,
    queues: set[str] | None = None,
    start: date | None = None,
    horizon_days: int | None = None,
) -> list[Violation]:
    """Every hard-rule violation.

    `queues` limits the activities; `start` (default: the first shift's UTC date) anchors
    the calendar weeks and `horizon_days` says where the last, maybe partial, week ends.
    """
    known = {agent.agent_id: agent for agent in agents}
    violations: list[Violation] = []
    shifts = _shifts(segments)
    if start is None and segments:
        start = min(s.start for s in segments).date()
    for agent_id, agent_shifts in sorted(shifts.items()):
        agent = known.get(agent_id)
        if agent is None:
            violations.append(Violation(agent_id, "unknown_agent", "not in the agents file"))
            continue
        violations += _check_agent(
            agent, agent_shifts, rules, queues, start or date.today(), horizon_days
        )
    for agent in agents:  # an agent without any shift may still owe minimum hours
        if agent.agent_id not in shifts:
            violations += _check_agent(
                agent, [], rules, queues, start or date.today(), horizon_days
            )
    violations += _check_break_cap(segments, known, rules)
    return violations


def _check_agent(
    agent: Agent,
    shifts: list[_Shift],
    rules: Rules,
    queues: set[str] | None,
    start: date,
    horizon_days: int | None,
) -> list[Violation]:
    zone = ZoneInfo(agent.timezone)
    wishes = rules.wishes(agent.agent_id)
    found: list[Violation] = []

    def fail(rule: str, message: str) -> None:
        found.append(Violation(agent.agent_id, rule, message))

    worked_days: dict[date, list[_Shift]] = defaultdict(list)
    for shift in shifts:
        local_start = shift.start.astimezone(zone)
        local_end = shift.end.astimezone(zone)
        label = f"shift {local_start.isoformat()}"
        worked_days[local_start.date()].append(shift)
        # Segments inside a shift must not overlap.
        for first, second in zip(shift.segments, shift.segments[1:], strict=False):
            if second.start < first.end:
                fail("overlap", f"{label}: segments at {second.start.isoformat()} overlap")
        # Activities: a queue the agent serves, or a break or lunch.
        for segment in shift.segments:
            activity = segment.activity
            if activity in BREAK_ACTIVITIES:
                continue
            if queues is not None and activity not in queues:
                fail("activity", f"{label}: {activity} is not a queue of the requirements")
            elif not rules.can_serve(agent, activity):
                fail("skill", f"{label}: works {activity} without its skill or language")
        # Shift length and start.
        length = shift.end - shift.start
        if length not in rules.shift_lengths:
            fail(
                "shift_length",
                f"{label}: lasts {length}, allowed are "
                + ", ".join(str(x) for x in rules.shift_lengths),
            )
        clock = local_start.time()
        minutes = clock.hour * 60 + clock.minute
        step = int(rules.start_granularity.total_seconds() // 60)
        earliest = rules.earliest_start.hour * 60 + rules.earliest_start.minute
        latest = rules.latest_start.hour * 60 + rules.latest_start.minute
        if not earliest <= minutes <= latest or (minutes - earliest) % step or clock.second:
            fail("shift_start", f"{label}: starts at {clock}, outside the allowed start times")
        # Availability.
        # Leave is the whole local day: a shift from the evening before may not run into it.
        last_day = (local_end - timedelta(microseconds=1)).date()
        for day in sorted({local_start.date(), last_day} & wishes.unavailable):
            fail("availability", f"{label}: agent is unavailable on {day}")
        if wishes.available_from is not None and clock < wishes.available_from:
            fail("availability", f"{label}: starts before {wishes.available_from}")
        if wishes.available_until is not None and (
            local_end.date() != local_start.date() or local_end.time() > wishes.available_until
        ):
            fail("availability", f"{label}: ends after {wishes.available_until}")
        found += [
            Violation(agent.agent_id, rule, f"{label}: {message}")
            for rule, message in _check_breaks(shift, rules)
        ]
    # One shift per local day; rest between shifts.
    for day, day_shifts in worked_days.items():
        if len(day_shifts) > 1:
            fail("one_shift_per_day", f"{len(day_shifts)} shifts on {day}")
    for before, after in itertools.pairwise(shifts):
        if after.start - before.end < rules.min_rest:
            fail(
                "rest",
                f"only {after.start - before.end} between the shift ending "
                f"{before.end.astimezone(zone).isoformat()} and the next, "
                f"minimum is {rules.min_rest}",
            )
    # Consecutive working days.
    days = sorted(worked_days)
    run = 1
    for previous, current in itertools.pairwise(days):
        run = run + 1 if current - previous == timedelta(days=1) else 1
        if run == rules.max_consecutive_days + 1:
            fail(
                "consecutive_days",
                f"works more than {rules.max_consecutive_days} days in a row up to {current}",
            )
    # Days off and hours per calendar week from the start date (the eve joins week 1).
    span = horizon_days or (max(days, default=start) - start).days + 1
    for number, week in enumerate(weeks(span), start=1):
        in_week = {start + timedelta(days=d) for d in week.days}
        if number == 1:
            in_week |= {d for d in worked_days if d < start}
        worked = [d for d in sorted(worked_days) if d in in_week]
        allowed = max_working_days(rules, week)
        if len(worked) > allowed:
            fail("days_off", f"week {number}: works {len(worked)} days, at most {allowed}")
        paid = sum(_paid_minutes(shift, rules) for d in worked for shift in worked_days[d])
        low, high = weekly_bounds(agent, rules, week)
        if paid > high:
            fail("max_hours", f"week {number}: {paid / 60:g} h paid, at most {high / 60:g} h")
        if paid < low:
            fail("min_hours", f"week {number}: {paid / 60:g} h paid, at least {low / 60:g} h")
    return found


def _paid_minutes(shift: _Shift, rules: Rules) -> int:
    """The shift's length less its breaks taken under an unpaid rule."""
    length = int((shift.end - shift.start).total_seconds() // 60)
    _problems, unpaid = _breaks(shift, rules)
    return length - unpaid


def _check_breaks(shift: _Shift, rules: Rules) -> list[tuple[str, str]]:
    problems, _unpaid = _breaks(shift, rules)
    return problems


def _breaks(shift: _Shift, rules: Rules) -> tuple[list[tuple[str, str]], int]:
    """The shift's break problems and its unpaid minutes.

    Each rule the shift is long enough for needs one segment of its activity; with
    several rules of one activity (a morning and an afternoon break), the segments are
    matched to the rules in the way that breaks fewest of them (length and window),
    and a segment is unpaid when its rule is.
    """
    problems: list[tuple[str, str]] = []
    unpaid = 0
    length = shift.end - shift.start
    for activity in dict.fromkeys(rule.activity for rule in rules.breaks):
        of_kind = [rule for rule in rules.breaks if rule.activity == activity]
        needed = [rule for rule in of_kind if length >= rule.min_shift]
        taken = [s for s in shift.segments if s.activity == activity]
        if len(taken) != len(needed):
            if needed:
                problems.append(
                    ("break", f"has {len(taken)} {activity} segments, needs {len(needed)}")
                )
            else:
                shortest = min(rule.min_shift for rule in of_kind)
                problems.append(("break", f"has a {activity} but is shorter than {shortest}"))
            if all(not rule.paid for rule in of_kind):
                unpaid += sum(_minutes(s) for s in taken)
            continue
        best: list[tuple[str, str]] | None = None
        for order in itertools.permutations(taken):
            found = [
                problem
                for rule, segment in zip(needed, order, strict=True)
                for problem in _break_problems(shift, rule, segment)
            ]
            if best is None or len(found) < len(best):
                best, matched = found, order
        problems += best or []
        if taken:
            unpaid += sum(
                _minutes(s) for rule, s in zip(needed, matched, strict=True) if not rule.paid
            )
    known = {rule.activity for rule in rules.breaks}
    for segment in shift.segments:
        if segment.activity in BREAK_ACTIVITIES and segment.activity not in known:
            problems.append(("break", f"{segment.activity} is not allowed by the rules"))
    return problems, unpaid


def _minutes(segment: Segment) -> int:
    return int((segment.end - segment.start).total_seconds() // 60)


def _break_problems(shift: _Shift, rule: BreakRule, segment: Segment) -> list[tuple[str, str]]:
    """What is wrong with one break segment taken under one rule."""
    problems = []
    offset = segment.start - shift.start
    if segment.end - segment.start != rule.length:
        problems.append(
            (
                "break",
                f"{rule.activity} lasts {segment.end - segment.start}, should be {rule.length}",
            )
        )
    if not rule.earliest_after_start <= offset <= rule.latest_after_start:
        problems.append(
            (
                "break_window",
                f"{rule.activity} starts {offset} after the shift start, "
                f"allowed {rule.earliest_after_start} to {rule.latest_after_start}",
            )
        )
    return problems


def _check_break_cap(
    segments: list[Segment], agents: dict[str, Agent], rules: Rules
) -> list[Violation]:
    """No more than `max_on_break` agents of a region on break or lunch at the same moment."""
    if rules.max_on_break is None:
        return []
    events: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for segment in segments:
        agent = agents.get(segment.agent_id)
        if agent is not None and segment.activity in BREAK_ACTIVITIES:
            events[agent.region].append((segment.start, 1))
            events[agent.region].append((segment.end, -1))
    found = []
    for region, moments in sorted(events.items()):
        change: dict[datetime, int] = defaultdict(int)
        for moment, step in moments:
            change[moment] += step
        level = 0
        for moment in sorted(change):
            level += change[moment]
            if level > rules.max_on_break:
                found.append(
                    Violation(
                        f"region {region}",
                        "break_cap",
                        f"{level} agents on break at {moment.isoformat()}, "
                        f"at most {rules.max_on_break}",
                    )
                )
    return found
