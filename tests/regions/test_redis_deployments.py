"""The routing state on a real three-master Redis Cluster: the hash tag keeps it legal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.exceptions import ResponseError

from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from router.service import Router
from router.store import RoutingStore
from switchboard.embedded import EmbeddedCluster, EmbeddedRedis, EmbeddedSentinel
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


async def test_a_planned_sentinel_failover_moves_every_connection_to_the_new_master(
    private_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    """After `SENTINEL FAILOVER` the old master takes writes until Sentinel makes it a
    replica (about ten seconds), and then throws them away: a node's connections left
    open to it lost chats answered 201. The node follows the new master within a check,
    and judges no node dead for a TTL (its peers' heartbeats went to the old master: one
    node adopted two live ones)."""
    replica = EmbeddedRedis(tmp_path / "replica", die_with_parent=True)
    replica.start()
    sentinel = EmbeddedSentinel(tmp_path / "sentinel", private_redis)
    direct = [connect(server.url) for server in (private_redis, replica)]
    watcher: Any = None
    try:
        await direct[1].replicaof(private_redis.host, private_redis.port)
        await until_true(lambda: _replicating(direct[0]))
        sentinel.start()
        watcher = connect(f"redis://{private_redis.host}:{sentinel.port}/0")
        async with running_node(sentinel.url) as node:
            await node.client.set("before", "1")  # connections to the old master, pooled
            assert node.regions.contact.settled()
            await until_true(lambda: _failover(watcher, sentinel.name))
            await until_true(lambda: _named_master(watcher, sentinel.name, replica.port))
            await until_true(lambda: asyncio.sleep(0, not node.regions.contact.settled()))
            await node.client.set("after", "2")
            assert await direct[1].get("after") == "2"  # on the new master, kept
    finally:
        for each in (*direct, *([watcher] if watcher else [])):
            await each.aclose()
        sentinel.stop()
        replica.stop()


async def until_true(check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    """Wait (bounded) until `check` answers true."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def _replicating(master: Any) -> bool:
    replication = await master.info("replication")
    return bool(replication.get("connected_slaves")) and "online" in str(replication.get("slave0"))


async def _failover(sentinel: Any, name: str) -> bool:
    """Ask for a planned failover; false while Sentinel knows no replica fit for it."""
    try:
        return bool(await sentinel.execute_command("SENTINEL", "FAILOVER", name))
    except ResponseError:
        return False


async def _named_master(sentinel: Any, name: str, port: int) -> bool:
    address = await sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
    return int(address[1]) == port


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
