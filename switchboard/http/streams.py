"""Long-lived answers (WebSockets, server-sent events) that end with the session.

A stream is opened for a principal or a customer; it closes when its client goes, when
the server stops, and, for staff, as soon as their session ends on any node (logout,
password or role change, removal: the `session_closed` event, close code 4001) or their
token expires. A stream of one contact's events also closes (code 4003) as soon as its
reader may no longer see them: it asks again (`still_allowed`) whenever an event may
have changed the reader's relationship with the contact, and at every periodic tick,
and passes on no event it has not asked about. A stream may also read what its client
sends (typing, read receipts) and send a periodic event of its own (a waiting
customer's position).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from router.access import Principal
from router.events import RESUMED
from router.sessions import token_id
from switchboard.http.base import SESSIONS, bearer_token, parse_json

log = logging.getLogger(__name__)

RECHECK_S = 30.0  # how often an open stream checks that its token is still valid
SESSION_ENDED = 4001  # WebSocket close code: the session ended
ACCESS_ENDED = 4003  # WebSocket close code: the reader may no longer see what it streams
MAX_CLIENT_MESSAGE = 4096
# The node's open WebSockets (those `pump` serves), closed at once when it stops.
OPEN_SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("open_sockets")
GOING_AWAY_WAIT_S = 1.0  # how long a stopping node waits for clients to answer its close

Event = dict[str, Any]
OnMessage = Callable[[Event], Awaitable[None]]
Periodic = Callable[[], Awaitable[Event | None]]
# Whether the reader may still see the stream, before an event is passed on (None: the
# periodic check); False closes it (ACCESS_ENDED) and the event is not sent.
StillAllowed = Callable[[Event | None], Awaitable[bool]]
# What the stream's reader may have missed while the node's event subscription was lost,
# as the events that would have told it (an agent's ringing offers), sent again.
Resync = Callable[[], Awaitable[list[Event]]]


def not_own_signal(reader: str) -> Callable[[Event], Event | None]:
    """Drop the reader's own typing and read receipts: they are for the other side."""

    def transform(event: Event) -> Event | None:
        if event.get("type") in ("typing", "read") and event.get("by") == reader:
            return None
        return event

    return transform


def ends_session(event: Event, principal: Principal | None, token: str) -> bool:
    """Whether `event` ends the session of this stream."""
    if principal is None or event.get("type") != "session_closed":
        return False
    if event.get("user_id", event.get("agent_id")) != principal.user_id:
        return False
    ended = event.get("token_ids") or []
    return not ended or token_id(token) in ended


async def pump(
    socket: web.WebSocketResponse,
    events: asyncio.Queue[Event],
    request: web.Request,
    principal: Principal | None,
    *,
    on_message: OnMessage | None = None,
    periodic: Periodic | None = None,
    every_s: float = 5.0,
    transform: Callable[[Event], Event | None] = lambda event: event,
    still_allowed: StillAllowed | None = None,
    resync: Resync | None = None,
) -> None:
    """Send events (through `transform`, which may drop one by answering None) until the
    client goes away or the session ends; hand the client's JSON messages to
    `on_message`; every `every_s` send what `periodic` answers, if anything. With
    `still_allowed`, each event is first asked about and so is every tick: once it
    answers False the stream closes with ACCESS_ENDED, that event unsent. When the node's
    subscription comes back after a loss (RESUMED), what `resync` answers is sent, then
    `ready` again: the client fetches what it missed, as after a reconnect."""
    token = bearer_token(request)
    loop = asyncio.get_running_loop()
    recheck_at = loop.time() + RECHECK_S
    next_tick = loop.time()
    ticking = periodic is not None or still_allowed is not None

    async def access_ended() -> None:
        await socket.close(code=ACCESS_ENDED, message=b"access ended")

    async def read_client() -> None:
        async for message in socket:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                return
            if message.type == WSMsgType.TEXT and on_message is not None:
                await _hand_over(message.data, on_message)

    reader = asyncio.create_task(read_client())
    open_sockets = request.app.get(OPEN_SOCKETS, set())
    open_sockets.add(socket)  # a stopping node closes it (close_open_sockets)
    try:
        # The subscription is in place: from now on no event is missed (clients may wait
        # for this before acting).
        if not await _send(socket, {"type": "ready"}):
            return
        while not socket.closed and not reader.done():
            if ticking and loop.time() >= next_tick:
                next_tick = loop.time() + every_s
                if still_allowed is not None and not await still_allowed(None):
                    await access_ended()
                    return
                tick = await periodic() if periodic is not None else None
                if tick is not None and not await _send(socket, tick):
                    return
            wait_s = max(next_tick - loop.time(), 0.01) if ticking else RECHECK_S
            getter = asyncio.create_task(events.get())
            done, _ = await asyncio.wait(
                {getter, reader}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
            else:
                event = getter.result()
                if event.get("type") == RESUMED:  # access and session are asked again at once
                    next_tick = recheck_at = loop.time()
                    if not await _resume(socket, resync):
                        return
                elif ends_session(event, principal, token):
                    await socket.close(code=SESSION_ENDED, message=b"session ended")
                    return
                elif still_allowed is not None and not await still_allowed(event):
                    await access_ended()
                    return
                elif (shown := transform(event)) is not None and not await _send(socket, shown):
                    return
            if principal is not None and loop.time() >= recheck_at:
                recheck_at = loop.time() + RECHECK_S
                if await request.app[SESSIONS].principal(token) is None:
                    await socket.close(code=SESSION_ENDED, message=b"session ended")
                    return
    finally:
        open_sockets.discard(socket)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        if not socket.closed:
            await socket.close(code=WSCloseCode.GOING_AWAY)


async def _resume(socket: web.WebSocketResponse, resync: Resync | None) -> bool:
    """Events were published while this node was not subscribed (a Redis outage): send
    again what `resync` reads, then `ready`, on which a page fetches what it missed."""
    missed: list[Event] = []
    if resync is not None:
        try:
            missed = await resync()
        except Exception as failure:  # Redis failing again: `ready` still asks the page
            log.warning("could not read again what a stream missed: %s", failure)
    for event in missed:
        if not await _send(socket, event):
            return False
    return await _send(socket, {"type": "ready", "resumed": True})


async def _send(socket: web.WebSocketResponse, event: Event) -> bool:
    try:
        await socket.send_json(event)
    except ConnectionResetError:  # the client went away mid-send
        return False
    return True


async def _hand_over(text: str, on_message: OnMessage) -> None:
    """A client's message, if it is a small JSON object; anything else is ignored (a
    client cannot break its own stream, nor anyone else's)."""
    if len(text) > MAX_CLIENT_MESSAGE:
        return
    try:
        data = parse_json(text)
    except ValueError:
        return
    if isinstance(data, dict):
        try:
            await on_message(data)
        except (PermissionError, LookupError, ValueError) as failure:  # refused: nothing ends
            log.info("client message refused: %s", failure)


async def close_open_sockets(app: web.Application) -> None:
    """The app's on_shutdown: close every open WebSocket at once with 1001 "going away",
    which tells a page to reconnect (to another node). Otherwise a stopping node waited
    for its clients to leave, past its heartbeat's TTL, and they saw the connection drop
    (1006). A client that does not answer the close within GOING_AWAY_WAIT_S is cut off."""
    closing = [
        asyncio.create_task(socket.close(code=WSCloseCode.GOING_AWAY, message=b"going away"))
        for socket in list(app.get(OPEN_SOCKETS, ()))
    ]
    if not closing:
        return
    _, late = await asyncio.wait(closing, timeout=GOING_AWAY_WAIT_S)
    for task in late:
        task.cancel()
    await asyncio.gather(*closing, return_exceptions=True)
