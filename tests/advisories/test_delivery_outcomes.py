"""The advisory, as its supervisors read it, follows the webhook's deliveries of its
warnings: delivered, or failed (dead-lettered), and a dead letter an admin redelivers
once the gateway is fixed moves to delivered. `warned` alone counted the events written,
so it said every passenger was warned when the gateway took none. The supervisors see
the counts; the dead letters stay the admins'."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from switchboard.node import Node
from tests.advisories.conftest import SECRET, chat_of, declare, staff
from tests.cases.conftest import receiving, started, webhook_config
from tests.nodes import http_session


@dataclass
class Flaky:
    """An SMS gateway that refuses every event (400: never retried) until fixed."""

    status: int = 400
    received: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.status < 300:
            self.received.append(body)
        return web.Response(status=self.status)


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[Flaky, str]]:
    gateway = Flaky()
    async with receiving("/sms", gateway.handle) as url:
        yield gateway, url


@pytest.fixture
async def node(redis_url: str, tmp_path: Path, flaky: tuple[Flaky, str]) -> AsyncIterator[Node]:
    settings = 'events = ["customer.advisory"]\nmax_attempts = 1\ntimeout = "5s"\n'
    config = webhook_config(tmp_path, "sms", flaky[1], SECRET, settings)
    async with started(redis_url, config) as running:
        yield running


async def read_until(
    http: aiohttp.ClientSession,
    headers: dict[str, str],
    advisory_id: str,
    done: Any,
) -> dict[str, Any]:
    """The advisory as `headers`' user reads it, once `done(advisory)` (bounded wait)."""
    for _ in range(200):
        response = await http.get(f"/api/v1/advisories/{advisory_id}", headers=headers)
        assert response.status == 200, await response.text()
        advisory = dict(await response.json())
        if done(advisory):
            return advisory
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {advisory}")


async def test_a_warning_that_dead_lettered_reads_failed_until_redelivered(
    node: Node, flaky: tuple[Flaky, str]
) -> None:
    gateway, _ = flaky
    async with http_session(node) as http:
        sup, admin = await staff(http, "sup"), await staff(http, "adm")
        answer = await declare(http, sup, customers=["c-de", "c-fr", "c-ko"])
        advisory_id = answer["advisory_id"]
        failed = await read_until(http, sup, advisory_id, lambda a: a["failed"] == 3)
        assert (failed["warned"], failed["delivered"], failed["failed"]) == (3, 0, 3)
        assert failed["deliveries"] == {"sms": {"delivered": 0, "failed": 3}}
        # The dead letters themselves stay the admins'.
        refused = await http.get("/api/v1/webhooks/sms/dead-letters", headers=sup)
        assert refused.status == 403
        letters = await (await http.get("/api/v1/webhooks/sms/dead-letters", headers=admin)).json()
        ids = [letter["id"] for letter in letters["dead_letters"]]
        assert len(ids) == 3
        gateway.status = 204  # the gateway is fixed; an admin puts one letter back
        put_back = await http.post(
            f"/api/v1/webhooks/sms/dead-letters/{ids[0]}/redeliver", headers=admin
        )
        assert put_back.status == 202
        redelivered = await read_until(http, sup, advisory_id, lambda a: a["delivered"] == 1)
        listed = await (await http.get("/api/v1/advisories", headers=sup)).json()
    assert (redelivered["delivered"], redelivered["failed"]) == (1, 2)
    assert redelivered["deliveries"] == {"sms": {"delivered": 1, "failed": 2}}
    assert len(gateway.received) == 1
    (in_list,) = listed["advisories"]
    assert (in_list["delivered"], in_list["failed"]) == (1, 2)


async def test_delivered_warnings_are_counted_once_each(
    node: Node, flaky: tuple[Flaky, str]
) -> None:
    gateway, _ = flaky
    gateway.status = 204
    contact, _ = await chat_of(node, "c-es", "es")
    await node.router.abandon(contact.contact_id)
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        answer = await declare(http, sup, customers=["c-es", "c-new"])
        read = await read_until(
            http, sup, answer["advisory_id"], lambda a: a["delivered"] + a["failed"] >= 2
        )
        # A delivery told again (a node that crashed before moving its cursor sends
        # the event again) is still one delivery.
        entries = await node.cases.store.outbox_after("", 100)
        for entry in entries:
            await node.advisories.delivery("sms", entry.entry_id, entry.event, True)
        again = await read_until(http, sup, answer["advisory_id"], lambda a: True)
    assert (read["warned"], read["delivered"], read["failed"]) == (2, 2, 0)
    assert (again["delivered"], again["failed"]) == (2, 0)
    assert len(gateway.received) == 2
