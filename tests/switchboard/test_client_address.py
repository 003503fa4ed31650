"""Whose address a per-client decision counts against: the TCP peer, or behind a proxy of
`[http] trusted_proxies` the client it forwarded for (login throttling, the public
request budget)."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

import pytest

from router.desk import DeskConfig
from router.model import Agent, Role
from switchboard.common.errors import ConfigError
from switchboard.http.base import forwarded_client, forwarded_hops
from switchboard.settings import load_settings
from tests.nodes import TEST_AUTH, http_session, running_node

LOCALHOST = (ipaddress.ip_network("127.0.0.1"),)
PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
USERS = [("ana", Role.AGENT, "ana-secret-1"), ("bob", Role.AGENT, "bob-secret-1")]
AGENTS = [
    Agent("ana", "default", {"booking": 3}, ["en"]),
    Agent("bob", "default", {"booking": 3}, ["en"]),
]
# Three failures lock a user out from an address for a minute: longer than the test.
QUICK = dataclasses.replace(TEST_AUTH, max_failures=3, lockout_base_s=60.0)


def test_without_a_trusted_peer_x_forwarded_for_is_ignored() -> None:
    assert forwarded_client("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9"
    assert forwarded_client("203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"
    assert forwarded_client("", ["198.51.100.1"], PROXIES) == ""


def test_behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() -> None:
    assert forwarded_client("10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    # What the client wrote itself (left of what the proxies added) is not believed.
    spoofed = ["1.2.3.4, 198.51.100.1, 10.0.0.7"]
    assert forwarded_client("10.0.0.2", spoofed, PROXIES) == "198.51.100.1"
    # Several headers are one list, in order; ports and IPv6 brackets are dropped.
    assert forwarded_client("10.0.0.2", ["1.2.3.4", "198.51.100.1:4711"], PROXIES) == (
        "198.51.100.1"
    )
    assert forwarded_client("2001:db8::5", ["[2001:db9::1]:443"], PROXIES) == "2001:db9::1"
    assert forwarded_client("::ffff:10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_a_proxy_forwarding_nothing_usable_is_the_client() -> None:
    assert forwarded_client("10.0.0.2", [], PROXIES) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", ["10.0.0.9"], PROXIES) == "10.0.0.9"
    # A hop that is no address stops the walk at the trusted proxy that passed it on.
    assert forwarded_client("10.0.0.2", ["198.51.100.1, unknown"], PROXIES) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", ["198.51.100.1, unknown, 10.0.0.3"], PROXIES) == (
        "10.0.0.3"
    )


FILE = """
[node]
id = "n1"
region = "eu"

[http]
{http}

[[regions]]
name = "eu"

[[queues]]
name = "booking"
"""


def test_trusted_proxies_are_read_from_http(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(FILE.format(http='trusted_proxies = ["10.0.0.0/8", "192.0.2.7", "::1"]'))
    assert load_settings(path).trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("::1/128"),
    )
    path.write_text(FILE.format(http=""))
    assert load_settings(path).trusted_proxies == ()


def test_a_trusted_proxy_that_is_no_network_is_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(FILE.format(http='trusted_proxies = ["10.0.0.1/8", "lb.example"]'))
    with pytest.raises(ConfigError) as failure:
        load_settings(path)
    message = str(failure.value)
    assert "http.trusted_proxies" in message
    assert "'10.0.0.1/8'" in message and "'lb.example'" in message
    path.write_text(FILE.format(http='trusted_proxies = "10.0.0.0/8"'))
    with pytest.raises(ConfigError, match=r"http\.trusted_proxies: expected a list of strings"):
        load_settings(path)


async def _login(http, user: str, password: str, client: str) -> int:
    answer = await http.post(
        "/api/v1/agents/login",
        json={"agent_id": user, "password": password},
        headers={"X-Forwarded-For": client},
    )
    return answer.status


async def test_without_a_trusted_proxy_a_forwarded_address_does_not_escape_a_lockout(
    redis_url: str,
) -> None:
    async with (
        running_node(redis_url, users=USERS, agents=AGENTS, auth=QUICK) as node,
        http_session(node) as http,
    ):
        codes = [await _login(http, "ana", "wrong-password", "198.51.100.1") for _ in range(3)]
        assert codes == [401, 401, 401]
        # The same user from "another client": the same peer, so the same locked address.
        assert await _login(http, "ana", "ana-secret-1", "198.51.100.2") == 429


async def test_behind_a_trusted_proxy_each_forwarded_client_is_throttled_apart(
    redis_url: str,
) -> None:
    tight = DeskConfig(public_requests_per_minute=2)
    async with (
        running_node(
            redis_url,
            users=USERS,
            agents=AGENTS,
            auth=QUICK,
            desk=tight,
            trusted_proxies=LOCALHOST,
        ) as node,
        http_session(node) as http,
    ):
        codes = [await _login(http, "ana", "wrong-password", "198.51.100.1") for _ in range(3)]
        assert codes == [401, 401, 401]
        assert await _login(http, "bob", "bob-secret-1", "198.51.100.2") == 200
        # The first client's address is locked for ana, and a forged hop left of what the
        # proxy added does not get it out.
        assert await _login(http, "ana", "ana-secret-1", "198.51.100.1") == 429
        assert await _login(http, "ana", "ana-secret-1", "198.51.100.7, 198.51.100.1") == 429

        async def public(client: str) -> int:
            answer = await http.get("/api/v1/chat/options", headers={"X-Forwarded-For": client})
            return answer.status

        assert [await public("198.51.100.3") for _ in range(3)] == [200, 200, 429]
        assert [await public("198.51.100.4") for _ in range(2)] == [200, 200]


def test_rfc_7239_forwarded_names_the_hops() -> None:
    hops = forwarded_hops(['for=198.51.100.1;proto=https, For="[2001:db9::1]:4711"'])
    assert hops == ["198.51.100.1", "[2001:db9::1]:4711"]
    assert forwarded_client("10.0.0.2", hops, PROXIES) == "2001:db9::1"
    assert forwarded_client("10.0.0.2", forwarded_hops(["for=198.51.100.1"]), PROXIES) == (
        "198.51.100.1"
    )
    # an obfuscated node or an element without for= ends the walk at the proxy
    hidden = forwarded_hops(["for=198.51.100.1, for=_hidden"])
    assert forwarded_client("10.0.0.2", hidden, PROXIES) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", forwarded_hops(["proto=https"]), PROXIES) == "10.0.0.2"
