"""A queue nobody can serve (no agent with its skill signed in and ready) has no
estimated wait: its EWT gauge is NaN, not a finite guess as if one agent served it, and
its serving-agents gauge says 0, so an alert can name the queue."""

from __future__ import annotations

import math

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
