"""SLA timers on a simulated day of chats with cases over three regions, and what the
timers cost the routing rate.

The day: chats arrive in each region's opening hours (Shanghai, Paris, New York, with
their public holidays), each opens a case (a `contact` rule), is routed by the real
routing function on an embedded Redis, accepted, answered after a heavy-tailed delay,
goes back and forth (next responses), is completed and its case solved, then closed by
the follow-up timer. The clock is simulated (every call takes its `at_ms`), so a day
runs in seconds through the very same code; SLA timers count business time. A chat
that waits too long breaches its first-response target and is escalated (priority
raised, moved to the senior queue). Figures come from the case records, as the SLA
report reads them: attainment (timers met / timers ended), breaches, escalations for
breaches (each breach must be escalated exactly once), median first response time.

The cost: decisions per second (a chat created and offered, then accepted and
completed) without cases, and with cases (every chat opens a case, one in five is a
returning customer linked to a live case, SLA timers ticking in the same process and
breaching), in alternating rounds of one run; the ratio is the cost.

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
from dataclasses import dataclass
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
                resolution_s=6,
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
        contact = await self.router.accept(chat.contact.contact_id, chat.agent, at_ms=when)
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
            self.at(when, lambda t, r=region, i=index: self.arrive(t, r, i))
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
    ended = [r for r in records if r.get("kind") == "timer"]
    met = sum(r["outcome"] == "met" for r in ended)
    frt = [float(r["wall_s"]) for r in ended if r["timer"] == "first_response"]
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
        "day_simulated_s": round(elapsed, 1),
    }


def _fmt(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


# -- the cost on routing --------------------------------------------------------------------


async def decisions_per_s(
    router: Router, round_s: float, workers: int, counter: itertools.count[int], rng: random.Random
) -> float:
    """Chats created (and, when offered, accepted and completed) per second, flat out."""
    done = 0
    deadline = time.perf_counter() + round_s

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            number = next(counter)
            returning = rng.random() < 0.2 and number > 100
            customer = f"c-{rng.randrange(number) if returning else number}"
            region = rng.choice(REGIONS)
            new = NewContact(
                Channel.CHAT,
                rng.choice(SERVICE_QUEUES),
                "en",
                customer_id=customer,
                region=region.name,
            )
            contact = await router.create_contact(new)
            done += 1
            if contact.state == ContactState.OFFERED:
                await router.accept(contact.contact_id, contact.agent_id)
                await router.complete(contact.contact_id, contact.agent_id)
            else:
                await router.abandon(contact.contact_id, "bench")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.perf_counter() - started)


async def routing_cost(client: aioredis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed + 1)
    staff = agents(args.rate_agents_per_region, 0, rng)
    plain = await make_router(client, "plain", staff)
    timed = await make_router(client, "timed", staff)
    hub = Hub()
    cases = Cases(CaseStore(client, "timed"), timed, case_settings(fast=True), hub, node_id="bench")
    timed.intake = cases

    async def timers(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await cases.tick()
            await asyncio.sleep(0.05)

    without, with_sla = [], []
    counters = {"plain": itertools.count(), "timed": itertools.count()}
    for _ in range(args.rounds):
        without.append(
            await decisions_per_s(plain, args.round_s, args.workers, counters["plain"], rng)
        )
        stop = asyncio.Event()
        ticking = asyncio.create_task(timers(stop))  # the timers tick in the cases' rounds only
        try:
            with_sla.append(
                await decisions_per_s(timed, args.round_s, args.workers, counters["timed"], rng)
            )
        finally:
            stop.set()
            await ticking
        print(f"round: {without[-1]:.0f} decisions/s without cases, {with_sla[-1]:.0f} with")
    breaches = hub.counts.get("sla_breached", 0)
    print(f"while measuring: {breaches} SLA breaches escalated in the background")
    best_without, best_with = max(without), max(with_sla)
    return {
        "decisions_per_s_without_sla": round(best_without),
        "decisions_per_s_with_sla": round(best_with),
        "routing_ratio_with_sla": round(best_with / best_without, 3),
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
