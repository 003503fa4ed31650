"""`GET /api/v1/agents/{id}/contacts`: what an agent holds and whose wrap-up they owe, so
that a desk signed in again (a new tab, another browser) shows them all."""

from __future__ import annotations

import pytest

from router.desk import DeskConfig, Dispositions
from router.model import Agent, Presence, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, queues_with_wrap_up, running_node

CODES = ("new_booking", "changed")
DESK = DeskConfig(dispositions={"booking": Dispositions(CODES, required=True)})


@pytest.fixture
async def node(redis_url: str):
    async with running_node(
        redis_url,
        users=[
            ("ana", Role.AGENT, "ana-secret-1"),
            ("bob", Role.AGENT, "bob-secret-1"),
        ],
        agents=[
            Agent("ana", "default", {"booking": 4, "general": 3}, ["en"], {"voice": 0, "chat": 5}),
            Agent("bob", "default", {"booking": 4, "general": 3}, ["en"]),
        ],
        queues=queues_with_wrap_up(0),
        desk=DESK,
    ) as node:
        await node.sessions.save_user("sup", Role.SUPERVISOR, "sup-secret-1", queues=("booking",))
        await node.sessions.save_user("sup2", Role.SUPERVISOR, "sup2-secret-1", queues=("general",))
        yield node


async def test_a_new_sign_in_finds_what_the_agent_holds_and_the_code_they_owe(node: Node) -> None:
    async with http_session(node) as http:
        first = await login(http, "ana", "ana-secret-1")
        await node.router.set_presence("bob", Presence.NOT_READY)
        await node.router.set_presence("ana", Presence.AVAILABLE)
        held = await new_chat(http, queue="booking")
        ended = await new_chat(http, queue="booking")
        general = await new_chat(http, queue="general")
        for chat in (held, ended, general):
            await node.router.accept(chat["contact_id"], "ana")
        ringing = await new_chat(http, queue="general")  # offered: ana has room
        assert (await node.router.get_contact(ringing["contact_id"])).agent_id == "ana"
        await node.router.complete(ended["contact_id"], "ana")

        again = await login(http, "ana", "ana-secret-1")  # the desk signed in again
        answer = await http.get("/api/v1/agents/ana/contacts", headers=again)
        assert answer.status == 200, await answer.text()
        body = await answer.json()
        assert first != again
    shown = {c["contact_id"]: c["state"] for c in body["contacts"]}
    assert shown == {
        held["contact_id"]: "connected",
        general["contact_id"]: "connected",
        ringing["contact_id"]: "offered",
    }
    assert [c["queue"] for c in body["contacts"] if c["contact_id"] == general["contact_id"]] == [
        "general"
    ]
    [owed] = body["wrap_ups"]
    assert owed["contact"]["contact_id"] == ended["contact_id"]
    assert owed["contact"]["state"] == "completed"
    assert (owed["codes"], owed["code_required"]) == (list(CODES), True)


async def test_once_the_code_is_given_nothing_is_owed(node: Node) -> None:
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await node.router.set_presence("bob", Presence.NOT_READY)
        await node.router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http, queue="booking")
        await node.router.accept(chat["contact_id"], "ana")
        await node.router.complete(chat["contact_id"], "ana")
        saved = await http.post(
            f"/api/v1/contacts/{chat['contact_id']}/wrapup",
            json={"code": "changed", "note": ""},
            headers=ana,
        )
        assert saved.status == 200, await saved.text()
        body = await (await http.get("/api/v1/agents/ana/contacts", headers=ana)).json()
    assert body == {"contacts": [], "wrap_ups": []}


async def test_a_supervisor_sees_only_their_queues_and_a_colleague_nothing(node: Node) -> None:
    async with http_session(node) as http:
        await login(http, "ana", "ana-secret-1")
        await node.router.set_presence("bob", Presence.NOT_READY)
        await node.router.set_presence("ana", Presence.AVAILABLE)
        booking = await new_chat(http, queue="booking")
        general = await new_chat(http, queue="general")
        for chat in (booking, general):
            await node.router.accept(chat["contact_id"], "ana")
        sup = await login(http, "sup", "sup-secret-1")
        seen = await (await http.get("/api/v1/agents/ana/contacts", headers=sup)).json()
        bob = await login(http, "bob", "bob-secret-1")
        refused = await http.get("/api/v1/agents/ana/contacts", headers=bob)
    assert [c["contact_id"] for c in seen["contacts"]] == [booking["contact_id"]]
    assert refused.status == 403
