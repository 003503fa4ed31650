"""Contacts over HTTP: customers start and follow chats, agents and supervisors act on them."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from router import access
from router.access import CUSTOMERS_ONLY, Act, Actor, Customer, Principal, roles_that_may
from router.contacts import WINDOW_LIFE_S, ChatRequest, CustomerClaims
from router.errors import Unauthenticated
from router.model import Contact
from switchboard.common.clock import now_ms
from switchboard.http.api import API, Auth, optional_principal
from switchboard.http.base import CONTACTS, DESK, HUB, bearer_token, spawn
from switchboard.http.schemas import ChatCustomer, Move, NewChat, NewMessage, Rating
from switchboard.http.streams import not_own_signal, pump
from switchboard.http.views import contact_json, message_json

_PARTY = {401: "neither a bearer token nor this contact's customer token", 403: ""}
# The customer's requests keep their chat (`Contacts.customer`, docs/desktop.md).
_KEEPS = (
    ". With the customer token it counts as the customer being there: a client without "
    "the events WebSocket must make such a request at least every [chat] abandon_grace_s "
    "(60 s by default), or the chat ends as customer_left"
)


@API.route(
    "POST",
    "/api/v1/contacts",
    "A customer starts a chat; answers the contact and a customer_token for it. Who the "
    "customer is (id, tier, home region) comes from a site's signed `identity`; `customer`, "
    "`region` and `priority` are read only from a supervisor's or admin's request (a back "
    "office creating the chat for the customer, in their queues and regions only), accepted "
    "and ignored from anyone else. The customer's client then holds the events WebSocket "
    "or makes a request with the customer_token (post or read the messages, read the "
    "contact) at least every [chat] abandon_grace_s (60 s by default); otherwise the "
    "customer has left, and the chat ends as customer_left",
    body=NewChat,
    idempotent=True,
    responses={
        201: "the contact with its customer_token",
        401: "a bearer token that is not valid",
        403: "a supervisor's chat outside their queues and regions",
    },
)
async def create_contact(request: web.Request, body: NewChat) -> web.Response:
    actor = await optional_principal(request)
    if actor is None and bearer_token(request):
        raise Unauthenticated("the bearer token is not valid (leave it out for a customer)")
    customer = body.customer or ChatCustomer()
    chat = ChatRequest(
        queue=body.queue,
        language=body.language,
        identity_token=body.identity or "",
        site=body.site or "",
        origin=request.headers.get("Origin", ""),
        claims=CustomerClaims(customer.id, customer.tier, body.region, body.priority),
    )
    contact, token = await request.app[CONTACTS].start_chat(
        chat, actor, spawn=lambda work: spawn(request.app, work)
    )
    answer = {"contact_id": contact.contact_id, "customer_token": token}
    return web.json_response({**answer, **contact_json(contact, for_customer=True)}, status=201)


@API.route(
    "GET",
    "/api/v1/contacts/{contact_id}",
    "The contact: state, outcome, agent, times (and, for staff, how it was routed)" + _KEEPS,
    auth=Auth.PARTY,
    responses={200: "the contact", **_PARTY, 404: ""},
)
async def get_contact(request: web.Request, actor: Actor) -> web.Response:
    contact = await request.app[CONTACTS].read(actor, request.match_info["contact_id"])
    return web.json_response(contact_view(request, contact, actor))


async def _act(request: web.Request, principal: Principal, action: str) -> web.Response:
    contacts = request.app[CONTACTS]
    use_case = {
        "accept": contacts.accept,
        "decline": contacts.decline,
        "complete": contacts.complete,
    }
    contact = await use_case[action](principal, request.match_info["contact_id"])
    return web.json_response(contact_view(request, contact))


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/accept",
    "The agent the contact is offered to accepts it",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.ACCEPT),
    responses={200: "the contact", 401: "", 403: "", 404: "", 409: "not offered to this agent"},
)
async def accept(request: web.Request, principal: Principal) -> web.Response:
    return await _act(request, principal, "accept")


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/decline",
    "The agent the contact is offered to declines it (it goes back to the head of its queue)",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.DECLINE),
    responses={200: "the contact", 401: "", 403: "", 404: "", 409: "not offered to this agent"},
)
async def decline(request: web.Request, principal: Principal) -> web.Response:
    return await _act(request, principal, "decline")


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/complete",
    "The agent ends the conversation (a supervisor may end one of their queues', and a "
    "chat of theirs still waiting that nobody will take: failed, ended_by_supervisor)",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.COMPLETE),
    responses={200: "the contact", 401: "", 403: "", 404: "", 409: "not connected, or ringing"},
)
async def complete(request: web.Request, principal: Principal) -> web.Response:
    return await _act(request, principal, "complete")


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/abandon",
    "The customer leaves the chat (before or while being served)",
    auth=Auth.PARTY,
    roles=CUSTOMERS_ONLY,
    responses={200: "the contact", **_PARTY, 404: "", 409: "already ended"},
)
async def abandon(request: web.Request, actor: Actor) -> web.Response:
    contact = await request.app[CONTACTS].abandon(actor, request.match_info["contact_id"])
    return web.json_response(contact_view(request, contact, actor))


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/move",
    "A supervisor moves a waiting or ringing contact to another queue of theirs, keeping "
    "its place and region (a ringing offer is revoked; a connected contact is refused with "
    "409: its agent transfers it) (audited)",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.MOVE),
    body=Move,
    responses={
        200: "the contact",
        400: "no such queue ($.queue)",
        401: "",
        403: "not the caller's contact, or the queue is outside their scope",
        404: "",
        409: "",
    },
)
async def move(request: web.Request, principal: Principal, body: Move) -> web.Response:
    contact = await request.app[CONTACTS].move(
        principal, request.match_info["contact_id"], body.queue
    )
    return web.json_response(contact_view(request, contact))


@API.route(
    "GET",
    "/api/v1/queues/{queue}/contacts",
    "A queue's live contacts for its supervisors, those of their regions: up to 200 waiting "
    "in order, then up to 200 offered or being served; `truncated` says more of them are "
    "live than listed (audited)",
    auth=Auth.STAFF,
    responses={200: "contacts, and truncated", 401: "", 403: "", 404: ""},
)
async def queue_contacts(request: web.Request, principal: Principal) -> web.Response:
    queue = request.match_info["queue"]
    found = await request.app[CONTACTS].in_queue(principal, queue)
    now = now_ms()
    return web.json_response(
        {
            "queue": queue,
            "contacts": [
                {
                    **contact_view(request, contact),
                    "waited_s": round((now - contact.timestamps.get("queued_at", now)) / 1000, 1),
                }
                for contact in found.contacts
            ],
            "truncated": found.truncated,
        }
    )


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/messages",
    "A chat message from the customer or the connected agent, translated for the reader. "
    "With a `client_message_id` the sender already used in this chat (a retry after a lost "
    "answer), nothing is stored or sent again: the answer is the message stored then "
    "(200), also once the chat has ended" + _KEEPS,
    auth=Auth.PARTY,
    roles=roles_that_may(Act.WRITE),
    body=NewMessage,
    responses={
        200: "the message already stored with this client_message_id",
        201: "the message",
        **_PARTY,
        404: "",
        409: "the chat has ended",
    },
)
async def post_message(request: web.Request, actor: Actor, body: NewMessage) -> web.Response:
    posted = await request.app[CONTACTS].post(
        actor, request.match_info["contact_id"], body.text, body.client_message_id
    )
    return web.json_response(message_json(posted.message), status=201 if posted.new else 200)


@API.route(
    "GET",
    "/api/v1/contacts/{contact_id}/messages",
    "The chat's messages (parties; supervisors of its queue, audited; never planners), and "
    "`read`: the latest message each side has read, `customer` (one of the agent's or the "
    "center's) and `agent` (one of the customer's), null before any" + _KEEPS,
    auth=Auth.PARTY,
    responses={200: "messages and read", **_PARTY, 404: ""},
)
async def list_messages(request: web.Request, actor: Actor) -> web.Response:
    contacts = request.app[CONTACTS]
    transcript = await contacts.transcript_and_reads(actor, request.match_info["contact_id"])
    return web.json_response(
        {"messages": [message_json(m) for m in transcript.messages], "read": transcript.read}
    )


@API.route(
    "GET",
    "/api/v1/contacts/{contact_id}/events",
    "WebSocket of the contact's messages and its end (its customer, its agent, its "
    "supervisors: audited); closed (4003) as soon as the reader may no longer see the "
    "contact (declined, handed on, moved out of their queues, their wrap-up over), and "
    "(4001) when their session ends",
    auth=Auth.PARTY,
    websocket=True,
    responses={101: "switching to WebSocket", **_PARTY, 404: ""},
)
async def contact_events(request: web.Request, actor: Actor) -> web.WebSocketResponse:
    """Besides the contact's events: the client may send `{"type": "typing"}` and
    `{"type": "read", "message_id": ...}`; a waiting customer gets `position` events; a
    customer who goes away and does not come back within the grace period has left.
    Whether staff may still watch is asked again (`Contacts.still_watches`) on every
    event that may have changed it and every tick, before anything is sent."""
    contacts = request.app[CONTACTS]
    contact = await contacts.watch(actor, request.match_info["contact_id"])
    cid = contact.contact_id
    customer = actor if isinstance(actor, Customer) else None
    grace_s = request.app[DESK].abandon_grace_s
    window = uuid.uuid4().hex  # this connection, as one of the customer's windows

    async def on_message(data: dict[str, Any]) -> None:
        await contacts.signal(
            actor, cid, str(data.get("type", "")), str(data.get("message_id", ""))
        )

    async def still_allowed(event: dict[str, Any] | None) -> bool:
        return await contacts.still_watches(actor, cid, event)

    async def periodic() -> dict[str, Any] | None:
        if customer is not None:
            await contacts.customer_here(customer, window, PRESENT_FOR_S)
        return await contacts.position_update(actor, cid)

    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)
    principal = actor if isinstance(actor, Principal) else None
    user = principal.user_id if principal else None
    own = not_own_signal(user or "customer")

    def shown(event: dict[str, Any]) -> dict[str, Any] | None:
        mine = own(event)
        if mine is None or principal is not None:
            return mine
        return access.shown_to_customer(mine)

    try:
        async with request.app[HUB].listen(contact_id=cid, user_id=user) as events:
            await pump(
                socket,
                events,
                request,
                principal,
                on_message=on_message,
                periodic=periodic,
                transform=shown,
                still_allowed=still_allowed,
            )
    finally:
        if customer is not None:  # gone unless a window is back within the grace
            spawn(request.app, contacts.customer_went(customer, window, grace_s))
    return socket


# How long one report of a customer's open window lasts; the window reports every 5 s.
PRESENT_FOR_S = WINDOW_LIFE_S


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/rating",
    "The customer rates a finished conversation 1-5 (customer token)",
    auth=Auth.PARTY,
    roles=CUSTOMERS_ONLY,
    body=Rating,
    idempotent=True,
    responses={201: "the rating", **_PARTY, 404: "", 409: "not finished, or already rated"},
)
async def rate(request: web.Request, actor: Actor, body: Rating) -> web.Response:
    contact_id = request.match_info["contact_id"]
    await request.app[CONTACTS].rate(actor, contact_id, body.score)
    return web.json_response({"contact_id": contact_id, "score": body.score}, status=201)


def contact_view(
    request: web.Request, contact: Contact, actor: Actor | None = None
) -> dict[str, Any]:
    return contact_json(
        contact,
        for_customer=isinstance(actor, Customer),
        show_numbers=request.app[DESK].show_caller_number,
    )
