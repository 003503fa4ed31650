"""`?token=` is for the clients that cannot send headers, a WebSocket and an event stream
(docs/security.md): on any other route a token in the URL would be kept in browser
history, Referer headers and proxies' logs, so there it counts as no token (401). On a
real node, Redis and HTTP."""

from __future__ import annotations

import asyncio

import aiohttp

from router.model import Agent, Role
from tests.nodes import http_session, login, running_node

USERS = [
    ("root", Role.ADMIN, "root-secret-1"),
    ("ana", Role.AGENT, "ana-secret-1"),
    ("sup", Role.SUPERVISOR, "sup-secret-1"),
]
ANA = Agent("ana", "default", {"booking": 4}, ["en"])


def raw(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def test_a_query_token_opens_only_websockets_and_event_streams(redis_url: str) -> None:
    async with (
        running_node(redis_url, users=USERS, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        root = await login(http, "root", "root-secret-1")
        audit = await http.get("/api/v1/audit", params={"last": "1", "token": raw(root)})
        assert audit.status == 401, await audit.text()
        put = await http.put(
            "/api/v1/admin/users/qq",
            params={"token": raw(root)},
            json={"role": "admin", "password": "qq-secret-pass-1"},
        )
        assert put.status == 401
        assert await node.sessions.users.get("qq") is None
        # The header still works there.
        assert (await http.get("/api/v1/audit?last=1", headers=root)).status == 200

        ana = await login(http, "ana", "ana-secret-1")
        socket = await http.ws_connect(f"/api/v1/agents/ana/events?token={raw(ana)}")
        await socket.close()

        sup = await login(http, "sup", "sup-secret-1")
        stream = await http.get(
            "/api/v1/wallboard/events", params={"every": "1", "token": raw(sup)}
        )
        assert stream.status == 200
        first = await asyncio.wait_for(stream.content.readline(), 5)
        assert first.startswith(b"event: snapshot")
        stream.close()


async def test_a_query_token_on_a_websocket_of_a_contact_still_works(redis_url: str) -> None:
    async with (
        running_node(redis_url, users=USERS, agents=[ANA]) as node,
        http_session(node) as http,
    ):
        sup = await login(http, "sup", "sup-secret-1")
        created = await http.post(
            "/api/v1/contacts",
            headers=sup,
            json={"channel": "chat", "queue": "booking", "language": "en"},
        )
        contact = (await created.json())["contact_id"]
        socket = await http.ws_connect(f"/api/v1/contacts/{contact}/events?token={raw(sup)}")
        await socket.close()
        read = await http.get(f"/api/v1/contacts/{contact}", params={"token": raw(sup)})
        assert read.status == 401
        try:
            await http.ws_connect(f"/api/v1/contacts/{contact}/events?token=nobodys")
        except aiohttp.WSServerHandshakeError as refused:
            assert refused.status == 401
        else:
            raise AssertionError("a made-up token opened the socket")
