"""A node that stops cleanly (SIGTERM) hands its work over at once: every WebSocket
closed with 1001 "going away" (the pages reconnect elsewhere), its heartbeat deleted
so that the heir adopts it as a stop, not a crash a TTL later; and an adoption tells
the customers of the lost agents' chats, and offers those chats on at once."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import pytest

from router.model import Agent, ContactState, Presence, Role
from tests.nodes import http_session, login, new_chat, running_node

ANA = Agent("ana", "default", {"booking": 4}, ["en"])
BOB = Agent("bob", "default", {"booking": 4}, ["en"])
USERS = [("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")]
TTL_S = 5.0  # the default: an adoption "at once" comes well before it


async def close_of(socket: aiohttp.ClientWebSocketResponse, within_s: float) -> aiohttp.WSMessage:
    """The close frame, past the events before it; fails if none comes within `within_s`."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        left = deadline - asyncio.get_running_loop().time()
        message = await asyncio.wait_for(socket.receive(), max(left, 0.01))
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return message


async def ready(socket: aiohttp.ClientWebSocketResponse) -> None:
    assert (await asyncio.wait_for(socket.receive_json(), 5))["type"] == "ready"


async def settled(node: Any) -> None:
    """Until the heir may judge other nodes (it has reached Redis for a whole TTL)."""
    for _ in range(200):
        if node.regions.contact.settled():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the heir never settled")


async def ana_holds_a_chat_from_gone(
    node: Any, http: aiohttp.ClientSession
) -> tuple[dict[str, Any], aiohttp.ClientWebSocketResponse]:
    """ana, signed in at node "gone" (routing only: its process is not there), holds a
    chat whose customer's window is open on `node`: the chat and that window."""
    await node.router.store.set_login("ana", "", "gone", {"voice": 0, "chat": 2})
    await node.router.set_presence("ana", Presence.AVAILABLE)
    chat = await new_chat(http)
    await node.router.accept(chat["contact_id"], "ana")
    customer = await http.ws_connect(
        f"/api/v1/contacts/{chat['contact_id']}/events",
        params={"customer_token": chat["customer_token"]},
    )
    await ready(customer)
    return chat, customer


async def test_a_stopping_node_closes_every_socket_with_1001_and_its_heir_adopts_at_once(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="switchboard.node")
    async with (
        running_node(redis_url, node_id="n2", users=USERS, agents=[ANA]) as heir,
        running_node(redis_url, node_id="n1") as node,
        http_session(node) as http,
    ):
        # A customer waiting (nobody available) and an agent's desk, both on n1.
        chat = await new_chat(http)
        customer = await http.ws_connect(
            f"/api/v1/contacts/{chat['contact_id']}/events",
            params={"customer_token": chat["customer_token"]},
        )
        await ready(customer)
        ana = await login(http, "ana", "ana-secret-1")
        desk = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        await ready(desk)
        await settled(heir)

        began, began_wall = time.monotonic(), time.time()
        stopping = asyncio.create_task(node.stop())
        customer_closed = await close_of(customer, 3.0)
        desk_closed = await close_of(desk, 3.0)
        await asyncio.wait_for(stopping, 5.0)
        took_s = time.monotonic() - began

        assert (customer_closed.type, customer_closed.data) == (aiohttp.WSMsgType.CLOSE, 1001)
        assert (desk_closed.type, desk_closed.data) == (aiohttp.WSMsgType.CLOSE, 1001)
        assert took_s < 2.0
        adoption = None
        for _ in range(40):  # bounded: 2 s, well within the TTL
            found = [
                a
                for a in await heir.regions.adoptions()
                if (a["dead_node"], a["heir"]) == ("n1", "n2")
            ]
            if found:
                adoption = found[0]
                break
            await asyncio.sleep(0.05)
        assert adoption is not None, "n1 was not adopted at once"
        assert (adoption["heir"], adoption["stopped"]) == ("n2", True)
        assert adoption["at"] - began_wall < TTL_S
        # Her session was on n1, which said goodbye: she is the heir's, still signed in
        # (she was signed out, her token revoked: a rolling restart signed out every
        # agent of the node it restarted).
        assert (adoption["agents"], adoption["handed_over"]) == ([], ["ana"])
        kept = await heir.router.get_agent("ana")
        assert (kept.presence, kept.node) == (Presence.NOT_READY, "n2")
        # The waiting chat is kept, now the heir's.
        waiting = await heir.router.get_contact(chat["contact_id"])
        assert (waiting.state, waiting.node) == (ContactState.QUEUED, "n2")
        assert waiting.explanation[-1] == "adopted by n2: node n1 stopped"  # not "lost"
        async with http_session(heir) as at_heir:  # her desk reconnects, as the page does
            again = await at_heir.ws_connect("/api/v1/agents/ana/events", headers=ana)
            await ready(again)
            await again.close()

    said = [r.getMessage() for r in caplog.records if r.name == "switchboard.node"]
    assert any(
        line.startswith("node n1 stopping: closing ") and line.endswith(" (2 WebSockets)")
        for line in said
    )
    assert any(line.startswith("node n1 stopped in ") for line in said)


async def test_an_adoption_tells_the_customer_and_offers_the_chat_on_at_once(
    redis_url: str,
) -> None:
    """ana's session was on a node that is gone; her connected chat's customer (on
    another node) is told contact_requeued, and bob, free, is offered the chat within
    the adoption itself (no tick, no other agent freed)."""
    async with (
        running_node(redis_url, node_id="n1", users=USERS, agents=[ANA, BOB]) as node,
        http_session(node) as http,
    ):
        chat, customer = await ana_holds_a_chat_from_gone(node, http)
        bob = await login(http, "bob", "bob-secret-1")
        desk = await http.ws_connect("/api/v1/agents/bob/events", headers=bob)
        await ready(desk)
        response = await http.put(
            "/api/v1/agents/bob/state", json={"state": "available"}, headers=bob
        )
        assert response.status == 200, await response.text()

        adopted = await node.router.adopt("gone", "heir")
        after = await node.router.get_contact(chat["contact_id"])

        assert (adopted.requeued, adopted.agents) == (1, ["ana"])
        assert (after.state, after.agent_id) == (ContactState.OFFERED, "bob")
        assert any(
            line == "agent ana lost with node gone; back to the head of booking"
            for line in after.explanation
        )
        told = await asyncio.wait_for(customer.receive_json(), 5)
        assert told == {"type": "contact_requeued", "contact_id": chat["contact_id"]}
        offers: list[str] = []
        while not offers:
            event = await asyncio.wait_for(desk.receive_json(), 5)
            if event["type"] == "offer":
                offers.append(event["contact_id"])
        assert offers == [chat["contact_id"]]
        ana_now = await node.router.get_agent("ana")
        assert (ana_now.presence, ana_now.reason) == (Presence.OFFLINE, "node lost")
        assert (ana_now.load, ana_now.offers) == ({"voice": 0, "chat": 0}, 0)
        await customer.close()
        await desk.close()


async def test_a_clean_stop_leaves_its_agents_their_chats(redis_url: str) -> None:
    """ana's session was on a node that stopped cleanly: her connected chat stays hers,
    her customer is told nothing, and she stays signed in, now the heir's: her desk,
    closed with 1001, reconnects to the heir. A node that died signs its agents out
    (the test above)."""
    async with (
        running_node(redis_url, node_id="n1", users=USERS, agents=[ANA, BOB]) as node,
        http_session(node) as http,
    ):
        chat, customer = await ana_holds_a_chat_from_gone(node, http)

        adopted = await node.router.adopt("gone", "heir", stopped=True)

        assert (adopted.requeued, adopted.agents, adopted.handed_over) == (0, [], ["ana"])
        after = await node.router.get_contact(chat["contact_id"])
        assert (after.state, after.agent_id) == (ContactState.CONNECTED, "ana")
        ana_now = await node.router.get_agent("ana")
        assert (ana_now.presence, ana_now.node, ana_now.load["chat"]) == (
            Presence.AVAILABLE,
            "heir",
            1,
        )
        with pytest.raises(TimeoutError):  # no contact_requeued, nothing at all
            await asyncio.wait_for(customer.receive_json(), 1.0)
        await customer.close()


async def test_a_desk_open_on_a_live_node_keeps_its_agent_when_her_sign_in_node_dies(
    redis_url: str,
) -> None:
    """ana signed in through node "gone" (where a balancer sent the request) and her
    desk follows her events from n1: she is n1's, and gone's death signs her out no
    more (it did: her desk on a node that runs was closed, her chats requeued)."""
    async with (
        running_node(redis_url, node_id="n1", users=USERS, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        await node.router.store.set_login("ana", "", "gone", {"voice": 0, "chat": 2})
        desk = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        await ready(desk)
        assert (await node.router.get_agent("ana")).node == "n1"
        adopted = await node.router.adopt("gone", "n1")
        kept = await node.router.get_agent("ana")
        await desk.close()
    assert (adopted.agents, kept.presence, kept.node) == ([], Presence.NOT_READY, "n1")


async def test_a_second_sign_in_elsewhere_leaves_the_agent_with_her_open_desks_node(
    redis_url: str,
) -> None:
    """ana's desk is open on n1; she signs in again through node "gone" (a second tab,
    a balancer's pick): she stays n1's while that desk is open (the sign-in made her
    gone's, whose death then signed out the desk running on n1); once it closed, a
    sign-in through gone makes her gone's."""
    async with (
        running_node(redis_url, node_id="n1", users=USERS, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        desk = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        await ready(desk)
        await node.router.store.set_login("ana", "", "gone", {"voice": 0, "chat": 2})
        assert (await node.router.get_agent("ana")).node == "n1"
        adopted = await node.router.adopt("gone", "n1")
        kept = await node.router.get_agent("ana")
        assert (adopted.agents, kept.presence, kept.node) == ([], Presence.NOT_READY, "n1")

        await desk.close()
        for _ in range(100):  # the node notes the closed socket as its handler ends
            await node.router.store.set_login("ana", "", "gone", {"voice": 0, "chat": 2})
            if (await node.router.get_agent("ana")).node == "gone":
                break
            await asyncio.sleep(0.05)
        assert (await node.router.get_agent("ana")).node == "gone"


async def test_an_agent_signed_out_before_the_node_died_is_no_loss(redis_url: str) -> None:
    """ana signed out of node "gone" before it died: the adoption listed her among the
    agents it signed out (an ops probe), as a loss to alert on."""
    async with running_node(redis_url, node_id="n1", users=USERS, agents=[ANA]) as node:
        await node.router.store.set_login("ana", "", "gone", {"voice": 0, "chat": 2})
        await node.router.set_presence("ana", Presence.OFFLINE, "logged out")
        adopted = await node.router.adopt("gone", "n1")
        after = await node.router.get_agent("ana")
    assert adopted.agents == [] and (after.presence, after.reason) == (
        Presence.OFFLINE,
        "logged out",
    )
