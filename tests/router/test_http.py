"""The chat life cycle over the real HTTP app and WebSocket, on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")],
        agents=[
            Agent(
                "ana",
                "default",
                {"booking": 4, "general": 3},
                ["en", "es"],
                {"voice": 1, "chat": 3},
            )
        ],
    ) as node:
        yield node


@pytest.fixture
async def http(node: Node) -> AsyncIterator[aiohttp.ClientSession]:
    async with http_session(node) as session:
        yield session


async def next_event(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    for _ in range(20):
        event = await asyncio.wait_for(socket.receive_json(), 5)
        if event["type"] == kind:
            return event
    raise AssertionError(f"no {kind} event")


async def test_chat_end_to_end(http: aiohttp.ClientSession) -> None:
    ana = await login(http, "ana", "ana-secret-1")
    async with http.ws_connect("/api/v1/agents/ana/events", headers=ana) as socket:
        await asyncio.sleep(0.1)
        response = await http.put(
            "/api/v1/agents/ana/state", json={"state": "available"}, headers=ana
        )
        assert (await response.json())["state"] == "available"
        created = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "es",
                "customer": {"id": "c-1"},
            },
        )
        assert created.status == 201
        body = await created.json()
        contact_id, customer = body["contact_id"], {"X-Customer-Token": body["customer_token"]}
        offer = await next_event(socket, "offer")
        assert offer["contact_id"] == contact_id and offer["channel"] == "chat"

        accepted = await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=ana)
        assert (await accepted.json())["state"] == "connected"
        sup = await login(http, "sup", "sup-secret-1")
        queue = await (await http.get("/api/v1/queues/booking", headers=sup)).json()
        assert queue["occupancy"] == 1.0 and queue["today"]["answered"] == 1
        sent = await http.post(
            f"/api/v1/contacts/{contact_id}/messages", json={"text": "hola"}, headers=customer
        )
        assert sent.status == 201
        message = await next_event(socket, "message")
        assert message["text"] == "hola" and message["sender"] == "customer"
        reply = await http.post(
            f"/api/v1/contacts/{contact_id}/messages", json={"text": "buenos días"}, headers=ana
        )
        assert reply.status == 201
        done = await http.post(f"/api/v1/contacts/{contact_id}/complete", headers=ana)
        assert (await done.json())["outcome"] == "completed"

    contact = await (await http.get(f"/api/v1/contacts/{contact_id}", headers=ana)).json()
    assert contact["outcome"] == "completed" and contact["agent_id"] == "ana"
    assert {"queued_at", "offered_at", "answered_at", "ended_at"} <= set(contact["timestamps"])
    assert contact["explanation"] and "step=exact" in contact["explanation"][0]
    messages = await (
        await http.get(f"/api/v1/contacts/{contact_id}/messages", headers=customer)
    ).json()
    assert [m["text"] for m in messages["messages"]] == ["hola", "buenos días"]


async def test_agent_cannot_change_another_agents_state(http: aiohttp.ClientSession) -> None:
    ana = await login(http, "ana", "ana-secret-1")
    response = await http.put("/api/v1/agents/bob/state", json={"state": "available"}, headers=ana)
    assert response.status == 403
    sup = await login(http, "sup", "sup-secret-1")
    response = await http.put("/api/v1/agents/ana/state", json={"state": "not_ready"}, headers=sup)
    assert (await response.json())["state"] == "not_ready"
    response = await http.put(
        "/api/v1/agents/nobody/state", json={"state": "available"}, headers=sup
    )
    assert response.status == 404


async def test_bad_request_names_the_field(http: aiohttp.ClientSession) -> None:
    response = await http.post(
        "/api/v1/contacts",
        json={
            "channel": "chat",
            "queue": "booking",
            "language": "en",
            "customer": {"id": 5, "tier": "gold"},
        },
    )
    assert response.status == 400
    assert (await response.json())["field"] == "$.customer.id"
    response = await http.post("/api/v1/contacts", data="not json")
    assert response.status == 400
    # Without credentials an unknown contact and a known one answer alike.
    response = await http.get("/api/v1/contacts/does-not-exist")
    assert response.status == 401
    sup = await login(http, "sup", "sup-secret-1")
    response = await http.get("/api/v1/contacts/does-not-exist", headers=sup)
    assert response.status == 404


async def test_unauthenticated_and_wrong_password(http: aiohttp.ClientSession) -> None:
    assert (await http.get("/api/v1/agents")).status == 401
    response = await http.post("/api/v1/agents/login", json={"agent_id": "ana", "password": "nope"})
    assert response.status == 401


async def test_health_metrics_openapi_queues(http: aiohttp.ClientSession) -> None:
    assert (await http.get("/healthz")).status == 200
    assert (await http.get("/readyz")).status == 200
    await new_chat(http, queue="baggage", customer="c-2")
    assert (await http.get("/livez")).status == 200
    sup = await login(http, "sup", "sup-secret-1")
    metrics = await (await http.get("/metrics", headers=sup)).text()
    assert 'switchboard_queue_waiting{node="node-1",queue="baggage"} 1.0' in metrics
    queue = await (await http.get("/api/v1/queues/baggage", headers=sup)).json()
    assert queue["waiting"] == 1 and queue["today"]["offered"] == 1
    assert queue["service_level"] == queue["today"]["service_level"]  # DESIGN.md's field
    # Nobody is signed in to serve baggage: no wait is predicted, and the answer says why.
    assert queue["serving_agents"] == 0
    assert queue["ewt_s"] is None and "no agent" in queue["ewt_unknown"]
    regions = await (await http.get("/api/v1/regions", headers=sup)).json()
    assert regions["regions"][0]["region"] == "default"


async def test_metrics_parse_and_count_a_chat(node: Node, http: aiohttp.ClientSession) -> None:
    """After one chat, /metrics (read with prometheus_client's own parser) counts it: the
    routing calls and their latency, the offer by step, the contact by outcome, the HTTP
    requests by route, next to the queue gauges and the process metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    ana = await login(http, "ana", "ana-secret-1")
    await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    created = await new_chat(http, queue="booking", customer="m-1")
    contact_id = created["contact_id"]
    await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=ana)
    await http.post(f"/api/v1/contacts/{contact_id}/complete", headers=ana)
    await asyncio.sleep(0.2)  # the events of the offer and the end reach the hub
    sup = await login(http, "sup", "sup-secret-1")
    text = await (await http.get("/metrics", headers=sup)).text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("switchboard_routing_calls_total", command="create", outcome="offered") == 1
    assert value("switchboard_routing_calls_total", command="complete", outcome="completed") == 1
    assert value("switchboard_routing_call_seconds_count", command="accept") == 1
    assert value("switchboard_offers_total", queue="booking", step="exact") == 1
    ended = {"queue": "booking", "channel": "chat", "outcome": "completed"}
    assert value("switchboard_contacts_ended_total", **ended) == 1
    route = {"method": "POST", "route": "/api/v1/contacts", "status": "201"}
    assert value("switchboard_http_requests_total", **route) == 1
    assert value("switchboard_queue_answered_today", queue="booking", node="node-1") == 1
    assert value("switchboard_agents", region="default", state="wrap_up") == 1
    assert value("process_resident_memory_bytes") > 0


async def test_an_unforeseen_failure_is_a_json_500_without_its_details(
    node: Node, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A failure no handler foresaw answers the API's JSON error shape (not aiohttp's
    plain text), says nothing of what failed, and is logged with its traceback."""

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret detail: /var/lib/switchboard/node.key")

    sup = await login(http, "sup", "sup-secret-1")
    monkeypatch.setattr(node.router, "get_agent", broken)
    with caplog.at_level("ERROR", logger="switchboard.http.base"):
        response = await http.get("/api/v1/agents/ana", headers=sup)
    assert response.status == 500
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"] == "internal" and "incident" in body["message"]
    assert "secret" not in await response.text()
    logged = [r for r in caplog.records if r.exc_info and "incident" in r.getMessage()]
    assert len(logged) == 1 and "secret detail" in str(logged[0].exc_info[1])
    monkeypatch.undo()
    assert (await http.get("/api/v1/agents/ana", headers=sup)).status == 200  # the node goes on
