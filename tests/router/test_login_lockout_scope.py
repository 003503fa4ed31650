"""Whom failed logins slow down (router/sessions.py, `_check_throttle`): an account from
the address that failed, not the account everywhere, so that whoever knows a user name
cannot lock that user out of their own desk; and an address across accounts, so that one
address cannot try a password on many accounts. A real node on the real Redis, behind a
trusted proxy (loopback) so that each request names its client in X-Forwarded-For."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import AsyncIterator

import aiohttp
import pytest

from router.model import Role
from tests.nodes import TEST_AUTH, http_session, running_node

ATTACKER, ANA_DESK, OTHER = "198.51.100.66", "203.0.113.10", "203.0.113.20"
USERS = [(f"u{n}", Role.SUPERVISOR, f"u{n}-secret-1") for n in range(8)]
# Three failures for an account from an address, or six from an address, refuse it for
# a minute: longer than the test.
QUICK = dataclasses.replace(TEST_AUTH, max_failures=3, address_max_failures=6, lockout_base_s=60.0)


@pytest.fixture
async def http(redis_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with (
        running_node(
            redis_url,
            users=[("ana", Role.SUPERVISOR, "ana-secret-1"), *USERS],
            auth=QUICK,
            trusted_proxies=(ipaddress.ip_network("127.0.0.1"),),
        ) as node,
        http_session(node) as session,
    ):
        yield session


async def _login(http: aiohttp.ClientSession, user: str, password: str, client: str) -> int:
    answer = await http.post(
        "/api/v1/agents/login",
        json={"agent_id": user, "password": password},
        headers={"X-Forwarded-For": client},
    )
    return answer.status


async def test_failures_for_a_user_name_slow_their_address_not_the_user(
    http: aiohttp.ClientSession,
) -> None:
    codes = [await _login(http, "ana", "guess", ATTACKER) for _ in range(3)]
    assert codes == [401, 401, 401]
    # The guesser waits, even with the right password...
    assert await _login(http, "ana", "ana-secret-1", ATTACKER) == 429
    # ...while ana signs in from her desk, and the guesser's address may still sign in
    # to another account (one mistyped name is no spray).
    assert await _login(http, "ana", "ana-secret-1", ANA_DESK) == 200
    assert await _login(http, "u0", "u0-secret-1", ATTACKER) == 200


async def test_a_right_password_forgives_that_address_its_failures_for_the_account(
    http: aiohttp.ClientSession,
) -> None:
    assert [await _login(http, "ana", "typo", ANA_DESK) for _ in range(2)] == [401, 401]
    assert await _login(http, "ana", "ana-secret-1", ANA_DESK) == 200
    assert [await _login(http, "ana", "typo", ANA_DESK) for _ in range(2)] == [401, 401]
    assert await _login(http, "ana", "ana-secret-1", ANA_DESK) == 200


async def test_one_address_trying_many_accounts_is_slowed_for_all_of_them(
    http: aiohttp.ClientSession,
) -> None:
    # Two guesses at each of three accounts: no account reaches its three, the address
    # reaches its six.
    for user in ("u1", "u2", "u3"):
        assert [await _login(http, user, "Winter2026!", ATTACKER) for _ in range(2)] == [401, 401]
    assert await _login(http, "u4", "u4-secret-1", ATTACKER) == 429
    assert await _login(http, "u1", "u1-secret-1", ATTACKER) == 429
    # Elsewhere those users and the rest sign in as ever.
    assert await _login(http, "u1", "u1-secret-1", OTHER) == 200
    assert await _login(http, "u4", "u4-secret-1", OTHER) == 200
