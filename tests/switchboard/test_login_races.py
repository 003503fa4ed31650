"""A login that runs while its account changes: the password check is held open (an
asyncio.Event), an admin changes or removes the account meanwhile over HTTP, then the
check finishes. No token issued that way may outlive the change (docs/security.md,
"Sessions"), on a real node, Redis and HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from router.auth import hash_password, needs_rehash, verify_password
from router.model import Role
from router.users_store import UserRecord
from switchboard.node import Node
from tests.nodes import TEST_AUTH, http_session, login, running_node

USERS = [("root", Role.ADMIN, "root-secret-1"), ("eve", Role.ADMIN, "eve-old-secret-1")]


class HeldCheck:
    """Holds the node's next password check of `password` until released."""

    def __init__(self, node: Node, password: str) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        original = node.sessions._in_pool

        async def held(work: Any, *args: Any) -> Any:
            if work is verify_password and args and args[0] == password:
                self.entered.set()
                await self.release.wait()
            return await original(work, *args)

        node.sessions._in_pool = held  # type: ignore[method-assign]


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(redis_url, users=USERS) as node:
        yield node


async def held_login(
    node: Node, http: aiohttp.ClientSession, change: Any
) -> tuple[aiohttp.ClientResponse, dict[str, Any]]:
    """eve logs in with her old password; `change()` runs while the check is held."""
    hold = HeldCheck(node, "eve-old-secret-1")
    attempt = asyncio.ensure_future(
        http.post("/api/v1/agents/login", json={"agent_id": "eve", "password": "eve-old-secret-1"})
    )
    await asyncio.wait_for(hold.entered.wait(), 10)
    await change()
    hold.release.set()
    response = await asyncio.wait_for(attempt, 10)
    return response, await response.json()


async def test_a_login_racing_a_demotion_gets_no_admin_token(node: Node) -> None:
    async with http_session(node) as http:
        root = await login(http, "root", "root-secret-1")

        async def demote() -> None:
            changed = await http.put(
                "/api/v1/admin/users/eve",
                headers=root,
                json={"role": "planner", "password": "eve-new-secret-9"},
            )
            assert changed.status == 200, await changed.text()

        response, body = await held_login(node, http, demote)
        assert response.status == 401, body
        assert "token" not in body
        assert await node.sessions.users.token_count("eve") == 0
        # The account is what the admin made it: a planner with the new password only.
        assert (await node.sessions.users.get("eve")).role == "planner"  # type: ignore[union-attr]
        bad = await http.post(
            "/api/v1/agents/login", json={"agent_id": "eve", "password": "eve-old-secret-1"}
        )
        assert bad.status == 401
        eve = await login(http, "eve", "eve-new-secret-9")
        assert (await http.get("/api/v1/audit?last=1", headers=eve)).status == 403


async def test_a_login_racing_a_removal_gets_no_token(node: Node) -> None:
    async with http_session(node) as http:
        root = await login(http, "root", "root-secret-1")

        async def remove() -> None:
            removed = await http.delete("/api/v1/admin/users/eve", headers=root)
            assert removed.status == 200, await removed.text()

        response, body = await held_login(node, http, remove)
        assert response.status == 401, body
        assert await node.sessions.users.get("eve") is None
        assert await node.sessions.users.token_count("eve") == 0


async def test_a_login_racing_a_supervisors_sign_out_gets_no_token(node: Node) -> None:
    """revoke_all alone (no change of the record) also ends a login in flight."""
    async with http_session(node) as http:
        response, body = await held_login(
            node, http, lambda: node.sessions.revoke_all("eve", "logged out by root")
        )
        assert response.status == 401, body
        assert await node.sessions.users.token_count("eve") == 0
        again = await login(http, "eve", "eve-old-secret-1")  # nothing else changed
        assert (await http.get("/api/v1/audit?last=1", headers=again)).status == 200


async def test_a_login_rehashing_the_old_password_does_not_undo_a_password_change(
    node: Node,
) -> None:
    """A hash of an older cost is upgraded at login; an admin's new password set during
    that login stays, and the old password stays refused."""
    old_cost = hash_password("eve-old-secret-1", 10)
    await node.sessions.users.put(UserRecord("eve", "admin", old_cost))
    async with http_session(node) as http:
        root = await login(http, "root", "root-secret-1")

        async def new_password() -> None:
            changed = await http.put(
                "/api/v1/admin/users/eve",
                headers=root,
                json={"role": "admin", "password": "eve-new-secret-9"},
            )
            assert changed.status == 200

        response, _ = await held_login(node, http, new_password)
        assert response.status == 401
        bad = await http.post(
            "/api/v1/agents/login", json={"agent_id": "eve", "password": "eve-old-secret-1"}
        )
        assert bad.status == 401
        await login(http, "eve", "eve-new-secret-9")


async def test_an_unchanged_account_logs_in_and_upgrades_its_hash(node: Node) -> None:
    await node.sessions.users.put(UserRecord("eve", "admin", hash_password("eve-old-secret-1", 10)))
    async with http_session(node) as http:
        eve = await login(http, "eve", "eve-old-secret-1")
        assert (await http.get("/api/v1/audit?last=1", headers=eve)).status == 200
    stored = (await node.sessions.users.get("eve")).password_hash  # type: ignore[union-attr]
    assert verify_password("eve-old-secret-1", stored)
    assert not needs_rehash(stored, TEST_AUTH.scrypt_log2_n)
