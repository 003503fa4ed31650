"""No secret reaches a log: a node at DEBUG serves a chat whose customer, softphone and
message carry a planted phone number and text, with tokens in query strings; its whole
log is then searched for them."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from router.model import Agent, Role
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.embedded import EmbeddedRedis
from tests.harness import LocalCluster

NUMBER = "+34612345678"
TEXT = "itinerary ZX-4471"


async def _seed(url: str) -> None:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    store = RoutingStore(client)
    await store.upsert_agent(Agent("ana", "asia-east", {"booking": 4}, ["en"]))
    sessions = Sessions(UserStore(client), store, SessionPolicy(scrypt_log2_n=12))
    await sessions.save_user("ana", Role.AGENT, "ana-secret-1")
    await client.aclose()


async def _chat(url: str) -> list[str]:
    """A whole chat with the planted secrets; returns the tokens it used."""
    async with aiohttp.ClientSession(url) as http:
        login = await http.post(
            "/api/v1/agents/login",
            json={
                "agent_id": "ana",
                "password": "ana-secret-1",
                "sip_uri": f"sip:{NUMBER}@127.0.0.1",
            },
        )
        token = (await login.json())["token"]
        socket = await http.ws_connect(f"/api/v1/agents/ana/events?token={token}")
        await http.put(
            "/api/v1/agents/ana/state", params={"token": token}, json={"state": "available"}
        )
        created = await (
            await http.post(
                "/api/v1/contacts",
                json={
                    "channel": "chat",
                    "queue": "booking",
                    "language": "en",
                    "customer": {"id": NUMBER},
                },
            )
        ).json()
        contact, customer = created["contact_id"], created["customer_token"]
        await http.post(f"/api/v1/contacts/{contact}/accept", params={"token": token})
        await http.post(
            f"/api/v1/contacts/{contact}/messages",
            params={"customer_token": customer},
            json={"text": f"my {TEXT}, call me on {NUMBER}"},
        )
        # A number in a query key the route does not take: refused (400), still logged.
        await http.get(
            f"/api/v1/contacts/{contact}", params={"customer_token": customer, "from": NUMBER}
        )
        await http.get(f"/api/v1/contacts/{contact}/messages", params={"token": token})
        await http.get(f"/api/v1/contacts/{contact}", params={"customer_token": customer})
        await http.post(f"/api/v1/contacts/{contact}/complete", params={"token": token})
        await socket.close()
    return [token, customer]


def test_no_token_number_or_chat_text_in_the_log(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    asyncio.run(_seed(redis_server.url))
    with LocalCluster(
        redis_server.url,
        tmp_path,
        always_open=True,
        log_level="DEBUG",
        extra_toml="\n[auth]\nscrypt_log2_n = 12\n",
    ) as cluster:
        cluster.start([("asia-1", "asia-east")])
        tokens = asyncio.run(_chat(cluster.nodes[0].url))
    log = (tmp_path / "asia-1.log").read_text(encoding="utf-8")
    assert re.search(r'"POST /api/v1/contacts/\w+/messages\?customer_token=\[redacted\]', log)
    for secret in [*tokens, NUMBER, TEXT]:
        assert secret not in log, f"{secret!r} is in the log"
    assert "•" in log  # the number was there, masked
