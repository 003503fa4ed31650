"""A region whose every node died fails its waiting chats over at adoption, as placement
does for a new chat (docs/regions.md, Failover): they are placed in a region that can
serve them and offered there at once, not held for the queue's region relaxation. A
connected chat stays with its agent; a region with a live node keeps its chats, and so
does a clean stop (its agents stay signed in). In-process nodes on the real Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from regions.model import RegionConfig
from regions.service import Regions
from regions.store import MembershipStore
from router.model import Agent, Channel, Contact, ContactState, NewContact, Presence, QueueConfig
from router.service import Router
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from tests.loops import end_loops, until

TTL_S = 1.0
WATCH_S = 0.1
EU, US = "europe-west", "america-east"
REGIONS = [
    RegionConfig(EU, "Europe/Paris", neighbours=(US,)),
    RegionConfig(US, "America/New_York", neighbours=(EU,)),
]
# Nothing relaxes during the test: a chat reaches another region's agents only if it is
# placed there.
QUEUES = [
    QueueConfig(
        "booking",
        "booking",
        ring_s=60,
        wrap_up_s=0,
        relax_language_after_s=600,
        relax_region_after_s=600,
        relax_proficiency_after_s=600,
    )
]
PLACED = f"adopted by us-1: region {EU} has no live node; placed in {US}"


def process(client: aioredis.Redis, node_id: str, region: str) -> Regions:
    """What one process of node `node_id` builds: its router and its regions' service."""
    store = RoutingStore(client)
    router = Router(store, QUEUES, node_id=node_id, region=region)
    sessions = Sessions(UserStore(client), store, SessionPolicy(scrypt_log2_n=12))
    return Regions(router, MembershipStore(client, "sb", TTL_S), sessions, REGIONS, node_id)


async def no_load() -> dict[str, int]:
    return {}


@contextlib.asynccontextmanager
async def running(regions: Regions) -> AsyncIterator[Router]:
    """The node's heartbeat and failover watcher run inside; leaving without `leave()` is
    a crash (no goodbye)."""
    stop = asyncio.Event()
    region = regions.router.region
    tasks = [
        asyncio.create_task(regions.heartbeat(region, "http://127.0.0.1:9", no_load, stop)),
        asyncio.create_task(regions.watch(WATCH_S, stop)),
    ]
    try:
        await until(lambda: regions.membership.heartbeat(regions.node_id), 2.0)
        yield regions.router
    finally:
        await end_loops(stop, tasks)


def adopted(heir: Regions, dead: str) -> Callable[[], Awaitable[Any]]:
    async def probe() -> dict[str, Any] | None:
        found = [a for a in await heir.adoptions() if a["dead_node"] == dead]
        return found[0] if found else None

    return probe


async def seed(router: Router, *agents: tuple[str, str, int]) -> None:
    await router.publish_configuration([EU, US])
    for agent_id, region, chats in agents:
        await router.store.upsert_agent(
            Agent(agent_id, region, {"booking": 4}, ["en"], {"voice": 0, "chat": chats})
        )


async def available(router: Router, agent_id: str) -> None:
    """The agent signs in at the router's node and is ready."""
    await router.login(agent_id)
    await router.set_presence(agent_id, Presence.AVAILABLE)


async def serving(router: Router, agent_id: str, at: Router) -> str:
    """The agent, signed in at `at`, accepts a new chat of `router`'s node and region."""
    await available(at, agent_id)
    chat = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
    assert (chat.state, chat.agent_id) == (ContactState.OFFERED, agent_id)
    await at.accept(chat.contact_id, agent_id)
    return chat.contact_id


async def waiting(
    router: Router, count: int, language: str = "en", region: str | None = None
) -> list[str]:
    ids = []
    for _ in range(count):
        chat = await router.create_contact(
            NewContact(Channel.CHAT, "booking", language, region=region)
        )
        assert chat.state == ContactState.QUEUED
        ids.append(chat.contact_id)
    return ids


async def ringing_ids(router: Router, agent_id: str) -> set[str]:
    return {contact.contact_id for contact, _ in await router.ringing_at(agent_id)}


async def test_a_dead_regions_waiting_chats_are_offered_in_another_region_at_adoption(
    redis_client: aioredis.Redis,
) -> None:
    eu1, us1 = process(redis_client, "eu-1", EU), process(redis_client, "us-1", US)
    await seed(us1.router, ("al", US, 3), ("eve", EU, 1), ("bob", EU, 1))
    async with running(us1) as us:
        async with running(eu1) as eu:
            # eve signed in at us-1 (her desk's node lives on) holds a chat of eu-1; bob,
            # signed in at eu-1, holds another; two wait in europe-west, and one of
            # america-east that came in at eu-1 waits for a French speaker nobody is.
            kept = await serving(eu, "eve", at=us)
            given_back = await serving(eu, "bob", at=eu)
            queued = await waiting(eu, 2)
            [other] = await waiting(eu, 1, language="fr", region=US)
            await available(us, "al")
            assert await ringing_ids(us, "al") == set()  # europe-west's, and it has a node
        # eu-1 died: europe-west has no live node left.
        adoption = await until(adopted(us1, "eu-1"), 2 * TTL_S + 3.0)
        assert adoption is not None, "eu-1 was never adopted"
        assert (adoption["heir"], adoption["agents"], adoption["placed"]) == ("us-1", ["bob"], 3)
        # Offered to al at once: by the adoption itself, not after 600 s of waiting.
        offered = {*queued, given_back}
        assert await until(lambda: _all_ringing(us, "al", offered), 1.0)
        for contact_id in offered:
            chat = await us.get_contact(contact_id)
            assert (chat.region, chat.node) == (US, "us-1")
            assert chat.placement.endswith(PLACED), chat.placement
            assert PLACED in chat.explanation, chat.explanation
            assert "-> al" in chat.explanation[-1]
        # eve's chat stays hers, where it was; the america-east chat keeps its region.
        connected = await us.get_contact(kept)
        assert (connected.state, connected.agent_id, connected.region) == (
            ContactState.CONNECTED,
            "eve",
            EU,
        )
        assert (await us.get_agent("eve")).presence == Presence.AVAILABLE
        still = await us.get_contact(other)
        assert (still.state, still.region, still.node) == (ContactState.QUEUED, US, "us-1")
        assert not any("placed in" in line for line in still.explanation)

        # The report counts it where it waited and was served, and says why.
        await us.accept(queued[0], "al")
        await us.complete(queued[0], "al")
        [record] = [r async for r in us.store.records() if r["contact_id"] == queued[0]]
        assert record["region"] == US and record["placement"].endswith(PLACED)

        # Europe-west comes back: its node's restart finds nothing of its own to adopt
        # and leaves the chats placed elsewhere where they are.
        back = process(redis_client, "eu-1", EU)
        recovered = await back.recover_previous_run()  # before it serves, as a node does
        assert recovered is not None and (recovered.adopted, recovered.placed) == (0, 0)
        async with running(back):
            for contact_id in offered - {queued[0]}:
                chat = await us.get_contact(contact_id)
                assert (chat.state, chat.agent_id, chat.region) == (ContactState.OFFERED, "al", US)


async def _all_ringing(router: Router, agent_id: str, contact_ids: set[str]) -> bool:
    return await ringing_ids(router, agent_id) == contact_ids


async def assert_kept_in_europe(router: Router, contact_ids: list[str], heir: str) -> None:
    for contact_id in contact_ids:
        chat: Contact = await router.get_contact(contact_id)
        assert (chat.state, chat.region, chat.node) == (ContactState.QUEUED, EU, heir)
        assert not any("placed in" in line for line in chat.explanation)
    assert await ringing_ids(router, "al") == set()


async def test_a_region_that_keeps_a_live_node_keeps_its_waiting_chats(
    redis_client: aioredis.Redis,
) -> None:
    eu1, eu2, us1 = (
        process(redis_client, "eu-1", EU),
        process(redis_client, "eu-2", EU),
        process(redis_client, "us-1", US),
    )
    await seed(us1.router, ("al", US, 3))
    async with running(us1) as us, running(eu2):
        async with running(eu1) as eu:
            queued = await waiting(eu, 2)
            await available(us, "al")
        adoption = await until(adopted(eu2, "eu-1"), 2 * TTL_S + 3.0)
        assert adoption is not None and (adoption["heir"], adoption["placed"]) == ("eu-2", 0)
        await assert_kept_in_europe(us, queued, "eu-2")


async def test_a_clean_stop_of_a_regions_last_node_keeps_its_chats_for_its_agents(
    redis_client: aioredis.Redis,
) -> None:
    """A rolling restart: the stopped node's agents stay signed in (their desks reconnect
    to a node that runs) and go on serving its region's chats."""
    eu1, us1 = process(redis_client, "eu-1", EU), process(redis_client, "us-1", US)
    await seed(us1.router, ("al", US, 3), ("bob", EU, 1))
    async with running(us1) as us:
        async with running(eu1) as eu:
            held = await serving(eu, "bob", at=eu)
            queued = await waiting(eu, 2)
            await available(us, "al")
            await eu1.leave()
        adoption = await until(adopted(us1, "eu-1"), 2 * TTL_S + 3.0)
        assert adoption is not None and adoption["stopped"]
        assert (adoption["handed_over"], adoption["placed"]) == (["bob"], 0)
        await assert_kept_in_europe(us, queued, "us-1")
        assert (await us.get_contact(held)).agent_id == "bob"
