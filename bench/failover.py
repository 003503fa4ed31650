"""Failover and cross-region overflow, measured.

1. Three nodes on loopback (subprocesses) share one Redis; chats arrive at every
   node; the node of europe-west is SIGKILLed mid-load. Prints the time from kill to
   adoption (heartbeat TTL included), and counts contacts lost (created but nowhere:
   not finished and not waiting or with an agent) and duplicated (recorded twice, or
   in two places). Both must be 0.
2. A simulated day of three regions whose peaks differ by time zone (11:00 local in
   Shanghai, Paris, New York), replayed through the real router faster than real time,
   once with cross-region overflow after 30 s of waiting and once without. Prints each
   region's service level (answered within 20 s / answered); the worst region should
   do better with overflow.

Run: .venv/bin/python bench/failover.py [--seed 7] [--hours 24]
(docs/regions.md quotes `--seed 7 --hours 6` and the defaults.)
The last line is JSON: adopt_s, lost, duplicated, worst_sl_with_overflow,
worst_sl_without_overflow.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import aiohttp
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from router.model import Agent, Channel, NewContact, Presence, QueueConfig, Role
from router.service import Router
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.embedded import EmbeddedRedis
from tests.harness import LocalCluster

MEMBERS = [("asia-1", "asia-east"), ("eu-1", "europe-west"), ("us-1", "america-east")]

# -- part 1: SIGKILL one of three nodes ----------------------------------------------


async def failover_run(workdir: Path, chats_per_node: int) -> dict[str, float]:
    with EmbeddedRedis(workdir / "redis", die_with_parent=True) as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        store = RoutingStore(client)
        users = Sessions(UserStore(client), RoutingStore(client), SessionPolicy(scrypt_log2_n=12))
        for node_id, region in MEMBERS:
            for n in range(3):
                agent_id = f"{node_id}-a{n}"
                await store.upsert_agent(
                    Agent(agent_id, region, {"booking": 4}, ["en"], {"voice": 1, "chat": 3})
                )
                await users.save_user(agent_id, Role.AGENT, "bench-secret")
        created: list[str] = []
        with LocalCluster(server.url, workdir, heartbeat_ttl_s=2.0) as cluster:
            cluster.start(MEMBERS)
            async with aiohttp.ClientSession() as http:
                for node_id, _ in MEMBERS:
                    for n in range(3):
                        url = cluster.node(node_id).url
                        agent_id = f"{node_id}-a{n}"
                        response = await http.post(
                            f"{url}/api/v1/agents/login",
                            json={"agent_id": agent_id, "password": "bench-secret"},
                        )
                        token = (await response.json())["token"]
                        await http.put(
                            f"{url}/api/v1/agents/{agent_id}/state",
                            json={"state": "available"},
                            headers={"Authorization": f"Bearer {token}"},
                        )

                async def chats(node_id: str, count: int) -> None:
                    """Anonymous chats: their home region is that of the node they reach."""
                    for _ in range(count):
                        response = await http.post(
                            f"{cluster.node(node_id).url}/api/v1/contacts",
                            json={"channel": "chat", "queue": "booking", "language": "en"},
                        )
                        if response.status == 201:
                            created.append((await response.json())["contact_id"])

                await asyncio.gather(*(chats(n, chats_per_node) for n, _ in MEMBERS))
                cluster.node("eu-1").kill()
                killed = time.time()
                survivors = [n for n, _ in MEMBERS if n != "eu-1"]
                await asyncio.gather(*(chats(n, chats_per_node) for n in survivors))
                adopted_at = None
                for _ in range(300):
                    for raw in await client.lrange("sb:adoptions", 0, -1):
                        adoption = json.loads(raw)
                        if adoption["dead_node"] == "eu-1" and adoption["heir"] != "eu-1":
                            adopted_at = adoption["at"]
                    if adopted_at:
                        break
                    await asyncio.sleep(0.05)
        lost, duplicated = await account(store, created)
        await client.aclose()
    return {
        "adopt_s": round(adopted_at - killed, 2) if adopted_at else math.inf,
        "lost": lost,
        "duplicated": duplicated,
        "created": len(created),
    }


async def account(store: RoutingStore, created: list[str]) -> tuple[int, int]:
    records = Counter([record["contact_id"] async for record in store.records()])
    offered = set(await store.client.zrange(f"{store.keys.tag}offers", 0, -1))
    lost = duplicated = 0
    for contact_id in created:
        contact = await store.get_contact(contact_id)
        if contact is None:
            lost += 1
            continue
        places = records[contact_id]
        places += await store.queue_position(contact.queue, contact_id) is not None
        places += contact_id in offered
        places += contact.state.value == "connected"
        if places == 0:
            lost += 1
        elif places > 1:
            duplicated += 1
    return lost, duplicated


# -- part 2: three regions, peaks in their own time zones -----------------------------

UTC_OFFSET_H = {"asia-east": 8, "europe-west": 1, "america-east": -5}


@dataclass(order=True)
class Event:
    at_ms: int
    kind: str = field(compare=False)
    contact_id: str = field(compare=False, default="")
    region: str = field(compare=False, default="")


def arrival_rate(region: str, utc_hour: float, base_per_s: float) -> float:
    """A morning peak at 11:00 local, three times the base rate."""
    local = (utc_hour + UTC_OFFSET_H[region]) % 24
    return base_per_s * (1 + 2 * math.exp(-((local - 11) ** 2) / 8))


def arrivals(rng: random.Random, hours: float, base_per_s: float) -> list[tuple[int, str]]:
    """Poisson arrivals by thinning, per region."""
    result = []
    peak = base_per_s * 3
    for region in UTC_OFFSET_H:
        t = 0.0
        while True:
            t += rng.expovariate(peak)
            if t >= hours * 3600:
                break
            if rng.random() < arrival_rate(region, t / 3600, base_per_s) / peak:
                result.append((int(t * 1000), region))
    return sorted(result)


class OverflowDay(TypedDict):
    """A simulated day's figures per region, and the worst region's service level."""

    service_level: dict[str, float]
    abandoned: dict[str, int]
    answered: dict[str, int]
    worst: float


async def overflow_day(
    server_url: str, overflow: bool, seed: int, hours: float, agents_per_region: int
) -> OverflowDay:
    client = aioredis.Redis.from_url(server_url, decode_responses=True)
    await client.flushall()
    queue = QueueConfig(
        name="booking",
        skill="booking",
        ring_s=60,
        wrap_up_s=0,
        answer_within_s=20,
        relax_language_after_s=None,
        relax_region_after_s=30 if overflow else None,
        relax_proficiency_after_s=None,
    )
    store = RoutingStore(client)
    router = Router(store, [queue], node_id="sim", region="europe-west")
    await router.publish_configuration(list(UTC_OFFSET_H))
    for region in UTC_OFFSET_H:
        for n in range(agents_per_region):
            agent = Agent(f"{region}-{n}", region, {"booking": 3}, ["en"], {"voice": 1, "chat": 0})
            await store.upsert_agent(agent, at_ms=0)
            await router.set_presence(agent.agent_id, Presence.AVAILABLE, at_ms=0)
    rng = random.Random(seed)
    events: list[Event] = [
        Event(at, "arrive", region=region) for at, region in arrivals(rng, hours, 0.012)
    ]
    heapq.heapify(events)
    tick_ms = 2000
    for at in range(0, int(hours * 3600 * 1000), tick_ms):
        heapq.heappush(events, Event(at, "tick"))
    home: dict[str, str] = {}
    arrived: dict[str, int] = {}
    answered: dict[str, list[float]] = {region: [] for region in UTC_OFFSET_H}
    abandoned: Counter[str] = Counter()

    async def take_offers(now: int) -> None:
        """Agents answer at once; talk time exponential, mean 180 s."""
        for contact_id in await client.zrange(f"{store.keys.tag}offers", 0, -1):
            assert isinstance(contact_id, str)  # the client decodes: redis's types allow bytes
            offered = await store.get_contact(contact_id)
            assert offered is not None
            contact = await router.accept(contact_id, offered.agent_id, at_ms=now)
            answered[home[contact_id]].append((now - arrived[contact_id]) / 1000)
            heapq.heappush(
                events, Event(now + int(rng.expovariate(1 / 180) * 1000), "end", contact.contact_id)
            )

    while events:
        event = heapq.heappop(events)
        now = event.at_ms
        if event.kind == "arrive":
            contact = await router.create_contact(
                NewContact(Channel.VOICE, "booking", "en", region=event.region), at_ms=now
            )
            home[contact.contact_id] = event.region
            arrived[contact.contact_id] = now
            patience = int(rng.expovariate(1 / 240) * 1000)
            heapq.heappush(events, Event(now + patience, "give_up", contact.contact_id))
        elif event.kind == "give_up":
            waiting = await store.get_contact(event.contact_id)
            if waiting is not None and waiting.state.value == "queued":
                await router.abandon(event.contact_id, at_ms=now)
                abandoned[home[event.contact_id]] += 1
        elif event.kind == "end":
            await router.complete(event.contact_id, at_ms=now)
        else:
            await router.tick(at_ms=now)
        await take_offers(now)
    await client.aclose()
    levels = {
        region: sum(wait <= 20 for wait in waits) / len(waits) if waits else 0.0
        for region, waits in answered.items()
    }
    return {
        "service_level": levels,
        "abandoned": dict(abandoned),
        "answered": {region: len(w) for region, w in answered.items()},
        "worst": min(levels.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--agents-per-region", type=int, default=6)
    parser.add_argument("--chats-per-node", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        failover = asyncio.run(failover_run(Path(tmp), args.chats_per_node))
        print(f"failover: {failover}")
        with EmbeddedRedis(Path(tmp) / "sim", die_with_parent=True) as server:
            days = {}
            for overflow in (True, False):
                started = time.monotonic()
                day = asyncio.run(
                    overflow_day(
                        server.url, overflow, args.seed, args.hours, args.agents_per_region
                    )
                )
                days[overflow] = day
                label = "with overflow" if overflow else "without overflow"
                print(f"{label}: {day} ({time.monotonic() - started:.0f}s)")
    print(
        json.dumps(
            {
                "adopt_s": failover["adopt_s"],
                "lost": failover["lost"],
                "duplicated": failover["duplicated"],
                "worst_sl_with_overflow": round(days[True]["worst"], 3),
                "worst_sl_without_overflow": round(days[False]["worst"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
