"""SLA timers on a simulated day of chats with cases over three regions, and what the
timers cost the routing rate.

The day: chats arrive in each region's opening hours (Shanghai, Paris, New York, with
their public holidays), each opens a case (a `contact` rule), is routed by the real
routing function on an embedded Redis, accepted, answered after a heavy-tailed delay,
goes back and forth (next responses), is completed and its case solved, then closed by
the follow-up timer. The clock is simulated (every call takes its `at_ms`), so a day
runs in seconds through the very same code; SLA timers count business time. A chat
that waits too long (queued, or ringing) breaches its first-response target and is
escalated (priority raised, moved to the senior queue, a ringing offer revoked). Figures
come from the case records, as the SLA report reads them: attainment (timers met /
timers met or breached: cancelled ones are left out), breaches, escalations for breaches
(each breach must be escalated exactly once), median first response time (of the
responses given), and how many ringing offers an escalation revoked (a chat moved while
it rang).

The cost: decisions per second (a chat created and offered, then accepted, answered and
completed) flat out, in alternating rounds of one run, of three set-ups: plain routing;
cases (every chat opens one by a rule, one chat in five is a returning customer linked
to a live case, the answer is tracked) without SLA policies; and the same with a policy
whose timers tick in the same process (one chat in ten is not answered and breaches its
first response within seconds, so escalations run while decisions are measured).
`routing_ratio_with_sla` is the last over plain routing (what a deployment pays for
cases and timers), `routing_ratio_timers_only` the last over cases without policies.

    .venv/bin/python bench/sla.py
    .venv/bin/python bench/sla.py --chats-per-region 600 --rounds 5 --round-s 2
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import heapq
import itertools
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from _common import print_json_line, redis_url

from router.access import Principal
from router.cases.model import (
    CaseRule,
    CaseSettings,
    CaseStatus,
    Escalation,
    RuleTrigger,
    SlaPolicy,
)
from router.cases.service import CaseChange, Cases
from router.cases.store import CaseStore
from router.chat import Message
from router.errors import RoutingError
from router.model import (
    Agent,
    Channel,
    Contact,
    ContactState,
    NewContact,
    Presence,
    QueueConfig,
    Role,
    Strategy,
)
from router.reports.sla import sla_report
from router.service import Router
from router.store import RoutingStore
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.hours import OpeningHours


@dataclass(frozen=True)
class Region:
    name: str
    hours: OpeningHours
    holidays: str
    language: str


REGIONS = (
    Region("asia-east", OpeningHours("Asia/Shanghai", "07:00", "23:00"), "CN", "zh"),
    Region("europe-west", OpeningHours("Europe/Paris", "07:00", "22:00"), "FR", "fr"),
    Region("america-east", OpeningHours("America/New_York", "06:00", "23:00"), "US-NY", "en"),
)
SERVICE_QUEUES = ("booking", "baggage")
STEP_MS = 10_000
ADMIN = Principal("bench", Role.ADMIN)


class Hub:
    """Live notifications are counted, not sent (no WebSocket in a bench)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    async def publish(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type"))
        self.counts[kind] = self.counts.get(kind, 0) + 1


class Clock:
    def __init__(self, at_ms: int) -> None:
        self.at_ms = at_ms

    def __call__(self) -> int:
        return self.at_ms


def queues() -> list[QueueConfig]:
    common: dict[str, Any] = {
        "wrap_up_s": 0,
        "ring_s": 15,
        "fallback_languages": ("en",),
        "relax_language_after_s": 60,
        "relax_region_after_s": 120,
        "relax_proficiency_after_s": 180,
    }
    return [
        QueueConfig("booking", "booking", Strategy.LONGEST_IDLE, priority=2, **common),
        QueueConfig("baggage", "baggage", Strategy.MOST_SKILLED, **common),
        QueueConfig("senior", "senior", Strategy.MOST_SKILLED, priority=5, **common),
    ]


def case_settings(*, fast: bool = False) -> CaseSettings:
    """Targets of the day (business time), or of the rate rounds (`fast`: seconds,
    around the clock, so that timers fire while decisions are measured)."""
    escalation = Escalation(raise_priority=2, move_to="senior", notify=True)
    if fast:
        policies: tuple[SlaPolicy, ...] = (
            SlaPolicy(
                "fast",
                first_response_s=2,
                warn_at=0.5,
                around_the_clock=True,
                escalation=escalation,
            ),
        )
    else:
        policies = (
            SlaPolicy(
                "gold",
                tiers=("gold",),
                first_response_s=90,
                next_response_s=60,
                resolution_s=1800,
                warn_at=0.75,
                escalation=escalation,
            ),
            SlaPolicy(
                "standard",
                first_response_s=180,
                next_response_s=120,
                resolution_s=3600,
                escalation=escalation,
            ),
        )
    return CaseSettings(
        policies=policies,
        rules=(CaseRule("every chat", RuleTrigger.CONTACT),),
        hours={region.name: region.hours for region in REGIONS},
        calendars={region.name: HolidayCalendar.parse(region.holidays) for region in REGIONS},
        prefer_owner_s=60,
        close_after_s=1800,
    )


def agents(per_region: int, seniors: int, rng: random.Random, prefix: str = "") -> list[Agent]:
    found = []
    for region in REGIONS:
        for index in range(per_region + seniors):
            senior = index >= per_region
            skills = {"senior": 5} if senior else {q: rng.randint(2, 5) for q in SERVICE_QUEUES}
            languages = sorted({"en", region.language, rng.choice(["en", "zh", "fr", "es"])})
            found.append(
                Agent(
                    f"{prefix}{region.name}-{index}",
                    region.name,
                    skills,
                    languages,
                    capacity={"voice": 1, "chat": 2},
                )
            )
    return found


async def make_router(client: aioredis.Redis, prefix: str, staff: Sequence[Agent]) -> Router:
    router = Router(RoutingStore(client, prefix), queues(), node_id="bench", region=REGIONS[0].name)
    await router.publish_configuration([region.name for region in REGIONS])
    for agent in staff:
        await router.upsert_agent(agent)
        await router.set_presence(agent.agent_id, Presence.AVAILABLE, at_ms=0)
    return router


# -- the day ----------------------------------------------------------------------------------


def arrivals(day: dt.date, per_region: int, rng: random.Random) -> list[tuple[int, Region, int]]:
    """(ms, region, index) of each chat: a day's volume spread over the region's open
    hours, busier at midday (a sine over the open span)."""
    found = []
    index = itertools.count()
    for region in REGIONS:
        zone = ZoneInfo(region.hours.timezone)
        opens = dt.datetime.combine(day, dt.time.fromisoformat(region.hours.open), zone)
        closes = dt.datetime.combine(day, dt.time.fromisoformat(region.hours.close), zone)
        span = (closes - opens).total_seconds()
        for _ in range(per_region):
            while True:  # rejection sampling of the daily shape
                offset = rng.uniform(0, span)
                if rng.random() < 0.3 + 0.7 * math.sin(math.pi * offset / span):
                    break
            at = int((opens.timestamp() + offset) * 1000)
            found.append((at, region, next(index)))
    return sorted(found, key=lambda item: item[0])


@dataclass
class Chat:
    contact: Contact
    agent: str = ""
    replies_left: int = 0


class Day:
    """The discrete-event simulation of one day's chats."""

    def __init__(self, router: Router, cases: Cases, clock: Clock, rng: random.Random) -> None:
        self.router, self.cases, self.clock, self.rng = router, cases, clock, rng
        self.events: list[tuple[int, int, Callable[[int], Awaitable[None]]]] = []
        self.sequence = itertools.count()
        self.waiting: dict[str, Chat] = {}
        self.decisions = 0
        self.revoked = 0  # offers an escalation revoked (moved while ringing)

    def at(self, when: int, action: Callable[[int], Awaitable[None]]) -> None:
        heapq.heappush(self.events, (when, next(self.sequence), action))

    def delay_ms(self, median_s: float, sigma: float = 1.0) -> int:
        return int(median_s * math.exp(self.rng.gauss(0, sigma)) * 1000)

    async def arrive(self, when: int, region: Region, index: int) -> None:
        self.clock.at_ms = when
        tier = "gold" if self.rng.random() < 0.1 else "standard"
        language = region.language if self.rng.random() < 0.8 else "en"
        new = NewContact(
            Channel.CHAT,
            self.rng.choice(SERVICE_QUEUES),
            language,
            customer_id=f"cust-{index}",
            customer_tier=tier,
            region=region.name,
        )
        contact = await self.router.create_contact(new, at_ms=when)
        self.decisions += 1
        chat = Chat(contact, replies_left=self.rng.randint(0, 3))
        self.noticed(chat, contact, when)

    def noticed(self, chat: Chat, contact: Contact, now: int) -> None:
        if contact.state == ContactState.OFFERED:
            offered = contact.timestamps.get("offered_at", now)
            chat.agent = contact.agent_id
            self.at(
                max(offered, now) + self.rng.randint(2_000, 8_000), lambda t: self.accept(chat, t)
            )
        else:
            self.waiting[contact.contact_id] = chat

    async def accept(self, chat: Chat, when: int) -> None:
        try:
            contact = await self.router.accept(chat.contact.contact_id, chat.agent, at_ms=when)
        except RoutingError:
            # A breach moved it while it rang (the offer revoked): it waits, or rings at
            # someone else, in the escalation queue.
            contact = await self.router.get_contact(chat.contact.contact_id)
            if contact.state not in (ContactState.QUEUED, ContactState.OFFERED):
                raise
            self.revoked += 1
            self.noticed(chat, contact, when)
            return
        chat.contact = contact
        self.at(when + self.delay_ms(45), lambda t: self.agent_says(chat, t))

    async def agent_says(self, chat: Chat, when: int) -> None:
        await self.post(chat, chat.agent, when)
        if chat.replies_left:
            chat.replies_left -= 1
            self.at(when + self.delay_ms(40), lambda t: self.customer_says(chat, t))
        else:
            self.at(when + self.delay_ms(30), lambda t: self.complete(chat, t))

    async def customer_says(self, chat: Chat, when: int) -> None:
        await self.post(chat, "customer", when)
        self.at(when + self.delay_ms(35), lambda t: self.agent_says(chat, t))

    async def post(self, chat: Chat, sender: str, when: int) -> None:
        self.clock.at_ms = when
        message = Message("m", chat.contact.contact_id, sender, "…", chat.contact.language, when)
        await self.cases.message_posted(chat.contact, message)

    async def complete(self, chat: Chat, when: int) -> None:
        await self.router.complete(chat.contact.contact_id, chat.agent, at_ms=when)
        case_id = await self.cases.store.case_of_contact(chat.contact.contact_id)
        if case_id:
            await self.cases.change(
                ADMIN, case_id, CaseChange(status=CaseStatus.SOLVED), at_ms=when
            )

    async def check_waiting(self, now: int) -> None:
        """Waiting chats offered since (by a freed agent, a relaxation step, a move)."""
        for contact_id, chat in list(self.waiting.items()):
            contact = await self.router.get_contact(contact_id)
            if contact.state == ContactState.OFFERED:
                del self.waiting[contact_id]
                self.noticed(chat, contact, now)
            elif contact.is_terminal:
                del self.waiting[contact_id]

    async def run(self, chats: list[tuple[int, Region, int]], until: int) -> None:
        for when, region, index in chats:
            self.at(when, partial(self.arrive, region=region, index=index))
        now = chats[0][0] - chats[0][0] % STEP_MS
        while now <= until or self.events:
            while self.events and self.events[0][0] <= now:
                when, _, action = heapq.heappop(self.events)
                await action(when)
            await self.router.tick(at_ms=now)
            await self.check_waiting(now)
            await self.cases.tick(at_ms=now)
            now += STEP_MS
        for _ in range(400):  # follow-ups close after close_after: run the clock on
            await self.cases.tick(at_ms=now)
            now += STEP_MS


async def simulate_day(client: aioredis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    day = dt.date.fromisoformat(args.date)
    router = await make_router(client, "day", agents(args.agents_per_region, 2, rng))
    start = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000) - 86_400_000
    clock = Clock(start)
    cases = Cases(
        CaseStore(client, "day"), router, case_settings(), Hub(), clock=clock, node_id="bench"
    )
    router.intake = cases
    chats = arrivals(day, args.chats_per_region, rng)
    simulation = Day(router, cases, clock, rng)
    started = time.perf_counter()
    await simulation.run(chats, chats[-1][0] + 3_600_000)
    elapsed = time.perf_counter() - started
    records = await cases.records(0)
    report = sla_report(records, 0, 2**62)
    # As the SLA report counts: cancelled timers (a case solved with a response owed
    # before its target) are neither met nor missed, and no response time.
    ended = [r for r in records if r.get("kind") == "timer" and r["outcome"] != "cancelled"]
    met = sum(r["outcome"] == "met" for r in ended)
    frt = [
        float(r["wall_s"])
        for r in ended
        if r["timer"] == "first_response" and r.get("responded") != "0"
    ]
    for row in report.policies:
        print(
            f"policy {row.policy}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in row.figures().items())
        )
    for queue in report.queues:
        print(
            f"queue {queue.queue}: "
            + ", ".join(f"{k} {_fmt(v)}" for k, v in queue.figures().items())
        )
    print(f"escalations by cause: {report.causes}")
    print(
        f"day of {len(chats)} chats simulated in {elapsed:.1f} s ({simulation.decisions} created)"
    )
    return {
        "chats": len(chats),
        "sla_attainment": round(met / len(ended), 4) if ended else None,
        "breaches": report.breaches,
        "escalated": report.sla_escalations,
        "frt_p50_s": round(statistics.median(frt), 1) if frt else None,
        "offers_revoked_by_escalation": simulation.revoked,
        "day_simulated_s": round(elapsed, 1),
    }


def _fmt(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


# -- the cost on routing --------------------------------------------------------------------


@dataclass
class Mode:
    """One way of running the rate rounds: plain routing, cases, cases with timers."""

    name: str
    router: Router
    cases: Cases | None = None
    counter: itertools.count[int] = field(default_factory=itertools.count)
    rates: list[float] = field(default_factory=list)


async def decisions_per_s(mode: Mode, round_s: float, workers: int, rng: random.Random) -> float:
    """Chats created per second, flat out; an offered one is accepted, answered (nine in
    ten at once: the rest breach their first response) and completed."""
    done = 0
    deadline = time.perf_counter() + round_s
    router, cases = mode.router, mode.cases

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            number = next(mode.counter)
            returning = rng.random() < 0.2 and number > 100
            customer = f"c-{rng.randrange(number) if returning else number}"
            new = NewContact(
                Channel.CHAT,
                rng.choice(SERVICE_QUEUES),
                "en",
                customer_id=customer,
                region=rng.choice(REGIONS).name,
            )
            contact = await router.create_contact(new)
            done += 1
            if contact.state != ContactState.OFFERED:
                await router.abandon(contact.contact_id, "bench")
                continue
            await router.accept(contact.contact_id, contact.agent_id)
            if cases is not None and rng.random() < 0.9:
                message = Message("m", contact.contact_id, contact.agent_id, "…", "en", 0)
                await cases.message_posted(contact, message)
            await router.complete(contact.contact_id, contact.agent_id)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.perf_counter() - started)


async def routing_cost(client: aioredis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    """Alternating rounds of the three modes; each mode's best round counts."""
    rng = random.Random(args.seed + 1)
    staff = agents(args.rate_agents_per_region, 0, rng)
    hub = Hub()
    modes = [Mode("plain", await make_router(client, "plain", staff))]
    for name, settings in (
        ("cases", replace(case_settings(fast=True), policies=())),
        ("timed", case_settings(fast=True)),
    ):
        router = await make_router(client, name, staff)
        cases = Cases(CaseStore(client, name), router, settings, hub, node_id="bench")
        router.intake = cases
        modes.append(Mode(name, router, cases))

    async def timers(cases: Cases, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await cases.tick()
            await asyncio.sleep(0.05)

    for _ in range(args.rounds):
        for mode in modes:
            stop = asyncio.Event()
            ticking = asyncio.create_task(timers(mode.cases, stop)) if mode.cases else None
            try:
                mode.rates.append(await decisions_per_s(mode, args.round_s, args.workers, rng))
            finally:
                stop.set()
                if ticking is not None:
                    await ticking
        print("round: " + ", ".join(f"{m.name} {m.rates[-1]:.0f}/s" for m in modes))
    plain, cases_only, timed = (max(mode.rates) for mode in modes)
    breaches = hub.counts.get("sla_breached", 0)
    print(f"while measuring: {breaches} SLA breaches escalated by the ticking timers")
    return {
        "decisions_per_s_plain": round(plain),
        "decisions_per_s_cases": round(cases_only),
        "decisions_per_s_with_sla": round(timed),
        "routing_ratio_with_sla": round(timed / plain, 3),
        "routing_ratio_timers_only": round(timed / cases_only, 3),
        "breaches_while_measuring": breaches,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with redis_url(args.redis) as url:
        client = aioredis.Redis.from_url(url, decode_responses=True)
        try:
            day = await simulate_day(client, args)
            cost = await routing_cost(client, args)
        finally:
            await client.aclose()
    return {**day, **cost}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2025-03-04", help="the simulated day (YYYY-MM-DD)")
    parser.add_argument("--chats-per-region", type=int, default=1000)
    parser.add_argument("--agents-per-region", type=int, default=6)
    parser.add_argument("--rate-agents-per-region", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="rate rounds of each kind")
    parser.add_argument("--round-s", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4, help="concurrent clients in a round")
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--redis", help="a Redis URL (default: an embedded server of our own)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print_json_line(asyncio.run(main(parse_args())))
