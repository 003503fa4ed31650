"""A contact's live events follow the reader's relationship with the contact, not only
their session: once an agent declines the chat, hands it on or has wrapped it up, or a
supervisor's queue no longer has it, the stream closes (4003) and carries nothing more
of the conversation, whatever the next agent and the customer say."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.model import Agent, ContactState, Presence, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, queues_with_wrap_up, running_node

PASSWORD = "a-long-password"
SECRET = "my date of birth is 1980-02-03"
WRAP_UP_S = 1.0
ACCESS_ENDED = 4003  # the close code docs/security.md names: the reader's access ended


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    queues = queues_with_wrap_up(WRAP_UP_S)
    async with running_node(
        redis_url,
        queues=queues,
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 3}, ["en"]),
        ],
    ) as node:
        for user, role, scope in (
            ("ana", Role.AGENT, {}),
            ("bob", Role.AGENT, {}),
            ("sup", Role.SUPERVISOR, {"queues": ("booking",)}),
        ):
            await node.sessions.save_user(user, role, PASSWORD, **scope)
        yield node


async def open_stream(
    http: aiohttp.ClientSession, contact_id: str, headers: dict[str, str]
) -> aiohttp.ClientWebSocketResponse:
    socket = await http.ws_connect(f"/api/v1/contacts/{contact_id}/events", headers=headers)
    assert (await asyncio.wait_for(socket.receive_json(), 5))["type"] == "ready"
    return socket


async def heard(
    socket: aiohttp.ClientWebSocketResponse, within_s: float
) -> tuple[list[dict[str, Any]], int | None]:
    """What the socket receives until the server closes it or `within_s` pass, and the
    close code (None: still open)."""
    events: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + within_s
    while (left := until - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(socket.receive(), left)
        except TimeoutError:
            break
        if message.type == aiohttp.WSMsgType.TEXT:
            events.append(json.loads(message.data))
        elif message.type == aiohttp.WSMsgType.CLOSE:  # the server's code (the client's
            return events, int(message.data)  # own close reply may find the line gone)
        elif message.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            return events, socket.close_code
    return events, None


async def offered_to(node: Node, contact_id: str, agent: str) -> None:
    for _ in range(50):  # bounded: 5 s
        contact = await node.router.get_contact(contact_id)
        if contact.state == ContactState.OFFERED and contact.agent_id == agent:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{contact_id} never rang at {agent}: {contact}")


def conversation(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What of the events tells of the conversation: its messages, who took it, typing."""
    kinds = ("message", "contact_connected", "typing", "read", "offer", "position")
    return [event for event in events if event.get("type") in kinds]


async def test_a_declined_chat_tells_its_decliner_nothing_of_the_next_agents_conversation(
    node: Node,
) -> None:
    router = node.router
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        await router.set_presence("bob", Presence.NOT_READY)
        await router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http)
        cid, customer = chat["contact_id"], {"X-Customer-Token": chat["customer_token"]}
        await offered_to(node, cid, "ana")
        window = await open_stream(http, cid, customer)
        stale = await open_stream(http, cid, ana)  # while it rings at her: hers to watch
        declined = await http.post(f"/api/v1/contacts/{cid}/decline", headers=ana)
        assert declined.status == 200
        await router.set_presence("ana", Presence.NOT_READY)
        await router.set_presence("bob", Presence.AVAILABLE)
        await offered_to(node, cid, "bob")
        assert (await http.post(f"/api/v1/contacts/{cid}/accept", headers=bob)).status == 200
        assert (await http.get(f"/api/v1/contacts/{cid}/messages", headers=ana)).status == 403
        said = await http.post(
            f"/api/v1/contacts/{cid}/messages", json={"text": SECRET}, headers=customer
        )
        assert said.status == 201
        answered = await http.post(
            f"/api/v1/contacts/{cid}/messages", json={"text": "verified, thank you"}, headers=bob
        )
        assert answered.status == 201
        events, code = await heard(stale, 3)
        customer_heard, _ = await heard(window, 1)
        await window.close()
        await stale.close()
    assert code == ACCESS_ENDED, events
    assert conversation(events) == [], events
    assert SECRET not in json.dumps(events)
    # The customer's window heard it all: there was something to leak.
    assert [e["text"] for e in customer_heard if e["type"] == "message"] == [
        SECRET,
        "verified, thank you",
    ]


@pytest.mark.parametrize("to", [{"agent": "bob"}, {"queue": "general"}])
async def test_a_transferred_chat_stream_closes_before_the_customer_speaks_again(
    node: Node, to: dict[str, str]
) -> None:
    """Handed to a colleague by name (an offer follows), or to a queue where nobody is
    free (no routing event at all: the customer's next message is the first thing the
    stream sees, and it must not pass)."""
    router = node.router
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        await router.set_presence("bob", Presence.NOT_READY)
        await router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http)
        cid, customer = chat["contact_id"], {"X-Customer-Token": chat["customer_token"]}
        await offered_to(node, cid, "ana")
        assert (await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)).status == 200
        stale = await open_stream(http, cid, ana)
        hello = await http.post(
            f"/api/v1/contacts/{cid}/messages", json={"text": "hello"}, headers=customer
        )
        assert hello.status == 201
        first, code = await heard(stale, 1)
        assert code is None and [e["text"] for e in conversation(first)] == ["hello"]  # hers
        await router.set_presence("ana", Presence.NOT_READY)
        if "agent" in to:
            await router.set_presence("bob", Presence.AVAILABLE)
        moved = await http.post(f"/api/v1/contacts/{cid}/transfer", json=to, headers=ana)
        assert moved.status == 200, await moved.text()
        if "agent" in to:
            await offered_to(node, cid, "bob")
            assert (await http.post(f"/api/v1/contacts/{cid}/accept", headers=bob)).status == 200
        said = await http.post(
            f"/api/v1/contacts/{cid}/messages", json={"text": SECRET}, headers=customer
        )
        assert said.status == 201
        events, code = await heard(stale, 3)
        await stale.close()
    assert code == ACCESS_ENDED, events
    assert conversation(events) == [], events
    assert SECRET not in json.dumps(events)


async def test_a_supervisor_stream_closes_when_the_chat_leaves_their_queues(node: Node) -> None:
    """booking's supervisor reads a chat live; its agent transfers it to general (nobody
    there is free: nothing is published): the customer's next words are not theirs."""
    router = node.router
    async with http_session(node) as http:
        ana, sup = await login(http, "ana", PASSWORD), await login(http, "sup", PASSWORD)
        await router.set_presence("bob", Presence.NOT_READY)
        await router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http)
        cid, customer = chat["contact_id"], {"X-Customer-Token": chat["customer_token"]}
        await offered_to(node, cid, "ana")
        assert (await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)).status == 200
        reading = await open_stream(http, cid, sup)
        hello = await http.post(
            f"/api/v1/contacts/{cid}/messages", json={"text": "hello"}, headers=customer
        )
        assert hello.status == 201
        first, code = await heard(reading, 1)
        assert code is None and [e["text"] for e in conversation(first)] == ["hello"]
        await router.set_presence("ana", Presence.NOT_READY)
        moved = await http.post(
            f"/api/v1/contacts/{cid}/transfer", json={"queue": "general"}, headers=ana
        )
        assert moved.status == 200
        assert (await http.get(f"/api/v1/contacts/{cid}", headers=sup)).status == 403
        said = await http.post(
            f"/api/v1/contacts/{cid}/messages", json={"text": SECRET}, headers=customer
        )
        assert said.status == 201
        events, code = await heard(reading, 3)
        await reading.close()
    assert code == ACCESS_ENDED, events
    assert SECRET not in json.dumps(events)


async def test_the_agents_stream_lasts_through_the_wrap_up_and_closes_after_it(
    node: Node,
) -> None:
    """Her own chat's end reaches her; once its wrap-up is saved and the wrap-up time
    is over the periodic check closes the stream, and the customer's stays open."""
    router = node.router
    async with http_session(node) as http:
        ana = await login(http, "ana", PASSWORD)
        await router.set_presence("bob", Presence.NOT_READY)
        await router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http)
        cid, customer = chat["contact_id"], {"X-Customer-Token": chat["customer_token"]}
        await offered_to(node, cid, "ana")
        assert (await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)).status == 200
        window = await open_stream(http, cid, customer)
        stream = await open_stream(http, cid, ana)
        assert (await http.post(f"/api/v1/contacts/{cid}/complete", headers=ana)).status == 200
        ended, code = await heard(stream, WRAP_UP_S + 1)  # her wrap-up is owed: still hers
        assert code is None and "contact_closed" in [e["type"] for e in ended], ended
        saved = await http.post(
            f"/api/v1/contacts/{cid}/wrapup", json={"note": "done"}, headers=ana
        )
        assert saved.status == 200
        events, code = await heard(stream, 8)  # the periodic check: every 5 s
        _, window_code = await heard(window, 0.5)
        await window.close()
        await stream.close()
    assert code == ACCESS_ENDED, events
    assert window_code is None  # the customer's token does not lapse
