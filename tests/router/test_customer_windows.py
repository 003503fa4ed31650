"""A customer's chat is judged by every node's sweep from the moment it exists, and no
longer once it has ended (`customer_windows:<contact>`, `customer_windows_due` in Redis).

- The chat's start (the grace a window has to open) is written with the contact, in the
  same routing call: a node that stops right after creating a chat, before anything else
  it meant to do, still leaves a chat that another node's sweep ends after the grace.
- However a chat ends (completed, abandoned, failed), its windows and its place in the
  sweep's index go in the same call that records the end; a window's report that comes
  after the end (the customer's page still open) puts nothing back.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from router.access import Customer
from router.contacts import ChatRequest
from router.desk import DeskConfig
from router.model import Agent, Contact, ContactState, Presence, Role
from router.store import WINDOW_START
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node

GRACE_S = 1.5


def quick(grace_s: float = GRACE_S) -> DeskConfig:
    return DeskConfig(abandon_grace_s=grace_s, public_requests_per_minute=600)


async def records_of(node: Node, contact_id: str) -> list[tuple[str, str]]:
    """The contact's recorded outcomes (state, reason), oldest first."""
    return [
        (r["state"], r["reason"])
        async for r in node.router.store.records()
        if r.get("contact_id") == contact_id
    ]


async def due(node: Node) -> dict[str, int]:
    """Every chat in the sweep's index, with its due time (ms)."""
    store = node.router.store
    found = await store.client.zrange(store.keys.customer_windows_due, 0, -1, withscores=True)
    return {str(cid): int(score) for cid, score in found}


async def windows_kept(node: Node, contact_id: str) -> bool:
    store = node.router.store
    return bool(await store.client.exists(store.keys.customer_windows(contact_id)))


async def ended(node: Node, contact_id: str, within_s: float) -> tuple[Contact, float]:
    """The contact once it has ended, and when (time.monotonic())."""
    deadline = time.monotonic() + within_s
    while not (contact := await node.router.get_contact(contact_id)).is_terminal:
        assert time.monotonic() < deadline, f"chat {contact_id} did not end: {contact.state}"
        await asyncio.sleep(0.05)
    return contact, time.monotonic()


async def test_a_chat_whose_node_stops_right_after_creating_it_is_swept_after_its_grace(
    redis_url: str,
) -> None:
    """A customer's chat created through the service, and nothing after it (no timer, no
    window ever opened: the node stopped right then), is in the sweep's index at once, due
    at the end of its grace; another node ends it then: abandoned, customer_left, one
    record."""
    async with running_node(redis_url, node_id="n2", desk=quick()) as two:
        async with running_node(redis_url, node_id="n1", desk=quick()) as one:
            before_ms = int(time.time() * 1000)
            started = time.monotonic()
            contact, _ = await one.contacts.start_chat(ChatRequest(queue="booking", language="en"))
            cid = contact.contact_id
            index = await due(one)  # read at once: nothing but the creation has run
            assert list(index) == [cid]
            arrived_ms = int(contact.timestamps["arrived_at"])
            assert before_ms <= arrived_ms <= int(time.time() * 1000)
            assert index[cid] == arrived_ms + int(GRACE_S * 1000)
            latest = await one.router.store.latest_customer_window(cid)
            assert latest == (WINDOW_START, arrived_ms + int(GRACE_S * 1000))
        # n1 has stopped; its chat is nobody's timer's.
        await asyncio.sleep(max(0.0, started + GRACE_S - 0.4 - time.monotonic()))
        assert (await two.router.get_contact(cid)).state == ContactState.QUEUED
        left, at = await ended(two, cid, within_s=GRACE_S + 5)
        assert GRACE_S - 0.1 <= at - started <= GRACE_S + 2.5
        await asyncio.sleep(1.5)  # the later sweeps change nothing
        assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
        assert await records_of(two, cid) == [("abandoned", "customer_left")]
        assert await due(two) == {}
        assert not await windows_kept(two, cid)


async def test_a_chat_staff_start_for_a_customer_waits_for_no_window(redis_url: str) -> None:
    """A chat a supervisor starts for a customer (who may be on the phone) is not ended for
    want of a window: it is not in the sweep's index."""
    users = [("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with running_node(redis_url, desk=quick(), users=users) as node:
        async with http_session(node) as http:
            sup = await login(http, "sup", "sup-secret-1")
            chat = await new_chat(http, queue="booking")
            staffs = await http.post(
                "/api/v1/contacts",
                json={"channel": "chat", "queue": "booking", "language": "en"},
                headers=sup,
            )
            assert staffs.status == 201, await staffs.text()
            by_staff = (await staffs.json())["contact_id"]
        assert set(await due(node)) == {chat["contact_id"]}
        assert not await windows_kept(node, by_staff)


ENDINGS = ["completed", "abandoned", "failed"]


async def end_chat(node: Node, cid: str, how: str) -> Contact:
    """End the chat the way named: its agent completes it, its customer leaves, or it
    fails."""
    if how == "completed":
        await node.router.accept(cid, "ana")
        return await node.router.complete(cid, "ana")
    if how == "abandoned":
        return await node.contacts.abandon(Customer(cid), cid)
    return await node.router.fail(cid, "media_lost")


@pytest.mark.parametrize("how", ENDINGS)
async def test_a_chat_that_ends_leaves_the_sweep_at_once(redis_url: str, how: str) -> None:
    """However a customer's chat ends, its windows and its place in the sweep's index go
    with the end (not at its next due time, the grace or the 15 s of an open window
    later); the one recorded outcome is the end's."""
    agents = [Agent("ana", "default", {"booking": 4}, ["en"])]
    async with running_node(redis_url, desk=quick(30.0), agents=agents) as node:
        if how == "completed":
            await node.router.login("ana", channels={"chat": 1})
            await node.router.set_presence("ana", Presence.AVAILABLE)
        async with http_session(node) as http:
            chat = await new_chat(http, queue="booking")
            cid = chat["contact_id"]
            socket = await window(http, chat)
            assert cid in await due(node)
            contact = await end_chat(node, cid, how)
            assert contact.state.value == how
            assert cid not in await due(node)
            assert not await windows_kept(node, cid)
            # The customer's page, still open, reports its window: nothing comes back.
            until = int(time.time() * 1000) + 15_000
            await node.router.store.keep_customer_window(cid, "w-late", until)
            assert cid not in await due(node)
            assert not await windows_kept(node, cid)
            await socket.close()
            await asyncio.sleep(0.3)  # the window's close is judged
        assert cid not in await due(node)
        assert not await windows_kept(node, cid)
        assert [state for state, _ in await records_of(node, cid)] == [how]


async def window(http: Any, chat: dict[str, Any]) -> Any:
    """The customer's chat window, open (its live connection ready and reported)."""
    socket = await http.ws_connect(
        f"/api/v1/contacts/{chat['contact_id']}/events",
        headers={"X-Customer-Token": chat["customer_token"]},
    )
    assert (await asyncio.wait_for(socket.receive_json(), 5))["type"] == "ready"
    await asyncio.sleep(0.2)
    return socket
