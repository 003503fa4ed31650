"""A Redis outage is not a node's death (docs/regions.md, Failover): after Redis comes back
no live node is adopted, its agents stay signed in with their chats, and a node that did
die meanwhile is still adopted. A node adopted while it was alive (cut off from Redis for
a TTL) is adopted again when it really dies, and its restart recovers what it left. On
the real Redis; the outages are real (SIGKILL, restart) or a node's own beats failing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from regions.model import RegionConfig
from regions.service import Regions
from regions.store import MembershipStore
from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from router.service import Router
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.embedded import EmbeddedRedis
from switchboard.node import Node
from switchboard.redisconn import connect
from switchboard.settings import load_settings
from tests.harness import ROOT, LocalCluster, NodeProcess
from tests.loops import end_loops, until
from tests.nodes import running_node
from tests.router.conftest import QUEUES

TTL_S = 1.0  # in-process nodes: short, so that deaths and outages take a second or two
WATCH_S = 0.1
REGIONS = [RegionConfig("europe-west", "Europe/Paris")]


class CutOff(MembershipStore):
    """A node's membership whose beats fail while `cut`: that node alone is cut off from
    Redis (a network fault), the others still reach it."""

    cut = False

    async def beat(self, *args: Any, **kwargs: Any) -> Any:
        if self.cut:
            raise RedisConnectionError("cut off from Redis")
        return await super().beat(*args, **kwargs)


def process(client: Any, node_id: str, ttl_s: float = TTL_S) -> Regions:
    """What one process of node `node_id` builds: its router and its regions' service."""
    store = RoutingStore(client)
    router = Router(store, QUEUES, node_id=node_id, region="europe-west")
    sessions = Sessions(UserStore(client), store, SessionPolicy(scrypt_log2_n=12))
    return Regions(router, CutOff(client, "sb", ttl_s), sessions, REGIONS, node_id)


async def no_load() -> dict[str, int]:
    return {}


@contextlib.asynccontextmanager
async def running(regions: Regions, watch: bool = True) -> AsyncIterator[Regions]:
    """The node's heartbeat (and failover watcher) run inside; leaving is a crash (they
    stop without a goodbye)."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(regions.heartbeat("europe-west", "http://127.0.0.1:9", no_load, stop))
    ]
    if watch:
        tasks.append(asyncio.create_task(regions.watch(WATCH_S, stop)))
    try:
        await until(lambda: regions.membership.heartbeat(regions.node_id), 2.0)
        yield regions
    finally:
        await end_loops(stop, tasks)


def adoptions_of(regions: Regions, dead: str, count: int = 1) -> Callable[[], Awaitable[Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = [a for a in await regions.adoptions() if a["dead_node"] == dead]
        return found if len(found) >= count else None

    return probe


def adopting(heir: Regions, dead: str, count: int = 1) -> Callable[[], Awaitable[Any]]:
    """The heir's adoptions of `dead` once there are `count`; the heir checks for dead
    nodes each time (as its watcher would, if it has none running)."""

    async def probe() -> list[dict[str, Any]] | None:
        await heir.adopt_dead_nodes()
        return await adoptions_of(heir, dead, count)()

    return probe


async def seed(router: Router, *agents: str) -> None:
    await router.publish_configuration(["europe-west"])
    for agent_id in agents:
        await router.store.upsert_agent(
            Agent(agent_id, "europe-west", {"booking": 4}, ["en"], {"voice": 0, "chat": 1})
        )


async def holding_a_chat(router: Router, agent_id: str) -> str:
    """The agent signs in at the router's node and accepts a chat: the one the queue
    offers at once (a requeued one), else a new one."""
    await router.login(agent_id)
    await router.set_presence(agent_id, Presence.AVAILABLE)
    ringing = await router.ringing_at(agent_id)
    if not ringing:
        await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))
        ringing = await router.ringing_at(agent_id)
    contact_id = ringing[0][0].contact_id
    await router.accept(contact_id, agent_id)
    return contact_id


async def assert_lost_with_its_node(router: Router, agent_id: str, chat_id: str) -> None:
    agent = await router.get_agent(agent_id)
    assert (agent.presence, agent.reason) == (Presence.OFFLINE, "node lost")
    assert (await router.get_contact(chat_id)).state == ContactState.QUEUED


async def assert_still_serving(router: Router, agent_id: str, chat_id: str) -> None:
    agent = await router.get_agent(agent_id)
    assert agent.presence != Presence.OFFLINE, (agent.presence, agent.reason)
    chat = await router.get_contact(chat_id)
    assert (chat.state, chat.agent_id) == (ContactState.CONNECTED, agent_id)


# -- a Redis outage ---------------------------------------------------------------------


async def test_a_redis_outage_shorter_than_the_ttl_adopts_only_the_node_that_died(
    private_redis: EmbeddedRedis,
) -> None:
    """eu-2 lives through the outage but beats again a moment after the others (its
    connection took longer to come back); eu-3 dies during the outage."""
    ttl_s = 2.0  # a third of it (the old pause after a failed beat) tells the fix apart
    clients = [connect(private_redis.url) for _ in range(4)]  # one per process
    heir, live, doomed = (process(clients[i], f"eu-{i + 1}", ttl_s) for i in range(3))
    router = process(clients[3], "harness").router
    await seed(router, "ana", "bob")
    cut_off = live.membership
    assert isinstance(cut_off, CutOff)
    async with running(heir), running(live):
        async with running(doomed):
            ana_chat = await holding_a_chat(live.router, "ana")
            bob_chat = await holding_a_chat(doomed.router, "bob")
            await asyncio.sleep(1.1)  # the AOF is written to disk every second
            private_redis.kill()
            cut_off.cut = True
        await asyncio.sleep(ttl_s * 0.8)
        private_redis.start()
        back_at = time.time()
        asyncio.get_running_loop().call_later(ttl_s * 0.6, setattr, cut_off, "cut", False)
        adopted = await until(adoptions_of(heir, "eu-3"), 2 * ttl_s + 3.0)
        await asyncio.sleep(ttl_s / 2)  # time enough to take eu-2 for dead as well
        assert adopted, "eu-3 died during the outage and was never adopted"
        assert [(a["dead_node"], a["heir"]) for a in await heir.adoptions()] == [("eu-3", "eu-1")]
        # Judged once the live nodes had a whole TTL to beat again, not at once.
        assert adopted[0]["at"] - back_at >= ttl_s * 0.9
    await assert_still_serving(router, "ana", ana_chat)
    await assert_lost_with_its_node(router, "bob", bob_chat)
    for client in clients:
        await client.aclose()


async def seed_cluster(client: aioredis.Redis, agents: dict[str, str]) -> None:
    store = RoutingStore(client)
    users = Sessions(UserStore(client), store, SessionPolicy(scrypt_log2_n=12))
    for agent_id, region in agents.items():
        await store.upsert_agent(
            Agent(agent_id, region, {"booking": 4}, ["en"], {"voice": 0, "chat": 1})
        )
        await users.save_user(agent_id, Role.AGENT, "agent-pw")


async def test_a_redis_restart_shorter_than_the_ttl_signs_no_agent_out(
    private_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    """The reviewer's probe: three nodes, an agent holding a chat on each, Redis
    SIGKILLed and back before the heartbeats' TTL: nothing changes for anyone, even for
    the node that gets going again a moment after the others (eu-1, paused meanwhile)."""
    ttl_s = 3.0
    members = [("asia-1", "asia-east"), ("eu-1", "europe-west"), ("us-1", "america-east")]
    agents = {f"{node_id}-agent": region for node_id, region in members}
    client = connect(private_redis.url)
    await seed_cluster(client, agents)
    settings = load_settings(ROOT / "config" / "regions-3.toml")
    router = Router(RoutingStore(client), settings.queues, node_id="harness", region="asia-east")
    with LocalCluster(
        private_redis.url, tmp_path, heartbeat_ttl_s=ttl_s, always_open=True
    ) as cluster:
        cluster.start(members)
        chats, tokens = {}, {}
        async with aiohttp.ClientSession() as http:
            for node_id, region in members:
                url, agent_id = cluster.node(node_id).url, f"{node_id}-agent"
                response = await http.post(
                    f"{url}/api/v1/agents/login",
                    json={"agent_id": agent_id, "password": "agent-pw"},
                )
                assert response.status == 200, await response.text()
                tokens[agent_id] = {"Authorization": f"Bearer {(await response.json())['token']}"}
                response = await http.put(
                    f"{url}/api/v1/agents/{agent_id}/state",
                    json={"state": "available"},
                    headers=tokens[agent_id],
                )
                assert response.status == 200
                chat = await router.create_contact(
                    NewContact(Channel.CHAT, "booking", "en", region=region, node=node_id)
                )
                assert (await router.get_contact(chat.contact_id)).agent_id == agent_id
                await router.accept(chat.contact_id, agent_id)
                chats[agent_id] = chat.contact_id
            await asyncio.sleep(1.1)  # the AOF is written to disk every second
            private_redis.kill()
            with paused(cluster.node("eu-1")):  # it comes back a moment after the others
                await asyncio.sleep(ttl_s * 0.9)
                private_redis.start()
                await asyncio.sleep(ttl_s * 0.6)
            # Long enough for any node to take the others for dead: a TTL and more.
            await asyncio.sleep(ttl_s)
            adoptions = [json.loads(raw) for raw in await client.lrange("sb:adoptions", 0, -1)]
            # (Each node's start adopts what its own previous run left: nothing here.)
            assert [a for a in adoptions if a["dead_node"] != a["heir"]] == []
            for agent_id, chat_id in chats.items():
                await assert_still_serving(router, agent_id, chat_id)
                node = cluster.node(agent_id.removesuffix("-agent"))
                response = await http.get(
                    f"{node.url}/api/v1/agents/{agent_id}", headers=tokens[agent_id]
                )
                assert response.status == 200, "the agent's token was revoked"
            for node in cluster.nodes:
                assert (await http.get(f"{node.url}/readyz")).status == 200
            logs = "".join(node.log_path.read_text() for node in cluster.nodes)
            assert "adopted the work of node" not in logs
    await client.aclose()


@contextlib.contextmanager
def paused(node: NodeProcess) -> Iterator[None]:
    """The node process stops (SIGSTOP) inside, and goes on (SIGCONT) after."""
    assert node.process is not None
    os.kill(node.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(node.process.pid, signal.SIGCONT)


# -- one heir per death, not per process -------------------------------------------------


async def adopted_while_alive(heir: Regions, gone: Regions, agent_id: str) -> str:
    """`gone` is cut off from Redis for a TTL: the heir adopts it (it cannot tell), then it
    reaches Redis again and beats on, the same process. Returns the chat its agent then
    holds anew (signed in again at `gone`)."""
    membership = gone.membership
    assert isinstance(membership, CutOff)
    first_chat = await holding_a_chat(gone.router, agent_id)
    membership.cut = True
    assert await until(adopting(heir, gone.node_id), TTL_S + 3.0)
    await assert_lost_with_its_node(gone.router, agent_id, first_chat)
    membership.cut = False
    assert await until(lambda: membership.heartbeat(gone.node_id), 5.0), "not seen alive again"
    return await holding_a_chat(gone.router, agent_id)


async def test_a_node_adopted_while_alive_is_adopted_again_when_it_dies(
    redis_client: aioredis.Redis,
) -> None:
    heir, gone = process(redis_client, "eu-1"), process(redis_client, "eu-2")
    await seed(heir.router, "ana")
    async with running(heir):
        async with running(gone, watch=False):
            chat = await adopted_while_alive(heir, gone, "ana")
        died_at = time.time()  # SIGKILL: no goodbye, the heartbeat just stops
        adopted = await until(adoptions_of(heir, "eu-2", count=2), TTL_S + 3.0)
    assert adopted, "eu-2 died after it was adopted once, and was never adopted again"
    assert [(a["heir"], a["agents"]) for a in adopted] == [("eu-1", ["ana"])] * 2
    assert adopted[1]["at"] - died_at < TTL_S + 1.0  # as fast as any death
    await assert_lost_with_its_node(heir.router, "ana", chat)


async def test_a_restart_after_a_node_was_adopted_while_alive_recovers_its_work(
    redis_client: aioredis.Redis,
) -> None:
    heir, gone = process(redis_client, "eu-1"), process(redis_client, "eu-2")
    await seed(heir.router, "ana")
    # No watcher at the heir: the restart, not a heir, notices the death.
    async with running(heir, watch=False):
        async with running(gone, watch=False):
            chat = await adopted_while_alive(heir, gone, "ana")
        adoption = await process(redis_client, "eu-2").recover_previous_run()
    assert adoption is not None, "the restart left its previous run's work alone"
    assert (adoption.dead_node, adoption.heir, adoption.agents) == ("eu-2", "eu-2", ["ana"])
    await assert_lost_with_its_node(heir.router, "ana", chat)


async def test_a_redis_outage_without_requests_is_counted_where_it_hit(
    private_redis: EmbeddedRedis,
) -> None:
    """`switchboard_redis_errors_total` counted only HTTP requests: an outage at night
    showed nothing on the dashboard, though the routing timers, the heartbeat and the
    event subscription all failed (and said so in the log)."""
    async with running_node(private_redis.url) as node:
        private_redis.kill()
        try:
            assert await until(
                lambda: _counted(node, {"routing", "heartbeat", "failover", "events", "cases"}),
                15.0,
            )
        finally:
            private_redis.start()
        assert "http" not in _redis_errors(node)


async def _counted(node: Node, where: set[str]) -> bool:
    return _redis_errors(node).keys() >= where


def _redis_errors(node: Node) -> dict[str, float]:
    """The node's `switchboard_redis_errors_total` by `where`."""
    return {
        sample.labels["where"]: sample.value
        for family in node.metrics.registry.collect()
        if family.name == "switchboard_redis_errors"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.value > 0
    }
