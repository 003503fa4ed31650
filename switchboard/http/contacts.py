"""HTTP and WebSocket API of the routing core: agents, chat contacts, queues, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import WSMsgType, web

from router.auth import Principal
from router.chat import ChatLog
from router.events import EventHub
from router.model import Agent, Channel, Contact, NewContact, Presence, Role
from router.reports.privacy import AuditLog
from router.service import QueueStatus, Router
from router.store import now_ms
from switchboard.http.base import (
    USERS,
    BadField,
    error,
    field,
    forbidden,
    json_body,
    not_found,
    principal_of,
    require_principal,
)

log = logging.getLogger(__name__)

ROUTER = web.AppKey("router", Router)
# Chooses the region of a new chat: (queue, language, requested home) -> placement.
Placer = Callable[[str, str, str | None], Awaitable[Any]]
PLACEMENT: web.AppKey[Placer] = web.AppKey("placement")
HUB = web.AppKey("hub", EventHub)
CHAT = web.AppKey("chat", ChatLog)

routes = web.RouteTableDef()


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "region": agent.region,
        "state": agent.state(now_ms()).value,
        "presence": agent.presence.value,
        "reason": agent.reason,
        "skills": agent.skills,
        "languages": agent.languages,
        "capacity": agent.capacity,
        "load": agent.load,
        "sip_uri": agent.sip_uri,
        "node": agent.node,
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "channel": contact.channel.value,
        "state": contact.state.value,
        "outcome": contact.outcome or None,
        "reason": contact.reason or None,
        "agent_id": contact.agent_id or None,
        "region": contact.region,
        "queue": contact.queue,
        "language": contact.language,
        "priority": contact.priority,
        "customer": {"id": contact.customer_id, "tier": contact.customer_tier},
        "placement": contact.placement or None,
        "explanation": contact.explanation,
        "timestamps": {
            key: dt.datetime.fromtimestamp(value / 1000, dt.UTC).isoformat()
            for key, value in contact.timestamps.items()
        },
    }


def figures_json(status: QueueStatus) -> dict[str, Any]:
    def block(figures: Any) -> dict[str, Any]:
        return {
            "offered": figures.offered,
            "answered": figures.answered,
            "abandoned": figures.abandoned,
            "service_level": figures.service_level,
            "service_level_with_abandons": figures.service_level_with_abandons,
            "abandonment_rate": figures.abandonment_rate,
            "average_speed_of_answer_s": figures.average_speed_of_answer_s,
            "average_handle_time_s": figures.average_handle_time_s,
        }

    return {
        "queue": status.name,
        "waiting": status.waiting,
        "longest_wait_s": round(status.longest_wait_s, 1),
        "ewt_s": round(status.ewt_s, 1),
        "serving_agents": status.serving_agents,
        "occupancy": status.occupancy,
        "service_level_target": status.service_level_target,
        "answer_within_s": status.answer_within_s,
        "today": block(status.today),
        "last_30_min": block(status.last_30_min),
    }


def day_start_ms() -> int:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(today.timestamp() * 1000)


async def _audit(request: web.Request, principal: Principal, action: str, contact_id: str) -> None:
    """Staff reading a customer's contact or transcript leaves a trace (privacy)."""
    store = request.app[ROUTER].store
    await AuditLog(store.client, store.prefix).append(
        principal.user_id, action, contact_id=contact_id
    )


# -- agents -------------------------------------------------------------------------


@routes.post("/api/v1/agents/login")
async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    agent_id = field(body, "agent_id", str)
    password = field(body, "password", str)
    sip_uri = field(body, "sip_uri", str, required=False, default="")
    channels = field(body, "channels", dict, required=False, default={})
    for name, count in channels.items():
        if name not in ("voice", "chat"):
            raise BadField(f"$.channels.{name}", "voice or chat", name)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 10:
            raise BadField(f"$.channels.{name}", "an integer from 0 to 10", count)
    if sip_uri and not sip_uri.startswith(("sip:", "sips:")):
        raise BadField("$.sip_uri", "a SIP URI like sip:1001@127.0.0.1:5070", sip_uri)
    principal = await request.app[USERS].authenticate(agent_id, password)
    if principal is None:
        return error(401, "unauthorized", "unknown user or wrong password")
    token = await request.app[USERS].issue_token(principal)
    response: dict[str, Any] = {"token": token, "role": principal.role.value}
    if principal.role == Role.AGENT or sip_uri or channels:
        agent = await request.app[ROUTER].get_agent(agent_id)
        agent = await request.app[ROUTER].login(agent_id, sip_uri, channels)
        response["agent"] = agent_json(agent)
    return web.json_response(response)


@routes.put("/api/v1/agents/{agent_id}/state")
async def set_state(request: web.Request) -> web.Response:
    principal = await require_principal(request)
    agent_id = request.match_info["agent_id"]
    if not principal.may_act_for(agent_id):
        raise forbidden("an agent may change only its own state")
    body = await json_body(request)
    state = field(body, "state", str, choices=tuple(p.value for p in Presence))
    reason = field(body, "reason", str, required=False, default="")
    router = request.app[ROUTER]
    await router.get_agent(agent_id)
    agent = await router.set_presence(agent_id, Presence(state), reason)
    return web.json_response(agent_json(agent))


@routes.get("/api/v1/agents")
async def list_agents(request: web.Request) -> web.Response:
    principal = await require_principal(request)
    agents = await request.app[ROUTER].list_agents()
    if not principal.may_read_all:
        agents = [agent for agent in agents if agent.agent_id == principal.user_id]
    return web.json_response({"agents": [agent_json(agent) for agent in agents]})


@routes.get("/api/v1/agents/{agent_id}")
async def get_agent(request: web.Request) -> web.Response:
    principal = await require_principal(request)
    agent_id = request.match_info["agent_id"]
    if not (principal.may_read_all or principal.user_id == agent_id):
        raise forbidden("agents see only themselves")
    return web.json_response(agent_json(await request.app[ROUTER].get_agent(agent_id)))


@routes.get("/api/v1/agents/{agent_id}/events")
async def agent_events(request: web.Request) -> web.WebSocketResponse:
    principal = await require_principal(request)
    agent_id = request.match_info["agent_id"]
    if not principal.may_act_for(agent_id):
        raise forbidden("an agent may listen only to its own events")
    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)
    async with request.app[HUB].listen(agent_id=agent_id) as events:
        await _pump(socket, events, request)
    return socket


async def _pump(
    socket: web.WebSocketResponse, events: asyncio.Queue[dict[str, Any]], request: web.Request
) -> None:
    """Send events until the client goes away; client messages are ignored (pings)."""

    async def drain_client() -> None:
        async for message in socket:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                return

    reader = asyncio.create_task(drain_client())
    try:
        while not socket.closed and not reader.done():
            getter = asyncio.create_task(events.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await socket.send_json(getter.result())
            else:
                getter.cancel()
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


# -- contacts -----------------------------------------------------------------------


@routes.post("/api/v1/contacts")
async def create_contact(request: web.Request) -> web.Response:
    """A customer starts a chat; no account needed, a customer token comes back."""
    body = await json_body(request)
    router = request.app[ROUTER]
    field(body, "channel", str, choices=("chat",))
    queue = field(body, "queue", str)
    if queue not in router.queues:
        raise BadField("$.queue", f"one of {', '.join(router.queues)}", queue)
    language = field(body, "language", str)
    customer = field(body, "customer", dict)
    customer_id = field(customer, "id", str, path="$.customer")
    tier = field(customer, "tier", str, path="$.customer", required=False, default="standard")
    region = field(body, "region", str, required=False)
    priority = field(body, "priority", int, required=False, default=0)
    if not 0 <= priority <= 9:
        raise BadField("$.priority", "an integer from 0 to 9", priority)
    placer = request.app.get(PLACEMENT)
    placement, open_regions = "", False
    if placer is not None:
        decision = await placer(queue, language, region)
        region, placement, open_regions = decision.region, decision.reason, decision.open_regions
    new = NewContact(
        channel=Channel.CHAT,
        queue=queue,
        language=language,
        customer_id=customer_id,
        customer_tier=tier,
        priority=priority,
        region=region,
        placement=placement,
        open_regions=open_regions,
    )
    contact = await router.create_contact(new)
    customer_token = secrets.token_urlsafe(24)
    await router.store.set_contact_fields(contact.contact_id, customer_token=customer_token)
    return web.json_response(
        {
            "contact_id": contact.contact_id,
            "customer_token": customer_token,
            **contact_json(contact),
        },
        status=201,
    )


async def _reader(request: web.Request, contact_id: str) -> tuple[Principal | None, bool]:
    """Who reads a contact: staff with a bearer token, or the customer with their token."""
    principal = await principal_of(request)
    if principal is not None:
        return principal, False
    token = request.query.get("customer_token") or request.headers.get("X-Customer-Token", "")
    stored = await request.app[ROUTER].store.client.hget(
        f"{request.app[ROUTER].store.tag}contact:{contact_id}", "customer_token"
    )
    if token and stored and secrets.compare_digest(token, stored):
        return None, True
    raise web.HTTPUnauthorized(
        text='{"error": "unauthorized", "message": "a bearer or customer token is required"}',
        content_type="application/json",
    )


@routes.get("/api/v1/contacts/{contact_id}")
async def get_contact(request: web.Request) -> web.Response:
    contact_id = request.match_info["contact_id"]
    contact = await request.app[ROUTER].get_contact(contact_id)
    principal, _ = await _reader(request, contact_id)
    if principal and not (principal.may_read_all or principal.user_id == contact.agent_id):
        raise forbidden("agents read only their own contacts")
    if principal is not None:
        await _audit(request, principal, "contact.read", contact_id)
    return web.json_response(contact_json(contact))


async def _agent_action(request: web.Request) -> tuple[Router, Contact, str]:
    principal = await require_principal(request)
    router = request.app[ROUTER]
    contact = await router.get_contact(request.match_info["contact_id"])
    if not contact.agent_id or not principal.may_act_for(contact.agent_id):
        raise forbidden("only the agent the contact is offered to may do that")
    return router, contact, contact.agent_id


@routes.post("/api/v1/contacts/{contact_id}/accept")
async def accept(request: web.Request) -> web.Response:
    router, contact, agent_id = await _agent_action(request)
    return web.json_response(contact_json(await router.accept(contact.contact_id, agent_id)))


@routes.post("/api/v1/contacts/{contact_id}/decline")
async def decline(request: web.Request) -> web.Response:
    router, contact, agent_id = await _agent_action(request)
    return web.json_response(
        contact_json(await router.decline(contact.contact_id, agent_id, "declined"))
    )


@routes.post("/api/v1/contacts/{contact_id}/complete")
async def complete(request: web.Request) -> web.Response:
    router, contact, agent_id = await _agent_action(request)
    return web.json_response(contact_json(await router.complete(contact.contact_id, agent_id)))


@routes.post("/api/v1/contacts/{contact_id}/abandon")
async def abandon(request: web.Request) -> web.Response:
    """The customer closes the chat before (or while) being served."""
    contact_id = request.match_info["contact_id"]
    router = request.app[ROUTER]
    await router.get_contact(contact_id)
    await _reader(request, contact_id)
    return web.json_response(contact_json(await router.abandon(contact_id, "customer_left")))


@routes.post("/api/v1/contacts/{contact_id}/messages")
async def post_message(request: web.Request) -> web.Response:
    contact_id = request.match_info["contact_id"]
    router = request.app[ROUTER]
    contact = await router.get_contact(contact_id)
    principal, is_customer = await _reader(request, contact_id)
    body = await json_body(request)
    text = field(body, "text", str)
    if not text.strip() or len(text) > 4000:
        raise BadField("$.text", "1 to 4000 characters", len(text))
    if contact.is_terminal or contact.state.value != "connected":
        return error(
            409, "conflict", f"contact {contact_id} is {contact.state.value}, not connected"
        )
    if principal is not None and principal.user_id != contact.agent_id:
        raise forbidden("only the connected agent may write in this chat")
    agent = await router.get_agent(contact.agent_id) if contact.agent_id else None
    sender = "customer" if is_customer else contact.agent_id
    message = await request.app[CHAT].post(contact, agent, sender, text)
    event = {"type": "message", "agent_id": contact.agent_id, **asdict(message)}
    await request.app[HUB].publish(event)
    return web.json_response(asdict(message), status=201)


@routes.get("/api/v1/contacts/{contact_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    contact_id = request.match_info["contact_id"]
    await request.app[ROUTER].get_contact(contact_id)
    principal, _ = await _reader(request, contact_id)
    if principal is not None:
        await _audit(request, principal, "chat.read", contact_id)
    messages = await request.app[CHAT].messages(contact_id)
    return web.json_response({"messages": [asdict(m) for m in messages]})


@routes.get("/api/v1/contacts/{contact_id}/events")
async def contact_events(request: web.Request) -> web.WebSocketResponse:
    """The customer's side of a chat: messages and the contact's end."""
    contact_id = request.match_info["contact_id"]
    await request.app[ROUTER].get_contact(contact_id)
    await _reader(request, contact_id)
    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)
    async with request.app[HUB].listen(contact_id=contact_id) as events:
        await _pump(socket, events, request)
    return socket


# -- queues -------------------------------------------------------------------------


@routes.get("/api/v1/queues")
async def list_queues(request: web.Request) -> web.Response:
    router = request.app[ROUTER]
    start = day_start_ms()
    statuses = await router.queue_statuses(start)
    return web.json_response({"queues": [figures_json(status) for status in statuses]})


@routes.get("/api/v1/queues/{queue}")
async def get_queue(request: web.Request) -> web.Response:
    router = request.app[ROUTER]
    name = request.match_info["queue"]
    if name not in router.queues:
        raise not_found(f"no queue {name}")
    return web.json_response(figures_json(await router.queue_status(name, day_start_ms())))
