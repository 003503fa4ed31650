"""Schemathesis against the node's own OpenAPI document: no 5xx, answers as documented.

The document is generated from the declared operations, so the cases come from the very
schemas the handlers validate with. A node runs as its own process on the test Redis;
every operation is called with examples both anonymous and as an admin. The number of
examples is bounded here; `bench/fuzz.py` runs longer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings

from router.model import Role
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.embedded import EmbeddedRedis
from switchboard.http.api import API
from switchboard.http.app import FEATURES
from switchboard.http.openapi import document
from tests.harness import LocalCluster

assert FEATURES  # every operation declared before the document is built
SCHEMA = schemathesis.openapi.from_dict(document(API.operations))
# Streams never end by themselves; logging out would end the fuzzing session.
SKIPPED = {("GET", "/api/v1/wallboard/events"), ("POST", "/api/v1/agents/logout")}
EXAMPLES = 15


@pytest.fixture(scope="module")
def node_url(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    asyncio.run(_seed(redis_server.url))
    workdir = tmp_path_factory.mktemp("fuzz")
    with LocalCluster(
        redis_server.url, workdir, always_open=True, extra_toml="\n[auth]\nscrypt_log2_n = 12\n"
    ) as cluster:
        cluster.start([("asia-1", "asia-east")])
        yield cluster.nodes[0].url


async def _seed(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, decode_responses=True)
    sessions = Sessions(UserStore(client), RoutingStore(client), SessionPolicy(scrypt_log2_n=12))
    await sessions.save_user("adm", Role.ADMIN, "admin-secret-1")
    await client.aclose()


@pytest.fixture(scope="module")
def admin(node_url: str) -> dict[str, str]:
    answer = requests.post(
        f"{node_url}/api/v1/agents/login",
        json={"agent_id": "adm", "password": "admin-secret-1"},
        timeout=10,
    )
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_answers_as_documented(
    case: schemathesis.Case, node_url: str, admin: dict[str, str]
) -> None:
    if (case.method.upper(), case.path) in SKIPPED:
        pytest.skip("streams and logout are exercised by their own tests")
    for headers in ({}, admin):
        response = case.call(base_url=node_url, headers=headers, timeout=10)
        assert response.status_code < 500, response.text
        case.validate_response(response, checks=_checks())


def _checks() -> list[schemathesis.CheckFunction]:
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [status_code_conformance, content_type_conformance, response_schema_conformance]


def test_hostile_bodies_get_a_clear_400_never_a_500(node_url: str) -> None:
    """The probes that once gave 500s: deep nesting, lone surrogates, huge fields."""
    deep = "[" * 100_000 + "]" * 100_000
    cases = [
        ("/api/v1/contacts", deep, "$"),
        ("/api/v1/agents/login", deep, "$"),
        (
            "/api/v1/contacts",
            '{"channel":"chat","queue":"booking","language":"en","customer":{"id":"\\ud800"}}',
            "$.customer.id",
        ),
        (
            "/api/v1/contacts",
            '{"channel":"chat","queue":"booking","language":"\\ud800","customer":{"id":"c"}}',
            "$.language",
        ),
        ("/api/v1/agents/login", '{"agent_id":"\\ud800","password":"x"}', "$.agent_id"),
        (
            "/api/v1/contacts",
            '{"channel":"chat","queue":"booking","language":"'
            + "e" * 100_000
            + '","customer":{"id":"c"}}',
            "$.language",
        ),
        (
            "/api/v1/agents/login",
            '{"agent_id":"a","password":"x","sip_uri":"sip:a@b\\r\\nVia: x"}',
            "$.sip_uri",
        ),
    ]
    for path, body, field in cases:
        response = requests.post(
            f"{node_url}{path}",
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 400, (path, response.status_code, response.text[:200])
        assert response.json()["field"] == field
    too_big = requests.post(f"{node_url}/api/v1/contacts", data=b"x" * 400_000, timeout=10)
    assert too_big.status_code == 413 and too_big.json()["error"] == "too_large"
    wrong_method = requests.delete(f"{node_url}/api/v1/contacts", timeout=10)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    nan = requests.get(f"{node_url}/api/v1/wallboard/events", params={"every": "nan"}, timeout=10)
    assert nan.status_code == 401  # credentials are checked first


def test_every_registered_route_is_in_the_document(node_url: str) -> None:
    """The node's routes are exactly the declared operations (aiohttp adds HEAD to each
    GET), and the served document lists every one of them."""
    app = web.Application()
    app.add_routes(API.routes)
    registered = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource and route.method != "HEAD"
    }
    spec = requests.get(f"{node_url}/api/v1/openapi.json", timeout=10).json()
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert registered == documented and len(documented) > 25


def test_wallboard_stream_refuses_a_period_that_is_not_a_number(
    node_url: str, admin: dict[str, str]
) -> None:
    for every in ("nan", "inf", "0.01", "abc"):
        response = requests.get(
            f"{node_url}/api/v1/wallboard/events",
            params={"every": every},
            headers=admin,
            timeout=10,
        )
        assert response.status_code == 400 and response.json()["field"] == "query.every"
