"""Two nodes ticking the same timers at once: each alarm is committed and escalated once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from router.access import Principal
from router.cases import service as case_service
from router.cases.model import CaseSettings, Escalation, SlaPolicy
from router.cases.service import CaseFilter, CaseRequest, Cases
from router.cases.store import CaseStore
from router.model import QueueConfig, Role
from router.service import Router
from router.store import RoutingStore
from switchboard.common.hours import OpeningHours
from tests.cases.conftest import Clock, paris_ms

T0 = paris_ms(2025, 3, 3, 10)
ADMIN = Principal("adm", Role.ADMIN)


class Hub:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


async def test_racing_ticks_of_two_nodes_escalate_each_breach_once(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the claim's lease both nodes see every due case: only the commit decides.
    monkeypatch.setattr(case_service, "LEASE_MS", -1)
    settings = CaseSettings(
        policies=(
            SlaPolicy(
                "std",
                first_response_s=3600,
                resolution_s=7200,
                warn_at=0.5,
                escalation=Escalation(raise_priority=1),
            ),
        ),
        hours={"paris": OpeningHours("Europe/Paris", "09:00", "18:00")},
    )
    clock, hubs, nodes, clients = Clock(T0), [Hub(), Hub()], [], []
    for hub in hubs:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        clients.append(client)
        router = Router(RoutingStore(client), [QueueConfig("booking", "booking")], region="paris")
        await router.publish_configuration(["paris"])
        nodes.append(Cases(CaseStore(client), router, settings, hub, clock=clock))
    try:
        for number in range(20):
            await nodes[0].create(ADMIN, CaseRequest(f"c-{number}", "Refund", "booking"))
        clock.set(paris_ms(2025, 3, 3, 13))  # both targets passed: 2 warnings, 2 breaches each
        results = await asyncio.gather(*(node.tick() for node in nodes for _ in range(3)))
        assert sum(r.breaches for r in results) == 40 and sum(r.warnings for r in results) == 40
        events = [e for hub in hubs for e in hub.events if e["type"] == "sla_breached"]
        assert len(events) == 40
        assert len({(e["case_id"], e["timer"]) for e in events}) == 40
        records = await nodes[1].records(0)
        assert sum(r["kind"] == "escalation" for r in records) == 40
        cases = await nodes[1].find(ADMIN, CaseFilter(limit=100))
        assert len(cases) == 20 and {case.priority for case in cases} == {2}  # +1 per breach
        assert await nodes[0].store.next_due_ms() is None  # nothing left to time
    finally:
        for client in clients:
            await client.aclose()
