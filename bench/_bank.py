"""The Anonymous Bank month as `bench/replay.py` models it: callers, patience, service
times, and the staffing inferred from the record. Pure: no Redis, no router.

Staffing (bench/README.md has the reasons and the measurements). The record shows
when each agent was talking, not when it was available:

- busy agents at each moment (talking, or in the wrap-up after a call) bound the
  staffing from below;
- agents seen (between their first and last call of the day) bound it from above;
- in between, an agent who is seen but not talking is *idle*, except while a caller
  it could take was waiting in the record: an available agent would have taken that
  caller, so it was away (break, back office) and is not counted;
- only a share α of idle agents were really available. A caller who arrives while
  nobody of its type waits and I agents who could take it are idle waits (rather
  than being answered at once) with probability (1 - α)^I, so α is the maximum
  likelihood estimate over the day's arrivals. It comes from who was answered at
  once, not from the figures the replay is compared with.

The replay keeps n(t) = busy(t) + round(α · idle(t)) agents on duty, preferring the
agents the record shows busy or idle at that moment.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

SL_SECONDS = 20.0
PROFICIENCY_LEVELS = 5


# -- callers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One caller who reached the queue (or an agent directly) in the data."""

    call_id: str
    day: str
    queue: str
    priority: int
    customer_id: str
    arrival_s: int
    recorded_wait_s: int
    answered: bool
    service_s: int
    server: str
    service_start_s: int


def clock_s(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def to_call(row: dict[str, str]) -> Call | None:
    """The caller as the replay sees it, or None when it never reached the queue."""
    q_time = int(row["q_time"])
    outcome = row["outcome"]
    if outcome == "AGENT" and row["server"] != "NO_SERVER":
        answered = True
    elif outcome == "HANG" and q_time > 0:
        answered = False
    else:  # VRU hang-ups, PHANTOM, and service by NO_SERVER (no agent to replay)
        return None
    queued = q_time > 0
    return Call(
        call_id=row["call_id"],
        day=row["date"],
        queue=row["type"],
        priority=1 if row["priority"] == "2" else 0,
        customer_id=row["customer_id"],
        arrival_s=clock_s(row["q_start"] if queued else row["vru_exit"]),
        recorded_wait_s=q_time,
        answered=answered,
        service_s=int(row["ser_time"]) if answered else 0,
        server=row["server"] if answered else "",
        service_start_s=clock_s(row["ser_start"]) if answered else 0,
    )


def row_fault(row: dict[str, str]) -> str | None:
    """What is wrong with a row's fields the replay reads, if anything."""
    for name in ("date", "priority", "q_time", "ser_time"):
        value = row.get(name)
        if value is None or not value.isdigit():
            return f"field {name}: expected a whole number, found {value!r}"
    for name in ("vru_exit", "q_start", "ser_start"):
        value = row.get(name) or ""
        parts = value.split(":")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            return f"field {name}: expected H:MM:SS, found {value!r}"
    for name in ("type", "outcome", "server", "call_id", "customer_id"):
        if row.get(name) is None:
            return f"field {name}: missing"
    return None


def parse_calls(rows: Sequence[dict[str, str]]) -> list[Call]:
    """Every replayable call; a malformed row raises ValueError naming row and field."""
    calls: list[Call] = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        fault = row_fault(row)
        if fault:
            raise ValueError(f"row {number}: {fault}")
        call = to_call(row)
        if call is not None:
            calls.append(call)
    return calls


def day_of(code: str) -> date:
    return date(1900 + int(code[:2]), int(code[2:4]), int(code[4:6]))


def is_weekday(code: str) -> bool:
    """Sunday to Thursday: the bank's working week."""
    return day_of(code).weekday() not in (4, 5)


def busiest_weekday(dates: Iterable[str]) -> str:
    """The working day with the most calls (`dates`: the date of every row)."""
    counts: dict[str, int] = defaultdict(int)
    for code in dates:
        if is_weekday(code):
            counts[code] += 1
    return max(counts, key=lambda code: (counts[code], code))


def same_weekday(code: str, days: Iterable[str]) -> list[str]:
    """The other dates of `days` that fall on the same weekday as `code`."""
    weekday = day_of(code).weekday()
    return sorted(d for d in set(days) if d != code and day_of(d).weekday() == weekday)


def implied_wrap_up_s(calls: Iterable[Call]) -> float:
    """Median gap between an agent's two calls when the second caller was already waiting.

    With a caller in queue the agent had work at once, so the gap is after-call work
    (plus the switch's delivery delay): the closest thing to wrap-up the data records.
    """
    services: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    for call in calls:
        if call.answered:
            queued_at = call.arrival_s if call.recorded_wait_s > 0 else -1
            end = call.service_start_s + call.service_s
            services[(call.day, call.server)].append((call.service_start_s, end, queued_at))
    gaps: list[int] = []
    for spans in services.values():
        spans.sort()
        for (_, ended, _), (started, _, queued_at) in itertools.pairwise(spans):
            if 0 <= queued_at <= ended <= started:
                gaps.append(started - ended)
    gaps.sort()
    return float(gaps[(len(gaps) - 1) // 2]) if gaps else 0.0


# -- outcomes --------------------------------------------------------------------------


@dataclass
class Figures:
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    wait_s_total: float = 0.0

    def add(self, answered: bool, wait_s: float) -> None:
        if answered:
            self.answered += 1
            self.wait_s_total += wait_s
            self.answered_in_sl += wait_s <= SL_SECONDS
        else:
            self.abandoned += 1

    @property
    def service_level(self) -> float:
        return self.answered_in_sl / self.answered if self.answered else math.nan

    @property
    def mean_wait_s(self) -> float:
        return self.wait_s_total / self.answered if self.answered else math.nan

    @property
    def abandonment(self) -> float:
        ended = self.answered + self.abandoned
        return self.abandoned / ended if ended else math.nan


def recorded_figures(calls: Iterable[Call]) -> Figures:
    figures = Figures()
    for call in calls:
        figures.add(call.answered, call.recorded_wait_s)
    return figures


# -- patience --------------------------------------------------------------------------


class PatienceCurve:
    """Kaplan-Meier survival of caller patience: abandons are events, served waits censor."""

    def __init__(self, calls: Iterable[Call]) -> None:
        events: dict[int, int] = defaultdict(int)
        exits: dict[int, int] = defaultdict(int)
        total = 0
        for call in calls:
            total += 1
            exits[call.recorded_wait_s] += 1
            if not call.answered:
                events[call.recorded_wait_s] += 1
        at_risk = total
        survival = 1.0
        self.times: list[int] = []
        self.survival: list[float] = []
        for t in sorted(exits):
            if events.get(t):
                survival *= 1 - events[t] / at_risk
                self.times.append(t)
                self.survival.append(survival)
            at_risk -= exits[t]

    def above(self, t: float) -> float:
        """P(patience > t)."""
        index = bisect.bisect_right(self.times, t)
        return self.survival[index - 1] if index else 1.0

    def draw_beyond(self, waited_s: int, rng: random.Random) -> float:
        """A patience drawn from the curve given that it exceeds `waited_s`; may be infinite."""
        target = rng.random() * self.above(waited_s)
        start = bisect.bisect_right(self.times, waited_s)
        for index in range(start, len(self.times)):
            if self.survival[index] <= target:
                return float(self.times[index])
        return math.inf  # beyond the last observed abandonment


def patience_of(
    day_calls: Sequence[Call], curve: PatienceCurve, censored: str, rng: random.Random
) -> dict[str, float]:
    """An abandoner's patience is its recorded wait; a served caller's is only known to
    exceed its wait: drawn from the curve beyond it (`km`) or infinite (`infinite`)."""
    patience: dict[str, float] = {}
    for call in day_calls:
        if not call.answered:
            patience[call.call_id] = float(call.recorded_wait_s)
        elif censored == "infinite":
            patience[call.call_id] = math.inf
        else:
            patience[call.call_id] = curve.draw_beyond(call.recorded_wait_s, rng)
    return patience


# -- service times and skills ----------------------------------------------------------


class ServiceTimes:
    """How long a caller talks: its recorded time (or, for a caller who abandoned, that
    of a served call of its type drawn at random), or with `by_agent` that time scaled
    by the agent's speed.

    Agents differ in speed: an agent's factor for a call type is its geometric mean
    service time over the month divided by the type's, shrunk towards 1 with `prior`
    pseudo-calls. With `by_agent`, a caller's time with agent A is the recorded time
    times A's factor over the recorded server's: a faster agent shortens the call. The
    replay of the record leaves times as recorded (which agent took which caller is
    where a replay differs most from the record, and speeds would carry that into the
    times); strategy what-ifs, whose point is who takes whom, use the agents' speeds.
    """

    def __init__(self, month: Iterable[Call], prior: float = 20.0) -> None:
        logs: dict[tuple[str, str], list[float]] = defaultdict(list)
        by_type: dict[str, list[float]] = defaultdict(list)
        for call in month:
            if call.answered and call.service_s > 0:
                logs[(call.server, call.queue)].append(math.log(call.service_s))
                by_type[call.queue].append(math.log(call.service_s))
        means = {kind: sum(v) / len(v) for kind, v in by_type.items()}
        self.factor = {
            (agent, kind): math.exp((sum(v) + prior * means[kind]) / (len(v) + prior) - means[kind])
            for (agent, kind), v in logs.items()
        }
        self.reference: dict[str, tuple[int, str]] = {}

    def draw(self, day_calls: Sequence[Call], rng: random.Random) -> None:
        """Each caller's recorded time and server; abandoners borrow a served call's."""
        served: dict[str, list[Call]] = defaultdict(list)
        for call in day_calls:
            if call.answered:
                served[call.queue].append(call)
        everyone = [call for calls in served.values() for call in calls]
        for call in day_calls:
            if call.answered:
                self.reference[call.call_id] = (call.service_s, call.server)
            else:
                donor = rng.choice(served.get(call.queue) or everyone)
                self.reference[call.call_id] = (donor.service_s, donor.server)

    def speed(self, agent: str, kind: str) -> float:
        """The agent's factor for the type (1 for an agent the month never saw)."""
        return self.factor.get((agent, kind), 1.0)

    def seconds(self, call: Call, agent: str, by_agent: bool) -> int:
        recorded, server = self.reference[call.call_id]
        if not by_agent:
            return recorded
        ratio = self.speed(agent, call.queue) / self.speed(server, call.queue)
        return max(1, round(recorded * ratio))

    def proficiency(self, agents: Iterable[str], kind: str) -> dict[str, int]:
        """1-5 by speed among the agents who serve the type: the fastest fifth is 5."""
        ranked = sorted(agents, key=lambda agent: (self.speed(agent, kind), agent))
        return {
            agent: PROFICIENCY_LEVELS - index * PROFICIENCY_LEVELS // max(len(ranked), 1)
            for index, agent in enumerate(ranked)
        }


def skills_of(calls: Iterable[Call]) -> dict[str, set[str]]:
    """Each agent's skills: the call types it served that day."""
    skills: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        if call.answered:
            skills[call.server].add(call.queue)
    return dict(skills)


# -- staffing --------------------------------------------------------------------------

Interval = tuple[int, int]  # [start, end) in seconds after midnight


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def subtract(span: Interval, holes: Sequence[Interval]) -> list[Interval]:
    """`span` minus the sorted, disjoint `holes`."""
    parts: list[Interval] = []
    cursor, end = span
    for hole_start, hole_end in holes:
        if hole_end <= cursor:
            continue
        if hole_start >= end:
            break
        if hole_start > cursor:
            parts.append((cursor, hole_start))
        cursor = max(cursor, hole_end)
    if cursor < end:
        parts.append((cursor, end))
    return parts


def covers(intervals: Sequence[Interval], t: float) -> bool:
    """Whether t lies in one of the sorted, disjoint intervals."""
    index = bisect.bisect_right(intervals, (math.floor(t), math.inf)) - 1
    return index >= 0 and intervals[index][0] <= t < intervals[index][1]


@dataclass(frozen=True)
class AgentDay:
    """What the record shows of one agent on one day."""

    skills: frozenset[str]
    busy: list[Interval]  # talking or in wrap-up
    idle: list[Interval]  # seen, not busy, and no caller it could take waiting


def agent_days(
    day_calls: Sequence[Call], wrap_up_s: float, holes: bool = True
) -> dict[str, AgentDay]:
    """Busy and idle intervals of every agent seen serving that day (`holes=False`: idle
    whenever seen and not busy, the upper bound)."""
    waits: dict[str, list[Interval]] = defaultdict(list)
    for call in day_calls:
        if call.recorded_wait_s > 0:
            waits[call.queue].append((call.arrival_s, call.arrival_s + call.recorded_wait_s))
    services: dict[str, list[Interval]] = defaultdict(list)
    for call in day_calls:
        if call.answered:
            end = call.service_start_s + call.service_s + math.ceil(wrap_up_s)
            services[call.server].append((call.service_start_s, end))
    days: dict[str, AgentDay] = {}
    for agent, spans in services.items():
        skills = frozenset(c.queue for c in day_calls if c.answered and c.server == agent)
        busy = merge(spans)
        blocked = merge(w for kind in skills for w in waits[kind]) if holes else []
        idle = [
            part
            for (_, gap_start), (gap_end, _) in itertools.pairwise(busy)
            for part in subtract((gap_start, gap_end), blocked)
        ]
        days[agent] = AgentDay(skills, busy, idle)
    return days


def availability(day_calls: Sequence[Call], days: dict[str, AgentDay]) -> float:
    """α: the share of idle agents who were available, by maximum likelihood over the
    arrivals that found nobody of their type waiting (see the module's docstring)."""
    waiting: dict[str, list[Interval]] = defaultdict(list)
    for call in day_calls:
        if call.recorded_wait_s > 0:
            waiting[call.queue].append((call.arrival_s, call.arrival_s + call.recorded_wait_s))
    queues = {kind: merge(spans) for kind, spans in waiting.items()}
    observations: list[tuple[int, bool]] = []
    for call in day_calls:
        just_before = call.arrival_s - 0.5
        if covers(queues.get(call.queue, []), just_before):
            continue  # others of its type waited: it queued behind them whatever the staff
        idle = sum(
            1 for day in days.values() if call.queue in day.skills and covers(day.idle, just_before)
        )
        if idle:
            observations.append((idle, call.recorded_wait_s > 0))
    return _most_likely_share(observations)


def _most_likely_share(observations: Sequence[tuple[int, bool]]) -> float:
    """argmax over α of Σ log P(waited | I idle), P(waited) = (1 - α)^I; concave in α."""
    if not observations:
        return 1.0

    def log_likelihood(alpha: float) -> float:
        total = 0.0
        for idle, waited in observations:
            stay = (1 - alpha) ** idle
            total += idle * math.log(1 - alpha) if waited else math.log(max(1 - stay, 1e-300))
        return total

    low, high = 1e-4, 1 - 1e-4
    for _ in range(60):  # golden-section search
        a = high - (high - low) * 0.618
        b = low + (high - low) * 0.618
        if log_likelihood(a) < log_likelihood(b):
            low = a
        else:
            high = b
    return (low + high) / 2


@dataclass(frozen=True)
class Staffing:
    """From `at_s` on: how many agents are on duty, and whom the record shows there."""

    at_s: int
    on_duty: int
    present: frozenset[str]


def staffing_plan(days: dict[str, AgentDay], alpha: float) -> list[Staffing]:
    """n(t) = busy(t) + round(α · idle(t)) at every change of either set."""
    marks: list[tuple[int, int, str, bool]] = []  # (time, order, agent, busy?)
    for agent, day in days.items():
        for intervals, busy in ((day.busy, True), (day.idle, False)):
            for start, end in intervals:
                marks.append((start, 1, agent, busy))
                marks.append((end, 0, agent, busy))
    marks.sort()
    busy_now: set[str] = set()
    idle_now: set[str] = set()
    plan: list[Staffing] = []
    for at_s, group in itertools.groupby(marks, key=lambda mark: mark[0]):
        for _, starts, agent, busy in group:
            chosen = busy_now if busy else idle_now
            (chosen.add if starts else chosen.discard)(agent)
        on_duty = len(busy_now) + math.floor(alpha * len(idle_now) + 0.5)
        plan.append(Staffing(at_s, on_duty, frozenset(busy_now | idle_now)))
    return plan


def on_duty_seconds(plan: Sequence[Staffing]) -> int:
    """Agent-seconds on duty under the plan."""
    return sum(a.on_duty * (b.at_s - a.at_s) for a, b in itertools.pairwise(plan))


class Roster:
    """Who is on duty: as many agents as the plan says, preferring the ones the record
    shows present. Only idle agents log off; when all are busy, the next to finish does."""

    def __init__(self, agents: Iterable[str], extra: Iterable[str], change: int) -> None:
        self.agents = sorted(agents)
        self.extra = frozenset(extra)
        self.change = change
        self.on: set[str] = set()
        self.busy: set[str] = set()
        self.free_since: dict[str, int] = dict.fromkeys(self.agents, 0)
        self.target = 0
        self.present: frozenset[str] = frozenset()

    def plan(self, staffing: Staffing) -> None:
        staffed = staffing.on_duty > 0
        self.target = max(0, staffing.on_duty + self.change) if staffed else 0
        self.present = staffing.present | (self.extra if staffed else frozenset())

    def leavers(self) -> list[str]:
        """Idle agents to log off: those the record does not show first, then the most
        recently freed."""
        idle = sorted(
            self.on - self.busy,
            key=lambda a: (a in self.present, -self.free_since[a], a),
        )
        return idle[: max(0, len(self.on) - self.target)]

    def joiners(self) -> list[str]:
        """Agents to log on: those the record shows present first, longest free first."""
        wanted = max(0, self.target - len(self.on))
        off = [a for a in self.agents if a not in self.on and a not in self.busy]
        off.sort(key=lambda a: (a not in self.present, self.free_since[a], a))
        return off[:wanted]
