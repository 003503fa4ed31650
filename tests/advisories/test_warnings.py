"""Declaring an advisory warns each customer once through the webhook outbox, in the
language of their most recent contact when the advisory speaks it, and tells those in a
live chat in the chat itself."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from router.access import Principal
from router.contacts import ChatRequest, CustomerClaims
from router.model import ContactState, Role
from switchboard.node import Node
from tests.advisories.conftest import (
    Gateway,
    chat_of,
    declare,
    outbox_events,
    staff,
    transcript,
    until_true,
)
from tests.nodes import http_session

MESSAGES = {
    "en": "Storm at MAD: your flight is delayed.",
    "es": "Tormenta en MAD: su vuelo se retrasa.",
    "pt": "Tempestade em MAD: o seu voo está atrasado.",
}


async def test_each_customer_is_warned_once_in_their_language(
    node: Node, gateway: tuple[Gateway, str]
) -> None:
    es, _ = await chat_of(node, "c-es", "es")
    await node.router.abandon(es.contact_id)
    older, _ = await chat_of(node, "c-recent", "es")  # an older contact in Spanish...
    await node.router.abandon(older.contact_id)
    newer, _ = await chat_of(node, "c-recent", "de")  # ...the most recent one in German
    await node.router.abandon(newer.contact_id)
    brazil, _ = await chat_of(node, "c-pt", "pt-BR")
    await node.router.abandon(brazil.contact_id)
    async with http_session(node) as http:
        headers = await staff(http, "sup")
        customers = ["c-es", "c-recent", "c-pt", "c-unknown", "c-es"]
        answer = await declare(http, headers, customers=customers, messages=MESSAGES)
        # No English among the messages: whoever's language is missing gets the first.
        other = await declare(
            http, headers, customers=["c-unknown"], messages={"de": "Sturm.", "fr": "Orage."}
        )
    assert answer["warned"] == 4 and other["warned"] == 1  # c-es named twice, warned once
    events = await outbox_events(node)
    mine = {
        e["data"]["customer"]: e["data"]
        for e in events
        if e["data"]["advisory_id"] == answer["advisory_id"]
    }
    assert {c: d["language"] for c, d in mine.items()} == {
        "c-es": "es",
        "c-recent": "en",  # German is not offered: English, not the older Spanish contact's
        "c-pt": "pt",  # pt-BR reads the Portuguese message
        "c-unknown": "en",
    }
    assert mine["c-es"]["text"] == MESSAGES["es"] and mine["c-unknown"]["text"] == MESSAGES["en"]
    assert mine["c-es"]["title"] == "Storm at MAD" and mine["c-es"]["queue"] == "booking"
    assert set(mine["c-es"]) == {
        "advisory_id", "customer", "language", "customer_language", "text", "title", "queue",
        "until",
    }  # fmt: skip
    assert (mine["c-pt"]["customer_language"], mine["c-unknown"]["customer_language"]) == (
        "pt-BR",
        None,
    )
    (first_given,) = [e["data"] for e in events if e["data"]["advisory_id"] == other["advisory_id"]]
    assert (first_given["language"], first_given["text"]) == ("de", "Sturm.")
    # The SMS gateway behind the webhook gets every one of them.
    gateway_events, _ = gateway
    await until_true(lambda: len(gateway_events.events) >= 5)
    assert sorted(e["data"]["customer"] for e in gateway_events.events) == sorted(
        ["c-es", "c-recent", "c-pt", "c-unknown", "c-unknown"]
    )
    assert all(e["type"] == "customer.advisory" for e in gateway_events.events)


async def test_a_customer_in_a_live_chat_is_told_in_the_chat(node: Node) -> None:
    waiting, token = await chat_of(node, "c-fr", "fr")  # queued: nobody is signed in
    brazil, brazil_token = await chat_of(node, "c-pt", "pt-BR")
    over, over_token = await chat_of(node, "c-gone", "es")
    await node.router.abandon(over.contact_id)
    async with http_session(node) as http:
        socket = await http.ws_connect(
            f"/api/v1/contacts/{waiting.contact_id}/events?customer_token={token}"
        )
        headers = await staff(http, "sup")
        answer = await declare(
            http, headers, customers=["c-fr", "c-pt", "c-gone"], messages=MESSAGES
        )
        assert answer["in_chat"] == 2  # the abandoned chat is not live
        pushed = await _message_on(socket)
        await socket.close()
        waiting_transcript = await transcript(http, waiting.contact_id, token)
        pt_transcript = await transcript(http, brazil.contact_id, brazil_token)
        gone_transcript = await transcript(http, over.contact_id, over_token)
    assert pushed["sender"] == "center" and pushed["text"] == MESSAGES["en"]
    assert [(m["sender"], m["text"], m["language"]) for m in waiting_transcript] == [
        ("center", MESSAGES["en"], "en")  # no French message: English
    ]
    assert [(m["sender"], m["text"]) for m in pt_transcript] == [("center", MESSAGES["pt"])]
    assert gone_transcript == []
    contact = await node.router.get_contact(waiting.contact_id)
    assert contact.state == ContactState.QUEUED  # told, not moved or ended


async def _message_on(socket: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The first `message` event on the customer's WebSocket (bounded wait)."""
    async with asyncio.timeout(10):
        while True:
            event = await socket.receive_json()
            if event.get("type") == "message":
                return dict(event)


async def test_a_supervisor_tells_only_the_chats_of_their_own_queue(node: Node) -> None:
    """sup oversees booking: a listed customer chatting in general (sup2's queue) is warned
    by the webhook, but nothing is posted into that chat, nor is it counted; an anonymous
    chat's id is its own, nobody's to list: it is neither warned nor told."""
    admin = Principal("adm", Role.ADMIN)
    claims = CustomerClaims(customer_id="c-general")
    general, _ = await node.contacts.start_chat(ChatRequest("general", "en", claims=claims), admin)
    anonymous, _ = await node.contacts.start_chat(ChatRequest("booking", "en"))
    assert anonymous.customer_id.startswith("anon-")
    async with http_session(node) as http:
        customers = ["c-general", anonymous.customer_id]
        answer = await declare(http, await staff(http, "sup"), customers=customers)
    assert (answer["warned"], answer["in_chat"]) == (1, 0)
    for contact in (general, anonymous):
        messages = await node.contacts.transcript(admin, contact.contact_id)
        assert not [m for m in messages if m.sender == "center"]
