"""A chat whose customer leaves while it rings at an agent: that agent's late accept (or
decline) is told the customer left (409), whichever request reached Redis first; any
other agent is refused as for any contact not theirs (403: nothing about it leaks); the
contact ends once, abandoned, with one record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.model import Agent, ContactState, Presence, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, queues_with_wrap_up, running_node

PASSWORD = "a-long-password"


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, PASSWORD), ("bob", Role.AGENT, PASSWORD)],
        agents=[
            Agent("ana", "default", {"booking": 4}, ["en"]),
            Agent("bob", "default", {"booking": 3}, ["en"]),
        ],
        queues=queues_with_wrap_up(0),
    ) as node:
        await node.router.set_presence("ana", Presence.AVAILABLE)
        await node.router.set_presence("bob", Presence.NOT_READY)
        yield node


async def ringing_at_ana(node: Node, http: aiohttp.ClientSession) -> tuple[str, dict[str, str]]:
    """A chat offered to ana; its id and its customer's header."""
    chat = await new_chat(http)
    contact = await node.router.get_contact(chat["contact_id"])
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "ana")
    return chat["contact_id"], {"X-Customer-Token": chat["customer_token"]}


async def records_of(node: Node, contact_id: str) -> list[dict[str, str]]:
    return [r async for r in node.router.store.records() if r["contact_id"] == contact_id]


async def test_the_agent_it_rang_at_is_told_the_customer_left(node: Node) -> None:
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        contact_id, customer = await ringing_at_ana(node, http)
        left = await http.post(f"/api/v1/contacts/{contact_id}/abandon", headers=customer)
        assert left.status == 200, await left.text()
        answers = {
            (who, act): await http.post(f"/api/v1/contacts/{contact_id}/{act}", headers=headers)
            for who, headers in (("ana", ana), ("bob", bob))
            for act in ("accept", "decline")
        }
        bodies = {key: await response.json() for key, response in answers.items()}
    statuses = {key: response.status for key, response in answers.items()}
    assert statuses == {
        ("ana", "accept"): 409,
        ("ana", "decline"): 409,
        ("bob", "accept"): 403,  # never offered it: told nothing of it
        ("bob", "decline"): 403,
    }, bodies
    for act in ("accept", "decline"):
        message = bodies[("ana", act)]["message"]
        assert f"cannot {act} contact {contact_id}: it is abandoned" in message, message
        assert "the customer left while it rang at you" in message, message
    assert "abandoned" not in bodies[("bob", "accept")]["message"]
    after = await node.router.get_contact(contact_id)
    assert (after.state, after.agent_id) == (ContactState.ABANDONED, "")
    (record,) = await records_of(node, contact_id)  # one outcome, recorded once
    assert record["state"] == "abandoned"


@pytest.mark.parametrize("act", ["accept", "decline"])
async def test_an_abandon_between_the_check_and_the_answer_reads_the_same(
    node: Node, act: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customer leaves after the access check let ana's answer through and before
    routing takes it (the real abandon, run in that gap): the same 409, the same words."""
    answer = getattr(node.router, act)

    async def customer_leaves_first(contact_id: str, *args: Any) -> Any:
        await node.router.abandon(contact_id, "customer_left")
        return await answer(contact_id, *args)

    monkeypatch.setattr(node.router, act, customer_leaves_first)
    async with http_session(node) as http:
        ana = await login(http, "ana", PASSWORD)
        contact_id, _ = await ringing_at_ana(node, http)
        response = await http.post(f"/api/v1/contacts/{contact_id}/{act}", headers=ana)
        message = (await response.json())["message"]
    assert response.status == 409, message
    assert message == (
        f"cannot {act} contact {contact_id}: it is abandoned "
        "(the customer left while it rang at you)"
    )
    assert (await node.router.get_contact(contact_id)).state == ContactState.ABANDONED
    assert len(await records_of(node, contact_id)) == 1


async def test_racing_accept_and_abandon_never_answers_403(node: Node) -> None:
    """The probe's race: accept and abandon at once. Either the accept won (200, then the
    customer's leaving completes the chat) or the abandon did (409): never a 403."""
    seen: set[int] = set()
    async with http_session(node) as http:
        ana = await login(http, "ana", PASSWORD)
        for _ in range(8):
            contact_id, customer = await ringing_at_ana(node, http)
            accepted, left = await asyncio.gather(
                http.post(f"/api/v1/contacts/{contact_id}/accept", headers=ana),
                http.post(f"/api/v1/contacts/{contact_id}/abandon", headers=customer),
            )
            assert left.status == 200, await left.text()
            assert accepted.status in (200, 409), await accepted.text()
            seen.add(accepted.status)
            after = await node.router.get_contact(contact_id)
            expected = ContactState.COMPLETED if accepted.status == 200 else ContactState.ABANDONED
            assert after.state == expected
            assert len(await records_of(node, contact_id)) == 1
    assert seen


async def test_a_transfer_or_end_of_a_chat_that_ended_is_told_it_ended(node: Node) -> None:
    """ana's own chat has ended and its wrap-up time (0 s here) is over: her late transfer
    or end is told the chat ended (409), not refused as another's would be (403); bob,
    whose chat it never was, learns nothing of it."""
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        contact_id, _ = await ringing_at_ana(node, http)
        taken = await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=ana)
        assert taken.status == 200, await taken.text()
        done = await http.post(f"/api/v1/contacts/{contact_id}/complete", headers=ana)
        assert done.status == 200, await done.text()
        saved = await http.post(
            f"/api/v1/contacts/{contact_id}/wrapup", json={"code": "info_only"}, headers=ana
        )
        assert saved.status == 200, await saved.text()
        late = {
            (who, act): await http.post(
                f"/api/v1/contacts/{contact_id}/{act}", json=body, headers=headers
            )
            for who, headers in (("ana", ana), ("bob", bob))
            for act, body in (("transfer", {"queue": "general"}), ("complete", None))
        }
        bodies = {key: await response.json() for key, response in late.items()}
    statuses = {key: response.status for key, response in late.items()}
    assert statuses == {
        ("ana", "transfer"): 409,
        ("ana", "complete"): 409,
        ("bob", "transfer"): 403,
        ("bob", "complete"): 403,
    }, bodies
    assert "it is completed" in bodies[("ana", "transfer")]["message"]
    assert "completed" not in bodies[("bob", "transfer")]["message"]
    (record,) = await records_of(node, contact_id)
    assert record["state"] == "completed"
