"""A route for some roles only refuses staff of another role (403) before it reads the
request (docs/security.md, "Input"): a probe, as an agent, learnt the admin API's schema
field by field from 400s ("$.password: expected this field"), and could not tell "not
allowed" from "malformed". Every such route (`API.route(roles=...)`) is walked here by
role with incomplete bodies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.model import Agent, Role
from switchboard.http.api import API, Operation
from switchboard.http.openapi import document
from switchboard.node import Node
from tests.nodes import http_session, login, running_node

PASSWORD = "a-long-password"
USERS = {
    Role.AGENT: "eu_bag",
    Role.SUPERVISOR: "sup",
    Role.PLANNER: "plan",
    Role.ADMIN: "adm",
}
# What each path's names are filled with: nothing that exists but the agent and queue.
NAMES = {
    "contact_id": "no-such-contact",
    "case": "ffff",  # well formed (a malformed id is 400 `path.case`), no case
    "advisory": "no-such-advisory",
    "queue": "booking",
    "agent": "eu_bag",
    "agent_id": "eu_bag",
    "user": "eu_bag",
    "webhook": "crm",
    "delivery": "1-0",
}
# The probe's routes, and the other writes whose bodies are for some roles only.
MUST_BE_GATED = {
    ("PUT", "/api/v1/admin/users/{user}"),
    ("PUT", "/api/v1/admin/agents/{agent}"),
    ("PUT", "/api/v1/admin/queues/{queue}"),
    ("POST", "/api/v1/advisories"),
    ("POST", "/api/v1/cases"),
    ("PATCH", "/api/v1/cases/{case}"),
    ("POST", "/api/v1/cases/{case}/notes"),
    ("POST", "/api/v1/cases/{case}/wrap-up"),
    ("POST", "/api/v1/cases/{case}/contacts"),
    ("POST", "/api/v1/contacts/{contact_id}/case"),
    ("POST", "/api/v1/contacts/{contact_id}/move"),
    ("POST", "/api/v1/contacts/{contact_id}/transfer"),
    ("PUT", "/api/v1/contacts/{contact_id}/monitor"),
    ("POST", "/api/v1/contacts/{contact_id}/wrapup"),
    ("POST", "/api/v1/contacts/{contact_id}/messages"),
    ("POST", "/api/v1/contacts/{contact_id}/rating"),
    ("POST", "/api/v1/contacts/{contact_id}/case/confirm"),
    ("PUT", "/api/v1/agents/{agent_id}/state"),
    ("GET", "/api/v1/audit"),
}


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        agents=[Agent("eu_bag", "default", {"baggage": 4}, ["en"])],
        users=[(user, role, PASSWORD) for role, user in USERS.items()],
    ) as started:
        yield started


def gated() -> list[Operation]:
    return [op for op in API.operations if op.roles is not None and not op.websocket]


def path_of(operation: Operation) -> str:
    return re.sub(r"\{(\w+)\}", lambda name: NAMES[name.group(1)], operation.path)


def requires_a_field(operation: Operation) -> bool:
    body = operation.body
    return body is not None and any(f.is_required() for f in body.model_fields.values())


async def call(
    http: aiohttp.ClientSession, operation: Operation, headers: dict[str, str], query: str = ""
) -> aiohttp.ClientResponse:
    body: dict[str, Any] = {"json": {}} if operation.body is not None else {}
    return await http.request(operation.method, path_of(operation) + query, headers=headers, **body)


def test_the_role_gated_routes_declare_their_roles() -> None:
    declared = {(op.method, op.path) for op in gated()}
    assert declared >= MUST_BE_GATED, MUST_BE_GATED - declared


async def test_another_role_is_refused_before_the_body_or_query_is_read(node: Node) -> None:
    async with http_session(node) as http:
        headers = {role: await login(http, user, PASSWORD) for role, user in USERS.items()}
        for operation in gated():
            assert operation.roles is not None
            route = f"{operation.method} {operation.path}"
            for role in USERS:
                if role in operation.roles:
                    continue
                # an incomplete body and a key no route takes: neither is looked at
                answer = await call(http, operation, headers[role], "?no_such_key=1")
                assert answer.status == 403, (route, role, await answer.text())
                said = (await answer.json())["message"]
                assert said.startswith(f"{role.value} {USERS[role]} is not"), (route, said)
            if not requires_a_field(operation):
                continue
            for role in operation.roles:  # the route's own roles: the body is checked
                answer = await call(http, operation, headers[role])
                assert answer.status == 400, (route, role, await answer.text())
                assert (await answer.json())["field"].startswith("$"), route


async def test_the_probes_requests_are_403_not_the_schema(node: Node) -> None:
    async with http_session(node) as http:
        agent = await login(http, "eu_bag", PASSWORD)
        planner = await login(http, "plan", PASSWORD)
        for method, path, body, headers in (
            ("PUT", "/api/v1/admin/users/eu_bag", {"role": "admin"}, agent),
            ("PUT", "/api/v1/admin/agents/eu_bag", {"region": "x", "skills": {"b": 5}}, agent),
            ("POST", "/api/v1/advisories", {}, agent),
            ("POST", "/api/v1/cases", {}, planner),
        ):
            answer = await http.request(method, path, json=body, headers=headers)
            assert answer.status == 403, (path, await answer.text())
            assert "field" not in await answer.json()
    assert (await node.sessions.users.get("eu_bag")).role == Role.AGENT  # type: ignore[union-attr]


def test_the_openapi_document_lists_a_routes_roles() -> None:
    paths = document(API.operations)["paths"]
    assert paths["/api/v1/admin/users/{user}"]["put"]["x-roles"] == ["admin"]
    assert paths["/api/v1/contacts/{contact_id}/move"]["post"]["x-roles"] == [
        "supervisor",
        "admin",
    ]
    assert paths["/api/v1/contacts/{contact_id}/rating"]["post"]["x-roles"] == []
    assert "x-roles" not in paths["/api/v1/contacts"]["post"]
