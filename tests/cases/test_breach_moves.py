"""What an SLA breach's `move_to` does to the case's contacts, on the real routing
function and Redis with a clock the test drives: a contact still waiting for a person
(queued, or ringing at an agent who has not taken it) goes to the escalation queue, its
offer revoked, keeping its place there by arrival time; a contact its agent has taken
stays with them; each contact still ends with exactly one recorded outcome."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from router.access import Principal
from router.cases.model import CaseSettings, Escalation, SlaPolicy
from router.cases.service import CaseRequest, Cases
from router.cases.store import CaseStore
from router.model import Agent, Channel, ContactState, NewContact, Presence, QueueConfig, Role
from router.service import Router
from router.store import RoutingStore
from switchboard.common.hours import OpeningHours
from tests.cases.conftest import Clock, paris_ms

T0 = paris_ms(2025, 3, 3, 10)  # a Monday, open
TARGET_MS = 600_000  # first response: 10 minutes
ADMIN = Principal("adm", Role.ADMIN)


class Hub:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def publish(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def one_chat_agent(agent_id: str, skill: str) -> Agent:
    agent = Agent(agent_id, "paris", {skill: 4}, ["en"])
    agent.capacity = {"voice": 0, "chat": 1}
    return agent


async def available(router: Router, agent: Agent, at_ms: int) -> None:
    await router.store.upsert_agent(agent, at_ms=at_ms)
    await router.set_presence(agent.agent_id, Presence.AVAILABLE, at_ms=at_ms)


async def outcomes(router: Router) -> dict[str, list[str]]:
    recorded: dict[str, list[str]] = {}
    async for record in router.store.records():
        recorded.setdefault(record["contact_id"], []).append(record["state"])
    return recorded


async def test_a_breach_moves_a_ringing_contact_and_leaves_a_connected_one_with_its_agent(
    redis_client: aioredis.Redis,
) -> None:
    """Two booking chats, each with a case nobody has answered yet. One rings at ana
    (she became free just before the target) when its first response breaches: it goes
    to general, ana's offer revoked, ahead of a general chat that came after it, and bob
    (general, busy with a chat when it breaches) serves it once free. The other, accepted by cat but not answered, breaches too and
    stays with cat. Each chat ends with one outcome."""
    queues = [
        QueueConfig("booking", "booking", ring_s=60, wrap_up_s=0),
        QueueConfig("general", "general", ring_s=60, wrap_up_s=0),
    ]
    router = Router(RoutingStore(redis_client), queues, node_id="n1", region="paris")
    await router.publish_configuration(["paris"])
    settings = CaseSettings(
        policies=(
            SlaPolicy(
                "std",
                first_response_s=TARGET_MS / 1000,
                resolution_s=86_400,
                warn_at=0.5,
                escalation=Escalation(move_to="general"),
            ),
        ),
        hours={"paris": OpeningHours("Europe/Paris", "09:00", "18:00")},
    )
    clock = Clock(T0)
    cases = Cases(CaseStore(redis_client), router, settings, Hub(), clock=clock)

    def chat(queue: str, customer: str) -> NewContact:
        return NewContact(Channel.CHAT, queue, "en", customer_id=customer)

    held = await router.create_contact(chat("booking", "c-1"), at_ms=T0)
    ringing = await router.create_contact(chat("booking", "c-2"), at_ms=T0 + 1_000)
    # bob serves general, busy with a chat: someone there could take a moved contact.
    await available(router, one_chat_agent("bob", "general"), T0 - 2_000)
    busy = await router.create_contact(chat("general", "c-0"), at_ms=T0 - 1_000)
    await router.accept(busy.contact_id, "bob", at_ms=T0 - 500)
    later = await router.create_contact(chat("general", "c-3"), at_ms=T0 + 5_000)
    assert held.state == ringing.state == later.state == ContactState.QUEUED
    await available(router, one_chat_agent("cat", "booking"), T0 + 2_000)
    assert (await router.get_contact(held.contact_id)).agent_id == "cat"
    await router.accept(held.contact_id, "cat", at_ms=T0 + 3_000)
    held_case = await cases.create(
        ADMIN, CaseRequest("c-1", "Refund", "booking", contact_id=held.contact_id), at_ms=T0
    )
    ringing_case = await cases.create(
        ADMIN, CaseRequest("c-2", "Seat", "booking", contact_id=ringing.contact_id), at_ms=T0
    )
    await available(router, one_chat_agent("ana", "booking"), T0 + TARGET_MS - 5_000)
    offered = await router.get_contact(ringing.contact_id)
    assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ana")

    clock.set(T0 + TARGET_MS + 1_000)
    result = await cases.tick()
    assert result.breaches == 2

    moved = await router.get_contact(ringing.contact_id)
    assert (moved.queue, moved.state, moved.agent_id) == ("general", ContactState.QUEUED, "")
    reason = f"SLA first response of case {ringing_case.case_id} breached"
    assert moved.explanation[-1] == f"moved from booking to general: {reason}"
    # It arrived before the general chat: it is ahead of it.
    waiting = [cid for cid, _ in await router.store.waiting("general")]
    assert waiting == [ringing.contact_id, later.contact_id]
    ana = await router.get_agent("ana")
    assert (ana.presence, ana.offers, ana.load["chat"]) == (Presence.AVAILABLE, 0, 0)
    stayed = await router.get_contact(held.contact_id)
    assert (stayed.queue, stayed.state, stayed.agent_id) == (
        "booking",
        ContactState.CONNECTED,
        "cat",
    )
    for case in (held_case, ringing_case):
        moved_case = await cases.store.get(case.case_id)
        assert moved_case is not None and moved_case.queue == "general"

    await router.complete(busy.contact_id, "bob", at_ms=T0 + TARGET_MS + 10_000)
    served = await router.get_contact(ringing.contact_id)
    assert (served.state, served.agent_id) == (ContactState.OFFERED, "bob")
    at = T0 + TARGET_MS + 11_000
    await router.accept(ringing.contact_id, "bob", at_ms=at)
    await router.complete(ringing.contact_id, "bob", at_ms=at + 1_000)
    await router.complete(held.contact_id, "cat", at_ms=at + 2_000)
    recorded = await outcomes(router)
    assert recorded[ringing.contact_id] == ["completed"]
    assert recorded[held.contact_id] == ["completed"]
    assert later.contact_id not in recorded
