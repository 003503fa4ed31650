"""A customer's chat window hears its own conversation and nothing of the routing: no
offer (which names the candidates and explains the decision), only who connected."""

from __future__ import annotations

import asyncio

from router.model import Agent, Role
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
