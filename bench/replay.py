"""Replay real days of the Anonymous Bank call center through the router.

A discrete-event simulation whose state is the router's real state on a real
(embedded) Redis: callers arrive at their recorded queue-entry times, every
decision is the routing function, and the simulated clock is handed to the router
(`at_ms`), so a day runs in seconds. We compare service level, mean wait and
abandonment with what the bank recorded that day, and how far the wait announced to
each queued caller (`Router.position`, as the IVR announces it) was from the wait
that followed, next to the other predictors.

    .venv/bin/python bench/replay.py                      # busiest weekday + same weekday
    .venv/bin/python bench/replay.py --date 990210 --days none
    .venv/bin/python bench/replay.py --agents +2          # what if two more agents?
    .venv/bin/python bench/replay.py --strategy most_skilled

The model (bench/_bank.py, reasons and measurements in bench/README.md):
- queue per call type (PS, PE, IN, NE, NW, TT); PE callers speak English, the rest
  Hebrew; a call enters at q_start, or at vru_exit when it never queued; VRU hang-ups,
  PHANTOM calls and calls served by NO_SERVER are left out; priority-2 customers get
  contact priority 1;
- staffing from the record: n(t) = busy(t) + round(α · idle(t)) agents on duty, the
  agents the record shows there first (when n falls, an idle agent logs off, else
  the next one to finish);
- each agent's skills are the types it served that day, its proficiency its speed
  over the month; a call lasts its recorded time (an abandoner who is answered gets a
  served call's of its type, drawn at random); only `--strategy` what-ifs scale it by
  the agent's speed over the recorded server's, the replay of the record does not;
- patience: an abandoner's is its recorded wait; a served caller's is drawn from the
  month's Kaplan-Meier curve beyond its recorded wait;
- agents answer offers at once; wrap-up is what the data implies.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from _bank import (
    SL_SECONDS,
    AgentDay,
    Call,
    Figures,
    PatienceCurve,
    Roster,
    ServiceTimes,
    Staffing,
    agent_days,
    availability,
    busiest_weekday,
    day_of,
    implied_wrap_up_s,
    on_duty_seconds,
    parse_calls,
    patience_of,
    read_rows,
    recorded_figures,
    same_weekday,
    skills_of,
    staffing_plan,
)
from _common import print_json_line, private_redis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig, Strategy
from router.service import Router
from router.store import RoutingStore
from router.waits import METHODS

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "anonymous_bank_1999_02.tsv"
)
TYPES = ("PS", "PE", "IN", "NE", "NW", "TT")
TZ = ZoneInfo("Asia/Jerusalem")


# -- the simulation -------------------------------------------------------------------

# Order of events at the same instant: agents free up and staffing changes before
# callers arrive; a caller's patience runs out last.
COMPLETE, TICK, STAFF, ARRIVE, ABANDON = range(5)


@dataclass
class Waiting:
    call: Call
    arrived_ms: int
    state: str = "queued"
    waited_s: float = 0.0
    agent: str = ""
    announced_s: float | None = None  # the EWT the caller heard on arrival
    method: str = ""
    estimates: dict[str, float] = field(default_factory=dict)


@dataclass
class Replay:
    router: Router
    pubsub: Any
    calls: Sequence[Call]
    plan: Sequence[Staffing]
    roster: Roster
    patience: dict[str, float]
    service: ServiceTimes
    by_agent: bool
    epoch_ms: int
    wrap_up_s: float
    events: list[tuple[int, int, int, str]] = field(default_factory=list)
    contacts: dict[str, Waiting] = field(default_factory=dict)
    holding: dict[str, str] = field(default_factory=dict)  # agent -> contact
    seq: int = 0
    commands: int = 0

    def push(self, at_ms: int, kind: int, payload: str) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at_ms, kind, self.seq, payload))

    async def run(self) -> None:
        for index, staffing in enumerate(self.plan):
            self.push(self.epoch_ms + staffing.at_s * 1000, STAFF, str(index))
        # The record has whole seconds. Each caller arrives within its second at a
        # millisecond of its own (its rank in the day, modulo 1000), so that two callers
        # never tie in the queue's order, where contact ids (random) would decide.
        for index, call in enumerate(self.calls):
            at_ms = self.epoch_ms + call.arrival_s * 1000 + index % 1000
            self.push(at_ms, ARRIVE, str(index))
        while self.events:
            at_ms, kind, _, payload = heapq.heappop(self.events)
            if kind == STAFF:
                self.roster.plan(self.plan[int(payload)])
                await self.log_off(at_ms)
                await self.log_on(at_ms)
            elif kind == ARRIVE:
                await self.arrive(self.calls[int(payload)], at_ms)
            elif kind == COMPLETE:
                await self.complete(payload, at_ms)
            elif kind == TICK:
                await self.router.tick(at_ms=at_ms)
                self.commands += 1
            elif kind == ABANDON and self.contacts[payload].state == "queued":
                await self.router.abandon(payload, at_ms=at_ms)
                self.commands += 1
                self.contacts[payload].state = "abandoned"
                self.contacts[payload].waited_s = (at_ms - self.contacts[payload].arrived_ms) / 1000
            await self.take_offers(at_ms)

    async def set_presence(self, agent: str, presence: Presence, at_ms: int) -> None:
        await self.router.store.set_presence(agent, presence, "replay staffing", at_ms=at_ms)
        self.commands += 1

    async def log_off(self, at_ms: int) -> None:
        for agent in self.roster.leavers():
            self.roster.on.discard(agent)
            await self.set_presence(agent, Presence.OFFLINE, at_ms)

    async def log_on(self, at_ms: int) -> None:
        for agent in self.roster.joiners():
            self.roster.on.add(agent)
            self.roster.free_since[agent] = max(self.roster.free_since[agent], at_ms)
            await self.set_presence(agent, Presence.AVAILABLE, at_ms)

    async def complete(self, contact_id: str, at_ms: int) -> None:
        """The call ends; the agent wraps up, and logs off first if there are too many on."""
        agent = self.contacts[contact_id].agent
        self.roster.busy.discard(agent)
        self.holding.pop(agent, None)
        self.roster.free_since[agent] = at_ms + int(self.wrap_up_s * 1000)
        await self.log_off(at_ms)
        await self.router.complete(contact_id, at_ms=at_ms)
        self.commands += 1
        await self.log_on(at_ms)

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
            where = await self.router.position(contact.contact_id, at_ms=at_ms)
            waiting.announced_s, waiting.method = where.ewt_s, where.method
            waiting.estimates = dict(where.estimates)
            patience_s = self.patience[call.call_id]
            if math.isfinite(patience_s):
                self.push(at_ms + int(patience_s * 1000), ABANDON, contact.contact_id)

    async def take_offers(self, at_ms: int) -> None:
        """Agents answer at once: accept every offer the last commands produced."""
        for contact_id, agent in await self.offers():
            await self.router.accept(contact_id, agent, at_ms=at_ms)
            self.commands += 1
            waiting = self.contacts[contact_id]
            waiting.state, waiting.agent = "answered", agent
            waiting.waited_s = (at_ms - waiting.arrived_ms) / 1000
            self.roster.busy.add(agent)
            self.holding[agent] = contact_id
            end = at_ms + self.service.seconds(waiting.call, agent, self.by_agent) * 1000
            self.push(end, COMPLETE, contact_id)
            if self.wrap_up_s > 0:
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


# -- one day ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """A change to the day as recorded: agents added (or removed), another strategy;
    `agent_speed`: calls last as long as the agent's speed makes them."""

    agents: int = 0
    strategy: Strategy = Strategy.LONGEST_IDLE
    agent_speed: bool = False

    @property
    def label(self) -> str:
        parts = []
        if self.agents:
            parts.append(f"agents {self.agents:+d}")
        if self.strategy != Strategy.LONGEST_IDLE or self.agent_speed:
            parts.append(self.strategy.value)
        if self.agent_speed:
            parts.append("speeds")
        return ", ".join(parts) or "as recorded"

    def comparisons(self) -> list[WhatIf]:
        """What to replay besides the record: a strategy is compared with longest idle,
        both with agent speeds (the point of a strategy is who takes whom)."""
        if self == WhatIf():
            return []
        if self.strategy == Strategy.LONGEST_IDLE:
            return [self]
        return [
            WhatIf(self.agents, Strategy.LONGEST_IDLE, agent_speed=True),
            WhatIf(self.agents, self.strategy, agent_speed=True),
        ]


@dataclass
class Day:
    """One day's model: its callers, staffing plan and draws."""

    code: str
    calls: list[Call]
    days: dict[str, AgentDay]
    alpha: float
    plan: list[Staffing]
    patience: dict[str, float]
    service: ServiceTimes
    wrap_up_s: float


@dataclass
class Outcome:
    """What one replay of one day produced."""

    figures: Figures
    contacts: list[Waiting]
    commands: int
    elapsed_s: float
    chosen: dict[str, str]  # queue -> the method it announced at the end of the day


def build_day(
    code: str,
    month: list[Call],
    args: argparse.Namespace,
    service: ServiceTimes,
    patience_curve: PatienceCurve,
) -> Day:
    rng = random.Random(f"{args.seed}:{code}")
    calls = sorted((c for c in month if c.day == code), key=lambda c: (c.arrival_s, c.call_id))
    seen = args.staffing == "seen"
    days = agent_days(calls, args.wrap_up_s, holes=not seen)
    alpha = {"record": None, "busy": 0.0, "seen": 1.0}[args.staffing]
    if alpha is None:
        alpha = availability(calls, days)
    patience = patience_of(calls, patience_curve, args.censored, rng)
    service.draw(calls, rng)
    return Day(
        code, calls, days, alpha, staffing_plan(days, alpha), patience, service, args.wrap_up_s
    )


def queues(wrap_up_s: float, strategy: Strategy) -> list[QueueConfig]:
    return [
        QueueConfig(
            name=name,
            skill=name,
            strategy=strategy,
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


def roster_agents(day: Day, what_if: WhatIf) -> tuple[dict[str, set[str]], list[str]]:
    """Every agent's skills, with `what_if.agents` extra agents (when positive) who have
    the skills of the day's busiest agent and average speed."""
    skills = skills_of(day.calls)
    extra: list[str] = []
    if what_if.agents > 0:
        talk: Counter[str] = Counter()
        for call in day.calls:
            if call.answered:
                talk[call.server] += call.service_s
        busiest = min(talk, key=lambda agent: (-talk[agent], agent))
        for index in range(what_if.agents):
            extra.append(f"extra-{index + 1}")
            skills[extra[-1]] = set(skills[busiest])
    return skills, extra


async def replay_day(client: aioredis.Redis, day: Day, what_if: WhatIf) -> Outcome:
    await client.flushdb()
    store = RoutingStore(client, prefix="replay")
    router = Router(store, queues(day.wrap_up_s, what_if.strategy), node_id="replay", region="il")
    await router.publish_configuration(["il"])
    the_day = day_of(day.code)
    epoch_ms = int(datetime(the_day.year, the_day.month, the_day.day, tzinfo=TZ).timestamp() * 1000)
    skills, extra = roster_agents(day, what_if)
    levels = {
        kind: day.service.proficiency([a for a, s in skills.items() if kind in s], kind)
        for kind in TYPES
    }
    for agent_id, kinds in sorted(skills.items()):
        languages = ["he", "en"] if "PE" in kinds else ["he"]
        agent = Agent(
            agent_id,
            "il",
            {kind: levels[kind][agent_id] for kind in sorted(kinds)},
            languages,
            capacity={"voice": 1, "chat": 0},
        )
        await store.upsert_agent(agent, at_ms=epoch_ms)
    pubsub = client.pubsub()
    await pubsub.subscribe(store.keys.events)
    await pubsub.get_message(timeout=5.0)  # the subscribe confirmation
    replay = Replay(
        router,
        pubsub,
        day.calls,
        day.plan,
        Roster(skills, extra, what_if.agents),
        day.patience,
        day.service,
        what_if.agent_speed,
        epoch_ms,
        day.wrap_up_s,
    )
    started = time.perf_counter()
    try:
        await replay.run()
    finally:
        await pubsub.aclose()
    elapsed = time.perf_counter() - started
    figures = Figures()
    for waiting in replay.contacts.values():
        if waiting.state == "queued":
            raise RuntimeError(f"call {waiting.call.call_id} never got an outcome")
        figures.add(waiting.state == "answered", waiting.waited_s)
    end_ms = epoch_ms + 86_400_000
    chosen = {name: await router.ewt_method(name, end_ms) for name in TYPES}
    return Outcome(figures, list(replay.contacts.values()), replay.commands, elapsed, chosen)


# -- figures ----------------------------------------------------------------------------


def wait_errors(contacts: Iterable[Waiting]) -> dict[str, list[float]]:
    """Signed errors (estimate - wait) over answered callers who queued, per method and
    for what was announced."""
    errors: dict[str, list[float]] = defaultdict(list)
    for waiting in contacts:
        if waiting.state != "answered" or waiting.announced_s is None:
            continue
        errors["announced"].append(waiting.announced_s - waiting.waited_s)
        for name, estimate in waiting.estimates.items():
            errors[name].append(estimate - waiting.waited_s)
    return errors


def mae(values: Sequence[float]) -> float:
    return sum(abs(v) for v in values) / len(values) if values else math.nan


def day_figures(day: Day, outcome: Outcome) -> dict[str, Any]:
    """The JSON figures of one replayed day."""
    sim, rec = outcome.figures, recorded_figures(day.calls)
    errors = wait_errors(outcome.contacts)
    announced = errors["announced"]
    figures: dict[str, Any] = {
        "service_level": round(sim.service_level, 4),
        "recorded_service_level": round(rec.service_level, 4),
        "mean_wait_s": round(sim.mean_wait_s, 2),
        "recorded_mean_wait_s": round(rec.mean_wait_s, 2),
        "abandonment": round(sim.abandonment, 4),
        "recorded_abandonment": round(rec.abandonment, 4),
        "ewt_mae_s": round(mae(announced), 2),
        "ewt_bias_s": round(sum(announced) / len(announced), 2) if announced else None,
        "les_mae_s": round(mae(errors["les"]), 2),
        **{f"{name}_mae_s": round(mae(errors[name]), 2) for name in METHODS if name != "les"},
        "ewt_vs_les": round(mae(announced) / mae(errors["les"]), 3) if errors["les"] else None,
        "announced_callers": len(announced),
        "methods_announced": dict(Counter(w.method for w in outcome.contacts if w.method)),
        "methods_chosen": outcome.chosen,
        "calls": len(day.calls),
        "agents": len(day.days),
        "alpha": round(day.alpha, 3),
        "elapsed_s": round(outcome.elapsed_s, 2),
    }
    return figures


def fits(figures: dict[str, Any]) -> bool:
    """Within 5 points of service level, 10 s of mean wait, 3 points of abandonment."""
    return (
        abs(figures["service_level"] - figures["recorded_service_level"]) <= 0.05
        and abs(figures["mean_wait_s"] - figures["recorded_mean_wait_s"]) <= 10
        and abs(figures["abandonment"] - figures["recorded_abandonment"]) <= 0.03
    )


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


def print_day(
    day: Day, figures: dict[str, Any], outcome: Outcome, what_if: list[dict[str, Any]]
) -> None:
    staffed_h = on_duty_seconds(day.plan) / 3600
    talk_h = sum(c.service_s for c in day.calls if c.answered) / 3600
    print(
        f"day {day.code} ({day_of(day.code):%a}): {figures['calls']} callers, "
        f"{figures['agents']} agents; idle agents available α = {day.alpha:.2f}; "
        f"{staffed_h:.0f} agent-hours on duty, recorded talk {talk_h:.0f} h "
        f"({talk_h / staffed_h:.0%}); replayed in {outcome.elapsed_s:.1f} s "
        f"({outcome.commands} routing commands)"
    )
    rows = [
        ("service level (20 s, of answered)", "service_level", "{:.3f}"),
        ("mean wait of answered (s)", "mean_wait_s", "{:.1f}"),
        ("abandonment", "abandonment", "{:.3f}"),
    ]
    widths = [len(other["label"]) + 3 for other in what_if]
    header = f"  {'figure':<34}{'recorded':>10}{'replay':>10}"
    header += "".join(f"{o['label']:>{w}}" for o, w in zip(what_if, widths, strict=True))
    print(header)
    for name, key, form in rows:
        line = f"  {name:<34}{form.format(figures['recorded_' + key]):>10}"
        line += f"{form.format(figures[key]):>10}"
        line += "".join(f"{form.format(o[key]):>{w}}" for o, w in zip(what_if, widths, strict=True))
        print(line)
    print(f"  within 5 points, 10 s and 3 points of the record: {'yes' if fits(figures) else 'NO'}")
    methods = ", ".join(f"{name} {figures[name + '_mae_s']:.1f} s" for name in METHODS)
    print(
        f"  announced wait vs actual, {figures['announced_callers']} answered callers who "
        f"queued: MAE {figures['ewt_mae_s']:.1f} s (bias {figures['ewt_bias_s']:+.1f} s), "
        f"{figures['ewt_vs_les']:.2f} x LES; by method: {methods}"
    )
    print(f"  method each queue announced at the end of the day: {outcome.chosen}")


async def replay_all(args: argparse.Namespace) -> dict[str, Any]:
    rows = read_rows(args.data)
    try:
        month = parse_calls(rows)
    except ValueError as error:
        print(f"{args.data.name}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    known = sorted({c.day for c in month})
    main_day = args.date or busiest_weekday(row["date"] for row in rows)
    if main_day not in known:
        print(f"{args.data.name}: no queued or served calls on date {main_day}", file=sys.stderr)
        raise SystemExit(2)
    if args.days == "none":
        others: list[str] = []
    elif args.days == "all":
        others = [d for d in known if d != main_day]
    elif args.days:
        others = [d.strip() for d in args.days.split(",") if d.strip() and d.strip() != main_day]
        missing = [d for d in others if d not in known]
        if missing:
            print(f"{args.data.name}: no calls on {', '.join(missing)}", file=sys.stderr)
            raise SystemExit(2)
    else:
        others = same_weekday(main_day, known)
    if args.wrap_up_s is None:
        args.wrap_up_s = implied_wrap_up_s(month)
    what_if = WhatIf(args.agents, Strategy(args.strategy))
    service = ServiceTimes(month)
    patience_curve = PatienceCurve(month)
    per_day: dict[str, dict[str, Any]] = {}
    print(
        f"staffing {args.staffing}, censored patience {args.censored}, wrap-up "
        f"{args.wrap_up_s:g} s; what if: {what_if.label}"
    )
    async with private_redis(args.redis_url) as client:
        for code in [main_day, *others]:
            day = build_day(code, month, args, service, patience_curve)
            outcome = await replay_day(client, day, WhatIf())
            figures = day_figures(day, outcome)
            changed: list[dict[str, Any]] = []
            for other_if in what_if.comparisons():
                other = await replay_day(client, day, other_if)
                changed.append(
                    {
                        "label": other_if.label,
                        "service_level": round(other.figures.service_level, 4),
                        "mean_wait_s": round(other.figures.mean_wait_s, 2),
                        "abandonment": round(other.figures.abandonment, 4),
                    }
                )
            if changed:
                figures["what_if"] = changed
            print_day(day, figures, outcome, changed)
            if args.hourly:
                for line in hourly_table(outcome.contacts, day.calls):
                    print("  " + line)
            per_day[code] = figures
    return summary(main_day, per_day, args, what_if)


def summary(
    main_day: str, per_day: dict[str, dict[str, Any]], args: argparse.Namespace, what_if: WhatIf
) -> dict[str, Any]:
    main = per_day[main_day]
    ratios = [f["ewt_vs_les"] for f in per_day.values() if f["ewt_vs_les"] is not None]
    fitting = [code for code, f in per_day.items() if fits(f)]
    beating = [code for code, f in per_day.items() if (f["ewt_vs_les"] or 9) <= 0.75]
    print(
        f"{len(per_day)} days: within the record's tolerances on {len(fitting)}; announced "
        f"wait <= 0.75 x LES on {len(beating)} (ratios {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    return {
        **{k: v for k, v in main.items() if k not in ("methods_announced",)},
        "date": main_day,
        "staffing": args.staffing,
        "wrap_up_s": args.wrap_up_s,
        "what_if_label": what_if.label,
        "days_within_tolerance": len(fitting),
        "days_ewt_le_075_les": len(beating),
        "replay_days": {
            code: {
                k: f[k]
                for k in (
                    "service_level",
                    "recorded_service_level",
                    "mean_wait_s",
                    "recorded_mean_wait_s",
                    "abandonment",
                    "recorded_abandonment",
                    "ewt_mae_s",
                    "les_mae_s",
                    *(f"{m}_mae_s" for m in METHODS if m != "les"),
                    "ewt_vs_les",
                    "alpha",
                    "calls",
                    *(("what_if",) if "what_if" in f else ()),
                )
            }
            for code, f in per_day.items()
        },
    }


def agents_change(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a signed whole number like +2, found {text!r}"
        ) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the Anonymous Bank TSV")
    parser.add_argument("--date", help="YYMMDD, e.g. 990203 (default: the busiest weekday)")
    parser.add_argument(
        "--days",
        help="other days to replay too: YYMMDD,YYMMDD... | all | none "
        "(default: the same weekday in the other weeks)",
    )
    parser.add_argument(
        "--agents",
        type=agents_change,
        default=0,
        help="what if: agents added (+2) or removed (-1) whenever the center is staffed",
    )
    parser.add_argument(
        "--strategy",
        choices=[s.value for s in Strategy],
        default=Strategy.LONGEST_IDLE.value,
        help="what if: another routing strategy (the record is replayed with longest_idle)",
    )
    parser.add_argument(
        "--staffing",
        choices=("record", "busy", "seen"),
        default="record",
        help="record: calibrated between the bounds (default); busy: the lower bound; "
        "seen: the upper bound",
    )
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
    print_json_line(asyncio.run(replay_all(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
