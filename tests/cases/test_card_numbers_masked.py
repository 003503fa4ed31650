"""A card number typed into a chat, a wrap-up note or a case note is masked where it comes
in: the transcript both sides read, the agent's event stream, the webhooks, Redis and
the logs carry only `•••• •••• •••• 4242`; the message, wrap-up and note say what was
taken out, and the node counts it (PCI DSS: docs/security.md, "Card numbers")."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from router.model import Presence
from tests.cases.conftest import events_for, receiving, staff, started, webhook_config
from tests.nodes import http_session, new_chat

# Test cards of four schemes, one per way in, each written differently.
CUSTOMER_CARD = "4242 4242 4242 4242"  # Visa
AGENT_CARD = "5555-5555-5555-4444"  # Mastercard
WRAP_UP_CARD = "378282246310005"  # American Express
CASE_CARD = "6011 1111 1111 1117"  # Discover
CARDS = [re.sub(r"\D", "", card) for card in (CUSTOMER_CARD, AGENT_CARD, WRAP_UP_CARD, CASE_CARD)]
TICKET = "0751234567897"  # a ticket number that passes Luhn, left as written


@dataclass
class Crm:
    events: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.events.append(json.loads(await request.read()))
        return web.Response(status=204)


@pytest.fixture
async def crm() -> AsyncIterator[tuple[Crm, str]]:
    receiver = Crm()
    async with receiving("/hook", receiver.handle) as url:
        yield receiver, url


def holds_a_card(text: str) -> bool:
    """Whether any of the test cards is in `text`, however its digits are split."""
    digits = re.sub(r"[\s\-]", "", text)
    return any(card in digits for card in CARDS)


async def stored_text(client: Redis) -> list[str]:
    """Every key and value in Redis, as text, whatever the key's type."""
    found: list[str] = []
    async for key in client.scan_iter(count=500):
        kind = await client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            values: Any = [await client.get(key)]
        elif kind == "hash":
            values = list((await client.hgetall(key)).items())
        elif kind == "list":
            values = await client.lrange(key, 0, -1)
        elif kind == "set":
            values = await client.smembers(key)
        elif kind == "zset":
            values = await client.zrange(key, 0, -1)
        elif kind == "stream":
            values = await client.xrange(key)
        else:
            values = []
        found.append(f"{key!r} {values!r}")
    return found


async def test_a_card_number_is_masked_everywhere_it_could_go(
    redis_url: str, tmp_path: Path, crm: tuple[Crm, str], caplog: pytest.LogCaptureFixture
) -> None:
    receiver, url = crm
    settings = 'events = ["contact.wrapped_up", "case.note_added"]\nbackoff = "0.2s"\n'
    config = webhook_config(tmp_path, "crm", url, "a-secret-of-the-crm-hook", settings)
    caplog.set_level(logging.DEBUG)
    async with started(redis_url, config) as node, http_session(node) as http:
        ana, admin = await staff(http, "ana"), await staff(http, "adm")
        desk = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        assert (await asyncio.wait_for(desk.receive_json(), 5))["type"] == "ready"
        await node.router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http, customer="c-1")
        contact_url = f"/api/v1/contacts/{chat['contact_id']}"
        customer = {"X-Customer-Token": chat["customer_token"]}
        assert (await http.post(f"{contact_url}/accept", headers=ana)).status == 200

        typed = f"my card is {CUSTOMER_CARD} exp 12/27, ticket {TICKET}"
        said = await http.post(f"{contact_url}/messages", json={"text": typed}, headers=customer)
        assert said.status == 201, await said.text()
        message = await said.json()
        assert message["text"] == f"my card is •••• •••• •••• 4242 exp ••/••, ticket {TICKET}"
        assert message["redacted"] == ["card_expiry", "card_number"]
        answered = await http.post(
            f"{contact_url}/messages", json={"text": f"charged {AGENT_CARD}"}, headers=ana
        )
        assert (await answered.json())["text"] == "charged •••• •••• •••• 4444"
        plain = await http.post(
            f"{contact_url}/messages", json={"text": "thanks"}, headers=customer
        )
        assert (await plain.json())["redacted"] == []
        streamed = await events_for(desk, 2.0, "message")
        await desk.close()
        as_customer = await (await http.get(f"{contact_url}/messages", headers=customer)).json()
        as_agent = await (await http.get(f"{contact_url}/messages", headers=ana)).json()

        assert (await http.post(f"{contact_url}/complete", headers=ana)).status == 200
        wrap = {"code": "rebooked", "note": f"fee paid by {WRAP_UP_CARD}"}
        wrapped = await http.post(f"{contact_url}/wrapup", json=wrap, headers=ana)
        assert await wrapped.json() == {
            "code": "rebooked",
            "note": "fee paid by •••• •••• •••• 0005",
            "agent_id": "ana",
            "redacted": ["card_number"],
        }
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Refund", "customer": {"id": "c-1"}, "queue": "booking"},
            headers=admin,
        )
        case_url = f"/api/v1/cases/{(await opened.json())['case_id']}"
        noted = await http.post(
            f"{case_url}/notes", json={"text": f"refund to {CASE_CARD}"}, headers=admin
        )
        assert noted.status == 201, await noted.text()
        case = await (await http.get(case_url, headers=admin)).json()
        for _ in range(100):  # bounded
            if len(receiver.events) >= 2:
                break
            await asyncio.sleep(0.1)
        scraped = node.metrics.exposition().decode()
        kept = await stored_text(node.client)

    assert [m["text"] for m in streamed] == [
        message["text"],
        "charged •••• •••• •••• 4444",
        "thanks",
    ]
    assert [m["redacted"] for m in streamed] == [
        ["card_expiry", "card_number"],
        ["card_number"],
        [],
    ]
    for transcript in (as_customer, as_agent):
        assert [m["text"] for m in transcript["messages"]] == [m["text"] for m in streamed]
    assert case["notes"][0]["text"] == "refund to •••• •••• •••• 1117"
    assert case["notes"][0]["redacted"] == ["card_number"]
    hooks = {event["type"]: event["data"] for event in receiver.events}
    assert hooks["contact.wrapped_up"]["note"] == "fee paid by •••• •••• •••• 0005"
    assert hooks["case.note_added"]["text"] == "refund to •••• •••• •••• 1117"
    assert 'switchboard_chat_redactions_total{kind="card_number"} 4.0' in scraped
    assert kept and not [value for value in kept if holds_a_card(value)]
    assert any(TICKET in value for value in kept)  # the scan does read the transcript
    assert caplog.records and not holds_a_card(caplog.text)
