"""A chat ends when its customer's window stays closed for `[chat] abandon_grace_s`, counted
from the window's LAST close: short network drops, at any moment and on any node, never end
it, whichever earlier timer (the chat's start, an earlier drop) runs out meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp

from router.desk import DeskConfig
from router.model import Agent, ContactState, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node

GRACE_S = 2.0


async def window(http: aiohttp.ClientSession, chat: dict[str, Any]) -> Any:
    """The customer's chat window, open (its live connection ready and counted)."""
    socket = await http.ws_connect(
        f"/api/v1/contacts/{chat['contact_id']}/events",
        headers={"X-Customer-Token": chat["customer_token"]},
    )
    assert (await asyncio.wait_for(socket.receive_json(), 5))["type"] == "ready"
    await asyncio.sleep(0.2)  # its first tick says the window is open
    return socket


async def state(node: Node, contact_id: str) -> ContactState:
    return (await node.router.get_contact(contact_id)).state


@contextlib.asynccontextmanager
async def connected_chat(redis_url: str) -> AsyncIterator[tuple[Node, Any, Any, dict[str, Any]]]:
    """Two nodes on one Redis; a customer's chat, started on the first, that ana took.
    Yields the first node, a client of each node and the chat (its `started` time)."""
    quick = DeskConfig(abandon_grace_s=GRACE_S, public_requests_per_minute=600)
    users = [("ana", Role.AGENT, "ana-secret-1")]
    agents = [Agent("ana", "default", {"booking": 4}, ["en"])]
    async with (
        running_node(redis_url, node_id="n1", desk=quick, users=users, agents=agents) as one,
        running_node(redis_url, node_id="n2", desk=quick) as two,
        http_session(one) as first,
        http_session(two) as second,
    ):
        ana = await login(first, "ana", "ana-secret-1")
        await first.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        started = time.monotonic()
        chat = await new_chat(first, queue="booking")
        accepted = await first.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
        assert accepted.status == 200, await accepted.text()
        yield one, first, second, {**chat, "started": started}
        assert (await first.post("/api/v1/agents/logout", headers=ana)).status == 200


def clock(chat: dict[str, Any]) -> Callable[[float], Awaitable[None]]:
    """Sleeps until `offset_s` after the chat started."""

    async def until(offset_s: float) -> None:
        await asyncio.sleep(max(0.0, chat["started"] + offset_s - time.monotonic()))

    return until


async def test_a_drop_as_the_grace_from_the_start_runs_out_keeps_the_chat(
    redis_url: str,
) -> None:
    """The network drops before the grace counted from the chat's start ends (2 s) and
    comes back after it, on the other node: the chat goes on."""
    async with connected_chat(redis_url) as (one, first, second, chat):
        until, cid = clock(chat), chat["contact_id"]
        open_window = await window(first, chat)
        await until(1.0)
        await open_window.close()
        await until(2.6)
        open_window = await window(second, chat)
        await until(4.5)
        assert await state(one, cid) == ContactState.CONNECTED
        await open_window.close()


async def test_a_second_drop_keeps_the_chat_and_the_grace_counts_from_the_last_close(
    redis_url: str,
) -> None:
    """Two drops in a row, each back on the other node: the first one's grace (from 3.0 to
    5.0 s) runs out during the second; the chat goes on. Closed for good, it ends the
    grace after that close, completed as the customer's leaving."""
    async with connected_chat(redis_url) as (one, first, second, chat):
        until, cid = clock(chat), chat["contact_id"]
        open_window = await window(first, chat)
        await until(3.0)
        await open_window.close()
        await until(3.5)
        open_window = await window(second, chat)
        await until(4.5)
        await open_window.close()
        await until(5.3)
        open_window = await window(first, chat)
        await until(7.5)
        assert await state(one, cid) == ContactState.CONNECTED

        await open_window.close()
        closed_at = time.monotonic()
        await asyncio.sleep(GRACE_S - 0.7)
        assert await state(one, cid) == ContactState.CONNECTED
        while not (await one.router.get_contact(cid)).is_terminal:
            assert time.monotonic() - closed_at < GRACE_S + 3, "the chat did not end"
            await asyncio.sleep(0.1)
        ended_after_s = time.monotonic() - closed_at
        ended = await one.router.get_contact(cid)
    assert (ended.state, ended.outcome, ended.reason) == (
        ContactState.COMPLETED,
        "completed",
        "customer_left",
    )
    assert GRACE_S - 0.2 <= ended_after_s <= GRACE_S + 1.5
    records = [r async for r in one.router.store.records() if r.get("contact_id") == cid]
    assert len(records) == 1 and records[0]["reason"] == "customer_left"


async def test_a_window_that_never_comes_back_ends_the_waiting_chat_after_the_grace(
    redis_url: str,
) -> None:
    """A waiting chat whose window drops twice and then stays closed is abandoned the
    grace after its last close (a customer who left, not one on a bad network)."""
    quick = DeskConfig(abandon_grace_s=GRACE_S, public_requests_per_minute=600)
    async with running_node(redis_url, desk=quick) as node, http_session(node) as http:
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        for pause_s in (GRACE_S - 0.8, 0.0):
            await (await window(http, chat)).close()
            closed_at = time.monotonic()
            await asyncio.sleep(pause_s)
        # The last close came ~1.7 s after the start: the start's grace ends meanwhile.
        await asyncio.sleep(GRACE_S - 0.5)
        assert await state(node, cid) == ContactState.QUEUED
        while not (await node.router.get_contact(cid)).is_terminal:
            assert time.monotonic() - closed_at < GRACE_S + 3, "the chat did not end"
            await asyncio.sleep(0.1)
        ended_after_s = time.monotonic() - closed_at
        left = await node.router.get_contact(cid)
    assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
    assert ended_after_s <= GRACE_S + 1.5
