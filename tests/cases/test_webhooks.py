"""Outgoing webhooks against a receiver the test starts: each event once, in order,
signed, retried after a 500, and dead-lettered when the receiver refuses it for good."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from router.cases.webhooks import sign, verify, wanted
from tests.cases.conftest import receiving, serving, staff, started, webhook_config
from tests.nodes import http_session, new_chat

SECRET = "a-webhook-secret-for-tests"


@dataclass
class Receiver:
    """A CRM stand-in: answers 500 the first time it sees `fail_once_on`, 400 always to
    `refuse`, and keeps what it accepted."""

    fail_once_on: str = "case.note_added"
    refuse: str = "case.updated"
    calls: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        event = json.loads(body)
        self.calls.append((event["id"], dict(request.headers), body))
        if event["type"] == self.refuse:
            return web.Response(status=400, text="we do not take these")
        if event["type"] == self.fail_once_on and event["id"] not in self.failed:
            self.failed.add(event["id"])
            return web.Response(status=500, text="database hiccup")
        self.accepted.append(event)
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    crm = Receiver()
    async with receiving("/hook", crm.handle) as url:
        yield crm, url


def crm_config(tmp_path: Path, url: str) -> Path:
    settings = (
        'events = ["case.*", "sla.*", "contact.created"]\nmax_attempts = 4\n'
        'backoff = "0.2s"\nmax_backoff = "1s"\ntimeout = "5s"\n'
    )
    return webhook_config(tmp_path, "crm", url, SECRET, settings)


async def test_each_event_once_in_order_signed_and_retried_after_a_500(
    redis_url: str, tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    crm, url = receiver
    async with (
        started(redis_url, crm_config(tmp_path, url)) as node,
        http_session(node) as http,
    ):
        admin = await staff(http, "adm")
        chat = await new_chat(http, customer="c-1")  # contact.created
        opened = await http.post(
            "/api/v1/cases",
            json={"subject": "Lost bag", "contact_id": chat["contact_id"]},
            headers=admin,
        )  # case.created, case.contact_linked
        case_id = (await opened.json())["case_id"]
        case_url = f"/api/v1/cases/{case_id}"
        await http.post(f"{case_url}/notes", json={"text": "called the airport"}, headers=admin)
        await http.patch(case_url, json={"priority": 4}, headers=admin)  # case.updated: refused
        await http.patch(case_url, json={"status": "solved"}, headers=admin)
        expected = [
            "contact.created",
            "case.created",
            "case.contact_linked",
            "case.note_added",
            "case.status_changed",
        ]
        for _ in range(100):  # bounded: deliveries, a retry after 0.2 s
            if len(crm.accepted) >= len(expected):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # nothing more should come
        assert [event["type"] for event in crm.accepted] == expected
        ids = [event["id"] for event in crm.accepted]
        assert len(set(ids)) == len(ids) and ids == sorted(ids, key=_stream_order)
        for event_id, headers, body in crm.calls:
            assert headers["X-Switchboard-Delivery"] == event_id
            assert verify(
                SECRET,
                headers["X-Switchboard-Timestamp"],
                body,
                headers["X-Switchboard-Signature"],
                now_s=time.time(),
            )
            assert not verify(
                "another-secret-entirely",
                headers["X-Switchboard-Timestamp"],
                body,
                headers["X-Switchboard-Signature"],
                now_s=time.time(),
            )
        retried = [event_id for event_id, _, _ in crm.calls if event_id in crm.failed]
        assert len(crm.failed) == 1 and len(retried) == 2  # the 500, then the retry
        assert crm.accepted[2]["data"]["contact_id"] == chat["contact_id"]
        assert crm.accepted[3]["data"]["text"] == "called the airport"

        # The refused event is in the dead-letter list, visible to admins only.
        letters = await http.get("/api/v1/webhooks/crm/dead-letters", headers=admin)
        dead = (await letters.json())["dead_letters"]
        assert [(d["event"]["type"], d["status"], d["attempts"]) for d in dead] == [
            ("case.updated", 400, 1)
        ]
        supervisor = await staff(http, "sup")
        assert (await http.get("/api/v1/webhooks", headers=supervisor)).status == 403
        status = (await (await http.get("/api/v1/webhooks", headers=admin)).json())["webhooks"]
        assert status == [
            {
                "name": "crm",
                "url": url,
                "events": ["case.*", "sla.*", "contact.created"],
                "cursor": status[0]["cursor"],
                "pending": 0,
                "dead_letters": 1,
            }
        ]
        assert (await http.get("/api/v1/webhooks/nope/dead-letters", headers=admin)).status == 404


async def test_an_unreachable_receiver_is_retried_with_back_off_then_dead_lettered(
    redis_url: str, tmp_path: Path
) -> None:
    config = crm_config(tmp_path, "http://127.0.0.1:9/nothing-listens-here")
    async with started(redis_url, config) as node:
        started_at = time.monotonic()
        async with http_session(node) as http:
            await new_chat(http, customer="c-1")
            admin = await staff(http, "adm")
            dead: list[dict[str, Any]] = []
            for _ in range(100):  # 0.2 + 0.4 + 0.8 s of back-off, bounded
                letters = await http.get("/api/v1/webhooks/crm/dead-letters", headers=admin)
                dead = (await letters.json())["dead_letters"]
                if dead:
                    break
                await asyncio.sleep(0.1)
        assert [(d["event"]["type"], d["attempts"], d["status"]) for d in dead] == [
            ("contact.created", 4, None)
        ]
        assert "ClientConnectorError" in dead[0]["error"] or "Connect" in dead[0]["error"]
        assert time.monotonic() - started_at >= 1.4  # 0.2 + 0.4 + 0.8 s between the 4 tries


@dataclass
class MovedReceiver:
    """A receiver that answers 302 to the first event (its endpoint "moved" to another
    host), then 204; and that other host, which records whatever reaches it."""

    moved_to: str = ""
    redirect_first: bool = True
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    elsewhere: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((dict(request.headers), body))
        if self.redirect_first:
            self.redirect_first = False
            return web.Response(status=302, headers={"Location": self.moved_to})
        return web.Response(status=204)

    async def other_host(self, request: web.Request) -> web.Response:
        self.elsewhere.append((request.method, dict(request.headers), await request.read()))
        return web.Response(status=200)


async def _dead(http: Any, admin: dict[str, str]) -> list[dict[str, Any]]:
    letters = await http.get("/api/v1/webhooks/crm/dead-letters", headers=admin)
    assert letters.status == 200
    return list((await letters.json())["dead_letters"])


async def test_a_redirect_is_not_followed_but_dead_lettered_then_redelivered(
    redis_url: str, tmp_path: Path
) -> None:
    """A 302 is a moved endpoint: nothing is sent where Location points (no GET, no
    X-Switchboard-* headers to another host), the event goes to the dead letters at once
    with the status and Location, delivery goes on, and an admin's redeliver sends the
    same event again, with the same delivery id, once the receiver is fixed."""
    crm = MovedReceiver()
    hook_app, other_app = web.Application(), web.Application()
    hook_app.router.add_post("/hook", crm.handle)
    other_app.router.add_route("*", "/moved", crm.other_host)
    async with serving(hook_app) as hook_base, serving(other_app) as other_base:
        crm.moved_to = f"{other_base}/moved"
        settings = (
            'events = ["contact.created"]\nmax_attempts = 3\n'
            'backoff = "0.2s"\nmax_backoff = "1s"\ntimeout = "5s"\n'
        )
        config = webhook_config(tmp_path, "crm", f"{hook_base}/hook", SECRET, settings)
        async with started(redis_url, config) as node, http_session(node) as http:
            admin = await staff(http, "adm")
            first = await new_chat(http, customer="c-1")
            dead: list[dict[str, Any]] = []
            for _ in range(100):  # bounded: one attempt, no back-off
                if dead := await _dead(http, admin):
                    break
                await asyncio.sleep(0.1)
            await new_chat(http, customer="c-2")  # delivery goes on after the dead letter
            for _ in range(100):
                if len(crm.calls) >= 2:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            assert crm.elsewhere == []  # the redirect was not followed
            assert len(crm.calls) == 2  # a 3xx is not retried
            [letter] = dead
            assert (letter["event"]["type"], letter["status"], letter["attempts"]) == (
                "contact.created",
                302,
                1,
            )
            assert letter["event"]["data"]["contact_id"] == first["contact_id"]
            assert crm.moved_to in letter["error"]
            at = dt.datetime.fromisoformat(letter["at"])
            assert at.utcoffset() == dt.timedelta(0)
            assert abs(at.timestamp() - time.time()) < 30

            # Redelivery: admins only, of a dead letter that exists.
            redeliver = f"/api/v1/webhooks/crm/dead-letters/{letter['id']}/redeliver"
            supervisor = await staff(http, "sup")
            assert (await http.post(redeliver, headers=supervisor)).status == 403
            assert len(await _dead(http, admin)) == 1
            unknown = "/api/v1/webhooks/crm/dead-letters/1-0/redeliver"
            assert (await http.post(unknown, headers=admin)).status == 404
            nowhere = f"/api/v1/webhooks/nope/dead-letters/{letter['id']}/redeliver"
            assert (await http.post(nowhere, headers=admin)).status == 404
            answer = await http.post(redeliver, headers=admin)
            assert answer.status == 202, await answer.text()
            assert (await answer.json())["id"] == letter["id"]
            for _ in range(100):
                if len(crm.calls) >= 3:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            assert len(crm.calls) == 3 and crm.elsewhere == []
            headers, body = crm.calls[2]
            event = json.loads(body)
            assert headers["X-Switchboard-Delivery"] == letter["id"] == event["id"]
            assert event["data"]["contact_id"] == first["contact_id"]
            assert verify(
                SECRET,
                headers["X-Switchboard-Timestamp"],
                body,
                headers["X-Switchboard-Signature"],
                now_s=time.time(),
            )
            assert await _dead(http, admin) == []
            assert (await http.post(redeliver, headers=admin)).status == 404  # sent once
            status = (await (await http.get("/api/v1/webhooks", headers=admin)).json())["webhooks"]
            assert (status[0]["pending"], status[0]["dead_letters"]) == (0, 0)

            # A dead letter kept before `at` was ISO (seconds then) is listed as ISO too.
            legacy = {"id": "1-1", "event": letter["event"], "attempts": 1, "status": 400}
            await node.casework.webhooks.store.dead_letter("crm", {**legacy, "at": 1796539992.75})
            [old] = await _dead(http, admin)
            assert old["at"] == "2026-12-06T06:53:12.750000+00:00"


def test_signatures_and_patterns() -> None:
    body = b'{"id":"1-0","type":"case.created"}'
    signature = sign(SECRET, "1700000000", body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(SECRET, "1700000000", body, signature, now_s=1_700_000_100)
    assert not verify(SECRET, "1700000000", body + b" ", signature, now_s=1_700_000_100)
    assert not verify(SECRET, "1700000000", body, signature, now_s=1_700_001_000)  # a replay
    assert not verify(SECRET, "soon", body, signature, now_s=1_700_000_000)
    assert wanted(["case.*"], "case.created") and not wanted(["case.*"], "sla.breached")
    assert wanted(["*"], "contact.ended") and wanted(["sla.breached"], "sla.breached")


def _stream_order(entry_id: str) -> tuple[int, int]:
    millis, sequence = entry_id.split("-")
    return int(millis), int(sequence)
