"""A queue nobody can serve (no agent with its skill signed in and ready) has no
estimated wait: its EWT gauge is NaN, not a finite guess as if one agent served it, and
its serving-agents gauge says 0, so an alert can name the queue."""

from __future__ import annotations

import math
import time

from prometheus_client.parser import text_string_to_metric_families

from router.model import Agent, Presence
from tests.nodes import http_session, new_chat, running_node


def _gauge(text: str, name: str) -> dict[str, float]:
    """The gauge's value per queue."""
    return {
        sample.labels["queue"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
    }


async def test_the_ewt_of_a_queue_nobody_serves_is_nan_and_its_serving_count_zero(
    redis_url: str,
) -> None:
    bea = Agent("bea", "default", {"booking": 4}, ["en"])
    async with running_node(redis_url, agents=[bea]) as node, http_session(node) as http:
        await node.router.set_presence("bea", Presence.AVAILABLE)
        waiting = await new_chat(http, queue="emergency", customer="unserved-1")
        assert waiting["state"] == "queued"
        response = await http.get("/metrics")
        assert response.status == 200
        text = await response.text()
    ewt = _gauge(text, "switchboard_queue_ewt_seconds")
    serving = _gauge(text, "switchboard_queue_serving_agents")
    assert math.isnan(ewt["emergency"]), ewt
    assert serving["emergency"] == 0.0
    assert math.isfinite(ewt["booking"]) and ewt["booking"] >= 0, ewt
    assert serving["booking"] == 1.0
    assert _gauge(text, "switchboard_queue_waiting")["emergency"] == 1.0


async def test_an_agent_on_a_break_who_still_holds_a_chat_serves_nobody(redis_url: str) -> None:
    """The probe: bea, the only agent, took a chat and went on a break with it; a second
    chat waited with `serving_agents` 1 and a 205 s wait, though nobody would take it, and
    the 'waiting but nobody serving' alert never fired. Serving means signed in and ready,
    whatever the agent still holds: the queue, the wallboard and the metrics say 0."""
    bea = Agent("bea", "default", {"booking": 4}, ["en"], {"voice": 0, "chat": 3})
    async with running_node(redis_url, agents=[bea]) as node, http_session(node) as http:
        await node.router.login("bea")
        await node.router.set_presence("bea", Presence.AVAILABLE)
        first = await new_chat(http, queue="booking", customer="held-1")
        await node.router.accept(first["contact_id"], "bea")
        await node.router.set_presence("bea", Presence.NOT_READY, "break")
        second = await new_chat(http, queue="booking", customer="waits-1")
        assert (await node.router.get_contact(second["contact_id"])).state.value == "queued"
        text = await (await http.get("/metrics")).text()
        status = await node.router.queue_status("booking", int(time.time() * 1000) - 3_600_000)
    assert _gauge(text, "switchboard_queue_serving_agents")["booking"] == 0.0
    assert math.isnan(_gauge(text, "switchboard_queue_ewt_seconds")["booking"])
    assert (status.waiting, status.serving_agents) == (1, 0)
