"""A node with cases, a webhook for `customer.advisory` to a gateway the test runs (an SMS
gateway stand-in on loopback), agents of queue booking, and the steps the suites share."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from router.access import Principal
from router.contacts import ChatRequest, CustomerClaims
from router.model import Contact, Role
from switchboard.node import Node
from tests.cases.conftest import receiving, staff, started, webhook_config

SECRET = "an-sms-gateway-secret-for-tests"
SUPERVISOR = Principal("sup", Role.SUPERVISOR, frozenset({"booking"}))


@dataclass
class Gateway:
    """What the airline's SMS gateway received."""

    events: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.events.append(await request.json())
        return web.Response(status=204)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Gateway, str]]:
    received = Gateway()
    async with receiving("/sms", received.handle) as url:
        yield received, url


def advisory_config(tmp_path: Path, url: str) -> Path:
    settings = 'events = ["customer.advisory"]\nbackoff = "0.2s"\ntimeout = "5s"\n'
    return webhook_config(tmp_path, "sms", url, SECRET, settings)


@pytest.fixture
async def node(redis_url: str, tmp_path: Path, gateway: tuple[Gateway, str]) -> AsyncIterator[Node]:
    async with started(redis_url, advisory_config(tmp_path, gateway[1])) as running:
        yield running


def later(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).isoformat()


def body(**changes: Any) -> dict[str, Any]:
    """A valid advisory of queue booking, with `changes`."""
    return {
        "queue": "booking",
        "title": "Storm at MAD",
        "customers": ["c-es"],
        "messages": {"en": "Your flight is delayed.", "es": "Su vuelo se retrasa."},
        "until": later(hours=6),
        **changes,
    }


async def declare(
    http: aiohttp.ClientSession, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    response = await http.post("/api/v1/advisories", json=body(**changes), headers=headers)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def chat_of(node: Node, customer: str, language: str = "en") -> tuple[Contact, str]:
    """A chat of a known customer (a supervisor's back office vouches for who it is)."""
    request = ChatRequest("booking", language, claims=CustomerClaims(customer_id=customer))
    return await node.contacts.start_chat(request, SUPERVISOR)


async def outbox_events(node: Node, kind: str = "customer.advisory") -> list[dict[str, Any]]:
    entries = await node.cases.store.outbox_after("", 10_000)
    return [entry.event for entry in entries if entry.event.get("type") == kind]


async def until_true(check: Any, seconds: float = 10.0) -> None:
    """Wait (bounded) until `check()` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


__all__ = ["staff"]


async def transcript(
    http: aiohttp.ClientSession, contact_id: str, token: str
) -> list[dict[str, Any]]:
    """A chat's messages as its customer reads them (with their token)."""
    response = await http.get(
        f"/api/v1/contacts/{contact_id}/messages", headers={"X-Customer-Token": token}
    )
    assert response.status == 200, await response.text()
    return list((await response.json())["messages"])
