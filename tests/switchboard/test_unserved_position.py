"""A chat waiting in a queue nobody can serve is told its place and no wait: the
position event's `ewt_s` is null (as the queue API's and the wallboard's), where it
was a wait computed as if one agent served the queue."""

from __future__ import annotations

import asyncio

from router.model import Agent, Presence
from tests.nodes import http_session, new_chat, running_node


async def test_the_position_event_of_a_chat_nobody_can_serve_carries_no_wait(
    redis_url: str,
) -> None:
    bea = Agent("bea", "default", {"booking": 4}, ["en"])  # no emergency skill
    async with running_node(redis_url, agents=[bea]) as node, http_session(node) as http:
        await node.router.set_presence("bea", Presence.AVAILABLE)
        waiting = await new_chat(http, queue="emergency", customer="unserved-2")
        assert waiting["state"] == "queued"
        cid = waiting["contact_id"]
        window = await http.ws_connect(
            f"/api/v1/contacts/{cid}/events",
            headers={"X-Customer-Token": waiting["customer_token"]},
        )
        assert (await asyncio.wait_for(window.receive_json(), 10))["type"] == "ready"
        place = await asyncio.wait_for(window.receive_json(), 10)
        await window.close()
    assert place == {"type": "position", "contact_id": cid, "position": 1, "ewt_s": None}
