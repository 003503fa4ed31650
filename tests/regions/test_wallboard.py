"""The wallboard feed over the real node HTTP app on the real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from router.model import Agent, Role
from switchboard.node import Node
from switchboard.web import wallboard
from tests.nodes import http_session, login, new_chat, running_node

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("sup", Role.SUPERVISOR, "sup-secret-1"), ("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4, "general": 3}, ["en"])],
    ) as node:
        yield node


@pytest.fixture
async def http(node: Node) -> AsyncIterator[aiohttp.ClientSession]:
    async with http_session(node) as session:
        yield session


async def next_snapshot(lines: aiohttp.StreamReader) -> dict[str, Any]:
    """Read one server-sent `snapshot` event (bounded)."""
    event = ""
    for _ in range(1000):
        line = (await asyncio.wait_for(lines.readline(), 10)).decode()
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event == "snapshot":
            return dict(json.loads(line[6:]))
    raise AssertionError("no snapshot event")


async def test_page_is_served_without_login(http: aiohttp.ClientSession) -> None:
    response = await http.get("/wallboard")
    assert response.status == 200
    assert '<script type="module" src="/pages/wallboard-main.js">' in await response.text()
    script = await http.get("/pages/wallboard-main.js")  # the page's script, served as it is
    assert script.status == 200
    text = await script.text()
    assert "/api/v1/agents/login" in text and "/api/v1/wallboard/events" in text


async def test_feed_needs_a_supervisor(http: aiohttp.ClientSession) -> None:
    assert (await http.get("/api/v1/wallboard")).status == 401
    ana = await login(http, "ana", "ana-secret-1")
    assert (await http.get("/api/v1/wallboard", headers=ana)).status == 403
    assert (await http.get("/api/v1/wallboard/events", headers=ana)).status == 403


async def test_snapshot_shows_waiting_agents_and_region_time(
    http: aiohttp.ClientSession,
) -> None:
    sup = await login(http, "sup", "sup-secret-1")
    await new_chat(http, customer="w-1")
    await new_chat(http, customer="w-1")
    body = await (await http.get("/api/v1/wallboard", headers=sup)).json()
    booking = next(q for q in body["queues"] if q["queue"] == "booking")
    assert booking["waiting"] == 2 and booking["waiting_by_region"] == {"default": 2}
    assert booking["agents_by_state"] == {"offline": 1}
    assert body["agents"]["by_region"] == {"default": {"offline": 1}}
    region = body["regions"][0]
    assert region["region"] == "default" and region["timezone"] == "UTC"
    assert region["local_time"].endswith("+00:00") and region["healthy"] is True


async def test_region_and_queue_figures_from_todays_records(
    node: Node, http: aiohttp.ClientSession
) -> None:
    """One chat answered at once and one abandoned today: SL 1/1, abandonment 1/2."""
    sup = await login(http, "sup", "sup-secret-1")
    ana = await login(http, "ana", "ana-secret-1")
    await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
    served = await new_chat(http, queue="general", customer="w-1")
    await http.post(f"/api/v1/contacts/{served['contact_id']}/accept", headers=ana)
    await http.post(f"/api/v1/contacts/{served['contact_id']}/complete", headers=ana)
    await http.put("/api/v1/agents/ana/state", json={"state": "not_ready"}, headers=ana)
    left = await new_chat(http, queue="general", customer="w-1")
    await http.post(
        f"/api/v1/contacts/{left['contact_id']}/abandon",
        headers={"X-Customer-Token": left["customer_token"]},
    )
    await new_chat(http, queue="general", customer="w-1")  # still waiting
    body = await (await http.get("/api/v1/wallboard", headers=sup)).json()
    rows = {(r["region"], r["queue"]): r for r in body["by_region_and_queue"]}
    general = rows[("default", "general")]
    assert (general["closed"], general["answered"], general["abandoned"]) == (2, 1, 1)
    assert general["waiting"] == 1 and general["abandonment_rate"] == 0.5
    assert general["service_level_today"] == 1.0 and general["service_level_30_min"] == 1.0
    assert set(rows) == {("default", "general")}


async def test_stream_pushes_a_new_contact(node: Node, http: aiohttp.ClientSession) -> None:
    sup = await login(http, "sup", "sup-secret-1")
    async with http.get("/api/v1/wallboard/events", headers=sup, params={"every": "30"}) as feed:
        assert feed.headers["Content-Type"].startswith("text/event-stream")
        first = await next_snapshot(feed.content)
        waiting = {q["queue"]: q["waiting"] for q in first["queues"]}
        assert waiting["general"] == 0
        await new_chat(http, queue="general", customer="w-1")
        # The contact itself publishes no event; an agent state change does, and the
        # stream must answer it well before its 30 s period.
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "not_ready"}, headers=ana)
        second = await next_snapshot(feed.content)
        assert {q["queue"]: q["waiting"] for q in second["queues"]}["general"] == 1
    entries = await node.reports.audit_log()
    assert [(e.actor, e.action) for e in entries] == [("sup", "wallboard.view")]


async def test_stream_ends_when_its_token_expires(
    node: Node, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token that lapses (no `session_closed` event: it expired, or sat idle) stops the
    snapshots at the next re-check, not at the stream's 10-minute end."""
    monkeypatch.setattr(wallboard, "RECHECK_S", 0.5)
    sup = await login(http, "sup", "sup-secret-1")
    token = sup["Authorization"].removeprefix("Bearer ")
    async with http.get("/api/v1/wallboard/events", headers=sup, params={"every": "0.5"}) as feed:
        await next_snapshot(feed.content)
        await node.sessions.users.delete_token("sup", token)
        ended = False
        for _ in range(40):  # bounded: the stream must end within a few re-checks
            if not await asyncio.wait_for(feed.content.readline(), 10):
                ended = True
                break
        assert ended


def queue_json(name: str, level: float | None, target: float = 0.8, **extra: Any) -> dict[str, Any]:
    block = {"service_level": level, "answered": 10}
    return {
        "queue": name,
        "service_level_target": target,
        "answer_within_s": 20,
        "waiting": 0,
        "longest_wait_s": 0,
        "today": block,
        "last_30_min": block,
        **extra,
    }


def test_alerts() -> None:
    queues = [
        queue_json("good", 0.9),
        queue_json("bad", 0.5),
        queue_json("idle", None),
        queue_json("slow", 1.0, waiting=3, longest_wait_s=45),
    ]
    regions = [
        {
            "region": "eu",
            "open": True,
            "healthy": True,
            "nodes": [
                {"node_id": "eu-1", "healthy": True, "last_seen_s": 1},
                {"node_id": "eu-2", "healthy": False, "last_seen_s": 12},
            ],
        },
        {"region": "asia", "open": True, "healthy": False, "nodes": []},
        {"region": "us", "open": False, "healthy": False, "nodes": []},
    ]
    adoptions = [
        {"dead_node": "eu-3", "heir": "eu-1", "adopted": 4, "failed": 1, "at": 1000.0},
        {"dead_node": "eu-1", "heir": "eu-1", "adopted": 2, "failed": 0, "at": 1000.0},
        {"dead_node": "eu-4", "heir": "eu-1", "adopted": 0, "failed": 0, "at": 1.0},
        # stopped cleanly: nothing to say without work taken over, a warning with it
        {"dead_node": "eu-5", "heir": "eu-1", "adopted": 0, "stopped": True, "at": 1000.0},
        {"dead_node": "eu-6", "heir": "eu-1", "adopted": 2, "stopped": True, "at": 1000.0},
        # died and restarted before another took over: its losses are said all the same
        {
            "dead_node": "eu-7",
            "heir": "eu-7",
            "adopted": 3,
            "failed": 1,
            "agents": ["ana"],
            "at": 1000.0,
        },
    ]
    found = wallboard.alerts(queues, regions, adoptions, now_s=1120.0)
    kinds = [(a["kind"], a.get("queue") or a.get("region"), a["level"]) for a in found]
    assert kinds == [
        ("service_level", "bad", "critical"),
        ("service_level", "bad", "warning"),
        ("waiting_too_long", "slow", "warning"),
        ("node_down", "eu", "critical"),
        ("region_down", "asia", "critical"),
        ("node_down", None, "critical"),
        ("node_stopped", None, "warning"),
        ("node_down", None, "critical"),
    ]
    assert found[-3]["message"] == (
        "node eu-3 went down 2 min ago; eu-1 took over 4 contacts, 1 voice calls were lost"
    )
    assert found[-2]["message"] == "node eu-6 stopped 2 min ago; eu-1 took over 2 contacts"
    assert found[-1]["message"] == (
        "node eu-7 went down 2 min ago; it restarted and took back 3 contacts, "
        "1 voice calls were lost, 1 agents were signed out"
    )
    assert found[0]["message"] == "bad: service level 50% last 30 min, target 80%"


async def test_region_and_queue_figures_keep_to_the_supervisors_scope(
    node: Node, http: aiohttp.ClientSession
) -> None:
    """A supervisor of `booking` sees booking's row, not general's (both had contacts;
    general's from today's records, which the rows used to be built from unscoped)."""
    await node.sessions.save_user("bea", Role.SUPERVISOR, "bea-secret-1", queues=("booking",))
    left = await new_chat(http, queue="general", customer="w-1")
    await http.post(
        f"/api/v1/contacts/{left['contact_id']}/abandon",
        headers={"X-Customer-Token": left["customer_token"]},
    )
    await new_chat(http, queue="booking", customer="w-2")
    everyone = await (
        await http.get("/api/v1/wallboard", headers=await login(http, "sup", "sup-secret-1"))
    ).json()
    assert {r["queue"] for r in everyone["by_region_and_queue"]} == {"booking", "general"}
    bea = await login(http, "bea", "bea-secret-1")
    body = await (await http.get("/api/v1/wallboard", headers=bea)).json()
    assert [(r["region"], r["queue"], r["waiting"]) for r in body["by_region_and_queue"]] == [
        ("default", "booking", 1)
    ]
