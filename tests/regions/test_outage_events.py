"""After a Redis outage (docs/regions.md, docs/routing.md "Redis outages"): the node
subscribes to the routing events again within a second of Redis answering and says so,
an offer published before it did still reaches the agent's open desk socket (pending
offers are sent again), and `/metrics` answers during the outage with the failures
counted. On the real Redis, stopped and started again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from router.events import Event, EventHub
from router.model import Agent, Channel, ContactState, NewContact, Presence, Role
from switchboard.embedded import EmbeddedRedis
from switchboard.node import Node
from tests.gated_events import Gated
from tests.loops import until
from tests.nodes import http_session, login, running_node

ANA = Agent("ana", "default", {"booking": 4}, ["en"], {"voice": 0, "chat": 3})


async def next_of(socket: aiohttp.ClientWebSocketResponse, kind: str, within_s: float) -> Event:
    """The next event of `kind` on the socket within `within_s`; fails the test if none."""
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = await asyncio.wait_for(socket.receive_json(), left)
        except TimeoutError:
            break
        if event.get("type") == kind:
            return dict(event)
    raise AssertionError(f"no {kind} event within {within_s} s")


def hub_of(node: Node) -> EventHub:
    assert node.hub is not None
    return node.hub


def subscribed(node: Node) -> bool:
    """Whether the node's routing events subscription is in place."""
    return hub_of(node).connected.is_set()


@pytest.fixture
async def node(private_redis: EmbeddedRedis) -> AsyncIterator[Node]:
    async with running_node(
        private_redis.url, users=[("ana", Role.AGENT, "ana-secret-1")], agents=[ANA]
    ) as node:
        yield node


async def available_desk(
    http: aiohttp.ClientSession,
) -> tuple[dict[str, str], aiohttp.ClientWebSocketResponse]:
    ana = await login(http, "ana", "ana-secret-1")
    socket = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
    await next_of(socket, "ready", 5.0)
    response = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    assert response.status == 200, await response.text()
    return ana, socket


async def test_the_events_are_subscribed_again_within_a_second_of_redis_coming_back(
    node: Node, private_redis: EmbeddedRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe: after a few seconds out the retry waited 5 s, and offers made
    meanwhile were lost. Redis comes back just after the subscription's eighth failure:
    the old back-off was then waiting 5 s (3.2 s at least)."""
    caplog.set_level(logging.INFO, logger="router.events")
    await asyncio.sleep(1.1)  # the AOF is written to disk every second
    private_redis.kill()  # a crash: SIGTERM lets subscribers in again for a moment
    assert await until(lambda: _not(subscribed(node)), 5.0)
    assert await until(lambda: _is(_redis_errors(node, "events") >= 8), 20.0)
    private_redis.start()
    back_at = time.monotonic()
    assert await until(lambda: _is(subscribed(node)), 6.0)
    assert time.monotonic() - back_at < 1.5
    lines = [r.getMessage() for r in caplog.records if r.name == "router.events"]
    resumed = [line for line in lines if "works again" in line]
    assert len(resumed) == 1, resumed
    assert resumed[0].startswith("routing events subscription works again after ")
    # Eight failures or more, a line for the first and at most one more (every 10 s).
    lost = [line for line in lines if line.startswith("routing events subscription failed: ")]
    assert 1 <= len(lost) <= 2, lost


def _redis_errors(node: Node, where: str) -> float:
    """The node's `switchboard_redis_errors_total{where}`."""
    return sum(
        sample.value
        for family in node.metrics.registry.collect()
        if family.name == "switchboard_redis_errors"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["where"] == where
    )


async def test_an_offer_made_before_the_node_subscribes_again_reaches_the_open_desk(
    node: Node, private_redis: EmbeddedRedis
) -> None:
    """The offer is published while Redis answers but the node's subscription is not back:
    the open desk socket never saw it. Once the subscription is back, it is sent again with
    the ring time left, and the agent takes the chat (no ring-out, no 'no answer')."""
    gate = Gated(node.store)
    hub_of(node).source = gate
    async with http_session(node) as http:
        ana, socket = await available_desk(http)
        await asyncio.sleep(1.1)  # the agent's state is in the AOF
        gate.held = True
        private_redis.stop()
        assert await until(lambda: _not(subscribed(node)), 5.0)
        private_redis.start()
        created = await until(
            lambda: node.router.create_contact(NewContact(Channel.CHAT, "booking", "en")), 5.0
        )
        assert created is not None
        assert (await node.router.get_contact(created.contact_id)).state == ContactState.OFFERED
        await asyncio.sleep(0.5)  # the offer was published and no one on this node heard it
        assert not subscribed(node)
        gate.held = False
        offer = await next_of(socket, "offer", 4.0)
        assert offer["contact_id"] == created.contact_id
        assert 0 < offer["ring_s"] < 15.0  # what is left of the ring, not a new ring
        # Then `ready` again: a desktop fetches what else it missed (its state, chats).
        assert (await next_of(socket, "ready", 2.0)).get("resumed") is True
        response = await http.post(f"/api/v1/contacts/{created.contact_id}/accept", headers=ana)
        assert response.status == 200, await response.text()
        contact = await node.router.get_contact(created.contact_id)
        assert (contact.state, contact.agent_id) == (ContactState.CONNECTED, "ana")
        agent = await node.router.get_agent("ana")
        assert (agent.presence, agent.reason) == (Presence.AVAILABLE, "")
        await socket.close()


async def test_metrics_answer_during_a_redis_outage_with_the_failures_counted(
    node: Node, private_redis: EmbeddedRedis
) -> None:
    """Prometheus scraped 503 for the whole outage (up == 0, 'node down'), and the
    redis errors it should have shown came in only after."""
    async with http_session(node) as http:
        before = await http.get("/metrics")
        assert before.status == 200
        text = await before.text()
        assert "switchboard_redis_up 1.0" in text
        assert 'switchboard_queue_waiting{node="node-1",queue="booking"}' in text
        private_redis.stop()
        try:
            scraped = await until(lambda: _scrape_with_errors(http), 10.0)
            assert scraped, "no scrape counted the outage's failures while it lasted"
            assert "switchboard_redis_up 0.0" in scraped
            # The queues' figures are unknown now: left out, not shown stale.
            assert "switchboard_queue_waiting{" not in scraped
        finally:
            private_redis.start()
        after = await until(lambda: _scrape_containing(http, "switchboard_redis_up 1.0"), 10.0)
        assert after and 'switchboard_queue_waiting{node="node-1",queue="booking"}' in after


async def _scrape_with_errors(http: aiohttp.ClientSession) -> str | None:
    response = await http.get("/metrics")
    assert response.status == 200, f"/metrics answered {response.status} during the outage"
    text = await response.text()
    counted = [
        line
        for line in text.splitlines()
        if line.startswith('switchboard_redis_errors_total{where="heartbeat"}')
        and float(line.split()[-1]) > 0
    ]
    return text if counted else None


async def _scrape_containing(http: aiohttp.ClientSession, needle: str) -> str | None:
    response = await http.get("/metrics")
    text = await response.text()
    return text if response.status == 200 and needle in text else None


async def _is(value: bool) -> bool:
    return value


async def _not(value: bool) -> bool:
    return not value
