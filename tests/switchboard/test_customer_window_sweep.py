"""A chat nobody is present for ends after `[chat] abandon_grace_s` whatever happens to the
node that took it: the timers in a node's memory are the fast path; every node's sweep of
the chats whose customer windows are due (`customer_windows_due` in Redis) ends those
whose timer was lost, once, however many nodes judge them at the same time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from router.access import Customer
from router.contacts import Contacts
from router.desk import DeskConfig
from router.model import Contact, ContactState
from switchboard.node import Node
from tests.nodes import http_session, new_chat, running_node

GRACE_S = 1.5


def quick() -> DeskConfig:
    return DeskConfig(abandon_grace_s=GRACE_S, public_requests_per_minute=600)


async def records_of(node: Node, contact_id: str) -> list[dict[str, Any]]:
    return [r async for r in node.router.store.records() if r.get("contact_id") == contact_id]


async def ended(node: Node, contact_id: str, within_s: float) -> tuple[Contact, float]:
    """The contact once it has ended, and when (time.monotonic())."""
    deadline = time.monotonic() + within_s
    while not (contact := await node.router.get_contact(contact_id)).is_terminal:
        assert time.monotonic() < deadline, f"chat {contact_id} did not end: {contact.state}"
        await asyncio.sleep(0.1)
    return contact, time.monotonic()


def without_timer(contacts: Contacts) -> None:
    """The node records a new chat's grace in Redis, as ever, but its timer never runs
    (as when the node stops or its task dies right after)."""
    store = contacts.router.store

    async def await_window(customer: Customer, grace_s: float) -> Contact | None:
        until = int(time.time() * 1000) + int(grace_s * 1000)
        await store.keep_customer_window(customer.contact_id, "start", until)
        return None

    contacts.await_window = await_window  # type: ignore[method-assign]


async def test_a_chat_whose_node_stops_right_after_creating_it_ends_by_another_nodes_sweep(
    redis_url: str,
) -> None:
    """The node that took a chat nobody opened a window for stops (its timer with it);
    another node ends the chat after the grace: abandoned, customer_left, recorded once."""
    async with running_node(redis_url, node_id="n2", desk=quick()) as two:
        async with running_node(redis_url, node_id="n1", desk=quick()) as one:
            async with http_session(one) as http:
                started = time.monotonic()
                chat = await new_chat(http, queue="booking")
            await asyncio.sleep(0.3)  # the chat's start (its grace) is recorded
        cid = chat["contact_id"]  # node n1 has stopped
        await asyncio.sleep(max(0.0, started + GRACE_S - 0.4 - time.monotonic()))
        assert (await two.router.get_contact(cid)).state == ContactState.QUEUED
        left, at = await ended(two, cid, within_s=GRACE_S + 5)
        assert at - started <= GRACE_S + 2.5
        await asyncio.sleep(1.5)  # a later sweep (of either node) changes nothing
        records = await records_of(two, cid)
        assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
        assert [(r["state"], r["reason"]) for r in records] == [("abandoned", "customer_left")]
        assert await two.router.store.customer_windows_due(2**62, 100) == []


async def test_a_window_whose_node_dies_keeps_the_chat_until_it_runs_out_then_the_grace(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customer's window is open on a node that dies without closing it: the window,
    no longer refreshed, runs out (15 s after its last report), the grace counts from
    then, and another node ends the chat after it."""
    async with running_node(redis_url, node_id="n2", desk=quick()) as two:
        async with http_session(two) as http:
            chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        async with running_node(redis_url, node_id="n1", desk=quick()) as one:

            async def crashed(*_: Any) -> None:  # the node dies: nobody sees the window close
                return None

            monkeypatch.setattr(one.contacts, "customer_went", crashed)
            async with http_session(one) as http:
                socket = await http.ws_connect(
                    f"/api/v1/contacts/{cid}/events",
                    headers={"X-Customer-Token": chat["customer_token"]},
                )
                assert (await asyncio.wait_for(socket.receive_json(), 5))["type"] == "ready"
                await asyncio.sleep(0.3)  # the window's first report
                latest = await one.router.store.latest_customer_window(cid)
                assert latest is not None and latest[0] not in ("start", "left")
                runs_out_ms = latest[1]
                await socket.close()
        # n1 is gone, its window recorded open until `runs_out_ms`.
        offset_s = time.time() - time.monotonic()  # wall clock (ms in Redis) to monotonic

        def at(ms: int) -> float:
            return ms / 1000 - offset_s

        await asyncio.sleep(max(0.0, at(runs_out_ms) - 0.5 - time.monotonic()))
        assert (await two.router.get_contact(cid)).state == ContactState.QUEUED
        await asyncio.sleep(max(0.0, at(runs_out_ms) + GRACE_S - 0.4 - time.monotonic()))
        assert (await two.router.get_contact(cid)).state == ContactState.QUEUED
        left, when = await ended(two, cid, within_s=5)
        assert when <= at(runs_out_ms) + GRACE_S + 2.5
        assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
        assert [r["reason"] for r in await records_of(two, cid)] == ["customer_left"]


async def test_two_nodes_sweeping_the_same_due_chats_end_each_once(redis_url: str) -> None:
    """Chats whose timers never run, due at once, swept by two nodes at the same time (their
    own loops and more sweeps besides): each chat ends once, one record each, and no
    sweep fails on a chat another one ended."""
    async with (
        running_node(redis_url, node_id="n1", desk=quick()) as one,
        running_node(redis_url, node_id="n2", desk=quick()) as two,
        http_session(one) as http,
    ):
        without_timer(one.contacts)
        chats = [await new_chat(http, queue="booking", customer=f"c-{i}") for i in range(12)]
        await asyncio.sleep(0.3)
        due = await one.router.store.customer_windows_due(2**62, 100)
        assert sorted(due) == sorted(c["contact_id"] for c in chats)
        windows = [await one.router.store.latest_customer_window(c) for c in due]
        latest = max(w[1] for w in windows if w is not None)
        await asyncio.sleep(max(0.0, latest / 1000 - time.time() + 0.02))
        sweeps = await asyncio.gather(
            *(node.contacts.sweep_windows() for node in (one, two, one, two)),
        )
        swept = [c.contact_id for sweep in sweeps for c in sweep]
        assert len(swept) == len(set(swept))  # no chat ended twice
        for chat in chats:
            cid = chat["contact_id"]
            left, _ = await ended(two, cid, within_s=10)
            assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
        await asyncio.sleep(1.2)  # the loops' next sweeps too
        for chat in chats:
            records = await records_of(one, chat["contact_id"])
            assert [(r["state"], r["reason"]) for r in records] == [("abandoned", "customer_left")]
        assert await one.router.store.customer_windows_due(2**62, 100) == []


@pytest.mark.parametrize("judge", ["await_window", "customer_went"])
async def test_a_timer_for_an_unknown_chat_ends_quietly(redis_url: str, judge: str) -> None:
    """A node's timer for a chat that is gone ends without a failure; nothing is left to
    judge."""
    async with running_node(redis_url, desk=quick()) as node:
        customer = Customer("no-such-chat")
        if judge == "await_window":
            assert await node.contacts.await_window(customer, 0.2) is None
        else:
            assert await node.contacts.customer_went(customer, "w1", 0.2) is None
        assert await node.router.store.customer_windows_due(2**62, 100) == []
