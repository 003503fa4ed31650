"""Small scheduling instances: a few agents, a few days, solved in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.model import Agent, AgentWishes, BreakRule, QueueRule, Requirement, Rules
from scheduler.patterns import Horizon, Pattern, agent_patterns
from scheduler.problem import Problem
from scheduler.service import whole_needs

START = date(2024, 3, 4)  # a Monday
HALF_HOUR = timedelta(minutes=30)
# The search of a test solve is this many steps (descents and CP-SAT neighbourhoods on
# deterministic time), never the clock: the same answer however loaded the machine is.
STEPS = 6


def agent(
    agent_id: str,
    skills: str,
    languages: str = "en",
    zone: str = "Europe/Berlin",
    region: str = "emea",
    hours: tuple[float, float] = (0, 40),
) -> Agent:
    return Agent(
        agent_id,
        region,
        zone,
        frozenset(skill.split(":")[0] for skill in skills.split(";")),
        frozenset(languages.split(";")),
        hours[0],
        hours[1],
    )


def requirements(
    profile: dict[str, tuple[int, int, int]], days: int, start: date = START
) -> list[Requirement]:
    """queue → (from UTC hour, to UTC hour, agents): a flat block each day."""
    rows = []
    origin = datetime.combine(start, time(0), UTC)
    for i in range(days * 48):
        moment = origin + i * HALF_HOUR
        for queue, (first, last, count) in profile.items():
            hour = (i % 48) / 2
            rows.append(Requirement(moment, queue, count if first <= hour < last else 0))
    return rows


def rules(**changes: object) -> Rules:
    values: dict[str, object] = {
        "shift_lengths": (timedelta(hours=8), timedelta(hours=6)),
        "start_granularity": timedelta(hours=1),
        "earliest_start": time(6),
        "latest_start": time(14),
        "min_rest": timedelta(hours=11),
        "max_consecutive_days": 5,
        "days_off_per_week": 2,
        "max_hours_per_week": 40,
        "breaks": (
            BreakRule(
                "lunch",
                HALF_HOUR,
                timedelta(hours=3),
                timedelta(hours=4),
                timedelta(hours=6),
                paid=False,
            ),
        ),
        "max_on_break": 2,
        "queues": {
            "sales_de": QueueRule("sales_de", "sales", "de", 2),
            "sales_en": QueueRule("sales_en", "sales", "en", 1),
        },
    }
    values.update(changes)
    return Rules(**values)  # type: ignore[arg-type]


@dataclass
class Files:
    requirements: Path
    agents: Path
    rules: Path


RULES_TOML = """
[shifts]
lengths = ["8h", "6h"]
start_granularity = "1h"
earliest_start = "06:00"
latest_start = "14:00"
min_rest = "11h"
max_consecutive_days = 5
days_off_per_week = 2
max_hours_per_week = 40
max_on_break = 2

[[breaks]]
activity = "lunch"
length = "30m"
earliest_after_start = "3h"
latest_after_start = "4h"
min_shift = "6h"
paid = false

[queues.sales_de]
skill = "sales"
language = "de"
priority = 2

[queues.sales_en]
skill = "sales"
language = "en"
"""


@pytest.fixture
def team() -> list[Agent]:
    """Six agents: German speakers in Berlin, English speakers in Berlin and New York."""
    return [
        agent("B1", "sales:4", "de;en"),
        agent("B2", "sales", "de;en"),
        agent("B3", "sales:2;billing", "de"),
        agent("B4", "sales", "en"),
        agent("N1", "sales", "en", "America/New_York", "amer"),
        agent("N2", "sales", "en", "America/New_York", "amer"),
    ]


@pytest.fixture
def files(tmp_path: Path, team: list[Agent]) -> Files:
    paths = Files(tmp_path / "requirements.csv", tmp_path / "agents.csv", tmp_path / "rules.toml")
    csvfiles.write_requirements(
        paths.requirements,
        requirements({"sales_de": (8, 15, 1), "sales_en": (8, 20, 1)}, days=3),
    )
    csvfiles.write_agents(paths.agents, team)
    paths.rules.write_text(RULES_TOML, encoding="utf-8")
    return paths


@dataclass
class Instance:
    """A planning problem as the solver stages take it, from a demand profile."""

    horizon: Horizon
    needs: dict[tuple[str, int], int]
    queues: list[str]
    patterns: dict[str, dict[int, list[Pattern]]]
    servable: dict[str, tuple[str, ...]]


def instance(team: list[Agent], profile: dict, days: int, plan_rules: Rules) -> Instance:
    horizon = Horizon.from_date(START, days, HALF_HOUR)
    rows = requirements(profile, days)
    queues = sorted({r.queue for r in rows})
    return Instance(
        horizon,
        whole_needs(rows, horizon),
        queues,
        {a.agent_id: agent_patterns(a, plan_rules, horizon) for a in team},
        {a.agent_id: tuple(q for q in queues if plan_rules.can_serve(a, q)) for a in team},
    )


PROFILE = {"sales_de": (6, 15, 1), "sales_en": (8, 20, 2)}
DAYS = 7


@pytest.fixture
def problem(team: list[Agent]) -> Problem:
    """Ten agents, two with weekly minimum hours, one who prefers early shifts."""
    crew = [
        *team,
        agent("B5", "sales", "de;en", hours=(24, 40)),
        agent("B6", "sales", "de;en", hours=(24, 40)),
        agent("B7", "sales", "en"),
        agent("N3", "sales", "en", "America/New_York", "amer"),
    ]
    plan_rules = rules(agents={"B2": AgentWishes(prefer="early")})
    inst = instance(crew, PROFILE, DAYS, plan_rules)
    return Problem(
        crew, inst.patterns, inst.servable, inst.needs, inst.queues, plan_rules, inst.horizon
    )


def solve_args(
    files: Files, tmp_path: Path, days: int = 3, start: str = "2024-03-04", limit: str = "8"
) -> list[str]:
    """The `schedule` command line over `files`, its outputs in `tmp_path`."""
    return [
        "schedule",
        "--requirements",
        str(files.requirements),
        "--agents",
        str(files.agents),
        "--rules",
        str(files.rules),
        "--start",
        start,
        "--days",
        str(days),
        "--out",
        str(tmp_path / "schedule.csv"),
        "--coverage",
        str(tmp_path / "coverage.csv"),
        "--time-limit",
        limit,
        "--seed",
        "3",
    ]
