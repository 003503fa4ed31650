"""Plain data of workforce planning: requirements, agents, rules, shifts, segments.

No I/O here; readers in `csvfiles.py` and `rules.py` build these, the solver and the
checker consume them. Times are timezone-aware datetimes; the solver works on an
integer grid of UTC intervals counted from the horizon start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

BREAK_ACTIVITIES = ("break", "lunch")


@dataclass(frozen=True)
class ForecastRow:
    """One forecast interval of one queue (the forecasting package's output); `aht_s` 0
    when the forecast has no handle time (a history without one), `line` the file's row
    number when read from a file (0 otherwise), for error messages. `contacts` are the
    volume to staff for; `volume` names the column they came from (`contacts`, the mean,
    or a bound of the forecast's interval, `high` or `low`), for the same messages."""

    interval_start: datetime
    queue: str
    contacts: float
    aht_s: float
    line: int = field(default=0, compare=False)
    volume: str = field(default="contacts", compare=False)


@dataclass(frozen=True)
class Requirement:
    """Agents needed on a queue in one interval (may be fractional)."""

    interval_start: datetime
    queue: str
    required: float


@dataclass(frozen=True)
class Agent:
    """A person who can be scheduled; skills without their proficiency."""

    agent_id: str
    region: str
    timezone: str
    skills: frozenset[str]
    languages: frozenset[str]
    min_hours: float
    max_hours: float


@dataclass(frozen=True)
class QueueRule:
    """What an agent needs to serve a queue, and how much a shortfall hurts."""

    name: str
    skill: str
    language: str | None = None
    priority: int = 1


@dataclass(frozen=True)
class BreakRule:
    """A break or lunch every shift of at least `min_shift` must contain, in a window."""

    activity: str
    length: timedelta
    earliest_after_start: timedelta
    latest_after_start: timedelta
    min_shift: timedelta = timedelta(0)
    paid: bool = True


@dataclass(frozen=True)
class AgentWishes:
    """Per-agent availability (hard) and wishes (soft), all in the agent's local time."""

    available_from: time | None = None
    available_until: time | None = None
    unavailable: frozenset[date] = frozenset()
    requested_days_off: frozenset[date] = frozenset()
    prefer: str | None = None  # "early" or "late"


@dataclass(frozen=True)
class Weights:
    """Objective weights; the defaults keep the issue's order of importance."""

    under: int = 10000
    over: int = 100
    fairness: int = 10
    requested_day_off: int = 20
    preference: int = 5
    cost: int = 1


@dataclass(frozen=True)
class Rules:
    """The planning rules of one schedule run (see config/rules-example.toml)."""

    shift_lengths: tuple[timedelta, ...] = (timedelta(hours=8),)
    start_granularity: timedelta = timedelta(minutes=30)
    earliest_start: time = time(6, 0)
    latest_start: time = time(14, 0)
    min_rest: timedelta = timedelta(hours=11)
    max_consecutive_days: int = 5
    days_off_per_week: int = 2
    min_hours_per_week: float = 0.0
    max_hours_per_week: float = 48.0
    night_start: time = time(22, 0)
    night_end: time = time(6, 0)
    early_before: time = time(9, 0)
    late_from: time = time(12, 0)
    breaks: tuple[BreakRule, ...] = ()
    max_on_break: int | None = None  # per region, at once
    queues: dict[str, QueueRule] = field(default_factory=dict)
    agents: dict[str, AgentWishes] = field(default_factory=dict)
    cost_per_hour: dict[str, float] = field(default_factory=dict)  # by region
    weights: Weights = field(default_factory=Weights)

    def queue_rule(self, queue: str) -> QueueRule:
        """A queue not named in the rules needs the skill of the same name, any language."""
        return self.queues.get(queue, QueueRule(name=queue, skill=queue))

    def wishes(self, agent_id: str) -> AgentWishes:
        return self.agents.get(agent_id, AgentWishes())

    def can_serve(self, agent: Agent, queue: str) -> bool:
        """Skill and, when the queue needs one, language: both are skills for scheduling."""
        rule = self.queue_rule(queue)
        if rule.skill not in agent.skills:
            return False
        return rule.language is None or rule.language in agent.languages


@dataclass(frozen=True)
class Segment:
    """One row of a schedule: an agent on a queue, on break or at lunch."""

    agent_id: str
    start: datetime
    end: datetime
    activity: str


@dataclass(frozen=True)
class CoverageRow:
    interval_start: datetime
    queue: str
    required: float
    scheduled: int


@dataclass(frozen=True)
class Violation:
    """A hard rule a schedule breaks; `rule` is a short stable key for tests and tools."""

    agent_id: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.rule}: {self.message}"


@dataclass
class SolveReport:
    """What the solver says about its run."""

    status: str
    objective: float
    bound: float
    gap: float
    wall_s: float
    progress: list[tuple[float, float, float]] = field(default_factory=list)
    deterministic_s: float = 0.0  # CP-SAT's machine-independent work measure
    relaxation_bound: float = float("nan")  # the aggregate LP's bound (relaxation.py)
    start: str = ""  # the search's start: "construct", "greedy" (CP-SAT's hint) or "" (none)
    no_bound: str = ""  # why there is no bound, when there is none and the reason is known
    search: str = ""  # what the search did ("3 descents, 12 neighbourhoods"), when it ran


@dataclass
class ScheduleResult:
    segments: list[Segment]
    coverage: list[CoverageRow]
    report: SolveReport
    problems: list[str] = field(default_factory=list)  # what cannot be met (explanations)
