"""An offer that ended while the agent reached for it (moved to another queue by an
escalation or a supervisor, rang out): their late accept or decline is told the offer
ended and why (409), not that they "may not accept" (403, what a probe got after an
emotion word moved the chat to senior); an agent never offered it learns nothing (403);
the contact goes on where it went."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from router.model import Agent, ContactState, Presence, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, queues_with_wrap_up, running_node

PASSWORD = "a-long-password"


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[
            ("ana", Role.AGENT, PASSWORD),
            ("bob", Role.AGENT, PASSWORD),
            ("adm", Role.ADMIN, PASSWORD),
        ],
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 3}, ["en"]),
        ],
        queues=[replace(q, ring_s=1.0) for q in queues_with_wrap_up(0)],
    ) as node:
        await node.router.set_presence("ana", Presence.AVAILABLE)
        yield node


async def test_a_late_answer_to_a_moved_offer_is_told_where_it_went(node: Node) -> None:
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        admin = await login(http, "adm", PASSWORD)
        chat = await new_chat(http)
        contact_id = chat["contact_id"]
        assert (await node.router.get_contact(contact_id)).agent_id == "ana"
        moved = await http.post(
            f"/api/v1/contacts/{contact_id}/move", json={"queue": "general"}, headers=admin
        )
        assert moved.status == 200, await moved.text()
        answers = {
            (who, act): await http.post(f"/api/v1/contacts/{contact_id}/{act}", headers=headers)
            for who, headers in (("ana", ana), ("bob", bob))
            for act in ("accept", "decline")
        }
        bodies = {key: (await response.json())["message"] for key, response in answers.items()}
    statuses = {key: response.status for key, response in answers.items()}
    assert statuses == {
        ("ana", "accept"): 409,
        ("ana", "decline"): 409,
        ("bob", "accept"): 403,  # never offered it: told nothing of it
        ("bob", "decline"): 403,
    }, bodies
    assert bodies[("ana", "accept")] == (
        f"cannot accept contact {contact_id}: the offer to you ended (moved to general)"
    )
    assert "general" not in bodies[("bob", "accept")]
    after = await node.router.get_contact(contact_id)
    assert (after.state, after.queue, after.agent_id) == (ContactState.QUEUED, "general", "")


async def test_a_late_answer_to_an_offer_that_rang_out_says_so(node: Node) -> None:
    async with http_session(node) as http:
        ana = await login(http, "ana", PASSWORD)
        chat = await new_chat(http)
        contact_id = chat["contact_id"]
        for _ in range(60):  # the 1 s ring time ends at a routing tick after it
            if (await node.router.get_contact(contact_id)).agent_id != "ana":
                break
            await asyncio.sleep(0.1)
            await node.router.tick()
        late = await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=ana)
        message = (await late.json())["message"]
    assert late.status == 409, message
    assert message.startswith(f"cannot accept contact {contact_id}: the offer to you ended ("), (
        message
    )
    assert (await node.router.get_contact(contact_id)).state == ContactState.QUEUED
