"""A supervisor ends a chat of theirs still waiting that nobody will take (a back-office
chat, a test): it ends once, failed/ended_by_supervisor, its explanation saying who;
it was stuck in the queue, since only its customer could abandon it. A supervisor of
another queue and an agent may not; a waiting call is its caller's to end (409)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from router.model import Agent, Channel, ContactState, NewContact, Role
from switchboard.node import Node
from tests.nodes import http_session, login, running_node

PASSWORD = "a-long-password"


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[
            ("sup", Role.SUPERVISOR, PASSWORD),
            ("sue", Role.SUPERVISOR, PASSWORD),
            ("ana", Role.AGENT, PASSWORD),
        ],
        agents=[Agent("ana", "default", {"general": 3}, ["en"])],
    ) as node:
        await node.sessions.save_user("sup", Role.SUPERVISOR, PASSWORD, queues=("booking",))
        await node.sessions.save_user("sue", Role.SUPERVISOR, PASSWORD, queues=("baggage",))
        yield node


async def test_a_supervisor_ends_a_waiting_chat_once(node: Node) -> None:
    router = node.router
    chat = await router.create_contact(NewContact(Channel.CHAT, "booking", "en", "c-1"))
    call = await router.create_contact(NewContact(Channel.VOICE, "booking", "en", "c-2"))
    assert chat.state == call.state == ContactState.QUEUED  # nobody signed in
    url = f"/api/v1/contacts/{chat.contact_id}/complete"
    async with http_session(node) as http:
        sup, sue = await login(http, "sup", PASSWORD), await login(http, "sue", PASSWORD)
        ana = await login(http, "ana", PASSWORD)
        assert (await http.post(url, headers=sue)).status == 403  # not her queue
        assert (await http.post(url, headers=ana)).status == 403  # not hers to end
        ended = await http.post(url, headers=sup)
        assert ended.status == 200, await ended.text()
        body = await ended.json()
        again = await http.post(url, headers=sup)
        waiting_call = await http.post(f"/api/v1/contacts/{call.contact_id}/complete", headers=sup)
    assert (body["state"], body["reason"]) == ("failed", "ended_by_supervisor")
    stored = await router.get_contact(chat.contact_id)
    assert stored.explanation[-1] == "ended while waiting by sup"
    assert again.status == 409
    assert waiting_call.status == 409
    assert (await router.get_contact(call.contact_id)).state == ContactState.QUEUED
    records = [r async for r in router.store.records() if r["contact_id"] == chat.contact_id]
    assert [(r["state"], r["reason"]) for r in records] == [("failed", "ended_by_supervisor")]
