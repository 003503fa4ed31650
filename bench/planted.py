"""Planted instances: a week of shifts drawn at random, its coverage the requirements.

A schedule that fits the requirements exactly (no shortfall, no surplus) is then
known to exist, so a solver's under- and overstaffing measure how far its search
ends from a fit, whatever its bound says. The instance is written in the project's
own files (agents CSV, requirements CSV, rules TOML), as a planner would write it.

The class (issue 26): three regions in their own time zones, six skill x language
queues, shifts of several lengths starting on the grid, breaks with windows after
the shift start (paid or not, some only in long shifts), weekly rules (rest, days
in a row, days off, weekly hours, a cap on agents of a region on break at once).
This module draws the planted week without the scheduler's code (only its data
classes and file writers), so that a bug in the scheduler cannot shape the instance.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler import csvfiles
from scheduler.model import Agent, BreakRule, Requirement, Segment

REGIONS = {  # region → (time zone, local language)
    "emea": ("Europe/Berlin", "de"),
    "amer": ("America/New_York", "es"),
    "apac": ("Asia/Kolkata", "hi"),
}
QUEUES = {  # queue → (skill, language, priority)
    "billing_en": ("billing", "en", 2),
    "support_en": ("support", "en", 1),
    "sales_en": ("sales", "en", 3),
    "billing_de": ("billing", "de", 2),
    "sales_es": ("sales", "es", 3),
    "support_hi": ("support", "hi", 1),
}
SKILLS = ("billing", "support", "sales")
COST_PER_HOUR = {"emea": 30, "amer": 35, "apac": 20}


@dataclass(frozen=True)
class FitClass:
    """The rules of one class of planted instances."""

    grid: timedelta
    lengths: tuple[timedelta, ...]
    breaks: tuple[BreakRule, ...]
    start_every: timedelta
    earliest: time = time(6)
    latest: time = time(14)
    min_rest: timedelta = timedelta(hours=11)
    max_consecutive_days: int = 5
    days_off: int = 2
    min_hours: float = 24.0
    max_hours: float = 40.0


def quarter_hour_class(second_break: bool = False) -> FitClass:
    """Issue 26: a 15-minute grid, 6/8/9 h shifts, a paid 15-minute break 1.5-2.5 h into
    every shift, an unpaid 30-minute lunch 3-4.5 h into shifts of 8 h or more; with
    `second_break` also a paid 15-minute break 6-7 h into shifts of 8 h or more."""
    quarter = timedelta(minutes=15)
    breaks = [
        BreakRule("break", quarter, timedelta(hours=1.5), timedelta(hours=2.5), timedelta(0), True),
        BreakRule(
            "lunch",
            2 * quarter,
            timedelta(hours=3),
            timedelta(hours=4.5),
            timedelta(hours=8),
            False,
        ),
    ]
    if second_break:
        breaks.append(
            BreakRule("break", quarter, timedelta(hours=6), timedelta(hours=7), timedelta(hours=8))
        )
    return FitClass(
        grid=quarter,
        lengths=(timedelta(hours=9), timedelta(hours=8), timedelta(hours=6)),
        breaks=tuple(breaks),
        start_every=quarter,
    )


def half_hour_class() -> FitClass:
    """The 30-minute class the scheduler was first judged on: 8/9 h shifts with an unpaid
    30-minute lunch 3-5 h into every shift."""
    half = timedelta(minutes=30)
    return FitClass(
        grid=half,
        lengths=(timedelta(hours=9), timedelta(hours=8)),
        breaks=(
            BreakRule("lunch", half, timedelta(hours=3), timedelta(hours=5), timedelta(0), False),
        ),
        start_every=half,
    )


@dataclass
class Instance:
    """A planted instance: the files' contents and the schedule that fits them exactly."""

    fit: FitClass
    start: date
    days: int
    agents: list[Agent]
    requirements: list[Requirement]
    planted: list[Segment]
    max_on_break: int
    shifts: int = 0
    # agent → planted shifts: (first interval, end interval, break start per rule or -1)
    weeks: dict[str, list[tuple[int, int, tuple[int, ...]]]] = field(default_factory=dict)

    @property
    def queues(self) -> list[str]:
        return sorted(QUEUES)


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest}m" if hours and rest else (f"{hours}h" if hours else f"{rest}m")


def rules_toml(instance: Instance) -> str:
    """The rules file of the instance, in the format of config/rules-example.toml."""
    fit = instance.fit
    lines = [
        "[shifts]",
        "lengths = [" + ", ".join(f'"{_duration(x)}"' for x in fit.lengths) + "]",
        f'start_granularity = "{_duration(fit.start_every)}"',
        f'earliest_start = "{fit.earliest:%H:%M}"',
        f'latest_start = "{fit.latest:%H:%M}"',
        f'min_rest = "{_duration(fit.min_rest)}"',
        f"max_consecutive_days = {fit.max_consecutive_days}",
        f"days_off_per_week = {fit.days_off}",
        f"max_hours_per_week = {fit.max_hours:g}",
        f"max_on_break = {instance.max_on_break}",
    ]
    for rule in fit.breaks:
        lines += [
            "",
            "[[breaks]]",
            f'activity = "{rule.activity}"',
            f'length = "{_duration(rule.length)}"',
            f'earliest_after_start = "{_duration(rule.earliest_after_start)}"',
            f'latest_after_start = "{_duration(rule.latest_after_start)}"',
            f'min_shift = "{_duration(rule.min_shift)}"',
            f"paid = {'true' if rule.paid else 'false'}",
        ]
    for name, (skill, language, priority) in QUEUES.items():
        lines += ["", f"[queues.{name}]", f'skill = "{skill}"', f'language = "{language}"']
        lines.append(f"priority = {priority}")
    lines += ["", "[cost_per_hour]"] + [f"{r} = {c}" for r, c in COST_PER_HOUR.items()]
    return "\n".join(lines) + "\n"


def write(instance: Instance, folder: Path) -> dict[str, Path]:
    """The instance's files (and the planted schedule, for checking) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "agents": folder / "agents.csv",
        "requirements": folder / "requirements.csv",
        "rules": folder / "rules.toml",
        "planted": folder / "planted.csv",
    }
    csvfiles.write_agents(paths["agents"], instance.agents)
    csvfiles.write_requirements(paths["requirements"], instance.requirements)
    paths["rules"].write_text(rules_toml(instance), encoding="utf-8")
    csvfiles.write_schedule(paths["planted"], instance.planted)
    return paths


def _team(count: int, rng: random.Random, fit: FitClass) -> list[Agent]:
    agents = []
    for n in range(count):
        region = list(REGIONS)[n % 3]
        zone, language = REGIONS[region]
        skills = frozenset(rng.sample(SKILLS, rng.choice((1, 2, 2, 3))))
        languages = frozenset({"en"} | ({language} if rng.random() < 0.8 else set()))
        agents.append(
            Agent(
                f"{region[:2].upper()}{n:04d}",
                region,
                zone,
                skills,
                languages,
                fit.min_hours,
                fit.max_hours,
            )
        )
    return agents


def _paid(fit: FitClass, length: timedelta) -> timedelta:
    unpaid = sum(
        (r.length for r in fit.breaks if not r.paid and length >= r.min_shift), timedelta(0)
    )
    return length - unpaid


@dataclass(frozen=True)
class _Shift:
    start: datetime  # UTC
    length: timedelta


def _week(agent: Agent, fit: FitClass, start: date, days: int, rng: random.Random) -> list[_Shift]:
    """One agent's planted shifts: a personal start time varied a little from day to day,
    every rule of the class kept (drawn again until they are)."""
    zone = ZoneInfo(agent.timezone)
    step = int(fit.start_every.total_seconds() // 60)
    first = fit.earliest.hour * 60 + fit.earliest.minute
    last = fit.latest.hour * 60 + fit.latest.minute
    clocks = list(range(first, last + 1, step))
    horizon_start = datetime.combine(start, time(0), UTC)
    horizon_end = horizon_start + timedelta(days=days)
    for _attempt in range(1000):
        working = rng.choice((5, 5, 5, 4)) if days >= 7 else max(1, days * 5 // 7)
        chosen = sorted(rng.sample(range(days), min(working, days)))
        base = rng.randrange(len(clocks))
        shifts = []
        for d in chosen:
            index = min(len(clocks) - 1, max(0, base + rng.randint(-4, 4)))
            minute = clocks[index]
            local = datetime.combine(
                start + timedelta(days=d), time(minute // 60, minute % 60), zone
            )
            shifts.append(_Shift(local.astimezone(UTC), rng.choice(fit.lengths)))
        if any(s.start < horizon_start or s.start + s.length > horizon_end for s in shifts):
            continue
        if any(
            b.start - (a.start + a.length) < fit.min_rest for a, b in itertools.pairwise(shifts)
        ):
            continue
        run, longest = 1, 1
        for a, b in itertools.pairwise(chosen):
            run = run + 1 if b == a + 1 else 1
            longest = max(longest, run)
        if longest > fit.max_consecutive_days:
            continue
        paid = sum((_paid(fit, s.length) for s in shifts), timedelta(0)).total_seconds() / 3600
        low = agent.min_hours if days >= 7 else 0.0
        if not low <= paid <= agent.max_hours * min(days, 7) / 7:
            continue
        return shifts
    raise RuntimeError(f"no planted week for {agent.agent_id}")


def _breaks(
    shift: _Shift, fit: FitClass, load: dict[int, int], origin: datetime, rng: random.Random
) -> list[tuple[int, int, str]]:
    """(first interval, intervals, activity) of each break the shift needs, at random in its
    window (half the time where the region has fewest on a break), clear of its other
    breaks and not touching one of the same activity; in the order of the rules."""
    width = fit.grid
    begin = int((shift.start - origin) / width)
    end = begin + int(shift.length / width)
    placed: list[tuple[int, int, str]] = []
    for rule in fit.breaks:
        if shift.length < rule.min_shift:
            placed.append((-1, 0, rule.activity))
            continue
        span = int(rule.length / width)
        low = begin + int(rule.earliest_after_start / width)
        high = min(begin + int(rule.latest_after_start / width), end - span)
        options = [
            i
            for i in range(low, high + 1)
            if all(
                i + span + (a == rule.activity) <= f or f + n + (a == rule.activity) <= i
                for f, n, a in placed
            )
        ]
        options.sort(key=lambda i: (max(load[j] for j in range(i, i + span)), rng.random()))
        first = options[0] if rng.random() < 0.5 else rng.choice(options)
        placed.append((first, span, rule.activity))
        for j in range(first, first + span):
            load[j] += 1
    return placed


def plant(
    count: int, fit: FitClass, seed: int, start: date = date(2024, 3, 4), days: int = 7
) -> Instance:
    """`count` agents, each with a planted week; the requirements are its coverage."""
    rng = random.Random(seed)
    agents = _team(count, rng, fit)
    origin = datetime.combine(start, time(0), UTC)
    width = fit.grid
    size = int(timedelta(days=days) / width)
    needed: dict[tuple[str, int], int] = defaultdict(int)
    resting: dict[str, dict[int, int]] = {r: defaultdict(int) for r in REGIONS}
    segments: list[Segment] = []
    shifts = 0
    weeks: dict[str, list[tuple[int, int, tuple[int, ...]]]] = defaultdict(list)
    for agent in agents:
        serves = [
            q
            for q, (skill, language, _p) in QUEUES.items()
            if skill in agent.skills and language in agent.languages
        ]
        for shift in _week(agent, fit, start, days, rng):
            shifts += 1
            away = _breaks(shift, fit, resting[agent.region], origin, rng)
            begin = int((shift.start - origin) / width)
            end = begin + int(shift.length / width)
            weeks[agent.agent_id].append((begin, end, tuple(f for f, _n, _a in away)))
            activity: list[str] = []
            queue, left = "", 0
            for i in range(begin, end):
                taken = next((a for f, n, a in away if f <= i < f + n), None)
                if taken is not None:
                    activity.append(taken)
                    continue
                if left <= 0:
                    queue, left = rng.choice(serves), rng.randint(2, 8)
                left -= 1
                activity.append(queue)
                needed[queue, i] += 1
            run = begin
            for i in range(begin + 1, end + 1):
                if i == end or activity[i - begin] != activity[run - begin]:
                    segments.append(
                        Segment(
                            agent.agent_id,
                            origin + run * width,
                            origin + i * width,
                            activity[run - begin],
                        )
                    )
                    run = i
    requirements = [
        Requirement(origin + i * width, q, float(needed.get((q, i), 0)))
        for i in range(size)
        for q in sorted(QUEUES)
    ]
    cap = max((n for load in resting.values() for n in load.values()), default=1)
    return Instance(fit, start, days, agents, requirements, segments, cap, shifts, dict(weeks))
