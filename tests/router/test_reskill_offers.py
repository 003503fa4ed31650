"""An admin's edit (or a roster import) that gives a signed-in, ready agent a skill,
language or region that waiting contacts need: those contacts are offered to the agent
at once, as when the agent becomes available; an agent not ready is offered nothing."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from router.model import Agent, Channel, NewContact, Presence, Role
from router.service import Router
from router.store import EventSubscription
from tests.nodes import http_session, login, new_chat, running_node
from tests.router.conftest import make_agent


async def _waiting_chat(router: Router, language: str = "en") -> str:
    """A general chat nobody can serve yet (only ana exists, with booking)."""
    contact = await router.create_contact(NewContact(Channel.CHAT, "general", language))
    assert contact.state.value == "queued"
    return contact.contact_id


async def test_a_ready_agent_given_the_skill_is_offered_the_waiting_chat_at_once(
    router: Router,
) -> None:
    await router.upsert_agent(make_agent("ana", booking=4))
    await router.set_presence("ana", Presence.AVAILABLE)
    cid = await _waiting_chat(router)
    events = await router.store.subscribe()

    await router.upsert_agent(make_agent("ana", general=3))

    offered = await router.get_contact(cid)
    assert (offered.state.value, offered.agent_id) == ("offered", "ana")
    assert offered.explanation[-1].startswith("agent changed: step=exact"), offered.explanation
    assert offered.explanation[-1].endswith("-> ana among 1 candidates [ana]")
    assert (await router.get_agent("ana")).offers == 1
    seen = await _offer_events(events)
    assert [(e["contact_id"], e["agent_id"]) for e in seen] == [(cid, "ana")]
    await events.close()


async def test_a_new_language_or_region_offers_what_waits_for_it(router: Router) -> None:
    await router.upsert_agent(make_agent("ana", region="asia", general=3))
    await router.set_presence("ana", Presence.AVAILABLE)
    cid = await _waiting_chat(router, language="de")  # region eu, language de

    await router.upsert_agent(make_agent("ana", region="eu", languages=("en",), general=3))
    assert (await router.get_contact(cid)).state.value == "queued"  # still no German

    await router.upsert_agent(make_agent("ana", region="eu", languages=("en", "de"), general=3))
    offered = await router.get_contact(cid)
    assert (offered.state.value, offered.agent_id) == ("offered", "ana")


async def test_an_agent_not_ready_or_signed_out_is_offered_nothing(router: Router) -> None:
    await router.upsert_agent(make_agent("ana", booking=4))
    await router.upsert_agent(make_agent("ben", booking=4))
    await router.set_presence("ana", Presence.NOT_READY, "break")
    cid = await _waiting_chat(router)

    await router.upsert_agent(make_agent("ana", general=3))
    await router.upsert_agent(make_agent("ben", general=3))  # offline

    waiting = await router.get_contact(cid)
    assert (waiting.state.value, waiting.agent_id or "") == ("queued", "")
    for aid in ("ana", "ben"):
        assert (await router.get_agent(aid)).offers == 0
    # Once ready, the agent's new skill counts as usual.
    await router.set_presence("ana", Presence.AVAILABLE)
    assert (await router.get_contact(cid)).agent_id == "ana"


async def test_a_roster_import_offers_the_waiting_chat_too(router: Router) -> None:
    await router.upsert_agent(make_agent("ana", booking=4))
    await router.set_presence("ana", Presence.AVAILABLE)
    cid = await _waiting_chat(router)

    await router.import_agents([make_agent("ana", general=3)], ["eu", "asia"])

    offered = await router.get_contact(cid)
    assert (offered.state.value, offered.agent_id) == ("offered", "ana")


async def _offer_events(events: EventSubscription) -> list[dict[str, object]]:
    """The `offer` events published so far (each wait bounded)."""
    seen: list[dict[str, object]] = []
    while (event := await events.next(0.5)) is not None:
        if event.get("type") == "offer":
            seen.append(event)
    return seen


async def test_an_admins_put_over_http_rings_the_agents_desk(redis_url: str) -> None:
    """The probe's case: fay, available and idle, is given the skill of a queue where a
    chat waits; her desk hears the offer at once, without any change of state."""
    users = [("adm", Role.ADMIN, "admin-secret-1"), ("fay", Role.AGENT, "fay-secret-1")]
    fay = Agent(agent_id="fay", region="default", skills={"vipx": 1}, languages=["en"])
    async with (
        running_node(redis_url, users=users, agents=[fay]) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        queue = {"wrap_up_s": 0, "fallback_languages": ["en"]}
        assert (await http.put("/api/v1/admin/queues/vip", json=queue, headers=adm)).ok
        me = await login(http, "fay", "fay-secret-1")
        desk = await http.ws_connect("/api/v1/agents/fay/events", headers=me)
        await http.put("/api/v1/agents/fay/state", json={"state": "available"}, headers=me)
        chat = await new_chat(http, queue="vip", customer="v-1")
        assert (chat["state"], chat.get("agent_id") or "") == ("queued", "")

        skilled = {"region": "default", "skills": {"vip": 3}, "languages": ["en"]}
        assert (await http.put("/api/v1/admin/agents/fay", json=skilled, headers=adm)).ok

        offers = await _desk_offers(desk)
        assert [event["contact_id"] for event in offers] == [chat["contact_id"]]
        contact = await node.router.get_contact(chat["contact_id"])
        assert (contact.state.value, contact.agent_id) == ("offered", "fay")
        assert contact.explanation[-1].startswith("agent changed:"), contact.explanation
        await desk.close()


async def _desk_offers(desk: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """The offer events the agent's desk socket got within a second."""
    found: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            while True:
                event = await desk.receive_json()
                if event["type"] == "offer":
                    found.append(event)
    return found
