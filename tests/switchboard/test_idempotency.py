"""A retried create with the same `Idempotency-Key` creates once: the retry is answered
with the first answer (and `Idempotent-Replayed: true`), the same key with another body
is 422, one still in flight is 409; without the header every POST creates, as before.

Against a real node on Redis, over HTTP, with a webhook receiver standing in for the
airline's SMS gateway and CRM.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from router.access import Principal
from router.model import ContactState, Presence, Role
from switchboard.http.api import API
from switchboard.http.app import FEATURES
from switchboard.http.openapi import document
from switchboard.node import Node
from tests.advisories.conftest import later
from tests.cases.conftest import receiving, staff, started, webhook_config
from tests.nodes import http_session, new_chat

SECRET = "an-idempotency-test-secret"
KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


@dataclass
class Receiver:
    """The SMS gateway and CRM: every event it was sent."""

    events: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.events.append(await request.json())
        return web.Response(status=204)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    received = Receiver()
    async with receiving("/hook", received.handle) as url:
        yield received, url


@pytest.fixture
async def node(
    redis_url: str, tmp_path: Path, receiver: tuple[Receiver, str]
) -> AsyncIterator[Node]:
    settings = (
        'events = ["customer.advisory", "case.created", "contact.created"]\n'
        'backoff = "0.2s"\ntimeout = "5s"\n'
    )
    config = webhook_config(tmp_path, "crm", receiver[1], SECRET, settings)
    # The loopback is a trusted proxy here, so a test can be two customers at two
    # addresses (X-Forwarded-For) while both connect from 127.0.0.1.
    loopback = (ipaddress.ip_network("127.0.0.1/32"),)
    async with started(redis_url, config, trusted_proxies=loopback) as running:
        yield running


def advisory(**changes: Any) -> dict[str, Any]:
    return {
        "queue": "booking",
        "title": "Storm at MAD",
        "customers": ["FF-1001", "FF-1002"],
        "messages": {"en": "Your flight is delayed."},
        "until": later(hours=6),
        **changes,
    }


def chat(**changes: Any) -> dict[str, Any]:
    return {"channel": "chat", "queue": "booking", "language": "en", **changes}


def key() -> str:
    return str(uuid.uuid4())


async def post(
    http: aiohttp.ClientSession, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any], bool]:
    """Status, JSON answer, and whether the node says it replayed a stored answer."""
    response = await http.post(path, json=body, headers=headers)
    return response.status, await response.json(), response.headers.get(REPLAYED) == "true"


async def settled(receiver: Receiver, kind: str, count: int) -> list[dict[str, Any]]:
    """The events of `kind` once `count` have come, and a moment later (none more)."""
    for _ in range(100):
        if len(receiver.of(kind)) >= count:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a duplicate would be delivered within this
    return receiver.of(kind)


async def test_a_retried_advisory_warns_each_passenger_once(
    node: Node, receiver: tuple[Receiver, str]
) -> None:
    crm, _ = receiver
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        once = {**sup, KEY: key()}
        body = advisory()
        first = await post(http, "/api/v1/advisories", body, once)
        retry = await post(http, "/api/v1/advisories", body, once)
        listed = await (await http.get("/api/v1/advisories", headers=sup)).json()
    assert first[0] == retry[0] == 201
    assert retry[1] == first[1] and not first[2] and retry[2]
    assert [a["advisory_id"] for a in listed["advisories"]] == [first[1]["advisory_id"]]
    warned = await settled(crm, "customer.advisory", 2)
    assert sorted(e["data"]["customer"] for e in warned) == ["FF-1001", "FF-1002"]
    assert {e["data"]["advisory_id"] for e in warned} == {first[1]["advisory_id"]}
    assert len({e["id"] for e in warned}) == 2  # one delivery id per passenger


async def test_without_the_header_a_retried_advisory_declares_again(
    node: Node, receiver: tuple[Receiver, str]
) -> None:
    crm, _ = receiver
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        body = advisory(customers=["FF-2001"])
        first = await post(http, "/api/v1/advisories", body, sup)
        again = await post(http, "/api/v1/advisories", body, sup)
    assert first[0] == again[0] == 201 and not again[2]
    assert first[1]["advisory_id"] != again[1]["advisory_id"]
    assert len(await settled(crm, "customer.advisory", 2)) == 2


async def test_a_retried_chat_is_the_same_chat_and_the_center_has_one(
    node: Node, receiver: tuple[Receiver, str]
) -> None:
    crm, _ = receiver
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        customer = {KEY: key(), "X-Forwarded-For": "198.51.100.7"}
        first = await post(http, "/api/v1/contacts", chat(), customer)
        retry = await post(http, "/api/v1/contacts", chat(), customer)
        queued = await (await http.get("/api/v1/queues/booking/contacts", headers=sup)).json()
        # The token the retry answered is the chat's: the customer reads it with it.
        read = await http.get(
            f"/api/v1/contacts/{retry[1]['contact_id']}",
            headers={"X-Customer-Token": retry[1]["customer_token"]},
        )
    assert first[0] == retry[0] == 201 and retry[2] and not first[2]
    assert retry[1]["contact_id"] == first[1]["contact_id"]
    assert retry[1]["customer_token"] == first[1]["customer_token"]
    assert [c["contact_id"] for c in queued["contacts"]] == [first[1]["contact_id"]]
    assert read.status == 200 and (await read.json())["state"] == ContactState.QUEUED.value
    created = await settled(crm, "contact.created", 1)
    assert [e["data"]["contact_id"] for e in created] == [first[1]["contact_id"]]


async def test_another_address_with_the_same_key_gets_its_own_chat_not_the_token(
    node: Node,
) -> None:
    """A key is only a key: an anonymous one counts at the client's address, so whoever
    guesses it elsewhere starts a chat of their own and never sees the first token."""
    shared = key()
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        victim = await post(
            http, "/api/v1/contacts", chat(), {KEY: shared, "X-Forwarded-For": "198.51.100.7"}
        )
        guesser = await post(
            http, "/api/v1/contacts", chat(), {KEY: shared, "X-Forwarded-For": "203.0.113.9"}
        )
        # A supervisor's back office with the same key is yet another caller.
        office = await post(http, "/api/v1/contacts", chat(), {**sup, KEY: shared})
        queued = await (await http.get("/api/v1/queues/booking/contacts", headers=sup)).json()
    assert victim[0] == guesser[0] == office[0] == 201
    assert not guesser[2] and not office[2]
    tokens = {victim[1]["customer_token"], guesser[1]["customer_token"]}
    assert len(tokens) == 2 and office[1]["customer_token"] not in tokens
    assert len({c["contact_id"] for c in queued["contacts"]}) == 3


async def test_without_the_header_a_retried_chat_starts_another(node: Node) -> None:
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        first = await new_chat(http)
        again = await new_chat(http)
        queued = await (await http.get("/api/v1/queues/booking/contacts", headers=sup)).json()
    assert first["contact_id"] != again["contact_id"]
    assert len(queued["contacts"]) == 2


async def case_ids(http: aiohttp.ClientSession, headers: dict[str, str]) -> list[str]:
    answer = await (await http.get("/api/v1/cases", headers=headers)).json()
    return [case["case_id"] for case in answer["cases"]]


def case(**changes: Any) -> dict[str, Any]:
    return {"subject": "Lost bag", "customer": {"id": "FF-7007"}, "queue": "booking", **changes}


async def test_a_retried_case_is_one_case_and_another_body_is_422(
    node: Node, receiver: tuple[Receiver, str]
) -> None:
    crm, _ = receiver
    once = key()
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        first = await post(http, "/api/v1/cases", case(), {**sup, KEY: once})
        retry = await post(http, "/api/v1/cases", case(), {**sup, KEY: once})
        other = await post(http, "/api/v1/cases", case(subject="Other bag"), {**sup, KEY: once})
        # The same key on another route is another request too.
        elsewhere = await post(http, "/api/v1/advisories", advisory(), {**sup, KEY: once})
        cases = await case_ids(http, sup)
    assert first[0] == retry[0] == 201 and retry[2] and retry[1] == first[1]
    assert other[0] == elsewhere[0] == 422 and not other[2]
    assert other[1]["field"] == "header.Idempotency-Key"
    assert "Idempotency-Key" in other[1]["message"]
    assert cases == [first[1]["case_id"]]
    created = await settled(crm, "case.created", 1)
    assert [e["data"]["case_id"] for e in created] == [first[1]["case_id"]]


async def test_without_the_header_a_retried_case_is_two_cases(node: Node) -> None:
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        first = await post(http, "/api/v1/cases", case(), sup)
        again = await post(http, "/api/v1/cases", case(), sup)
        cases = await case_ids(http, sup)
    assert first[0] == again[0] == 201 and first[1]["case_id"] != again[1]["case_id"]
    assert sorted(cases) == sorted([first[1]["case_id"], again[1]["case_id"]])


async def test_a_key_that_is_no_key_is_400_and_creates_nothing(node: Node) -> None:
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        for bad in ("x" * 256, '""', "caf\u00e9-key"):
            refused = await http.post(
                "/api/v1/cases", json=case(), headers={**sup, KEY: bad.encode().decode("latin-1")}
            )
            assert refused.status == 400, bad
            assert (await refused.json())["field"] == "header.Idempotency-Key"
        quoted = await post(http, "/api/v1/cases", case(), {**sup, KEY: '"k-1"'})
        bare = await post(http, "/api/v1/cases", case(), {**sup, KEY: "k-1"})
        cases = await case_ids(http, sup)
    assert quoted[0] == bare[0] == 201 and bare[2]  # a quoted key is the same key
    assert cases == [quoted[1]["case_id"]]


async def test_a_key_is_the_callers_own(node: Node) -> None:
    """Two supervisors' requests with the same key are two requests."""
    shared = key()
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        adm = await staff(http, "adm")
        mine = await post(http, "/api/v1/cases", case(), {**sup, KEY: shared})
        theirs = await post(http, "/api/v1/cases", case(), {**adm, KEY: shared})
    assert mine[0] == theirs[0] == 201 and not theirs[2]
    assert mine[1]["case_id"] != theirs[1]["case_id"]


async def test_a_failed_create_is_not_kept_and_the_fixed_request_goes_through(
    node: Node,
) -> None:
    once = key()
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        refused = await post(http, "/api/v1/cases", case(owner="nobody"), {**sup, KEY: once})
        fixed = await post(http, "/api/v1/cases", case(), {**sup, KEY: once})
        again = await post(http, "/api/v1/cases", case(), {**sup, KEY: once})
        cases = await case_ids(http, sup)
    assert refused[0] in (400, 404) and fixed[0] == 201 and not fixed[2]
    assert again[2] and again[1] == fixed[1] and cases == [fixed[1]["case_id"]]


async def test_a_request_still_in_flight_with_the_key_is_409(node: Node) -> None:
    """Another node (or this one) is still creating with the key: the retry is told so,
    and creates nothing, rather than racing it."""
    once = key()
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        # What the first request has claimed while it runs, as it would have.
        from switchboard.http.idempotency import fingerprint, scope_of
        from switchboard.http.idempotency_store import IdempotencyStore

        store = IdempotencyStore(node.store.client, node.store.prefix)
        body = case()
        claim = await store.claim(
            scope_of(Principal("sup", Role.SUPERVISOR)),
            once,
            fingerprint("POST", "/api/v1/cases", body),
        )
        assert claim.claimed
        busy = await post(http, "/api/v1/cases", body, {**sup, KEY: once})
        cases = await case_ids(http, sup)
    assert busy[0] == 409 and "Idempotency-Key" in busy[1]["message"]
    assert cases == []


async def test_concurrent_retries_with_one_key_create_one_case(node: Node) -> None:
    """Eight impatient retries at once: one creates, the others wait their turn (409) or
    get its answer; never a second case."""
    once = key()
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        answers = await asyncio.gather(
            *(post(http, "/api/v1/cases", case(), {**sup, KEY: once}) for _ in range(8))
        )
        cases = await case_ids(http, sup)
    created = [answer for status, answer, replayed in answers if status == 201 and not replayed]
    assert len(cases) == 1 and [a["case_id"] for a in created] == cases
    assert all(
        status == 409 or (status == 201 and answer["case_id"] == cases[0])
        for status, answer, _ in answers
    )


async def test_a_retried_note_is_one_note(node: Node) -> None:
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        opened = await post(http, "/api/v1/cases", case(), sup)
        notes = f"/api/v1/cases/{opened[1]['case_id']}/notes"
        once = {**sup, KEY: key()}
        first = await post(http, notes, {"text": "called the airport"}, once)
        retry = await post(http, notes, {"text": "called the airport"}, once)
        read = await (await http.get(f"/api/v1/cases/{opened[1]['case_id']}", headers=sup)).json()
    assert first[0] == retry[0] == 201 and retry[2]
    assert [n["text"] for n in read["notes"]] == ["called the airport"]


async def test_a_retried_rating_answers_the_rating_and_another_score_is_422(node: Node) -> None:
    """The customer's retry is answered with the first answer, not "already rated"; a
    customer's key counts on their own contact (the customer token's)."""
    async with http_session(node) as http:
        ana = await staff(http, "ana")
        await node.router.set_presence("ana", Presence.AVAILABLE)
        started_chat = await new_chat(http)
        url = f"/api/v1/contacts/{started_chat['contact_id']}"
        customer = {"X-Customer-Token": started_chat["customer_token"]}
        assert (await http.post(f"{url}/accept", headers=ana)).status == 200
        assert (await http.post(f"{url}/complete", headers=ana)).status == 200
        once = {**customer, KEY: key()}
        first = await post(http, f"{url}/rating", {"score": 4}, once)
        retry = await post(http, f"{url}/rating", {"score": 4}, once)
        other = await post(http, f"{url}/rating", {"score": 1}, once)
        plain = await post(http, f"{url}/rating", {"score": 4}, customer)
    assert first[0] == retry[0] == 201 and retry[2] and retry[1] == first[1]
    assert other[0] == 422 and plain[0] == 409  # without the key: already rated, as before
    ratings = await node.reports.store.ratings()
    assert ratings[started_chat["contact_id"]] == 4


async def test_a_retried_case_from_a_contact_is_its_case(node: Node) -> None:
    async with http_session(node) as http:
        sup = await staff(http, "sup")
        started_chat = await new_chat(http)
        url = f"/api/v1/contacts/{started_chat['contact_id']}/case"
        once = {**sup, KEY: key()}
        first = await post(http, url, {"subject": "Lost bag"}, once)
        retry = await post(http, url, {"subject": "Lost bag"}, once)
        cases = await case_ids(http, sup)
    assert first[0] == retry[0] == 201 and retry[2] and retry[1] == first[1]
    assert cases == [first[1]["case_id"]]


def test_the_openapi_document_declares_the_header_on_the_create_routes() -> None:
    assert FEATURES
    paths = document(API.operations)["paths"]
    for path in (
        "/api/v1/contacts",
        "/api/v1/cases",
        "/api/v1/advisories",
        "/api/v1/cases/{case}/notes",
    ):
        operation = paths[path]["post"]
        (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and header["required"] is False
        assert {"409", "422"} <= set(operation["responses"])
    assert not any(
        p["in"] == "header"
        for p in paths["/api/v1/contacts/{contact_id}/messages"]["post"].get("parameters", [])
    )
