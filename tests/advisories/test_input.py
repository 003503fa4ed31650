"""Bad advisories are refused with 400 naming the field (never 5xx), agents and
anonymous callers are refused, and the routes are in the OpenAPI document."""

from __future__ import annotations

import time
from typing import Any

import pytest

from switchboard.node import Node
from tests.advisories.conftest import body, later, outbox_events, staff
from tests.nodes import http_session

MISSING = object()
BAD: list[tuple[str, Any, str]] = [
    ("queue", MISSING, "$.queue"),
    ("queue", "nowhere", "$.queue"),
    ("title", "", "$.title"),
    ("customers", [], "$.customers"),
    ("customers", [f"c-{n}" for n in range(10_001)], "$.customers"),
    ("customers", ["has space"], "$.customers[0]"),
    ("messages", {}, "$.messages"),
    ("messages", {"xx-notalanguage-at-all": "hi"}, "$.messages"),
    ("messages", {"en": ""}, "$.messages.en"),
    ("until", MISSING, "$.until"),
    ("until", "2030-01-01T10:00:00", "$.until"),  # no offset
    ("until", "tomorrow", "$.until"),
    # seconds since 1970 an hour ahead, as a number and as digits: read as a time before
    ("until", int(time.time()) + 3600, "$.until"),
    ("until", str(int(time.time()) + 3600), "$.until"),
    ("until", later(hours=-1), "$.until"),
    ("until", later(days=7, hours=1), "$.until"),
    ("starts_at", later(hours=7), "$.starts_at"),  # after until
    ("starts_at", later(days=-8), "$.starts_at"),  # long past
    ("starts_at", "0001-01-01T00:00:00+01:00", "$.starts_at"),  # no UTC date
    ("until", "9999-12-31T23:59:59-01:00", "$.until"),  # no UTC date
    ("until", "0001-01-01T00:00:00+01:00", "$.until"),
    ("priority_boost", 10, "$.priority_boost"),
    ("priority_boost", -1, "$.priority_boost"),
    ("expected_contacts_per_hour", 0, "$.expected_contacts_per_hour"),
    ("expected_contacts_per_hour", -5, "$.expected_contacts_per_hour"),
    ("colour", "red", "$.colour"),
]


@pytest.mark.parametrize("name,value,field", BAD, ids=[f"{n}={str(v)[:20]}" for n, v, _ in BAD])
async def test_bad_input_is_400_naming_the_field(
    node: Node, name: str, value: Any, field: str
) -> None:
    sent = body()
    if value is MISSING:
        sent.pop(name)
    else:
        sent[name] = value
    async with http_session(node) as http:
        headers = await staff(http, "adm")
        response = await http.post("/api/v1/advisories", json=sent, headers=headers)
        answer = await response.json()
        listed = await (await http.get("/api/v1/advisories", headers=headers)).json()
    assert response.status == 400, answer
    assert answer["field"].startswith(field), answer
    assert listed == {"advisories": []}  # nothing was declared
    assert await outbox_events(node) == []  # nor anyone warned


@pytest.mark.parametrize("user", ["sup", "sup2", "adm"])
async def test_a_queue_that_does_not_exist_is_400_for_every_declarer(node: Node, user: str) -> None:
    """A typo in the queue is named as such, whoever sends it: a queue-scoped supervisor
    is not told they lack permission for a queue that is not there."""
    async with http_session(node) as http:
        headers = await staff(http, user)
        response = await http.post("/api/v1/advisories", json=body(queue="nosuch"), headers=headers)
        answer = await response.json()
    assert response.status == 400, answer
    assert answer["field"] == "$.queue" and "booking" in answer["expected"], answer
    assert await outbox_events(node) == []


@pytest.mark.parametrize("user,status", [("ana", 403), ("pia", 403), ("sup2", 403), (None, 401)])
async def test_only_the_queues_supervisors_declare(
    node: Node, user: str | None, status: int
) -> None:
    async with http_session(node) as http:
        headers = await staff(http, user) if user else {}
        response = await http.post("/api/v1/advisories", json=body(), headers=headers)
    assert response.status == status
    assert await outbox_events(node) == []


async def test_the_routes_are_in_the_openapi_document(node: Node) -> None:
    async with http_session(node) as http:
        document = await (await http.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/api/v1/advisories"]) == {"get", "post"}
    assert set(paths["/api/v1/advisories/{advisory}"]) == {"get", "delete"}
    schema = document["components"]["schemas"]["NewAdvisory"]
    assert {"queue", "title", "customers", "messages", "until"} <= set(schema["required"])
