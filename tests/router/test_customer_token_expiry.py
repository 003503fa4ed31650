"""A chat's customer token opens its contact while it is live and for `[chat]
customer_token_after_end_s` (24 h) after its end, then no more: a token left in a shared
browser's storage or a leaked `?customer_token=` URL does not read the transcript until
retention deletes it. A real node on the real Redis; the contact's end is put in the
past through routing's own clock (`at_ms`), not waited for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from router.desk import read_desk
from router.model import Agent, ContactState, Role
from switchboard.common.clock import now_ms
from switchboard.common.errors import ConfigError
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, customer_writes, http_session, login, new_chat, running_node

HOUR_MS = 3_600_000
ANA = Agent("ana", "default", {"booking": 4}, ["en"], {"voice": 0, "chat": 3})


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")],
        agents=[ANA],
    ) as node:
        yield node


@pytest.fixture
async def http(node: Node) -> AsyncIterator[aiohttp.ClientSession]:
    async with http_session(node) as session:
        yield session


async def _served_chat(http: aiohttp.ClientSession) -> dict[str, Any]:
    """A chat ana accepted, with one message of its customer's."""
    ana = await login(http, "ana", "ana-secret-1")
    state = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    assert state.status == 200, await state.text()
    chat = await new_chat(http)
    accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
    assert accepted.status == 200, await accepted.text()
    await customer_writes(http, chat, "my bag did not arrive")
    return chat


async def _reads(http: aiohttp.ClientSession, chat: dict[str, Any]) -> list[int]:
    """The statuses of the customer's reads with the chat's token: the contact, its
    messages (header), its messages (`?customer_token=`)."""
    cid, token = chat["contact_id"], chat["customer_token"]
    header = {"X-Customer-Token": token}
    answers = [
        await http.get(f"/api/v1/contacts/{cid}", headers=header),
        await http.get(f"/api/v1/contacts/{cid}/messages", headers=header),
        await http.get(f"/api/v1/contacts/{cid}/messages", params={"customer_token": token}),
    ]
    return [answer.status for answer in answers]


async def test_a_live_chat_and_one_ended_within_the_window_are_read(
    node: Node, http: aiohttp.ClientSession
) -> None:
    chat = await _served_chat(http)
    assert await _reads(http, chat) == [200, 200, 200]  # live
    ended = await node.router.complete(chat["contact_id"], "ana", at_ms=now_ms() - 23 * HOUR_MS)
    assert ended.state == ContactState.COMPLETED
    assert await _reads(http, chat) == [200, 200, 200]  # ended 23 h ago: still its own


async def test_a_token_of_a_chat_ended_more_than_a_day_ago_is_refused(
    node: Node, http: aiohttp.ClientSession
) -> None:
    chat = await _served_chat(http)
    cid, token = chat["contact_id"], chat["customer_token"]
    await node.router.complete(cid, "ana", at_ms=now_ms() - 25 * HOUR_MS)

    assert await _reads(http, chat) == [401, 401, 401]
    answer = await http.get(f"/api/v1/contacts/{cid}/messages", headers={"X-Customer-Token": token})
    assert answer.content_type == "application/json"
    assert await answer.json() == {
        "error": "unauthorized",
        "message": "this chat ended more than 24 h ago: its customer token no longer opens it",
    }
    # Nor the live events, nor a rating: every use of the token is refused alike.
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(f"/api/v1/contacts/{cid}/events", params={"customer_token": token})
    assert refused.value.status == 401
    rated = await http.post(
        f"/api/v1/contacts/{cid}/rating", json={"score": 5}, headers={"X-Customer-Token": token}
    )
    assert rated.status == 401
    # Staff who may read it still do: the token's end is the customer's only.
    sup = await login(http, "sup", "sup-secret-1")
    assert (await http.get(f"/api/v1/contacts/{cid}/messages", headers=sup)).status == 200


async def test_the_window_is_a_chat_setting(node: Node, tmp_path: Path) -> None:
    """`[chat] customer_token_after_end_s` sets it (at least a minute: the customer rates
    the chat after its end); unset, a day."""
    settings = load_settings(ROOT / "config" / "default.toml")
    queues = [queue.name for queue in settings.queues]
    assert read_desk(settings.reader, queues).customer_token_after_end_s == 24 * 3600
    assert node.desk.customer_token_after_end_s == 24 * 3600

    text = (ROOT / "config" / "default.toml").read_text(encoding="utf-8")
    chat = '[chat]\nhidden_queues = ["senior"]\n'
    assert chat in text
    config = tmp_path / "node.toml"
    config.write_text(text.replace(chat, chat + "customer_token_after_end_s = 3600\n"))
    assert read_desk(load_settings(config).reader, queues).customer_token_after_end_s == 3600
    config.write_text(text.replace(chat, chat + "customer_token_after_end_s = 0\n"))
    reader = load_settings(config, defer_faults=True).reader
    read_desk(reader, queues)
    with pytest.raises(ConfigError, match=r"chat\.customer_token_after_end_s"):
        reader.faults.raise_if_any()
