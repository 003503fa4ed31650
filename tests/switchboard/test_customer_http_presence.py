"""A customer whose client polls over HTTP (a widget, a mobile app) instead of holding the
events socket is there while it makes requests with the chat's customer token: posting a
message, reading the messages, reading the contact each count as an open window for
15 s (`Contacts._customer_requested`, window `http`). A client that stops is gone that long plus
`[chat] abandon_grace_s` later; staff requests keep no customer there."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.contacts import HTTP_WINDOW, WINDOW_LIFE_S, WINDOW_THROTTLE_S
from router.desk import DeskConfig
from router.model import Agent, Contact, ContactState, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node

GRACE_S = 1.5
QUICK = DeskConfig(abandon_grace_s=GRACE_S, public_requests_per_minute=600)
USERS = [("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")]
AGENTS = [Agent("ana", "default", {"booking": 4}, ["en"])]


async def records_of(node: Node, contact_id: str) -> list[tuple[str, str]]:
    """The contact's recorded outcomes (state, reason), oldest first."""
    return [
        (r["state"], r["reason"])
        async for r in node.router.store.records()
        if r.get("contact_id") == contact_id
    ]


async def customer_request(
    http: aiohttp.ClientSession, chat: dict[str, Any], kind: str, n: int
) -> None:
    """One request of the customer's polling client, with the chat's customer token."""
    path = f"/api/v1/contacts/{chat['contact_id']}"
    token = {"X-Customer-Token": chat["customer_token"]}
    if kind == "post":
        response = await http.post(
            f"{path}/messages", json={"text": f"still here {n}"}, headers=token
        )
        assert response.status == 201, await response.text()
    else:
        response = await http.get(f"{path}/messages" if kind == "messages" else path, headers=token)
        assert response.status == 200, await response.text()


async def poll(http: aiohttp.ClientSession, chat: dict[str, Any], kind: str, for_s: float) -> float:
    """The customer's client makes a request about every second for `for_s`; the time
    (time.monotonic()) of its last one."""
    last, until, n = time.monotonic(), time.monotonic() + for_s, 0
    while time.monotonic() < until:
        await customer_request(http, chat, kind, n)
        last, n = time.monotonic(), n + 1
        await asyncio.sleep(1.0)
    return last


async def ended(node: Node, contact_id: str, within_s: float) -> tuple[Contact, float]:
    """The contact once it has ended, and when (time.monotonic())."""
    deadline = time.monotonic() + within_s
    while not (contact := await node.router.get_contact(contact_id)).is_terminal:
        assert time.monotonic() < deadline, f"chat {contact_id} did not end: {contact.state}"
        await asyncio.sleep(0.1)
    return contact, time.monotonic()


@contextlib.asynccontextmanager
async def chat_node(
    redis_url: str, *, answered: bool
) -> AsyncIterator[tuple[Node, aiohttp.ClientSession, dict[str, str], dict[str, Any]]]:
    """A node with a 1.5 s grace; a customer's chat (that ana took, when `answered`),
    whose customer never opens the events socket."""
    async with (
        running_node(redis_url, desk=QUICK, users=USERS, agents=AGENTS) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        if answered:
            await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        chat = await new_chat(http, queue="booking")
        if answered:
            accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
            assert accepted.status == 200, await accepted.text()
        yield node, http, ana, chat


@pytest.mark.parametrize("kind", ["post", "messages", "contact"])
async def test_a_customer_who_polls_over_http_keeps_the_chat_until_the_agent_ends_it(
    redis_url: str, kind: str
) -> None:
    """The customer only posts (or reads the messages, or the contact) over HTTP, about
    every second, well past the grace: the chat stays connected, and the agent completes
    it; that is its one recorded outcome, not the customer's leaving."""
    async with chat_node(redis_url, answered=True) as (node, http, ana, chat):
        cid = chat["contact_id"]
        await poll(http, chat, kind, for_s=GRACE_S + 2.5)
        assert (await node.router.get_contact(cid)).state == ContactState.CONNECTED
        done = await http.post(f"/api/v1/contacts/{cid}/complete", headers=ana)
        assert done.status == 200, await done.text()
        contact = await node.router.get_contact(cid)
        assert (contact.state, contact.outcome) == (ContactState.COMPLETED, "completed")
        assert contact.reason != "customer_left"
        assert [state for state, _ in await records_of(node, cid)] == ["completed"]


async def test_a_customer_who_stops_polling_has_left_the_window_life_and_the_grace_after(
    redis_url: str,
) -> None:
    """A waiting chat's customer posts for a while and stops: the chat waits as long as
    its last request counts (15 s, throttled to one report per 5 s) and the grace, then
    it is abandoned as the customer's leaving, recorded once."""
    async with chat_node(redis_url, answered=False) as (node, http, _, chat):
        cid = chat["contact_id"]
        last = await poll(http, chat, "post", for_s=GRACE_S + 1.5)
        kept_s = WINDOW_LIFE_S - WINDOW_THROTTLE_S  # the least a request keeps them
        await asyncio.sleep(max(0.0, last + kept_s - 0.5 - time.monotonic()))
        assert (await node.router.get_contact(cid)).state == ContactState.QUEUED
        contact, at = await ended(node, cid, within_s=WINDOW_THROTTLE_S + GRACE_S + 3)
        assert (contact.state, contact.reason) == (ContactState.ABANDONED, "customer_left")
        assert kept_s + GRACE_S - 0.3 <= at - last <= WINDOW_LIFE_S + GRACE_S + 1.5
        assert await records_of(node, cid) == [("abandoned", "customer_left")]
        gone = await http.post(
            f"/api/v1/contacts/{cid}/messages",
            json={"text": "hello?"},
            headers={"X-Customer-Token": chat["customer_token"]},
        )
        assert gone.status == 409


async def test_staff_requests_keep_no_customer_there(redis_url: str) -> None:
    """The agent reads the chat and its messages every half second until the grace runs
    out; the customer is not there: the chat ends the grace after it started (not 15 s
    later), completed as the customer's leaving."""
    async with chat_node(redis_url, answered=True) as (node, http, ana, chat):
        cid = chat["contact_id"]
        for _ in range(3):
            for path in (f"/api/v1/contacts/{cid}", f"/api/v1/contacts/{cid}/messages"):
                read = await http.get(path, headers=ana)
                assert read.status == 200, await read.text()
            await asyncio.sleep(0.5)
        contact, _ = await ended(node, cid, within_s=GRACE_S + 3)
        assert (contact.state, contact.reason) == (ContactState.COMPLETED, "customer_left")
        lasted_ms = contact.timestamps["ended_at"] - contact.timestamps["arrived_at"]
        assert lasted_ms <= (GRACE_S + 1.2) * 1000
        assert await records_of(node, cid) == [("completed", "customer_left")]


async def test_a_chat_staff_start_stays_unjudged_while_its_customer_polls(
    redis_url: str,
) -> None:
    """A chat a supervisor starts for a customer waits for no window: its customer's
    requests do not make it one that ends when they stop."""
    async with (
        running_node(redis_url, desk=QUICK, users=USERS) as node,
        http_session(node) as http,
    ):
        sup = await login(http, "sup", "sup-secret-1")
        created = await http.post(
            "/api/v1/contacts",
            json={"channel": "chat", "queue": "booking", "language": "en"},
            headers=sup,
        )
        assert created.status == 201, await created.text()
        chat = dict(await created.json())
        await customer_request(http, chat, "post", 0)
        await customer_request(http, chat, "contact", 1)
        store = node.router.store
        assert await store.latest_customer_window(chat["contact_id"]) is None
        assert (
            await store.client.zscore(store.keys.customer_windows_due, chat["contact_id"]) is None
        )


async def test_requests_within_the_throttle_write_the_window_once(redis_url: str) -> None:
    """Several requests of one customer within 5 s report their window once (one Redis
    write, not one per request); the window is `http`, kept 15 s from that report."""
    async with chat_node(redis_url, answered=False) as (node, http, _, chat):
        cid = chat["contact_id"]
        before = int(time.time() * 1000)
        await customer_request(http, chat, "contact", 0)
        first = await node.router.store.latest_customer_window(cid)
        for n in range(3):
            await customer_request(http, chat, "messages", n)
        assert await node.router.store.latest_customer_window(cid) == first
        assert first is not None and first[0] == HTTP_WINDOW
        assert before + WINDOW_LIFE_S * 1000 <= first[1] <= before + WINDOW_LIFE_S * 1000 + 1000
