"""Replay one real day of the Anonymous Bank call center through the router.

A discrete-event simulation whose state is the router's real state on a real
(embedded) Redis: callers arrive at their recorded queue-entry times, every
decision is the routing Lua script, and the simulated clock is handed to the
router (`at_ms`), so a day runs in seconds. We then compare service level, mean
wait and abandonment with what the bank recorded that day, and measure how far
the estimated wait time (EWT) announced at arrival was from the wait that followed.

    .venv/bin/python bench/replay.py                 # busiest weekday of the month
    .venv/bin/python bench/replay.py --date 990210 --staffing activity --wrap-up-s 0

Model (see bench/README.md for the reasons):
- queue per call type (PS, PE, IN, NE, NW, TT); PE callers speak English, the rest Hebrew;
- a call enters at q_start, or at vru_exit when it never queued; VRU hang-ups,
  PHANTOM calls and calls served by NO_SERVER are left out;
- agents in hour h are the distinct servers whose service started in hour h, on duty
  all hour (`--staffing activity`: from an agent's first call to its last, gaps over
  --away-s off duty), each with the call types it served that day as skills (and
  English if it served PE); high-priority customers (priority 2) get priority 1;
- service time is the recorded ser_time; a caller who abandoned in the data but is
  answered in the replay gets a ser_time drawn from that day's served calls of its type;
- patience: an abandoner's is its recorded q_time; a served caller's is censored at
  its recorded wait and drawn from the Kaplan-Meier patience curve of the month
  conditional on exceeding that wait (`--censored infinite` to never abandon);
- agents answer offers at once; wrap-up is what the data implies (the median gap
  between an agent's calls while a caller was waiting) unless --wrap-up-s.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import csv
import heapq
import itertools
import json
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import percentile, print_json_line, private_redis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig, Strategy
from router.service import Router
from router.stats import estimate_wait_s
from router.store import RoutingStore

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "anonymous_bank_1999_02.tsv"
)
TYPES = ("PS", "PE", "IN", "NE", "NW", "TT")
SL_SECONDS = 20.0
TZ = ZoneInfo("Asia/Jerusalem")


# -- the data -------------------------------------------------------------------------


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


def implied_wrap_up_s(rows: Iterable[dict[str, str]]) -> float:
    """Median gap between an agent's two calls when the second caller was already waiting.

    With a caller in queue the agent had work at once, so the gap is after-call work
    (plus the switch's delivery delay): the closest thing to wrap-up the data records.
    """
    services: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    for row in rows:
        if row["outcome"] == "AGENT" and row["server"] != "NO_SERVER":
            queued_at = clock_s(row["q_start"]) if int(row["q_time"]) > 0 else -1
            services[(row["date"], row["server"])].append(
                (clock_s(row["ser_start"]), clock_s(row["ser_exit"]), queued_at)
            )
    gaps: list[float] = []
    for spans in services.values():
        spans.sort()
        for (_, ended, _), (started, _, queued_at) in itertools.pairwise(spans):
            if 0 <= queued_at <= ended <= started:
                gaps.append(started - ended)
    return float(percentile(gaps, 50)) if gaps else 0.0


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


def parse_calls(rows: Sequence[dict[str, str]], path: Path) -> list[Call]:
    """Every replayable call; a malformed row stops the bench with file, row and field."""
    calls: list[Call] = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        fault = row_fault(row)
        if fault:
            print(f"{path.name}: row {number}: {fault}", file=sys.stderr)
            raise SystemExit(2)
        call = to_call(row)
        if call is not None:
            calls.append(call)
    return calls


def day_of(code: str) -> date:
    return date(1900 + int(code[:2]), int(code[2:4]), int(code[4:6]))


def busiest_weekday(rows: Iterable[dict[str, str]]) -> str:
    """The Sunday-to-Thursday date (the bank's working week) with the most calls."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if day_of(row["date"]).weekday() not in (4, 5):  # Friday, Saturday
            counts[row["date"]] += 1
    return max(counts, key=lambda code: (counts[code], code))


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


# -- the simulation -------------------------------------------------------------------

# Order of events at the same instant: agents free up and shifts change before
# callers arrive; a caller's patience runs out last.
COMPLETE, TICK, STAFF, ARRIVE, ABANDON = range(5)


@dataclass
class Waiting:
    call: Call
    arrived_ms: int
    ewt_s: float | None = None
    les_s: float | None = None
    state: str = "queued"
    waited_s: float = 0.0


@dataclass
class Replay:
    router: Router
    pubsub: Any
    calls: Sequence[Call]
    shifts: Sequence[Shift]
    skills: dict[str, dict[str, int]]
    patience: dict[str, float]
    service_s: dict[str, int]
    epoch_ms: int
    wrap_up_s: float
    events: list[tuple[int, int, int, str]] = field(default_factory=list)
    contacts: dict[str, Waiting] = field(default_factory=dict)
    on_duty: set[str] = field(default_factory=set)
    last_answered_wait_s: dict[str, float] = field(default_factory=dict)
    seq: int = 0
    commands: int = 0

    def push(self, at_ms: int, kind: int, payload: str) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at_ms, kind, self.seq, payload))

    async def run(self) -> None:
        for at_s in sorted({shift.at_s for shift in self.shifts}):
            self.push(self.epoch_ms + at_s * 1000, STAFF, str(at_s))
        for index, call in enumerate(self.calls):
            self.push(self.epoch_ms + call.arrival_s * 1000, ARRIVE, str(index))
        while self.events:
            at_ms, kind, _, payload = heapq.heappop(self.events)
            if kind == STAFF:
                await self.staff(int(payload), at_ms)
            elif kind == ARRIVE:
                await self.arrive(self.calls[int(payload)], at_ms)
            elif kind == COMPLETE:
                await self.router.complete(payload, at_ms=at_ms)
                self.commands += 1
                await self.take_offers(at_ms)
            elif kind == TICK:
                await self.router.tick(at_ms=at_ms)
                self.commands += 1
                await self.take_offers(at_ms)
            elif kind == ABANDON and self.contacts[payload].state == "queued":
                await self.router.abandon(payload, at_ms=at_ms)
                self.commands += 1
                self.contacts[payload].state = "abandoned"

    async def staff(self, at_s: int, at_ms: int) -> None:
        """Agents log off (after their current call) or come on duty at this second."""
        changes = sorted((s.on, s.agent_id) for s in self.shifts if s.at_s == at_s)
        for on, agent_id in changes:  # leavers first
            presence = Presence.AVAILABLE if on else Presence.OFFLINE
            await self.router.set_presence(
                agent_id, presence, "" if on else "off duty", at_ms=at_ms
            )
            self.commands += 1
            if on:
                self.on_duty.add(agent_id)
            else:
                self.on_duty.discard(agent_id)
        await self.take_offers(at_ms)

    async def arrive(self, call: Call, at_ms: int) -> None:
        new = NewContact(
            channel=Channel.VOICE,
            queue=call.queue,
            language="en" if call.queue == "PE" else "he",
            customer_id=call.customer_id,
            priority=call.priority,
        )
        contact = await self.router.create_contact(new, at_ms=at_ms)
        self.commands += 1
        waiting = Waiting(call, at_ms)
        self.contacts[contact.contact_id] = waiting
        if contact.state.value == "queued":
            # EWT from replay state, as the IVR would announce it: position from Redis,
            # serving agents from the replay's roster, AHT from the router's counters.
            position = await self.router.store.queue_position(call.queue, contact.contact_id)
            serving = sum(1 for a in self.on_duty if call.queue in self.skills[a])
            aht_s = await self.router.aht_s(call.queue, at_ms=at_ms)
            waiting.ewt_s = estimate_wait_s(position or 0, serving, aht_s)
            # For comparison only: "last to enter service" (the wait of the queue's most
            # recently answered caller), a predictor known to do well in practice.
            waiting.les_s = self.last_answered_wait_s.get(call.queue, 0.0)
            patience_s = self.patience[call.call_id]
            if math.isfinite(patience_s):
                self.push(at_ms + int(patience_s * 1000), ABANDON, contact.contact_id)
        await self.take_offers(at_ms)

    async def take_offers(self, at_ms: int) -> None:
        """Agents answer at once: accept every offer the last command produced."""
        for contact_id, agent_id in await self.offers():
            await self.router.accept(contact_id, agent_id, at_ms=at_ms)
            self.commands += 1
            waiting = self.contacts[contact_id]
            waiting.state = "answered"
            waiting.waited_s = (at_ms - waiting.arrived_ms) / 1000
            self.last_answered_wait_s[waiting.call.queue] = waiting.waited_s
            self.push(at_ms + self.service_s[waiting.call.call_id] * 1000, COMPLETE, contact_id)
            if self.wrap_up_s > 0:
                end = at_ms + self.service_s[waiting.call.call_id] * 1000
                self.push(end + int(self.wrap_up_s * 1000), TICK, "")

    async def offers(self) -> list[tuple[str, str]]:
        """Offer events published so far: a PING on the subscriber connection is the fence."""
        self.seq += 1
        fence = f"fence-{self.seq}"
        await self.pubsub.ping(fence)
        found: list[tuple[str, str]] = []
        while True:
            # parse_response, not get_message: redis-py mis-parses a PONG when responses
            # are decoded (it comes back as the bare string).
            reply = await self.pubsub.parse_response(block=False, timeout=10.0)
            if reply is None:
                raise RuntimeError("the events channel went quiet before the fence came back")
            if reply == fence or (isinstance(reply, list) and reply[:2] == ["pong", fence]):
                return found
            if isinstance(reply, list) and reply[0] == "message":
                event = json.loads(reply[2])
                if event.get("type") == "offer":
                    found.append((event["contact_id"], event["agent_id"]))


def replay_figures(
    contacts: Iterable[Waiting],
) -> tuple[Figures, list[float], list[float], list[float]]:
    """Replay figures; EWT errors (absolute, signed), LES errors; answered callers who queued."""
    figures = Figures()
    absolute: list[float] = []
    signed: list[float] = []
    les: list[float] = []
    for waiting in contacts:
        if waiting.state == "queued":
            raise RuntimeError(f"call {waiting.call.call_id} never got an outcome")
        answered = waiting.state == "answered"
        figures.add(answered, waiting.waited_s)
        if answered and waiting.ewt_s is not None:
            absolute.append(abs(waiting.ewt_s - waiting.waited_s))
            signed.append(waiting.ewt_s - waiting.waited_s)
            les.append(abs((waiting.les_s or 0.0) - waiting.waited_s))
    return figures, absolute, signed, les


# -- setting the day up ---------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """An agent comes on duty (`on`) or logs off at `at_s` seconds after midnight."""

    at_s: int
    agent_id: str
    on: bool


def skills_of(calls: Iterable[Call]) -> dict[str, dict[str, int]]:
    """Each agent's skills: the call types it served that day."""
    skills: dict[str, dict[str, int]] = defaultdict(dict)
    for call in calls:
        if call.answered:
            skills[call.server][call.queue] = 3
    return dict(skills)


def hourly_shifts(calls: Iterable[Call]) -> list[Shift]:
    """On duty in hour h: the distinct servers whose service started in hour h.

    An hour in which nobody served keeps the previous hour's agents (night calls
    then wait for the morning instead of finding an empty center).
    """
    per_hour: dict[int, set[str]] = defaultdict(set)
    for call in calls:
        if call.answered:
            per_hour[call.service_start_s // 3600 % 24].add(call.server)
    shifts: list[Shift] = []
    on_duty: set[str] = set()
    for hour in sorted(per_hour):
        wanted = per_hour[hour]
        shifts += [Shift(hour * 3600, agent, False) for agent in sorted(on_duty - wanted)]
        shifts += [Shift(hour * 3600, agent, True) for agent in sorted(wanted - on_duty)]
        on_duty = set(wanted)
    end_of_day = (max(per_hour) + 1) * 3600 if per_hour else 0
    shifts += [Shift(end_of_day, agent, False) for agent in sorted(on_duty)]
    return shifts


def activity_shifts(calls: Iterable[Call], gap_s: int) -> list[Shift]:
    """On duty from an agent's first service to its last, split where it was away > gap_s."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for call in calls:
        if call.answered:
            spans[call.server].append((call.service_start_s, call.service_start_s + call.service_s))
    shifts: list[Shift] = []
    for agent, services in spans.items():
        services.sort()
        start, end = services[0]
        for begin, finish in services[1:]:
            if begin - end > gap_s:
                shifts += [Shift(start, agent, True), Shift(end, agent, False)]
                start = begin
            end = max(end, finish)
        shifts += [Shift(start, agent, True), Shift(end, agent, False)]
    return shifts


def staffed_seconds(shifts: Iterable[Shift]) -> tuple[int, int]:
    """Agent-seconds on duty, and the most agents on duty at once."""
    total, on_duty, peak = 0, 0, 0
    since: dict[str, int] = {}
    for shift in sorted(shifts, key=lambda s: (s.at_s, s.on)):
        if shift.on:
            since[shift.agent_id] = shift.at_s
            on_duty += 1
            peak = max(peak, on_duty)
        elif shift.agent_id in since:
            total += shift.at_s - since.pop(shift.agent_id)
            on_duty -= 1
    return total, peak


def patience_of(
    day_calls: Sequence[Call], curve: PatienceCurve, censored: str, rng: random.Random
) -> dict[str, float]:
    patience: dict[str, float] = {}
    for call in day_calls:
        if not call.answered:
            patience[call.call_id] = float(call.recorded_wait_s)
        elif censored == "infinite":
            patience[call.call_id] = math.inf
        else:
            patience[call.call_id] = curve.draw_beyond(call.recorded_wait_s, rng)
    return patience


def service_of(day_calls: Sequence[Call], rng: random.Random) -> dict[str, int]:
    served: dict[str, list[int]] = defaultdict(list)
    for call in day_calls:
        if call.answered:
            served[call.queue].append(call.service_s)
    everyone = [s for values in served.values() for s in values]
    return {
        call.call_id: call.service_s
        if call.answered
        else rng.choice(served.get(call.queue) or everyone)
        for call in day_calls
    }


def queues(wrap_up_s: float) -> list[QueueConfig]:
    return [
        QueueConfig(
            name=name,
            skill=name,
            strategy=Strategy.LONGEST_IDLE,
            answer_within_s=SL_SECONDS,
            wrap_up_s=wrap_up_s,
            ring_s=3600.0,  # agents answer at once; no ring timeout can fire
            fallback_languages=(),
            relax_language_after_s=None,
            relax_region_after_s=None,
            relax_proficiency_after_s=None,
        )
        for name in TYPES
    ]


async def simulate(args: argparse.Namespace) -> dict[str, Any]:
    rows = read_rows(args.data)
    code = args.date or busiest_weekday(rows)
    every_call = parse_calls(rows, args.data)
    day_calls = sorted((c for c in every_call if c.day == code), key=lambda c: c.arrival_s)
    if not day_calls:
        print(f"{args.data.name}: no queued or served calls on date {code}", file=sys.stderr)
        raise SystemExit(2)
    rng = random.Random(args.seed)
    curve = PatienceCurve(every_call)
    skills = skills_of(day_calls)
    if args.staffing == "hourly":
        shifts = hourly_shifts(day_calls)
    else:
        shifts = activity_shifts(day_calls, args.away_s)
    staffed_s, peak = staffed_seconds(shifts)
    patience = patience_of(day_calls, curve, args.censored, rng)
    service = service_of(day_calls, rng)
    if args.wrap_up_s is None:
        args.wrap_up_s = implied_wrap_up_s(rows)
    the_day = day_of(code)
    epoch_ms = int(datetime(the_day.year, the_day.month, the_day.day, tzinfo=TZ).timestamp() * 1000)

    async with private_redis(args.redis_url) as client:
        if args.redis_url:
            await client.flushdb()
        store = RoutingStore(client, prefix="replay")
        router = Router(store, queues(args.wrap_up_s), node_id="replay", region="il")
        await router.publish_configuration(["il"])
        for agent_id, agent_skills in sorted(skills.items()):
            languages = ["he", "en"] if "PE" in agent_skills else ["he"]
            agent = Agent(agent_id, "il", agent_skills, languages, capacity={"voice": 1, "chat": 0})
            await store.upsert_agent(agent, at_ms=epoch_ms)
        pubsub = client.pubsub()
        await pubsub.subscribe(store.keys.events)
        await pubsub.get_message(timeout=5.0)  # the subscribe confirmation
        replay = Replay(
            router, pubsub, day_calls, shifts, skills, patience, service, epoch_ms, args.wrap_up_s
        )
        started = time.perf_counter()
        await replay.run()
        elapsed = time.perf_counter() - started
        await pubsub.aclose()

    simulated, errors, signed, les = replay_figures(replay.contacts.values())
    recorded = recorded_figures(day_calls)
    span_s = (max(c.arrival_s for c in day_calls) - min(c.arrival_s for c in day_calls)) or 1
    return {
        "date": code,
        "calls": len(day_calls),
        "agents": len(skills),
        "peak_agents": peak,
        "staffing": args.staffing,
        "commands": replay.commands,
        "elapsed_s": elapsed,
        "speedup": span_s / elapsed,
        "simulated": simulated,
        "recorded": recorded,
        "ewt_errors": errors,
        "ewt_signed": signed,
        "les_errors": les,
        "recorded_occupancy": sum(c.service_s for c in day_calls if c.answered) / staffed_s,
        "censored": args.censored,
        "wrap_up_s": args.wrap_up_s,
        "hourly": hourly_table(replay.contacts.values(), day_calls) if args.hourly else [],
    }


def hourly_table(contacts: Iterable[Waiting], calls: Iterable[Call]) -> list[str]:
    """Per hour of arrival: callers, then service level and abandonment, replay vs recorded."""
    ours: dict[int, Figures] = defaultdict(Figures)
    theirs: dict[int, Figures] = defaultdict(Figures)
    for waiting in contacts:
        ours[waiting.call.arrival_s // 3600].add(waiting.state == "answered", waiting.waited_s)
    for call in calls:
        theirs[call.arrival_s // 3600].add(call.answered, call.recorded_wait_s)
    lines = [
        f"{'hour':>4} {'callers':>7}  {'SL replay':>9} {'recorded':>8}  {'aband. replay':>13} "
        f"{'recorded':>8}"
    ]
    for hour in sorted(theirs):
        a, b = ours[hour], theirs[hour]
        lines.append(
            f"{hour:>4} {b.answered + b.abandoned:>7}  "
            f"{a.service_level:>9.2f} {b.service_level:>8.2f}  "
            f"{a.abandonment:>13.2f} {b.abandonment:>8.2f}"
        )
    return lines


def report(result: dict[str, Any]) -> dict[str, Any]:
    sim: Figures = result["simulated"]
    rec: Figures = result["recorded"]
    errors: list[float] = result["ewt_errors"]
    signed: list[float] = result["ewt_signed"]
    mae = sum(errors) / len(errors) if errors else math.nan
    bias = sum(signed) / len(signed) if signed else math.nan
    les: list[float] = result["les_errors"]
    les_mae = sum(les) / len(les) if les else math.nan
    print(
        f"day {result['date']}: {result['calls']} callers, {result['agents']} agents "
        f"(at most {result['peak_agents']} at once, {result['staffing']} staffing); "
        f"censored patience: {result['censored']}; "
        f"wrap-up {result['wrap_up_s']:g} s"
    )
    print(
        f"replayed in {result['elapsed_s']:.1f} s ({result['commands']} routing commands, "
        f"{result['speedup']:.0f}x real time)"
    )
    for line in result["hourly"]:
        print(line)
    print(f"{'figure':<32}{'replay':>10}{'recorded':>10}")
    rows = [
        ("answered", sim.answered, rec.answered),
        ("abandoned", sim.abandoned, rec.abandoned),
        (f"service level ({SL_SECONDS:g} s, of answered)", sim.service_level, rec.service_level),
        ("mean wait of answered (s)", sim.mean_wait_s, rec.mean_wait_s),
        ("abandonment", sim.abandonment, rec.abandonment),
    ]
    for name, ours, theirs in rows:
        if isinstance(ours, int):
            print(f"{name:<32}{ours:>10d}{theirs:>10d}")
        else:
            print(f"{name:<32}{ours:>10.3f}{theirs:>10.3f}")
    print(
        f"EWT announced at arrival vs actual wait, {len(errors)} answered callers who queued: "
        f"MAE {mae:.1f} s, bias {bias:+.1f} s (positive = over-estimate), "
        f"p50 {percentile(errors, 50):.1f} s, p90 {percentile(errors, 90):.1f} s"
    )
    print(
        f"for comparison, 'last to enter service' as the announcement: MAE {les_mae:.1f} s; "
        f"recorded talk time filled {result['recorded_occupancy']:.0%} of the staffed agent-hours"
    )
    return {
        "service_level": round(sim.service_level, 4),
        "recorded_service_level": round(rec.service_level, 4),
        "mean_wait_s": round(sim.mean_wait_s, 2),
        "recorded_mean_wait_s": round(rec.mean_wait_s, 2),
        "abandonment": round(sim.abandonment, 4),
        "recorded_abandonment": round(rec.abandonment, 4),
        "ewt_mae_s": round(mae, 2),
        # The same error spread over every answered caller, counting an offer on arrival
        # (no announcement, no wait) as exact: the figure a looser definition would give.
        "ewt_mae_all_answered_s": round(sum(errors) / sim.answered, 2) if sim.answered else None,
        "ewt_bias_s": round(bias, 2),
        "les_mae_s": round(les_mae, 2),
        "wrap_up_s": result["wrap_up_s"],
        "date": result["date"],
        "calls": result["calls"],
        "elapsed_s": round(result["elapsed_s"], 2),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the Anonymous Bank TSV")
    parser.add_argument("--date", help="YYMMDD, e.g. 990203 (default: the busiest weekday)")
    parser.add_argument(
        "--censored",
        choices=("km", "infinite"),
        default="km",
        help="patience of callers served in the data (default: Kaplan-Meier draw)",
    )
    parser.add_argument(
        "--wrap-up-s",
        type=float,
        help="after-call work per call (default: what the data implies, see implied_wrap_up_s)",
    )
    parser.add_argument(
        "--staffing",
        choices=("hourly", "activity"),
        default="hourly",
        help="hourly: servers seen in the hour, on duty all hour; activity: first to last call",
    )
    parser.add_argument(
        "--away-s", type=int, default=900, help="activity staffing: a longer gap is off duty"
    )
    parser.add_argument("--hourly", action="store_true", help="also print figures per hour")
    parser.add_argument("--seed", type=int, default=1999, help="seed of the random draws")
    parser.add_argument("--redis-url", help="a Redis to use instead (it is flushed!)")
    args = parser.parse_args(argv)
    if args.date and (len(args.date) != 6 or not args.date.isdigit()):
        parser.error(f"--date: expected YYMMDD like 990203, found {args.date!r}")
    if not args.data.is_file():
        parser.error(f"--data: no such file {args.data}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    figures = report(asyncio.run(simulate(args)))
    print_json_line(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
