"""A Redis outage is not the customers' leaving (docs/routing.md, Redis outages).

While Redis is out of reach every request of a customer's client answers 503, so no chat
window is renewed and every one runs out. A node takes no customer for gone until it has
itself reached Redis again without a break for a window's life and the grace
(`Contacts._may_judge`, by the node's `regions.contact.RedisContact`): the customers who
poll again keep their chats; one who stopped is still ended, that much later. On the
real Redis, killed and restarted under a node; the customers poll over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from regions.contact import RedisContact
from router.access import Customer
from router.contacts import WINDOW_LIFE_S, ChatRequest
from router.desk import DeskConfig
from router.model import Agent, ContactState, Role
from router.store import WINDOW_LEFT
from switchboard.common.clock import now_ms
from switchboard.embedded import EmbeddedRedis
from switchboard.node import Node
from tests.loops import until
from tests.nodes import http_session, login, new_chat, running_node

GRACE_S = 1.5
QUICK = DeskConfig(abandon_grace_s=GRACE_S, public_requests_per_minute=600)
# Longer than any window the customers' last requests opened (15 s, one report per 5 s)
# and its grace: every chat's customer counts as gone by the time Redis is back.
OUTAGE_S = WINDOW_LIFE_S + GRACE_S + 1.5
POLL_S = 0.5
USERS = [("ana", Role.AGENT, "ana-secret-1")]
AGENTS = [Agent("ana", "default", {"booking": 4}, ["en"], {"voice": 0, "chat": 2})]
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


async def records_of(node: Node, contact_id: str) -> list[tuple[str, str]]:
    """The contact's recorded outcomes (state, reason), oldest first."""
    return [
        (r["state"], r["reason"])
        async for r in node.router.store.records()
        if r.get("contact_id") == contact_id
    ]


# What a customer's client records when no node answers (its connection refused).
NO_NODE = 0


class PollingCustomer:
    """A customer's client reading its chat over HTTP every POLL_S, whatever it answers,
    until stopped; the statuses it got, in order (NO_NODE while no node answers). It asks
    `node` (a base URL; none: the session's own), which a test may change (the address
    of a node started again)."""

    def __init__(self, http: aiohttp.ClientSession, chat: dict[str, Any], node: str = "") -> None:
        self.http, self.chat, self.node = http, chat, node
        self.statuses: list[int] = []
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self._poll())

    @property
    def contact_id(self) -> str:
        return str(self.chat["contact_id"])

    async def _poll(self) -> None:
        path = f"/api/v1/contacts/{self.contact_id}"
        token = {"X-Customer-Token": self.chat["customer_token"]}
        while not self.stop.is_set():
            try:
                async with self.http.get(
                    self.node + path, headers=token, timeout=REQUEST_TIMEOUT
                ) as response:
                    self.statuses.append(response.status)
            except aiohttp.ClientConnectionError:  # no node there: the client retries
                self.statuses.append(NO_NODE)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), POLL_S)

    def answered(self, status: int, after: int = 0) -> Callable[[], Awaitable[bool]]:
        """A probe: whether a request after the first `after` answered `status`."""

        async def probe() -> bool:
            return status in self.statuses[after:]

        return probe

    async def leave(self) -> None:
        """The client stops polling (its page closed)."""
        self.stop.set()
        await asyncio.wait_for(self.task, 15)


async def two_chats_with_ana(http: Any) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """ana signed in and available, then two new chats she accepts: her credentials and
    those chats."""
    ana = await login(http, "ana", "ana-secret-1")
    available = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    assert available.status == 200, await available.text()
    connected = []
    for n in range(2):
        chat = await new_chat(http, customer=f"c-{n}")
        accepted = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
        assert accepted.status == 200, await accepted.text()
        connected.append(chat)
    return ana, connected


async def test_customers_polling_through_an_outage_longer_than_the_grace_keep_their_chats(
    private_redis: EmbeddedRedis,
) -> None:
    """Two chats connected to ana and two waiting, their customers polling; a third
    waiting customer closes the page as Redis goes. Redis is out for longer than a
    window's life and the grace, every poll answering 503. Once it is back the polling
    customers keep their chats (ana stays busy with hers, no record is written), while
    the one who left is ended as `customer_left` once the node has reached Redis for a
    window's life and the grace. The chats then end as their people end them, each
    recorded once."""
    async with (
        running_node(private_redis.url, desk=QUICK, users=USERS, agents=AGENTS) as node,
        http_session(node) as http,
    ):
        ana, connected = await two_chats_with_ana(http)
        waiting = [await new_chat(http, customer=f"w-{n}") for n in range(3)]
        for chat in waiting:
            assert (await node.router.get_contact(chat["contact_id"])).state == ContactState.QUEUED
        customers = [PollingCustomer(http, chat) for chat in connected + waiting]
        staying, leaver = customers[:4], customers[4]
        try:
            for customer in customers:
                assert await until(customer.answered(200), 10.0)
            await asyncio.sleep(1.1)  # the AOF is written to disk every second
            await leaver.leave()
            private_redis.kill()
            down_at = time.monotonic()
            for customer in staying:
                assert await until(customer.answered(503), 10.0), customer.statuses
            await asyncio.sleep(max(0.0, down_at + OUTAGE_S - time.monotonic()))
            before_back = [len(customer.statuses) for customer in staying]
            private_redis.start()

            for customer, seen in zip(staying, before_back, strict=True):
                assert await until(customer.answered(200, seen), 15.0), (
                    "the customer's polls were not answered again after the outage"
                )
            # The node judges the windows again once it had Redis for a window's life and
            # the grace: the customer who left is ended then, the others are not.
            left = await until(
                lambda: _ended(node, leaver.contact_id), WINDOW_LIFE_S + GRACE_S + 10.0
            )
            assert left, "the customer who left was never taken for gone"
            assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
            assert await node.contacts.sweep_windows() == []
            for chat in connected:
                contact = await node.router.get_contact(chat["contact_id"])
                assert (contact.state, contact.agent_id) == (ContactState.CONNECTED, "ana")
            for chat in waiting[:2]:
                contact = await node.router.get_contact(chat["contact_id"])
                assert contact.state == ContactState.QUEUED
            for customer in staying:
                assert await records_of(node, customer.contact_id) == []
                assert set(customer.statuses) <= {200, 503}, customer.statuses
            assert (await node.router.get_agent("ana")).load["chat"] == 2
        finally:
            for customer in customers:
                await customer.leave()

        # The chats end as their people end them, each recorded once.
        for chat in connected:
            done = await http.post(f"/api/v1/contacts/{chat['contact_id']}/complete", headers=ana)
            assert done.status == 200, await done.text()
        for chat in waiting[:2]:
            gone = await http.post(
                f"/api/v1/contacts/{chat['contact_id']}/abandon",
                headers={"X-Customer-Token": chat["customer_token"]},
            )
            assert gone.status == 200, await gone.text()
        for chat in connected:
            contact = await node.router.get_contact(chat["contact_id"])
            assert (contact.outcome, contact.reason) != ("completed", "customer_left")
            assert [state for state, _ in await records_of(node, chat["contact_id"])] == [
                "completed"
            ]
        for chat in waiting:
            assert await records_of(node, chat["contact_id"]) == [("abandoned", "customer_left")]


async def _ended(node: Node, contact_id: str) -> Any:
    contact = await node.router.get_contact(contact_id)
    return contact if contact.is_terminal else None


async def test_a_nodes_timer_after_an_outage_leaves_the_judgement_to_the_sweep(
    redis_url: str,
) -> None:
    """The timer of the node that saw a chat start runs out just after the node reached
    Redis again (its failover check lost and reached it, as in an outage): it ends
    nothing; the chat stays in the sweep's index, which ends it once the node may judge."""
    async with running_node(redis_url, desk=QUICK) as node:
        contact, _ = await node.contacts.start_chat(ChatRequest(queue="booking", language="en"))
        reach = node.regions.contact
        reach.lost()
        reach.reached()  # Redis is back: the window's life and the grace to wait
        assert await node.contacts.await_window(Customer(contact.contact_id), GRACE_S) is None
        assert (await node.router.get_contact(contact.contact_id)).state == ContactState.QUEUED
        assert await node.contacts.sweep_windows() == []
        due = await node.router.store.customer_windows_due(2**62, 100)
        assert due == [contact.contact_id]


def node_url(node: Node) -> str:
    return f"http://127.0.0.1:{node.http_port}"


async def test_customers_whose_windows_ran_out_while_no_node_ran_keep_their_chats(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The only node stops (its chats left as they are) for longer than a window's life
    and the grace, the customers' clients polling on, refused: with no node to renew
    them, every window runs out, its grace after it. A node started again on the same
    Redis judges none of them at once; the customers, polling it within a window's life
    and the grace of its start, keep their chats (ana hers, no record written), and the
    one whose page closed while no node ran is ended as `customer_left` once the node has
    been up that long, once. The node says once why it waits, and once that it judges."""
    caplog.set_level(logging.INFO, logger="router.contacts")
    hold_ms = int((WINDOW_LIFE_S + GRACE_S) * 1000)
    async with aiohttp.ClientSession() as clients:  # the customers' browsers: any node
        customers: list[PollingCustomer] = []
        try:
            async with (
                running_node(redis_url, desk=QUICK, users=USERS, agents=AGENTS) as first,
                http_session(first) as desk,
            ):
                _, connected = await two_chats_with_ana(desk)
                waiting = [await new_chat(desk, customer=f"w-{n}") for n in range(2)]
                customers = [
                    PollingCustomer(clients, chat, node_url(first)) for chat in connected + waiting
                ]
                for customer in customers:
                    assert await until(customer.answered(200), 10.0)
            stopped_at = time.monotonic()  # no node runs
            staying, leaver = customers[:3], customers[3]
            for customer in customers:
                assert await until(customer.answered(NO_NODE), 10.0), customer.statuses
            await leaver.leave()  # the page closed while no node ran
            await asyncio.sleep(max(0.0, stopped_at + OUTAGE_S - time.monotonic()))

            restarted_ms = now_ms()
            async with running_node(redis_url, desk=QUICK) as second:
                # Judged at once, every chat would end: its window ran out (the grace
                # after it too) before this node started.
                assert await second.contacts.sweep_windows() == []
                for customer in customers:
                    cid = customer.contact_id
                    assert not (await second.router.get_contact(cid)).is_terminal
                    latest = await second.router.store.latest_customer_window(cid)
                    assert latest is not None and latest[0] == WINDOW_LEFT, latest
                    assert latest[1] < restarted_ms, "the window had not run out"

                for customer in staying:  # the clients reach the node started again
                    seen = len(customer.statuses)
                    customer.node = node_url(second)
                    assert await until(customer.answered(200, seen), 10.0), customer.statuses
                left = await until(
                    lambda: _ended(second, leaver.contact_id), WINDOW_LIFE_S + GRACE_S + 10.0
                )
                assert left, "the customer who never came back was never taken for gone"
                assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
                assert int(left.timestamps["ended_at"]) >= restarted_ms + hold_ms
                assert await second.contacts.sweep_windows() == []
                assert await records_of(second, leaver.contact_id) == [
                    ("abandoned", "customer_left")
                ]
                for chat in connected:
                    contact = await second.router.get_contact(chat["contact_id"])
                    assert (contact.state, contact.agent_id) == (ContactState.CONNECTED, "ana")
                for chat in waiting[:1]:
                    contact = await second.router.get_contact(chat["contact_id"])
                    assert contact.state == ContactState.QUEUED
                for customer in staying:
                    assert await records_of(second, customer.contact_id) == []
                    assert set(customer.statuses) <= {200, 503, NO_NODE}, customer.statuses
                assert (await second.router.get_agent("ana")).load["chat"] == 2
            said = [r.getMessage() for r in caplog.records if r.name == "router.contacts"]
            held = [line for line in said if "ran out before this node started" in line]
            assert len(held) == 2, said  # why it waits, then that it judges
            assert "none is taken for gone until this node has been up for" in held[0]
        finally:
            for customer in customers:
                await customer.leave()


def test_the_unbroken_contact_counts_from_the_first_success_after_a_failure() -> None:
    clock = iter(float(t) for t in (100, 100, 101, 102, 103, 110)).__next__
    contact = RedisContact(settle_s=5.0, max_gap_s=2.5, clock=clock)  # started at t=100
    assert contact.unbroken_s() == float("inf")  # t=100: in contact since the start
    contact.lost()  # t=101
    assert contact.unbroken_s() == 0.0  # t=102
    contact.reached()  # t=103
    assert contact.unbroken_s() == 7.0  # t=110


def test_the_time_up_counts_from_the_start_whatever_the_contact() -> None:
    clock = iter(float(t) for t in (100, 101, 130)).__next__
    contact = RedisContact(settle_s=5.0, max_gap_s=2.5, clock=clock)  # started at t=100
    contact.lost()  # t=101
    assert contact.up_s() == 30.0  # t=130
