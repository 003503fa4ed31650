"""The routing state on a real three-master Redis Cluster: the hash tag keeps it legal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from router.service import Router
from router.store import RoutingStore
from switchboard.embedded import EmbeddedCluster
from switchboard.redisconn import connect
from tests.nodes import http_session, login, new_chat, running_node
from tests.router.conftest import QUEUES


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    cluster = EmbeddedCluster(tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()


async def test_routing_on_a_three_master_cluster(cluster: EmbeddedCluster) -> None:
    client = connect(cluster.url)
    try:
        store = RoutingStore(client)
        router = Router(store, QUEUES, node_id="n1", region="eu")
        await router.publish_configuration(["eu", "asia"])
        await store.upsert_agent(Agent("a1", "eu", {"booking": 4}, ["en"]))
        await router.set_presence("a1", Presence.AVAILABLE)
        contact = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
        assert contact.state == ContactState.OFFERED and contact.agent_id == "a1"
        await router.accept(contact.contact_id, "a1")
        done = await router.complete(contact.contact_id)
        assert done.outcome == "completed"
        assert [r["contact_id"] async for r in store.records()] == [contact.contact_id]
        # The routing keys all hash to one slot; other keys spread over the masters.
        slots = {
            await client.cluster_keyslot(key) for key in (store.keys.anchor, store.keys.agent("a1"))
        }
        assert len(slots) == 1
        nodes = await client.cluster_nodes()
        assert len([name for name, node in nodes.items() if "master" in node["flags"]]) == 3
    finally:
        await client.aclose()


async def test_a_node_serves_chats_on_the_cluster(cluster: EmbeddedCluster) -> None:
    async with (
        running_node(
            cluster.url,
            users=[("ana", Role.AGENT, "ana-secret-1")],
            agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
        ) as node,
        http_session(node) as http,
    ):
        headers = await login(http, "ana", "ana-secret-1")
        async with http.ws_connect("/api/v1/agents/ana/events", headers=headers) as socket:
            assert (await asyncio.wait_for(socket.receive_json(), 5))["type"] == "ready"
            await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=headers)
            contact_id = (await new_chat(http))["contact_id"]
            for _ in range(10):
                event = await asyncio.wait_for(socket.receive_json(), 5)
                if event["type"] == "offer":
                    break
            assert event["type"] == "offer" and event["contact_id"] == contact_id


async def test_routing_through_a_sentinel_url(private_redis, tmp_path: Path) -> None:
    from switchboard.embedded import EmbeddedSentinel

    sentinel = EmbeddedSentinel(tmp_path / "sentinel", private_redis)
    sentinel.start()
    client = connect(sentinel.url)
    try:
        router = Router(RoutingStore(client), QUEUES, node_id="n1", region="eu")
        await router.publish_configuration(["eu"])
        contact = await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
        assert contact.state == ContactState.QUEUED
        direct = connect(private_redis.url)
        assert await direct.hget(f"sb:{{rt}}:contact:{contact.contact_id}", "state") == "queued"
        await direct.aclose()
    finally:
        await client.aclose()
        sentinel.stop()


async def test_advisories_on_the_cluster(cluster: EmbeddedCluster) -> None:
    """An advisory's keys share one slot: its transaction, scripts and lookups are legal
    on a cluster, and its customers' index expires with it."""
    from router.advisories.model import Advisory
    from router.advisories.store import AdvisoryStore

    client = connect(cluster.url)
    try:
        store = AdvisoryStore(client)
        until = 4_000_000_000_000
        advisory = Advisory("a1", "booking", "Storm", {"en": "Delays"}, 0, until, 2, "sup", 0)
        await store.save(advisory, ["c-1", "c-2"])
        assert [a.advisory_id for a in await store.of_customer("c-2", 1_000)] == ["a1"]
        assert await store.update("a1", warned=2)
        assert (await store.get("a1")) is not None and (await store.get("a1")).warned == 2  # type: ignore[union-attr]
        assert await store.running_ids(1_000) == ["a1"]
        assert 0 < await client.pttl(store.keys.customer("c-1")) <= until
        slots = {
            await client.cluster_keyslot(key)
            for key in (store.keys.index, store.keys.customer("c-1"), store.keys.advisory("a1"))
        }
        assert len(slots) == 1
    finally:
        await client.aclose()
