"""Racing matchers on one Redis, and a Redis outage in the middle of a node's life."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis

from router.model import Agent, Channel, ContactState, NewContact, Presence
from router.service import Router
from router.store import RoutingStore
from switchboard.embedded import EmbeddedRedis
from tests.nodes import http_session, running_node
from tests.router.conftest import QUEUES

ROOT = Path(__file__).resolve().parents[2]


async def test_two_matchers_racing_never_double_offer(redis_url: str) -> None:
    clients = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    routers = [
        Router(RoutingStore(c), QUEUES, node_id=f"n{i}", region="eu") for i, c in enumerate(clients)
    ]
    await routers[0].publish_configuration(["eu"])
    agents = [
        Agent(f"a{i}", "eu", {"booking": 4}, ["en"], {"voice": 1, "chat": 2}) for i in range(10)
    ]
    for agent in agents:
        await routers[0].store.upsert_agent(agent)

    async def create(router: Router, n: int) -> None:
        for _ in range(n):
            await router.create_contact(NewContact(Channel.CHAT, "booking", "en"))

    async def ready(router: Router, ids: list[str]) -> None:
        for agent_id in ids:
            await router.set_presence(agent_id, Presence.AVAILABLE)

    ids = [agent.agent_id for agent in agents]
    await asyncio.gather(
        create(routers[0], 15),
        create(routers[1], 15),
        ready(routers[0], ids),
        ready(routers[1], ids[::-1]),
    )
    contacts = [
        await routers[0].store.get_contact(cid) for cid in await routers[0].store.live_contacts()
    ]
    offered = [c for c in contacts if c and c.state == ContactState.OFFERED]
    per_agent: dict[str, int] = {}
    for contact in offered:
        per_agent[contact.agent_id] = per_agent.get(contact.agent_id, 0) + 1
    assert len(offered) == 20  # 10 agents x 2 chats, the other 10 contacts wait
    assert max(per_agent.values()) == 2
    for agent in await routers[0].list_agents():
        assert agent.load["chat"] == per_agent.get(agent.agent_id, 0)
    # Each offered contact appears in no queue; each waiting one in exactly one place.
    assert (await routers[0].store.queue_depths(["booking"]))["booking"] == 10
    for client in clients:
        await client.aclose()


async def test_redis_outage_gives_503_then_recovers_without_loss(
    private_redis: EmbeddedRedis,
) -> None:
    chat = {"channel": "chat", "queue": "booking", "language": "en", "customer": {"id": "c"}}
    async with (
        running_node(private_redis.url) as node,
        http_session(node) as http,
    ):
        accepted = await (await http.post("/api/v1/contacts", json=chat)).json()
        await asyncio.sleep(1.2)  # AOF is fsynced every second
        private_redis.kill()
        refused = await http.post("/api/v1/contacts", json=chat)
        assert refused.status == 503 and refused.headers["Retry-After"]
        assert (await http.get("/healthz")).status == 503  # cannot serve: the design's probe
        assert (await http.get("/readyz")).status == 503
        assert (await http.get("/livez")).status == 200  # alive: no restart needed
        private_redis.start()
        status = 0
        for _ in range(50):  # bounded: the client reconnects by itself
            status = (await http.get("/readyz")).status
            if status == 200:
                break
            await asyncio.sleep(0.2)
        assert status == 200
        contact = await (
            await http.get(
                f"/api/v1/contacts/{accepted['contact_id']}",
                headers={"X-Customer-Token": accepted["customer_token"]},
            )
        ).json()
        assert contact["state"] == "queued"
        again = await http.post("/api/v1/contacts", json=chat)
        assert again.status == 201
