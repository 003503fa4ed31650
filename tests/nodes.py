"""A node started in-process on the test Redis, and the HTTP steps the suites share."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiohttp

from router.chat import TranslatorPort
from router.desk import DeskConfig
from router.model import Agent, QueueConfig, Role
from router.sessions import SessionPolicy
from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings

ROOT = Path(__file__).resolve().parents[1]
# Password hashes at a low cost: the login path is the same, at 2^12 instead of 2^17.
# Tests put agents in routing without a session (the router's own login); the check
# that signs out agents whose sessions ran out waits an hour unless a test sets it.
TEST_AUTH = SessionPolicy(scrypt_log2_n=12, expiry_check_s=3600)


def queues_with_wrap_up(seconds: float) -> list[QueueConfig]:
    """The default configuration's queues, each with this wrap-up time."""
    default = load_settings(ROOT / "config" / "default.toml").queues
    return [dataclasses.replace(queue, wrap_up_s=seconds) for queue in default]


@contextlib.asynccontextmanager
async def running_node(
    redis_url: str,
    config: Path = ROOT / "config" / "default.toml",
    *,
    region: str | None = None,
    node_id: str | None = None,
    translator: TranslatorPort | None = None,
    desk: DeskConfig | None = None,
    users: Iterable[tuple[str, Role, str]] = (),
    agents: Iterable[Agent] = (),
    **changes: Any,
) -> AsyncIterator[Node]:
    """A node without voice on a free HTTP port; `changes` replace fields of its settings."""
    settings = load_settings(config, region=region, node_id=node_id)
    changes.setdefault("auth", TEST_AUTH)
    settings = dataclasses.replace(
        settings, redis=RedisConfig(url=redis_url), http_port=0, **changes
    )
    node = Node(settings, translator=translator, voice=False, desk=desk)
    await node.start()
    try:
        for user_id, role, password in users:
            await node.sessions.save_user(user_id, role, password)
        for agent in agents:
            await node.store.upsert_agent(agent)
        yield node
    finally:
        await node.stop()


def http_session(node: Node) -> aiohttp.ClientSession:
    """A client of the node's HTTP API, for `async with`."""
    return aiohttp.ClientSession(f"http://127.0.0.1:{node.http_port}")


async def login(http: aiohttp.ClientSession, user: str, password: str) -> dict[str, str]:
    """Log in and return the Authorization header."""
    response = await http.post(
        "/api/v1/agents/login", json={"agent_id": user, "password": password}
    )
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def new_chat(
    http: aiohttp.ClientSession,
    queue: str = "booking",
    language: str = "en",
    customer: str = "c-1",
    **extra: Any,
) -> dict[str, Any]:
    """Start a chat as a customer; returns the created contact with its customer token.
    `customer` is only what the window claims: the node ignores it (the chat stays
    anonymous) unless `identity` and `site` in `extra` sign who the customer is."""
    response = await http.post(
        "/api/v1/contacts",
        json={
            "channel": "chat",
            "queue": queue,
            "language": language,
            "customer": {"id": customer},
            **extra,
        },
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def customer_writes(http: aiohttp.ClientSession, chat: dict[str, Any], text: str) -> None:
    """The chat's customer sends `text` (with their token), and it is taken."""
    sent = await http.post(
        f"/api/v1/contacts/{chat['contact_id']}/messages",
        json={"text": text},
        headers={"X-Customer-Token": chat["customer_token"]},
    )
    assert sent.status == 201, await sent.text()
