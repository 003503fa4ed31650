"""A node restarted with its id adopts its previous run's work, even within the heartbeat's
TTL (systemd restarts it after 2 s, the TTL is 5 s); a second process with a running
node's id is refused and leaves the running one's heartbeat alone. On the real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from regions.model import RegionConfig
from regions.service import NodeIdInUse, Regions
from regions.store import MembershipStore
from router.model import Agent, Channel, ContactState, NewContact, Presence
from router.service import Router
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from tests.loops import end_loops
from tests.router.conftest import QUEUES

TTL_S = 2.0
REGIONS = [RegionConfig("europe-west", "Europe/Paris")]


def process(client: aioredis.Redis, node_id: str = "eu-1") -> Regions:
    """What one process of node `node_id` builds: its router and its regions' service."""
    store = RoutingStore(client)
    router = Router(store, QUEUES, node_id=node_id, region="europe-west")
    sessions = Sessions(UserStore(client), store, SessionPolicy(scrypt_log2_n=12))
    return Regions(router, MembershipStore(client, "sb", TTL_S), sessions, REGIONS, node_id)


@contextlib.asynccontextmanager
async def beating(regions: Regions) -> AsyncIterator[None]:
    """The process's heartbeat runs inside; leaving the block is a crash (no goodbye)."""

    async def load() -> dict[str, int]:
        return {}

    stop = asyncio.Event()
    task = asyncio.create_task(regions.heartbeat("europe-west", "http://127.0.0.1:9", load, stop))
    try:
        for _ in range(100):  # bounded: the first beat is at once
            if await regions.membership.heartbeat(regions.node_id) is not None:
                break
            await asyncio.sleep(0.01)
        yield
    finally:
        await end_loops(stop, [task])


async def test_a_restart_within_the_ttl_adopts_the_previous_runs_contacts(
    redis_client: aioredis.Redis,
) -> None:
    before = process(redis_client)
    router = before.router
    await router.publish_configuration(["europe-west"])
    await router.store.upsert_agent(
        Agent("ana", "europe-west", {"booking": 4}, ["en"], {"voice": 0, "chat": 1})
    )
    async with beating(before):
        await router.login("ana")
        await router.set_presence("ana", Presence.AVAILABLE)
        held = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
        await router.accept(held.contact_id, "ana")
        waiting = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
        call = await router.create_contact(NewContact(Channel.VOICE, "booking", "en"))
    crashed_at = time.monotonic()
    # The process died; its last heartbeat lives on for up to the TTL.
    assert await before.membership.heartbeat("eu-1") is not None

    after = process(redis_client)
    adoption = await after.recover_previous_run()
    took_s = time.monotonic() - crashed_at

    assert adoption is not None and (adoption.dead_node, adoption.heir) == ("eu-1", "eu-1")
    assert (adoption.failed, adoption.requeued, adoption.agents) == (1, 1, ["ana"])
    assert took_s < TTL_S + 1.0  # waited for the old heartbeat to expire, no longer
    # The call's media died with the process: failed, and recorded once.
    lost = await after.router.get_contact(call.contact_id)
    assert (lost.state, lost.outcome, lost.reason) == (ContactState.FAILED, "failed", "node_lost")
    records = [r async for r in after.router.store.records()]
    assert [(r["contact_id"], r["state"], r["reason"]) for r in records] == [
        (call.contact_id, "failed", "node_lost")
    ]
    # The chats are kept and wait: the one ana held is back at the head of the queue
    # (ana's session went with the process).
    assert {cid for cid, _ in await after.router.store.waiting("booking")} == {
        held.contact_id,
        waiting.contact_id,
    }
    requeued = await after.router.get_contact(held.contact_id)
    assert requeued.explanation[-1] == "agent ana lost with node eu-1; back to the head of booking"
    assert (await after.router.get_agent("ana")).presence == Presence.OFFLINE
    assert [a["dead_node"] for a in await after.adoptions()] == ["eu-1"]
    # Once: a heir of the same death would find the adoption claimed.
    previous = await after.membership.known("eu-1")
    assert previous is not None
    assert not await after.membership.claim_adoption(previous, "eu-2")


async def test_a_second_process_with_a_running_nodes_id_is_refused(
    redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    running, duplicate = process(redis_client), process(redis_client)
    async with beating(running):
        with pytest.raises(NodeIdInUse, match="node id eu-1 is in use"):
            await duplicate.recover_previous_run()
    # Nothing beats now. The refused start's clean-up leaves the running one's heartbeat
    # (else its heir would adopt a live node's work); the running one's own ends it.
    await duplicate.leave()
    assert await running.membership.heartbeat("eu-1") is not None
    await running.leave()
    assert await running.membership.heartbeat("eu-1") is None
    assert await running.adoptions() == []
    # Two processes that beat as one id all the same (started at once): each says so.
    async with beating(running), beating(duplicate):
        await asyncio.sleep(TTL_S / 2)
    assert "node id eu-1 is also used by the process started at" in caplog.text


async def test_a_clean_stop_lets_the_restart_adopt_at_once(redis_client: aioredis.Redis) -> None:
    before = process(redis_client)
    await before.router.publish_configuration(["europe-west"])
    async with beating(before):
        call = await before.router.create_contact(NewContact(Channel.VOICE, "booking", "en"))
        await before.leave()
    started = time.monotonic()
    adoption = await process(redis_client).recover_previous_run()
    assert time.monotonic() - started < TTL_S / 2  # no wait for the TTL
    assert adoption is not None and adoption.failed == 1
    assert (await before.router.get_contact(call.contact_id)).outcome == "failed"


async def test_a_heir_tells_a_clean_stop_from_a_death(redis_client: aioredis.Redis) -> None:
    """The wallboard says "stopped", not "went down", for a node that said goodbye."""
    gone, heir = process(redis_client, "eu-2"), process(redis_client, "eu-1")
    await gone.router.publish_configuration(["europe-west"])
    async with beating(heir):
        async with beating(gone):
            await gone.router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
            await gone.leave()
        assert (await gone.membership.known("eu-2")).left  # type: ignore[union-attr]
        adoptions = await heir.adopt_dead_nodes()
    assert [(a.dead_node, a.stopped, a.adopted) for a in adoptions] == [("eu-2", True, 1)]
