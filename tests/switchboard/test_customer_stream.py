"""A customer's chat window hears its own conversation and nothing of the routing: no
offer (which names the candidates and explains the decision), only who connected."""

from __future__ import annotations

import asyncio

from router.desk import DeskConfig
from router.model import Agent, ContactState, Role
from tests.nodes import http_session, login, new_chat, running_node


async def test_the_customer_hears_no_routing(redis_url: str) -> None:
    users = [("ana", Role.AGENT, "ana-secret-1")]
    agents = [Agent("ana", "default", {"booking": 4}, ["en"])]
    async with (
        running_node(redis_url, users=users, agents=agents) as node,
        http_session(node) as http,
    ):
        chat = await new_chat(http, queue="booking")
        cid = chat["contact_id"]
        window = await http.ws_connect(
            f"/api/v1/contacts/{cid}/events", headers={"X-Customer-Token": chat["customer_token"]}
        )
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)
        heard = []
        for _ in range(10):  # bounded: position ticks come every 5 s
            event = await asyncio.wait_for(window.receive_json(), 10)
            heard.append(event)
            if event["type"] == "contact_connected":
                break
        await window.close()
    assert "offer" not in [event["type"] for event in heard]
    assert heard[-1] == {"type": "contact_connected", "contact_id": cid, "agent_id": "ana"}
    assert not any("explanation" in event for event in heard)


async def test_a_chat_whose_window_never_opened_ends_after_the_grace(redis_url: str) -> None:
    """The customer closes the page right after starting the chat (before its events
    connect): once the grace has passed the chat has left, abandoned, not queued for
    ever; a chat whose window opened stays."""
    quick = DeskConfig(abandon_grace_s=1.0, public_requests_per_minute=600)
    async with running_node(redis_url, desk=quick) as node, http_session(node) as http:
        gone = await new_chat(http, queue="booking")
        here = await new_chat(http, queue="booking")
        window = await http.ws_connect(
            f"/api/v1/contacts/{here['contact_id']}/events",
            headers={"X-Customer-Token": here["customer_token"]},
        )
        assert (await asyncio.wait_for(window.receive_json(), 5))["type"] == "ready"
        for _ in range(40):  # bounded: 4 s
            if (await node.router.get_contact(gone["contact_id"])).is_terminal:
                break
            await asyncio.sleep(0.1)
        left = await node.router.get_contact(gone["contact_id"])
        assert (left.state, left.reason) == (ContactState.ABANDONED, "customer_left")
        assert (await node.router.get_contact(here["contact_id"])).state == ContactState.QUEUED
        await window.close()
    records = [r["contact_id"] async for r in node.router.store.records()]
    assert records.count(gone["contact_id"]) == 1
