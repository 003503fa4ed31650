"""The customers' public endpoints on a running node: only a valid staff bearer token
takes a request out of the public budget (an `Authorization` header of another scheme,
or a token nobody holds, counts like none), and a burst of public requests, however
large, leaves the node able to serve its staff."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets

import aiohttp

from router.desk import DeskConfig
from router.model import Agent, Role
from tests.nodes import login, running_node

USERS = [("ana", Role.AGENT, "ana-secret-1"), ("adm", Role.ADMIN, "adm-secret-1")]
AGENTS = [Agent("ana", "default", {"booking": 4}, ["en"])]
# Each kind of request comes from a client of its own (X-Forwarded-For of a trusted
# proxy, the test), so that each has a budget of its own.
LOCALHOST = (ipaddress.ip_network("127.0.0.0/8"),)
TIGHT = DeskConfig(public_requests_per_minute=5)
CHAT = {"channel": "chat", "queue": "booking", "language": "en"}
NOT_CREDENTIALS = {
    "198.51.100.1": "x",
    "198.51.100.2": "Basic Zm9vOmJhcg==",
    "198.51.100.3": "Bearer made-up-token",
    "198.51.100.4": "bearer made-up-token",
}


async def statuses(http: aiohttp.ClientSession, method: str, path: str, n: int, **kw) -> list[int]:
    codes = []
    for _ in range(n):
        async with http.request(method, path, **kw) as answer:
            codes.append(answer.status)
    return codes


async def test_an_authorization_that_is_no_valid_token_is_counted(redis_url: str) -> None:
    async with (
        running_node(
            redis_url, users=USERS, agents=AGENTS, desk=TIGHT, trusted_proxies=LOCALHOST
        ) as node,
        aiohttp.ClientSession(f"http://127.0.0.1:{node.http_port}") as http,
    ):
        for client, authorization in NOT_CREDENTIALS.items():
            headers = {"Authorization": authorization, "X-Forwarded-For": client}
            codes = await statuses(http, "GET", "/api/v1/chat/options", 8, headers=headers)
            assert codes.count(429) >= 2 and set(codes) <= {200, 429}, (authorization, codes)
        # Anonymous chats: a made-up Authorization header does not flood the queues.
        headers = {"Authorization": "Basic Zm9vOmJhcg==", "X-Forwarded-For": "198.51.100.5"}
        codes = await statuses(http, "POST", "/api/v1/contacts", 8, json=CHAT, headers=headers)
        assert codes.count(429) >= 2 and set(codes) <= {201, 429}, codes
        # Nor does it let anyone guess customer tokens without limit.
        created = await (await http.post("/api/v1/contacts", json=CHAT)).json()
        path = f"/api/v1/contacts/{created['contact_id']}"
        headers = {"Authorization": "x", "X-Forwarded-For": "198.51.100.6"}
        params = {"customer_token": "guess"}
        codes = await statuses(http, "GET", path, 8, headers=headers, params=params)
        assert codes.count(429) >= 2 and set(codes) <= {401, 429}, codes

        # Staff with a valid token are not counted, from an address whose budget is spent.
        staff = {**await login(http, "adm", "adm-secret-1"), "X-Forwarded-For": "198.51.100.1"}
        assert await statuses(http, "GET", path, 8, headers=staff) == [200] * 8
        assert await statuses(http, "POST", "/api/v1/contacts", 6, json=CHAT, headers=staff) == (
            [201] * 6
        )
        # The same token in the query of a socket route (a browser's WebSocket) counts
        # too: the handshake fails here (no upgrade asked), never for want of budget.
        token = staff["Authorization"].removeprefix("Bearer ")
        query, spent = {"token": token}, {"X-Forwarded-For": "198.51.100.1"}
        codes = await statuses(http, "GET", f"{path}/events", 6, params=query, headers=spent)
        assert 429 not in codes and 401 not in codes, codes
        # Elsewhere a token in the URL is none (it would stay in logs and history): the
        # request is anyone's, and that address's budget is spent.
        codes = await statuses(http, "GET", path, 4, params=query, headers=spent)
        assert 429 in codes and set(codes) <= {401, 429}, codes


async def test_staff_are_served_during_a_burst_of_public_requests(redis_url: str) -> None:
    """Far more public requests at once than the node has Redis connections, with a
    made-up Authorization header, while an agent reads their own record: the agent is
    always answered; a public request is answered or told to come back (503 with
    Retry-After), never failed."""
    roomy = DeskConfig(public_requests_per_minute=1_000_000)
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        running_node(redis_url, users=USERS, agents=AGENTS, desk=roomy) as node,
        aiohttp.ClientSession(f"http://127.0.0.1:{node.http_port}", connector=connector) as http,
    ):
        agent = await login(http, "ana", "ana-secret-1")

        async def public() -> tuple[int, str | None]:
            path = f"/api/v1/contacts/{secrets.token_hex(16)}"
            params = {"customer_token": "guess"}
            async with http.get(path, params=params, headers={"Authorization": "x"}) as answer:
                return answer.status, answer.headers.get("Retry-After")

        async def staff() -> int:
            await asyncio.sleep(0)
            async with http.get("/api/v1/agents/ana", headers=agent) as answer:
                return answer.status

        for _ in range(2):
            answers, agents = await asyncio.gather(
                asyncio.gather(*(public() for _ in range(300))),
                asyncio.gather(*(staff() for _ in range(20))),
            )
            assert agents == [200] * 20, agents
            assert {status for status, _ in answers} <= {401, 503}, answers
            assert all(after for status, after in answers if status == 503)
