"""What a chat refuses, and says so by field without changing anything: a message with
nothing to read or a control character in it, a transfer to a queue that does not exist."""

from __future__ import annotations

import aiohttp
import pytest

from router.model import Agent, ContactState, Role
from tests.nodes import http_session, login, new_chat, running_node

ANA = Agent("ana", "default", {"booking": 4}, ["en"])


async def customer_writes(
    http: aiohttp.ClientSession, chat: dict[str, str], text: str
) -> aiohttp.ClientResponse:
    return await http.post(
        f"/api/v1/contacts/{chat['contact_id']}/messages",
        json={"text": text},
        headers={"X-Customer-Token": chat["customer_token"]},
    )


@pytest.mark.parametrize(
    "text",
    ["\u200b", "\u200b \u200d\u2060", "\u200f\u200e", "\u00a0\u3000", "a\u0000b", "bell\u0007"],
)
async def test_a_message_with_nothing_to_read_is_refused(redis_url: str, text: str) -> None:
    async with (
        running_node(redis_url) as node,
        http_session(node) as http,
    ):
        chat = await new_chat(http)
        sent = await customer_writes(http, chat, text)
        assert sent.status == 400
        assert (await sent.json())["field"] == "$.text"
        assert await transcript(http, chat) == []


@pytest.mark.parametrize(
    "text", ["line one\nline two", "a\ttab", "👨\u200d👩\u200d👧", "\u200fשלום"]
)
async def test_a_message_people_can_read_is_taken(redis_url: str, text: str) -> None:
    async with (
        running_node(redis_url) as node,
        http_session(node) as http,
    ):
        chat = await new_chat(http)
        sent = await customer_writes(http, chat, text)
        assert sent.status == 201, await sent.text()
        assert await transcript(http, chat) == [text]


async def test_a_transfer_to_a_queue_that_does_not_exist_is_refused(redis_url: str) -> None:
    async with (
        running_node(redis_url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        chat = await new_chat(http)
        cid = chat["contact_id"]
        assert (await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)).status == 200
        moved = await http.post(
            f"/api/v1/contacts/{cid}/transfer", json={"queue": "nosuch"}, headers=ana
        )
        assert moved.status == 400
        assert (await moved.json())["field"] == "$.queue"
        still = await node.router.get_contact(cid)
        assert (still.state, still.queue, still.agent_id) == (
            ContactState.CONNECTED,
            "booking",
            "ana",
        )


async def transcript(http: aiohttp.ClientSession, chat: dict[str, str]) -> list[str]:
    listed = await http.get(
        f"/api/v1/contacts/{chat['contact_id']}/messages",
        headers={"X-Customer-Token": chat["customer_token"]},
    )
    return [message["text"] for message in (await listed.json())["messages"]]
