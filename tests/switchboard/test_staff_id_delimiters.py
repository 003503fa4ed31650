"""A user or agent id goes into URLs' paths (`/api/v1/agents/{agent_id}/...`): one rule
for every id created refuses the URL's delimiters `/ ? # %` and a backslash (400 naming
the field; docs/security.md, "Input"). A probe created user `a/b`, whose every route then
needed a `%2F` that proxies decode or refuse. An id stored before the rule still signs
in, is still read and can be removed."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from yarl import URL

from router.cli import add_user
from router.model import Agent, Role
from router.roster import read_roster
from switchboard.common.errors import InputError
from switchboard.node import Node
from tests.nodes import http_session, login, running_node

PASSWORD = "a-long-password"
REFUSED = ["a/b", "a?b", "a#b", "a%b", "a\\b", "/", "..%2Fx"]
AGENT = {"region": "default", "skills": {"booking": 3}, "languages": ["en"]}
OLD = "old/one"  # stored before the rule, as the probe's `a/b` was


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("adm", Role.ADMIN, PASSWORD), (OLD, Role.AGENT, PASSWORD)],
        agents=[Agent(OLD, "default", {"booking": 3}, ["en"])],
    ) as started:
        yield started


async def test_the_admin_api_refuses_an_id_with_a_url_delimiter(node: Node) -> None:
    async with http_session(node) as http:
        admin = await login(http, "adm", PASSWORD)
        for user_id in REFUSED:
            where = quote(user_id, safe="")
            for path, body, field in (
                (f"/api/v1/admin/users/{where}", {"role": "agent", "password": PASSWORD}, "user"),
                (f"/api/v1/admin/agents/{where}", AGENT, "agent"),
            ):
                answer = await http.put(URL(path, encoded=True), json=body, headers=admin)
                assert answer.status == 400, (user_id, path, await answer.text())
                refusal = await answer.json()
                assert refusal["field"] == f"path.{field}", refusal
                assert "/ ? # %" in refusal["expected"]
        assert await node.sessions.users.get("a/b") is None
        made = await http.put(
            "/api/v1/admin/users/zo%C3%AB.m-1",
            json={"role": "agent", "password": PASSWORD},
            headers=admin,
        )
        assert made.status == 200 and (await made.json())["user_id"] == "zoë.m-1"


def test_the_command_line_and_the_roster_hold_ids_to_the_same_rule() -> None:
    for user_id in REFUSED:
        with pytest.raises(InputError, match=r"--id: expected an id .* / \? # %"):
            add_user(argparse.Namespace(id=user_id))
        text = f"agent_id,region,skills,languages\n{user_id},default,booking:3,en\n"
        with pytest.raises(InputError, match=r"row 2: field agent_id: expected .* / \? # %"):
            read_roster(text, "agents.csv", ["default"])


async def test_an_id_stored_before_the_rule_still_signs_in_and_is_removed(node: Node) -> None:
    async with http_session(node) as http:
        old = await login(http, OLD, PASSWORD)  # a login takes any id stored
        path = URL("/api/v1/agents/old%2Fone", encoded=True)
        read = await http.get(path, headers=old)
        assert read.status == 200 and (await read.json())["agent_id"] == OLD
        admin = await login(http, "adm", PASSWORD)
        removed = await http.delete(
            URL("/api/v1/admin/users/old%2Fone", encoded=True), headers=admin
        )
        assert removed.status == 200 and (await removed.json())["user_id"] == OLD
        assert await node.sessions.users.get(OLD) is None
