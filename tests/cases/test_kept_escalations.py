"""An escalation kept for want of anyone to take it (nobody of the target queue signed
in and ready) is moved once someone could take it: when an agent of the target becomes
ready, on the real node, routing function and Redis. Once, however many nodes hear the
agent's event; never a contact answered, ended or moved meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from router.access import Principal
from router.cases.model import CaseSettings, Escalation, SlaPolicy
from router.cases.service import CaseRequest, Cases
from router.cases.store import CaseStore
from router.model import (
    Agent,
    Channel,
    Contact,
    ContactState,
    NewContact,
    Presence,
    QueueConfig,
    Role,
)
from router.service import Router
from router.store import RoutingStore
from switchboard.common.hours import OpeningHours
from switchboard.node import Node
from tests.cases.conftest import PASSWORD, Clock, paris_ms, staff
from tests.loops import until
from tests.nodes import customer_writes, http_session, new_chat

KEPT = (
    "kept in booking, not moved to senior: no agent of senior who could take this chat "
    "is signed in and ready"
)


async def test_a_kept_upset_chat_goes_to_a_senior_agent_who_signs_in_ready(
    case_node: Node,
) -> None:
    """Nobody of senior is there: the furious customer's chat is kept in booking. sen
    signs in (not ready yet: nothing moves), then makes himself ready: the chat is moved
    to senior and offered to him, as the trigger would have moved it, the trigger's
    actions, the flag event and the reports saying so, the escalation counted once."""
    router = case_node.router
    assert case_node.hub is not None
    await case_node.sessions.save_user("sen", Role.AGENT, PASSWORD)
    async with http_session(case_node) as http, case_node.hub.listen() as events:
        admin = await staff(http, "adm")
        chat = await new_chat(http, customer="c-kept")
        cid = chat["contact_id"]
        await customer_writes(http, chat, "I am furious, I have waited an hour!")
        kept = await router.get_contact(cid)
        assert (kept.queue, kept.state, kept.priority) == ("booking", ContactState.QUEUED, 2)

        signed_in = await http.post(
            "/api/v1/agents/login",
            json={"agent_id": "sen", "password": PASSWORD, "channels": {"chat": 2}},
        )
        token = (await signed_in.json())["token"]
        sen = {"Authorization": f"Bearer {token}"}
        assert (await router.get_contact(cid)).queue == "booking"  # not ready: not moved

        ready = await http.put("/api/v1/agents/sen/state", json={"state": "available"}, headers=sen)
        assert ready.status == 200, await ready.text()

        async def moved() -> Contact | None:
            found = await router.get_contact(cid)
            return found if found.queue == "senior" else None

        contact = await until(moved, 10)
        assert contact is not None, "the kept chat stayed in booking with sen ready"
        assert (contact.state, contact.agent_id, contact.priority) == (
            ContactState.OFFERED,
            "sen",
            2,
        )
        line = (
            "moved from booking to senior: emotion keyword 'furious' (en; score -0.51)"
            "; kept until sen of senior was ready"
        )
        assert [entry for entry in contact.explanation if entry.startswith("moved")] == [line]

        triggers = (await (await http.get(f"/api/v1/contacts/{cid}/case", headers=admin)).json())[
            "triggers"
        ]
        actions = ["priority 0 -> 2", KEPT, "moved from booking to senior"]
        assert [trigger["actions"] for trigger in triggers] == [actions]

        flag = await _next(
            events, "contact_flagged", lambda e: "moved from booking to senior" in e["actions"]
        )
        assert (flag["contact"], flag["queue"], flag["agent_id"]) == (cid, "senior", "sen")
        assert (flag["actions"], flag["words"]) == (actions, ["furious"])

        records = await case_node.cases.store.records_since(0)
        escalations = [r for r in records if r.get("contact_id") == cid]
        assert [(r["kind"], r["cause"], r["queue"]) for r in escalations] == [
            ("escalation", "emotion.keyword", "booking")
        ]
        assert await case_node.cases.store.kept_for("senior", 10) == []


async def _next(events: asyncio.Queue[dict[str, Any]], kind: str, wanted: Any) -> dict[str, Any]:
    """The first event of `kind` that `wanted` accepts (bounded: 10 s)."""
    async with asyncio.timeout(10):
        while True:
            event = await events.get()
            if event.get("type") == kind and wanted(event):
                return event


T0 = paris_ms(2025, 3, 3, 10)  # a Monday, open
TARGET_MS = 600_000
QUEUES = [
    QueueConfig("booking", "booking", wrap_up_s=0),
    QueueConfig("general", "general", wrap_up_s=0),
    QueueConfig("vip", "vip", wrap_up_s=0),
]
SETTINGS = CaseSettings(
    policies=(
        SlaPolicy(
            "std",
            first_response_s=TARGET_MS / 1000,
            resolution_s=86_400,
            escalation=Escalation(raise_priority=2, move_to="general"),
        ),
    ),
    hours={"paris": OpeningHours("Europe/Paris", "09:00", "18:00")},
)
READY = T0 + TARGET_MS + 5_000


class _Hub:
    async def publish(self, event: dict[str, Any]) -> None:
        pass


async def nodes(redis_client: aioredis.Redis, count: int) -> list[tuple[Router, Cases]]:
    """`count` nodes' routers and cases on one Redis, their clock past the first
    response target."""
    found = []
    for index in range(count):
        router = Router(RoutingStore(redis_client), QUEUES, node_id=f"n{index}", region="paris")
        await router.publish_configuration(["paris"])
        cases = Cases(CaseStore(redis_client), router, SETTINGS, _Hub(), clock=Clock(READY))
        found.append((router, cases))
    return found


async def breached_chats(router: Router, cases: Cases, customers: list[str]) -> list[str]:
    """A booking chat with a case for each customer, breached with nobody of general
    there (gil, of general, is on a break): each kept in booking, raised."""
    await router.store.upsert_agent(Agent("gil", "paris", {"general": 4}, ["en"]), at_ms=T0)
    await router.set_presence("gil", Presence.NOT_READY, at_ms=T0)
    chats = []
    for customer in customers:
        chat = await router.create_contact(
            NewContact(Channel.CHAT, "booking", "en", customer_id=customer), at_ms=T0
        )
        await cases.create(
            Principal("adm", Role.ADMIN),
            CaseRequest(customer, "Refund", "booking", contact_id=chat.contact_id),
            at_ms=T0,
        )
        chats.append(chat.contact_id)
    assert (await cases.tick(T0 + TARGET_MS + 1_000)).breaches == len(customers)
    for contact_id in chats:
        kept = await router.get_contact(contact_id)
        assert (kept.queue, kept.state, kept.priority) == ("booking", ContactState.QUEUED, 2)
    return chats


def moves_to_general(contact: Contact) -> list[str]:
    return [
        line for line in contact.explanation if line.startswith("moved from booking to general")
    ]


async def test_nodes_racing_on_the_agent_event_move_each_kept_contact_once(
    redis_client: aioredis.Redis,
) -> None:
    """Breaches kept six chats in booking; gil (general) becomes ready and four nodes
    hear it at once: each chat is moved to general once (one move in its explanation,
    one move counted on its record), and nothing is kept any more."""
    racing = await nodes(redis_client, 4)
    router, cases = racing[0]
    chats = await breached_chats(router, cases, [f"c-{n}" for n in range(6)])

    await router.set_presence("gil", Presence.AVAILABLE, at_ms=READY)
    event = {"type": "state", "agent_id": "gil", "presence": "available", "reason": ""}
    await asyncio.gather(*(node_cases.routing_event(event) for _, node_cases in racing))

    for contact_id in chats:
        moved = await router.get_contact(contact_id)
        assert moved.queue == "general"
        case_id = await cases.store.case_of_contact(contact_id)
        assert [line for line in moved.explanation if line.startswith("moved")] == [
            f"moved from booking to general: SLA first response of case {case_id} breached; "
            "kept until gil of general was ready"
        ]
        key = router.store.keys.contact(contact_id)
        assert await redis_client.hget(key, "moved_before_answer") == "1"
    assert await cases.store.kept_for("general", 10) == []


async def test_a_contact_answered_ended_or_moved_meanwhile_is_left_alone(
    redis_client: aioredis.Redis,
) -> None:
    """Four kept chats: cat (booking) answers the first, the second's customer leaves, a
    supervisor moves the third to vip. When gil (general) is ready, only the fourth,
    still waiting in booking, is moved; the others stay as they are, and nothing is kept
    for them any more."""
    [(router, cases), (_, other)] = await nodes(redis_client, 2)
    chats = await breached_chats(router, cases, ["c-1", "c-2", "c-3", "c-4"])
    cat = Agent("cat", "paris", {"booking": 4}, ["en"], capacity={"voice": 0, "chat": 1})
    await router.store.upsert_agent(cat, at_ms=READY)
    await router.set_presence("cat", Presence.AVAILABLE, at_ms=READY)
    [(offered, _)] = await router.ringing_at("cat")
    answered = offered.contact_id
    ended, elsewhere, waiting = [cid for cid in chats if cid != answered]
    await router.accept(answered, "cat", at_ms=READY)
    await router.abandon(ended, at_ms=READY)
    await router.move(elsewhere, "vip", "moved by sup", at_ms=READY)

    await router.set_presence("gil", Presence.AVAILABLE, at_ms=READY)
    event = {"type": "state", "agent_id": "gil", "presence": "available", "reason": ""}
    await asyncio.gather(cases.routing_event(event), other.routing_event(event))

    taken, left, moved_away, moved = [
        await router.get_contact(cid) for cid in (answered, ended, elsewhere, waiting)
    ]
    assert (taken.queue, taken.state, taken.agent_id) == ("booking", ContactState.CONNECTED, "cat")
    assert (left.queue, left.state) == ("booking", ContactState.ABANDONED)
    assert (moved_away.queue, moved_away.state) == ("vip", ContactState.QUEUED)
    assert (moved.queue, moved.agent_id) == ("general", "gil")
    assert [len(moves_to_general(c)) for c in (taken, left, moved_away, moved)] == [0, 0, 0, 1]
    assert await cases.store.kept_for("general", 10) == []
