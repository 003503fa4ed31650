"""An escalation that moves a waiting contact moves it only where someone could take it,
on the real node, routing function and Redis: an upset customer is never parked in a
senior queue nobody serves while an agent of their own queue could answer them. The chat
stays, raised, for its own queue's agents, and the trigger and the contact's explanation
say why; it is moved once a senior agent who could take it is ready. The same holds for
an SLA breach's `move_to`."""

from __future__ import annotations

from typing import Any

import aiohttp
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
from tests.cases.conftest import Clock, paris_ms, staff
from tests.loops import until
from tests.nodes import customer_writes, http_session, new_chat

KEPT = (
    "kept in booking, not moved to senior: no agent of senior who could take this chat "
    "is signed in and ready"
)


async def seen_by(
    http: aiohttp.ClientSession, chat: dict[str, Any], admin: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The contact as staff see it, and its emotion triggers."""
    url = f"/api/v1/contacts/{chat['contact_id']}"
    contact = await (await http.get(url, headers=admin)).json()
    triggers = (await (await http.get(f"{url}/case", headers=admin)).json())["triggers"]
    return contact, triggers


async def test_an_upset_chat_waits_for_its_own_queue_when_nobody_serves_senior(
    case_node: Node,
) -> None:
    """Nobody of senior is signed in (sen is not): the furious customer's chat stays in
    booking with its priority raised, saying why, and ana (booking) is offered it as soon
    as she is ready, rather than the chat waiting in senior for whoever signs in next."""
    router = case_node.router
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        await router.login("ana")  # signed in, not ready yet
        chat = await new_chat(http, customer="c-kept")
        assert chat["state"] == "queued"
        await customer_writes(http, chat, "I am furious, I have waited an hour!")

        contact, triggers = await seen_by(http, chat, admin)
        assert (contact["queue"], contact["state"], contact["priority"]) == (
            "booking",
            "queued",
            2,
        )
        assert contact["explanation"][-1] == (
            f"priority 0 -> 2: emotion keyword 'furious' (en; score -0.51); {KEPT}"
        )
        assert not any(line.startswith("moved") for line in contact["explanation"])
        assert triggers[0]["actions"] == ["priority 0 -> 2", KEPT]

        await router.set_presence("ana", Presence.AVAILABLE)
        offered = await router.get_contact(chat["contact_id"])
        assert (offered.queue, offered.state, offered.agent_id) == (
            "booking",
            ContactState.OFFERED,
            "ana",
        )


async def test_only_a_senior_agent_ready_for_chats_counts(case_node: Node) -> None:
    """sen signed in for calls only, then on a break, could not take the chat: it stays,
    a later trigger keeping it too. Ready for chats, he could: the kept chat is moved to
    him then (`KeptEscalations`), once, its priority not raised twice."""
    router = case_node.router
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        await router.login("sen", channels={"voice": 1, "chat": 0})
        await router.set_presence("sen", Presence.AVAILABLE)
        chat = await new_chat(http, customer="c-later")
        await customer_writes(http, chat, "This is unacceptable")
        contact, triggers = await seen_by(http, chat, admin)
        assert (contact["queue"], contact["priority"]) == ("booking", 2)
        assert triggers[-1]["actions"] == ["priority 0 -> 2", KEPT]

        await router.set_presence("sen", Presence.NOT_READY)
        await router.login("sen", channels={"voice": 1, "chat": 2})
        await customer_writes(http, chat, "Still nobody? Unacceptable")
        contact, triggers = await seen_by(http, chat, admin)
        assert contact["queue"] == "booking" and triggers[-1]["actions"] == [KEPT]

        await router.set_presence("sen", Presence.AVAILABLE)

        async def moved() -> Contact | None:
            found = await router.get_contact(chat["contact_id"])
            return found if found.queue == "senior" else None

        contact_now = await until(moved, 10)
        assert contact_now is not None, "the kept chat was not moved when sen was ready"
        assert (contact_now.priority, contact_now.agent_id) == (2, "sen")
        line = (
            "moved from booking to senior: emotion keyword 'unacceptable' (en; score -0.46)"
            "; kept until sen of senior was ready"
        )
        assert contact_now.explanation.count(line) == 1, contact_now.explanation
        _, triggers = await seen_by(http, chat, admin)
        assert triggers[0]["actions"] == [
            "priority 0 -> 2",
            KEPT,
            "moved from booking to senior",
        ]


T0 = paris_ms(2025, 3, 3, 10)  # a Monday, open
TARGET_MS = 600_000


async def test_a_breach_keeps_a_waiting_contact_that_nobody_of_the_target_could_take(
    redis_client: aioredis.Redis,
) -> None:
    """A booking chat's first response breaches with `move_to = general`, and nobody
    serves general: the case moves (its supervisors must act), the chat stays in booking
    with its raised priority, and cat (booking) takes it when she is ready."""
    queues = [
        QueueConfig("booking", "booking", wrap_up_s=0),
        QueueConfig("general", "general", wrap_up_s=0),
    ]
    router = Router(RoutingStore(redis_client), queues, node_id="n1", region="paris")
    await router.publish_configuration(["paris"])
    settings = CaseSettings(
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
    clock = Clock(T0)
    cases = Cases(CaseStore(redis_client), router, settings, _Hub(), clock=clock)
    chat = await router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="c-1"), at_ms=T0
    )
    case = await cases.create(
        Principal("adm", Role.ADMIN),
        CaseRequest("c-1", "Refund", "booking", contact_id=chat.contact_id),
        at_ms=T0,
    )
    # gil has the general skill but is on a break: he serves nobody.
    await router.store.upsert_agent(Agent("gil", "paris", {"general": 4}, ["en"]), at_ms=T0)
    await router.set_presence("gil", Presence.NOT_READY, at_ms=T0)

    clock.set(T0 + TARGET_MS + 1_000)
    assert (await cases.tick()).breaches == 1

    kept = await router.get_contact(chat.contact_id)
    assert (kept.queue, kept.state, kept.priority) == ("booking", ContactState.QUEUED, 2)
    assert not any(line.startswith("moved") for line in kept.explanation)
    assert any(  # and its explanation says why it stayed
        "kept in booking, not moved to general: no agent of general" in line
        for line in kept.explanation
    ), kept.explanation
    moved_case = await cases.store.get(case.case_id)
    assert moved_case is not None and moved_case.queue == "general"

    cat = Agent("cat", "paris", {"booking": 4}, ["en"])
    await router.store.upsert_agent(cat, at_ms=T0 + TARGET_MS + 2_000)
    await router.set_presence("cat", Presence.AVAILABLE, at_ms=T0 + TARGET_MS + 2_000)
    taken = await router.get_contact(chat.contact_id)
    assert (taken.queue, taken.state, taken.agent_id) == ("booking", ContactState.OFFERED, "cat")


class _Hub:
    async def publish(self, event: dict[str, Any]) -> None:
        pass
