"""What a CRM learns of a contact from its webhooks: who the customer is on every contact
event, when it ended and how long it took, the agent's wrap-up and the customer's
rating, each once and signed; and the event list docs/cases.md gives is the code's."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from router.cases.webhooks import EVENT_TYPES, verify
from router.model import Presence
from tests.cases.conftest import receiving, staff, started, webhook_config
from tests.nodes import ROOT, http_session, new_chat

SECRET = "  a-secret-with-spaces-around \t"  # the file's surrounding whitespace is not signed
UPSET = "I am furious, I want to speak to a manager"


@dataclass
class Crm:
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.calls]


@pytest.fixture
async def crm() -> AsyncIterator[tuple[Crm, str]]:
    receiver = Crm()
    async with receiving("/hook", receiver.handle) as url:
        yield receiver, url


async def test_a_contact_s_events_name_its_customer_wrap_up_and_rating_once_signed(
    redis_url: str, tmp_path: Path, crm: tuple[Crm, str]
) -> None:
    receiver, url = crm
    settings = 'events = ["contact.*"]\nmax_attempts = 2\nbackoff = "0.2s"\n'
    config = webhook_config(tmp_path, "crm", url, SECRET, settings)
    async with started(redis_url, config) as node, http_session(node) as http:
        ana = await staff(http, "ana")
        await node.router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http, customer="c-1")
        contact_id = chat["contact_id"]
        customer = {"X-Customer-Token": chat["customer_token"]}
        contact_url = f"/api/v1/contacts/{contact_id}"
        assert (await http.post(f"{contact_url}/accept", headers=ana)).status == 200
        said = await http.post(f"{contact_url}/messages", json={"text": UPSET}, headers=customer)
        assert said.status == 201
        assert (await http.post(f"{contact_url}/complete", headers=ana)).status == 200
        wrap = {"code": "rebooked", "note": "moved to the 18:05"}
        assert (await http.post(f"{contact_url}/wrapup", json=wrap, headers=ana)).status == 200
        rated = await http.post(f"{contact_url}/rating", json={"score": 4}, headers=customer)
        assert rated.status == 201
        expected = [
            "contact.created",
            "contact.emotion",
            "contact.ended",
            "contact.wrapped_up",
            "contact.rated",
        ]
        for _ in range(100):  # bounded
            if len(receiver.calls) >= len(expected):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # nothing more should come
        admin = await staff(http, "adm")
        contact = await (await http.get(contact_url, headers=admin)).json()

    events = receiver.events()
    assert [event["type"] for event in events] == expected  # each once, in order
    for headers, body in receiver.calls:
        assert verify(
            SECRET.strip(),
            headers["X-Switchboard-Timestamp"],
            body,
            headers["X-Switchboard-Signature"],
            now_s=time.time(),
        )
        assert re.fullmatch(r"sha256=[0-9a-f]{64}", headers["X-Switchboard-Signature"])
        assert abs(int(headers["X-Switchboard-Timestamp"]) - time.time()) < 60
    created, emotion, ended, wrapped, rating = (event["data"] for event in events)
    customer_id = created["customer_id"]
    assert customer_id and all(
        data["customer_id"] == customer_id and data["contact_id"] == contact_id
        for data in (emotion, ended, wrapped, rating)
    )
    assert ended["state"] == "completed" and ended["agent_id"] == "ana"
    assert ended["ended_at"] == contact["timestamps"]["ended_at"]
    assert ended["answered_at"] == contact["timestamps"]["answered_at"]
    assert dt.datetime.fromisoformat(ended["ended_at"]).utcoffset() == dt.timedelta(0)
    assert ended["wait_s"] >= 0 and ended["talk_s"] >= 0
    assert (wrapped["code"], wrapped["note"], wrapped["agent_id"]) == (
        "rebooked",
        "moved to the 18:05",
        "ana",
    )
    assert (rating["score"], rating["channel"], rating["agent_id"]) == (4, "chat", "ana")
    assert set(event["type"] for event in events) <= set(EVENT_TYPES)


async def test_a_webhook_not_asking_for_contact_events_gets_none(
    redis_url: str, tmp_path: Path, crm: tuple[Crm, str]
) -> None:
    """The `events` filter holds for the new events: a CRM that asked for `case.*` gets
    no wrap-up and no rating."""
    receiver, url = crm
    config = webhook_config(tmp_path, "crm", url, SECRET, 'events = ["case.*"]\n')
    async with started(redis_url, config) as node, http_session(node) as http:
        ana = await staff(http, "ana")
        await node.router.set_presence("ana", Presence.AVAILABLE)
        chat = await new_chat(http, customer="c-1")
        contact_url = f"/api/v1/contacts/{chat['contact_id']}"
        await http.post(f"{contact_url}/accept", headers=ana)
        await http.post(f"{contact_url}/complete", headers=ana)
        wrap = {"code": "rebooked", "note": ""}
        assert (await http.post(f"{contact_url}/wrapup", json=wrap, headers=ana)).status == 200
        customer = {"X-Customer-Token": chat["customer_token"]}
        rated = await http.post(f"{contact_url}/rating", json={"score": 5}, headers=customer)
        assert rated.status == 201
        admin = await staff(http, "adm")
        pending = 1
        for _ in range(50):  # bounded: the cursor passes the contact events by
            status = await (await http.get("/api/v1/webhooks", headers=admin)).json()
            pending = status["webhooks"][0]["pending"]
            if pending == 0:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        written = [entry.event["type"] for entry in await node.cases.store.outbox_after("", 100)]
    assert {"contact.wrapped_up", "contact.rated"} <= set(written)  # in the outbox...
    assert pending == 0 and receiver.calls == []  # ...but not for this webhook


def documented_events() -> list[str]:
    """The first column of the event table in docs/cases.md, "Webhooks"."""
    text = (ROOT / "docs" / "cases.md").read_text()
    section = text.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", section, flags=re.MULTILINE)


def test_the_documented_events_are_those_the_code_sends() -> None:
    assert documented_events() == list(EVENT_TYPES)
    assert len(set(EVENT_TYPES)) == len(EVENT_TYPES)


async def test_a_case_s_wrap_up_codes_are_a_change_the_crm_can_read(
    redis_url: str, tmp_path: Path, crm: tuple[Crm, str]
) -> None:
    """`case.updated` names what changed, wrap-up codes too (with the codes)."""
    receiver, url = crm
    config = webhook_config(tmp_path, "crm", url, SECRET, 'events = ["case.updated"]\n')
    async with started(redis_url, config) as node, http_session(node) as http:
        admin = await staff(http, "adm")
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Lost bag", "customer": {"id": "FF-1"}, "queue": "booking"},
            headers=admin,
        )
        case_url = f"/api/v1/cases/{(await opened.json())['case_id']}"
        await http.patch(case_url, json={"priority": 4}, headers=admin)
        coded = await http.post(f"{case_url}/wrap-up", json={"codes": ["rebooked"]}, headers=admin)
        assert coded.status == 200, await coded.text()
        for _ in range(100):  # bounded
            if len(receiver.calls) >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.3)
    changes = [(e["data"]["changed"], e["data"].get("wrap_up_codes")) for e in receiver.events()]
    assert changes == [(["priority"], None), (["wrap_up_codes"], ["rebooked"])]
