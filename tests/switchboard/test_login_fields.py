"""A login that asks for routing (`channels`, `sip_uri`) is checked before any session
exists: a planner or supervisor who is no agent gets 400 naming the field, a wrong
password still 401, and no token is left behind either way (docs/security.md). On a
real node, Redis and HTTP."""

from __future__ import annotations

import pytest

from router.model import Agent, Role
from tests.nodes import http_session, running_node

USERS = [
    ("plan1", Role.PLANNER, "plan-secret-1"),
    ("sup", Role.SUPERVISOR, "sup-secret-1"),
    ("sue", Role.SUPERVISOR, "sue-secret-1"),  # a supervisor who also takes contacts
    ("ghost", Role.AGENT, "ghost-secret-1"),  # an agent user with no roster entry
]
SUE = Agent("sue", "default", {"booking": 4}, ["en"])


@pytest.mark.parametrize(
    ("user", "extra", "field"),
    [
        ("plan1", {"channels": {"chat": 1}}, "$.channels"),
        ("sup", {"sip_uri": "sip:sup@127.0.0.1"}, "$.sip_uri"),
    ],
)
async def test_routing_fields_of_a_user_who_is_no_agent_are_refused_before_a_session(
    redis_url: str, user: str, extra: dict[str, object], field: str
) -> None:
    async with running_node(redis_url, users=USERS, agents=[SUE]) as node:
        async with http_session(node) as http:
            password = dict((u, p) for u, _, p in USERS)[user]
            wrong = await http.post(
                "/api/v1/agents/login", json={"agent_id": user, "password": "nope-nope-1", **extra}
            )
            assert wrong.status == 401
            refused = await http.post(
                "/api/v1/agents/login", json={"agent_id": user, "password": password, **extra}
            )
            assert refused.status == 400, await refused.text()
            assert (await refused.json())["field"] == field
            assert await node.sessions.users.token_count(user) == 0
            plain = await http.post(
                "/api/v1/agents/login", json={"agent_id": user, "password": password}
            )
            assert plain.status == 200 and "agent" not in await plain.json()
        assert await node.sessions.users.token_count(user) == 1


async def test_a_supervisor_on_the_roster_signs_in_to_routing(redis_url: str) -> None:
    async with (
        running_node(redis_url, users=USERS, agents=[SUE]) as node,
        http_session(node) as http,
    ):
        signed = await http.post(
            "/api/v1/agents/login",
            json={"agent_id": "sue", "password": "sue-secret-1", "channels": {"chat": 2}},
        )
        assert signed.status == 200, await signed.text()
        assert (await signed.json())["agent"]["agent_id"] == "sue"


async def test_an_agent_without_a_roster_entry_leaves_no_session(redis_url: str) -> None:
    async with running_node(redis_url, users=USERS, agents=[SUE]) as node:
        async with http_session(node) as http:
            refused = await http.post(
                "/api/v1/agents/login", json={"agent_id": "ghost", "password": "ghost-secret-1"}
            )
            assert refused.status == 404, await refused.text()
        assert await node.sessions.users.token_count("ghost") == 0
