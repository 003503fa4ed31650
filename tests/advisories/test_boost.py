"""A new contact (chat or call) of an affected customer, in the advisory's queue, while
the advisory runs, is boosted, says why, is counted, and so is answered first; after
DELETE or past `until` it is not, and nothing of the advisory is left in Redis."""

from __future__ import annotations

import asyncio
import datetime as dt

from router.access import Principal
from router.cases.model import CaseRequest
from router.model import Channel, ContactState, NewContact, Presence, Role
from switchboard.node import Node
from tests.advisories.conftest import chat_of, declare, later, staff
from tests.nodes import http_session


async def test_an_affected_customer_is_boosted_and_offered_before_an_earlier_one(
    node: Node,
) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        answer = await declare(http, headers, customers=["c-es"], priority_boost=3)
        advisory_id = answer["advisory_id"]
        earlier, _ = await chat_of(node, "c-other")  # nobody signed in: both wait
        await asyncio.sleep(0.05)
        affected, _ = await chat_of(node, "c-es", "es")
        call = await node.router.create_contact(
            NewContact(Channel.VOICE, "booking", "en", customer_id="c-es")
        )
        elsewhere = await node.router.create_contact(
            NewContact(Channel.VOICE, "general", "en", customer_id="c-es")
        )
        # Ana takes one chat at a time: she is offered the affected customer's first.
        await node.router.login("ana", channels={"chat": 1, "voice": 0})
        await node.router.set_presence("ana", Presence.AVAILABLE)
        read = await http.get(f"/api/v1/advisories/{advisory_id}", headers=headers)
        shown = await read.json()
    reason = f"advisory {advisory_id}: Storm at MAD"
    for boosted in (affected, call):
        assert boosted.priority == 3 and boosted.explanation[0] == reason
    assert earlier.priority == 0 and not any("advisory" in line for line in earlier.explanation)
    assert elsewhere.priority == 0  # another queue: the advisory is about booking
    first = await node.router.get_contact(affected.contact_id)
    assert (first.state, first.agent_id) == (ContactState.OFFERED, "ana")
    assert first.explanation[0] == reason and len(first.explanation) == 2  # then the offer
    assert (await node.router.get_contact(earlier.contact_id)).state == ContactState.QUEUED
    assert shown["contacts"] == 2 and shown["state"] == "live"  # the chat and the call


async def test_the_boost_stops_at_the_maximum_priority(node: Node) -> None:
    async with http_session(node) as http:
        await declare(http, await staff(http, "sup"), customers=["c-vip"], priority_boost=9)
    contact = await node.router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="c-vip", priority=4)
    )
    assert contact.priority == 9


async def test_after_delete_a_new_contact_is_not_boosted(node: Node) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        advisory_id = (await declare(http, headers, customers=["c-es"]))["advisory_id"]
        ended = await http.delete(f"/api/v1/advisories/{advisory_id}", headers=headers)
        assert ended.status == 200 and (await ended.json())["state"] == "ended"
        contact, _ = await chat_of(node, "c-es", "es")
        read = await (await http.get(f"/api/v1/advisories/{advisory_id}", headers=headers)).json()
    assert contact.priority == 0 and contact.explanation == []
    assert read["contacts"] == 0 and read["ended_at"] is not None
    audited = [
        (entry.actor, entry.action)
        for entry in await node.reports.audit_log()
        if entry.detail.get("advisory_id") == advisory_id
    ]
    assert sorted(audited) == [("sup", "advisory.declare"), ("sup", "advisory.end")]


async def test_the_list_shows_live_advisories_first(node: Node) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        ended = (await declare(http, headers, title="ended"))["advisory_id"]
        await http.delete(f"/api/v1/advisories/{ended}", headers=headers)
        await declare(http, headers, title="upcoming", starts_at=later(hours=1))
        await declare(http, headers, title="live")
        other = await staff(http, "sup2")  # general's supervisor sees none of booking's
        theirs = await (await http.get("/api/v1/advisories", headers=other)).json()
        listed = await (await http.get("/api/v1/advisories", headers=headers)).json()
    assert theirs == {"advisories": []}
    assert [(a["title"], a["state"]) for a in listed["advisories"]] == [
        ("live", "live"),
        ("upcoming", "upcoming"),
        ("ended", "ended"),
    ]


async def test_outside_its_time_no_boost_and_nothing_lingers(node: Node) -> None:
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
        upcoming = await declare(
            http,
            headers,
            customers=["c-soon"],
            starts_at=later(hours=1),
            messages={"en": "Tomorrow's flight may be cancelled."},
        )
        answer = await declare(http, headers, customers=["c-es"], until=until.isoformat())
    until_ms = int(until.timestamp() * 1000)
    assert upcoming["advisory_id"] != answer["advisory_id"]
    before_start = await node.router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="c-soon")
    )
    assert before_start.priority == 0  # it starts in an hour
    during = await node.router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="c-es"), at_ms=until_ms - 1
    )
    at_until = await node.router.create_contact(
        NewContact(Channel.CHAT, "booking", "en", customer_id="c-es"), at_ms=until_ms
    )
    assert (during.priority, at_until.priority) == (2, 0)
    await asyncio.sleep(max(0.0, until_ms / 1000 - dt.datetime.now(dt.UTC).timestamp()) + 0.3)
    after, _ = await chat_of(node, "c-es")
    assert after.priority == 0 and after.explanation == []
    keys = await node.client.keys("sb:{adv}:*")
    # Only what the upcoming advisory (running for hours) keeps: its own keys (whom it
    # warned, and how its warning was delivered once the gateway has answered).
    mine = f"sb:{{adv}}:advisory:{upcoming['advisory_id']}"
    kept = {"sb:{adv}:advisories", mine, "sb:{adv}:customer:c-soon", f"{mine}:warned"}
    assert kept <= set(keys) <= kept | {f"{mine}:outcomes"}
    assert all([await node.client.pttl(key) > 0 for key in keys])


async def test_a_contact_offered_at_once_keeps_why_it_was_boosted(node: Node) -> None:
    await node.router.set_presence("ana", Presence.AVAILABLE)
    async with http_session(node) as http:
        advisory_id = (await declare(http, await staff(http, "sup"), customers=["c-es"]))[
            "advisory_id"
        ]
    contact, _ = await chat_of(node, "c-es", "es")
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "ana")
    assert contact.explanation[0] == f"advisory {advisory_id}: Storm at MAD"
    assert contact.explanation[1].startswith("contact routed")


async def test_cases_and_advisories_both_see_the_contact(node: Node) -> None:
    """The router's intakes in turn: the customer's live case links the contact and
    gives its priority, and the advisory adds its boost on top."""
    admin = Principal("adm", Role.ADMIN)
    case = await node.cases.create(
        admin, CaseRequest("c-es", "Missed connection", "booking", priority=3)
    )
    async with http_session(node) as http:
        await declare(http, await staff(http, "sup"), customers=["c-es"], priority_boost=2)
    contact, _ = await chat_of(node, "c-es", "es")
    assert contact.priority == 5
    assert await node.cases.store.case_of_contact(contact.contact_id) == case.case_id


async def test_a_boost_of_zero_neither_counts_nor_explains(node: Node) -> None:
    """An advisory with `priority_boost: 0` warns and tells, but boosts nobody: a new
    contact of its customer is routed as if there were no advisory, and is not counted."""
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        advisory_id = (await declare(http, headers, customers=["c-zero"], priority_boost=0))[
            "advisory_id"
        ]
        contact, _ = await chat_of(node, "c-zero")
        read = await (await http.get(f"/api/v1/advisories/{advisory_id}", headers=headers)).json()
    assert contact.priority == 0
    assert not any("advisory" in line for line in contact.explanation), contact.explanation
    assert read["contacts"] == 0 and read["warned"] == 1
