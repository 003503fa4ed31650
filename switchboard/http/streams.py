"""Long-lived answers (WebSockets, server-sent events) that end with the session.

A stream is opened for a principal or a customer; it closes when its client goes, when
the server stops, and, for staff, as soon as their session ends on any node (logout,
password or role change, removal: the `session_closed` event) or their token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from router.access import Principal
from router.sessions import token_id
from switchboard.http.base import SESSIONS, bearer_token

RECHECK_S = 30.0  # how often an open stream checks that its token is still valid
SESSION_ENDED = 4001  # WebSocket close code: the session ended


def ends_session(event: dict[str, Any], principal: Principal | None, token: str) -> bool:
    """Whether `event` ends the session of this stream."""
    if principal is None or event.get("type") != "session_closed":
        return False
    if event.get("user_id", event.get("agent_id")) != principal.user_id:
        return False
    ended = event.get("token_ids") or []
    return not ended or token_id(token) in ended


async def pump(
    socket: web.WebSocketResponse,
    events: asyncio.Queue[dict[str, Any]],
    request: web.Request,
    principal: Principal | None,
) -> None:
    """Send events until the client goes away or the session ends; client messages are
    ignored (pings)."""
    token = bearer_token(request)
    loop = asyncio.get_running_loop()
    recheck_at = loop.time() + RECHECK_S

    async def drain_client() -> None:
        async for message in socket:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                return

    reader = asyncio.create_task(drain_client())
    try:
        while not socket.closed and not reader.done():
            getter = asyncio.create_task(events.get())
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=RECHECK_S, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
            else:
                event = getter.result()
                if ends_session(event, principal, token):
                    await socket.close(code=SESSION_ENDED, message=b"session ended")
                    return
                try:
                    await socket.send_json(event)
                except ConnectionResetError:  # the client went away mid-send
                    return
            if principal is not None and loop.time() >= recheck_at:
                recheck_at = loop.time() + RECHECK_S
                if await request.app[SESSIONS].principal(token) is None:
                    await socket.close(code=SESSION_ENDED, message=b"session ended")
                    return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        if not socket.closed:
            await socket.close(code=WSCloseCode.GOING_AWAY)
