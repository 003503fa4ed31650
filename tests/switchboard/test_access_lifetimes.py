"""An agent's relationship with a contact ends with their work on it: held, then wrapped
up (until the wrap-up is saved, or the queue's wrap-up time after the end if that is
later). Past that, the contact is history to them: its transcript, its customer's 360°
history (with later contacts of other agents and their notes), its wrap-up and a case
from it (whose owner gets the customer's next contact first) are refused alike. And what
rings at an agent is shown to others only as far as they may read the contacts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.access import Customer
from router.model import Agent, Channel, Contact, ContactState, NewContact, Presence, Role
from switchboard.node import Node
from tests.nodes import http_session, login, queues_with_wrap_up, running_node

PASSWORD = "a-long-password"
WRAP_UP_S = 2.0
CUSTOMER = "c-4242"
NOTE = "customer under fraud investigation"


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    queues = queues_with_wrap_up(WRAP_UP_S)
    async with running_node(
        redis_url,
        queues=queues,
        agents=[
            Agent("ana", "default", {"booking": 4, "general": 2}, ["en"]),
            Agent("bob", "default", {"booking": 3}, ["en"]),
        ],
    ) as node:
        for user, role, scope in (
            ("ana", Role.AGENT, {}),
            ("bob", Role.AGENT, {}),
            ("sup", Role.SUPERVISOR, {"queues": ("booking",)}),
            ("sup2", Role.SUPERVISOR, {"queues": ("general",)}),
            ("pia", Role.PLANNER, {}),
            ("adm", Role.ADMIN, {}),
        ):
            await node.sessions.save_user(user, role, PASSWORD, **scope)
        yield node


async def served(node: Node, agent: str, text: str, customer: str = CUSTOMER) -> Contact:
    """A booking chat of `customer` that only `agent` is free for, accepted, with one
    message of the customer's."""
    other = "bob" if agent == "ana" else "ana"
    await node.router.set_presence(other, Presence.NOT_READY)
    await node.router.set_presence(agent, Presence.AVAILABLE)
    contact = await node.router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id=customer, verified=True)
    )
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, agent)
    await node.router.accept(contact.contact_id, agent)
    await node.contacts.post(Customer(contact.contact_id), contact.contact_id, text)
    return contact


async def statuses(
    http: aiohttp.ClientSession, contact_id: str, who: dict[str, str]
) -> dict[str, int]:
    """What the agent may still do with the contact: read it, its transcript, its
    customer's history, (re)write its wrap-up."""
    url = f"/api/v1/contacts/{contact_id}"
    wrap_up = {"code": "cancelled", "note": "rewritten"}
    return {
        "contact": (await http.get(url, headers=who)).status,
        "transcript": (await http.get(f"{url}/messages", headers=who)).status,
        "history": (await http.get(f"{url}/customer", headers=who)).status,
        "wrap_up": (await http.post(f"{url}/wrapup", json=wrap_up, headers=who)).status,
    }


async def test_a_contact_served_long_ago_is_history_to_its_agent(node: Node) -> None:
    """ana served C1 and wrapped it up; bob later served C2 of the same customer with a
    note. ana reads nothing of C2 through C1, nor C1 itself; she opens no case from C1,
    and the customer's next chat is routed as if she had never tried."""
    router = node.router
    async with http_session(node) as http:
        ana, bob = await login(http, "ana", PASSWORD), await login(http, "bob", PASSWORD)
        c1 = (await served(node, "ana", "hello, first contact")).contact_id
        done = await http.post(f"/api/v1/contacts/{c1}/complete", headers=ana)
        assert done.status == 200
        await asyncio.sleep(WRAP_UP_S + 0.3)
        # Past the wrap-up time, her wrap-up still owed: C1 is still hers to finish.
        history = await http.get(f"/api/v1/contacts/{c1}/customer", headers=ana)
        assert history.status == 200
        assert [c["contact_id"] for c in (await history.json())["contacts"]] == [c1]
        assert (await http.get(f"/api/v1/contacts/{c1}/messages", headers=ana)).status == 200
        saved = await http.post(
            f"/api/v1/contacts/{c1}/wrapup", json={"code": "changed", "note": "ana's"}, headers=ana
        )
        assert saved.status == 200
        # Saved, and the wrap-up time long over: C1 is history to her from now on.
        after = await statuses(http, c1, ana)

        c2 = (await served(node, "bob", "my new card number is 4111 1111 1111 1111")).contact_id
        assert (await http.post(f"/api/v1/contacts/{c2}/complete", headers=bob)).status == 200
        noted = await http.post(
            f"/api/v1/contacts/{c2}/wrapup", json={"code": "changed", "note": NOTE}, headers=bob
        )
        assert noted.status == 200
        later = await http.get(f"/api/v1/contacts/{c1}/customer", headers=ana)
        later_body = await later.text()
        # bob, wrapping C2 up, sees the customer's whole history (the panel works).
        bobs = await http.get(f"/api/v1/contacts/{c2}/customer", headers=bob)
        assert bobs.status == 200
        notes = [c["wrap_up"]["note"] for c in (await bobs.json())["contacts"]]

        case = await http.post(f"/api/v1/contacts/{c1}/case", json={"subject": "mine"}, headers=ana)
        case_ids = await node.cases.store.customer_case_ids(CUSTOMER, 10)
        # The customer's next chat: bob has been free the longest, so it is his (a case
        # owned by ana would have had it offered to her first).
        await asyncio.sleep(WRAP_UP_S + 0.3)  # bob's wrap-up time is over
        for agent in ("ana", "bob"):
            await router.set_presence(agent, Presence.NOT_READY)
        await router.set_presence("bob", Presence.AVAILABLE)
        await asyncio.sleep(0.05)  # apart: the same millisecond is a tie, won by ana's name
        await router.set_presence("ana", Presence.AVAILABLE)
        nxt = await router.create_contact(
            NewContact(Channel.CHAT, "booking", "en", customer_id=CUSTOMER, verified=True)
        )
    assert after == {"contact": 403, "transcript": 403, "history": 403, "wrap_up": 403}
    assert later.status == 403 and NOTE not in later_body
    assert case.status == 403, await case.text()
    assert case_ids == []
    assert (nxt.state, nxt.agent_id) == (ContactState.OFFERED, "bob"), nxt.explanation
    assert notes == [NOTE, "ana's"]  # C1's wrap-up was not rewritten


async def test_within_the_wrap_up_time_the_agent_corrects_it_and_opens_a_follow_up(
    node: Node,
) -> None:
    """Saved at once, the wrap-up may still be corrected, the chat read and a follow-up
    case opened until the queue's wrap-up time is over; then all of it is refused."""
    async with http_session(node) as http:
        ana = await login(http, "ana", PASSWORD)
        cid = (await served(node, "ana", "please call me back", customer="c-77")).contact_id
        assert (await http.post(f"/api/v1/contacts/{cid}/complete", headers=ana)).status == 200
        first = await http.post(
            f"/api/v1/contacts/{cid}/wrapup", json={"code": "changed"}, headers=ana
        )
        assert first.status == 200
        during = await statuses(http, cid, ana)  # the last of them corrects the code
        follow_up = await http.post(
            f"/api/v1/contacts/{cid}/case", json={"subject": "Call back"}, headers=ana
        )
        assert follow_up.status == 201, await follow_up.text()
        assert (await follow_up.json())["owner"] == "ana"
        opened = await http.get(f"/api/v1/contacts/{cid}/case", headers=ana)  # the desk's flags
        assert opened.status == 200, await opened.text()
        assert (await opened.json())["case"]["owner"] == "ana"
        await asyncio.sleep(WRAP_UP_S + 0.3)
        after = await statuses(http, cid, ana)
        assert (await http.get(f"/api/v1/contacts/{cid}/case", headers=ana)).status == 403
    assert during == {"contact": 200, "transcript": 200, "history": 200, "wrap_up": 200}
    assert after == {"contact": 403, "transcript": 403, "history": 403, "wrap_up": 403}
    assert (await node.reports.wrap_ups([cid]))[cid]["code"] == "cancelled"


async def offers(http: aiohttp.ClientSession, who: dict[str, str]) -> list[dict[str, Any]]:
    answer = await http.get("/api/v1/agents/ana/offers", headers=who)
    assert answer.status == 200, await answer.text()
    return list((await answer.json())["offers"])


async def test_what_rings_at_an_agent_is_listed_only_as_far_as_the_reader_may_read_it(
    node: Node,
) -> None:
    """A booking chat of a gold customer and a general one ring at ana. general's
    supervisor may read ana (she has its skill) but not booking's contacts: they see the
    general offer only, and nothing of the gold customer; booking's supervisor the
    booking one; ana, a planner (contact metadata) and an admin both."""
    router = node.router
    await router.set_presence("bob", Presence.NOT_READY)
    await router.set_presence("ana", Presence.AVAILABLE)
    booking = await router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="vip-77", customer_tier="gold")
    )
    general = await router.create_contact(NewContact(Channel.CHAT, "general", "en"))
    assert (booking.agent_id, general.agent_id) == ("ana", "ana")
    both = {booking.contact_id, general.contact_id}
    async with http_session(node) as http:
        seen = {
            user: await offers(http, await login(http, user, PASSWORD))
            for user in ("ana", "sup", "sup2", "pia", "adm")
        }
        sup2 = await login(http, "sup2", PASSWORD)
        refused = await http.get(f"/api/v1/contacts/{booking.contact_id}", headers=sup2)
    listed = {user: {offer["contact_id"] for offer in found} for user, found in seen.items()}
    assert refused.status == 403
    assert listed == {
        "ana": both,
        "sup": {booking.contact_id},
        "sup2": {general.contact_id},
        "pia": both,
        "adm": both,
    }
    assert "vip-77" not in str(seen["sup2"])
