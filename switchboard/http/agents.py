"""Agents over HTTP: login and logout, state, who is there, and each agent's events."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.access import ACTING_STAFF, Principal
from router.agents import SignIn
from router.events import offer_event
from router.model import Presence
from switchboard.common.clock import iso_utc, now_ms
from switchboard.http.api import API, Auth
from switchboard.http.base import (
    AGENTS,
    CONTACTS,
    DESK,
    HUB,
    SESSIONS,
    bearer_token,
    client_address,
)
from switchboard.http.schemas import Login, StateChange
from switchboard.http.streams import not_own_signal, pump
from switchboard.http.views import agent_event_json, agent_json, contact_json


@API.route(
    "POST",
    "/api/v1/agents/login",
    "Log in (any role); an agent also gives its softphone and chat capacity. "
    "`expires_at`: when the token ends at the latest ([auth] token_ttl_s from now; an "
    "idle timeout, a logout or a password change ends it sooner)",
    body=Login,
    responses={200: "token, role, expires_at and (agents) the agent", 401: "", 429: ""},
)
async def login(request: web.Request, body: Login) -> web.Response:
    channels = body.channels.model_dump(exclude_none=True) if body.channels else None
    session = await request.app[AGENTS].sign_in(
        SignIn(
            body.agent_id,
            body.password,
            client_address(request),
            body.sip_uri or "",
            channels,
        )
    )
    ends = await request.app[SESSIONS].expires_at(session.token)
    answer: dict[str, object] = {
        "token": session.token,
        "role": session.principal.role.value,
        "expires_at": iso_utc(round(ends * 1000)) if ends else None,
    }
    if session.agent is not None:
        answer["agent"] = agent_json(session.agent)
    return web.json_response(answer)


@API.route(
    "POST",
    "/api/v1/agents/logout",
    "End this session (an agent with no other session goes offline)",
    auth=Auth.STAFF,
    responses={200: "the session ended", 401: ""},
)
async def logout(request: web.Request, principal: Principal) -> web.Response:
    await request.app[AGENTS].sign_out(bearer_token(request))
    return web.json_response({"user_id": principal.user_id, "logged_out": True})


@API.route(
    "PUT",
    "/api/v1/agents/{agent_id}/state",
    "Set an agent's state: its own, or (supervisors) one of their agents",
    auth=Auth.STAFF,
    roles=ACTING_STAFF,
    body=StateChange,
    responses={200: "the agent", 401: "", 403: "", 404: ""},
)
async def set_state(request: web.Request, principal: Principal, body: StateChange) -> web.Response:
    agent = await request.app[AGENTS].set_state(
        principal, request.match_info["agent_id"], Presence(body.state), body.reason
    )
    return web.json_response(agent_json(agent))


@API.route(
    "POST",
    "/api/v1/agents/{agent_id}/logout",
    "A supervisor signs an agent out: every session ends, the agent goes offline (audited)",
    auth=Auth.STAFF,
    responses={200: "the agent", 401: "", 403: "", 404: ""},
)
async def log_agent_out(request: web.Request, principal: Principal) -> web.Response:
    agent = await request.app[AGENTS].log_out(principal, request.match_info["agent_id"])
    return web.json_response(agent_json(agent))


@API.route(
    "GET",
    "/api/v1/agents",
    "The agents the caller may see, with state, load and skills",
    auth=Auth.STAFF,
    responses={200: "agents", 401: ""},
)
async def list_agents(request: web.Request, principal: Principal) -> web.Response:
    agents = await request.app[AGENTS].visible(principal)
    return web.json_response({"agents": [agent_json(agent) for agent in agents]})


@API.route(
    "GET",
    "/api/v1/agents/{agent_id}",
    "One agent",
    auth=Auth.STAFF,
    responses={200: "the agent", 401: "", 403: "", 404: ""},
)
async def get_agent(request: web.Request, principal: Principal) -> web.Response:
    agent = await request.app[AGENTS].get(principal, request.match_info["agent_id"])
    return web.json_response(agent_json(agent))


@API.route(
    "GET",
    "/api/v1/agents/{agent_id}/offers",
    "What rings at the agent now, each as its `offer` event with the ring time left: a "
    "desktop opened or reconnected while an offer rang shows it again",
    auth=Auth.STAFF,
    responses={200: "offers", 401: "", 403: "", 404: ""},
)
async def ringing_offers(request: web.Request, principal: Principal) -> web.Response:
    offers = await _offer_events(request, principal, request.match_info["agent_id"])
    return web.json_response({"offers": offers})


async def _offer_events(
    request: web.Request, principal: Principal, agent_id: str
) -> list[dict[str, Any]]:
    """What rings at the agent, as the `offer` events that announced it (ring time left):
    for a desktop that (re)connects, and sent again on an open desk socket when the
    node's event subscription comes back after a Redis outage."""
    ringing = await request.app[AGENTS].ringing(principal, agent_id)
    show_numbers, now = request.app[DESK].show_caller_number, now_ms()
    return [agent_event_json(offer_event(c, until, now), show_numbers) for c, until in ringing]


@API.route(
    "GET",
    "/api/v1/agents/{agent_id}/contacts",
    "What the agent holds now (`contacts`: offered to them, connected, on hold) and the "
    "finished contacts whose wrap-up they still owe (`wrap_ups`: the contact, its queue's "
    "`codes` and whether one is `code_required`): a desk signed in again shows them. "
    "The agent sees all; their supervisors and admins those of their scope (audited)",
    auth=Auth.STAFF,
    responses={200: "contacts and wrap_ups", 401: "", 403: "", 404: ""},
)
async def agent_contacts(request: web.Request, principal: Principal) -> web.Response:
    found = await request.app[AGENTS].contacts(principal, request.match_info["agent_id"])
    show_numbers = request.app[DESK].show_caller_number
    return web.json_response(
        {
            "contacts": [contact_json(c, show_numbers=show_numbers) for c in found.held],
            "wrap_ups": [
                {
                    "contact": contact_json(owed.contact, show_numbers=show_numbers),
                    "codes": list(owed.codes),
                    "code_required": owed.code_required,
                }
                for owed in found.wrap_ups
            ],
        }
    )


@API.route(
    "GET",
    "/api/v1/agents/{agent_id}/sip-account",
    "Your own softphone's SIP account: server (host:port), transport (and every one the "
    "node takes: transports), user, domain, password, and the URI calls reach it at",
    auth=Auth.STAFF,
    responses={200: "the account", 401: "", 403: "", 409: "no SIP registrar on this node"},
)
async def sip_account(request: web.Request, principal: Principal) -> web.Response:
    account = await request.app[AGENTS].sip_account(principal, request.match_info["agent_id"])
    return web.json_response(account, headers={"Cache-Control": "no-store"})


@API.route(
    "GET",
    "/api/v1/agents/{agent_id}/events",
    "WebSocket of the agent's own events: offer, offer_revoked, message, state, "
    "contact_closed, hold (a call of theirs goes on or off hold: on_hold_since), "
    "recording (its recording paused or resumed: paused_since, paused_by, ended), "
    "contact_requeued (a chat of theirs went back to its queue when they went offline, "
    "or a callback they took waits for its next attempt: its customer did not pick up); "
    "closed (4001) when the session ends. After a Redis outage the ringing offers come "
    "again (ring time left), then `ready`",
    auth=Auth.STAFF,
    websocket=True,
    responses={101: "switching to WebSocket", 401: "", 403: ""},
)
async def agent_events(request: web.Request, principal: Principal) -> web.WebSocketResponse:
    agent = await request.app[AGENTS].events(principal, request.match_info["agent_id"])
    contacts, show_numbers = request.app[CONTACTS], request.app[DESK].show_caller_number

    async def on_message(data: dict[str, Any]) -> None:
        """`{"type": "typing"|"read", "contact_id": ..., "message_id"?: ...}`"""
        await contacts.signal(
            principal,
            str(data.get("contact_id", "")),
            str(data.get("type", "")),
            str(data.get("message_id", "")),
        )

    own = not_own_signal(principal.user_id)

    def shown(event: dict[str, Any]) -> dict[str, Any] | None:
        mine = own(event)
        return None if mine is None else agent_event_json(mine, show_numbers)

    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)

    async def offers() -> list[dict[str, Any]]:
        return await _offer_events(request, principal, agent.agent_id)

    try:
        async with request.app[HUB].listen(agent_id=agent.agent_id, user_id=principal.user_id) as q:
            await pump(
                socket,
                q,
                request,
                principal,
                on_message=on_message,
                transform=shown,
                resync=offers,
            )
    finally:
        await request.app[AGENTS].desk_closed(agent.agent_id)
    return socket
