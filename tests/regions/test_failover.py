"""Three nodes on loopback; one is SIGKILLed mid-load; nothing is lost or duplicated."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from router.model import Agent, Channel, NewContact, Role
from router.service import Router
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.embedded import EmbeddedRedis
from switchboard.settings import load_settings
from tests.harness import LocalCluster

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = [("asia-1", "asia-east"), ("eu-1", "europe-west"), ("us-1", "america-east")]


async def seed(client: aioredis.Redis) -> None:
    store = RoutingStore(client)
    users = Sessions(UserStore(client), store, SessionPolicy(scrypt_log2_n=12))
    for index, (node_id, region) in enumerate(MEMBERS):
        for n in range(2):
            agent_id = f"{node_id}-agent{n}"
            await store.upsert_agent(
                Agent(
                    agent_id,
                    region,
                    {"booking": 4, "general": 3},
                    ["en", "zh", "fr"],
                    {"voice": 1, "chat": 2},
                )
            )
            await users.save_user(agent_id, Role.AGENT, "agent-secret")
        del index


async def login(http: aiohttp.ClientSession, url: str, agent_id: str) -> dict[str, str]:
    response = await http.post(
        f"{url}/api/v1/agents/login", json={"agent_id": agent_id, "password": "agent-secret"}
    )
    assert response.status == 200, await response.text()
    headers = {"Authorization": f"Bearer {(await response.json())['token']}"}
    response = await http.put(
        f"{url}/api/v1/agents/{agent_id}/state", json={"state": "available"}, headers=headers
    )
    assert response.status == 200
    return headers


async def test_sigkilled_node_is_adopted_without_loss(
    private_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    client = aioredis.Redis.from_url(private_redis.url, decode_responses=True)
    await seed(client)
    settings = load_settings(ROOT / "config" / "regions-3.toml")
    router = Router(RoutingStore(client), settings.queues, node_id="harness", region="europe-west")
    created: list[str] = []
    with LocalCluster(
        private_redis.url, tmp_path, heartbeat_ttl_s=2.0, always_open=True
    ) as cluster:
        cluster.start(MEMBERS)
        async with aiohttp.ClientSession() as http:
            tokens = {}
            for node_id, _ in MEMBERS:
                for n in range(2):
                    agent_id = f"{node_id}-agent{n}"
                    tokens[agent_id] = await login(http, cluster.node(node_id).url, agent_id)

            async def chats(url: str, count: int) -> None:
                """Anonymous chats: their home region is that of the node they reach."""
                for _ in range(count):
                    response = await http.post(
                        f"{url}/api/v1/contacts",
                        json={"channel": "chat", "queue": "booking", "language": "zh"},
                    )
                    assert response.status == 201, await response.text()
                    created.append((await response.json())["contact_id"])

            await chats(cluster.node("eu-1").url, 14)
            # Voice calls whose media lives on eu-1 (as its telephony would create them).
            for _ in range(2):
                voice = await router.create_contact(
                    NewContact(Channel.VOICE, "booking", "en", region="europe-west", node="eu-1")
                )
                created.append(voice.contact_id)
            # eu-1's agents accept what they were offered: those chats are connected.
            live = await router.store.live_contacts("eu-1")
            contacts = [await router.get_contact(cid) for cid in live]
            held = [
                c for c in contacts if c.channel == Channel.CHAT and c.agent_id.startswith("eu-1")
            ]
            for contact in held:
                await router.accept(contact.contact_id, contact.agent_id)
            assert held

            cluster.node("eu-1").kill()
            killed_at = time.time()
            # Load goes on at the surviving nodes while the death is detected.
            await asyncio.gather(
                chats(cluster.node("asia-1").url, 5),
                chats(cluster.node("us-1").url, 5),
            )
            adoption = None
            for _ in range(100):  # bounded: TTL 2 s + 5 s, checked every 0.1 s
                raw = await client.lrange("sb:adoptions", 0, -1)
                found = [a for a in map(json.loads, raw) if a["dead_node"] == "eu-1" != a["heir"]]
                if found:
                    adoption = found[0]
                    break
                await asyncio.sleep(0.1)
            assert adoption is not None, "eu-1 was never adopted"
            assert adoption["at"] - killed_at < 2.0 + 5.0
            assert (
                adoption["heir"] == "us-1"
            )  # europe-west's first neighbour; no other node in region
            assert sorted(adoption["agents"]) == ["eu-1-agent0", "eu-1-agent1"]
            assert adoption["region"] == "europe-west"  # whose wallboards show it

            # The dead node's agents' sessions are closed; they can log in elsewhere.
            stale = await http.get(
                f"{cluster.node('us-1').url}/api/v1/agents/eu-1-agent0",
                headers=tokens["eu-1-agent0"],
            )
            assert stale.status == 401
            await login(http, cluster.node("asia-1").url, "eu-1-agent0")

    # Accounting: every contact is in exactly one terminal outcome or still waiting/served.
    records = [r async for r in router.store.records()]
    ended = Counter(r["contact_id"] for r in records)
    assert all(count == 1 for count in ended.values()), "a contact was recorded twice"
    states = {cid: (await router.get_contact(cid)) for cid in created}
    assert len(states) == len(created) == 2 + 14 + 10
    for cid, contact in states.items():
        if contact.is_terminal:
            assert ended[cid] == 1
        else:
            assert ended[cid] == 0
            in_queue = await router.store.queue_position(contact.queue, cid)
            assert (in_queue is not None) == (contact.state.value == "queued")
    calls = [c for c in states.values() if c.channel == Channel.VOICE]
    assert [(c.outcome, c.reason) for c in calls] == [("failed", "node_lost")] * 2
    for contact in held:
        after = states[contact.contact_id]
        assert not after.agent_id.startswith("eu-1") or after.state.value != "connected"
        assert any("lost with node eu-1" in line for line in after.explanation)
    assert all(c.node != "eu-1" for c in states.values() if not c.is_terminal)
    await client.aclose()
