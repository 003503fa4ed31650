"""What the agent desktop reads and does besides the contact itself: its configuration,
the colleagues and queues to transfer to, the wrap-up, and the customer's history."""

from __future__ import annotations

from aiohttp import web

from router.access import Act, Principal, roles_that_may
from router.contacts import CustomerHistory
from router.reports.privacy import mask_phone_numbers
from switchboard.common.clock import now_ms
from switchboard.http.api import API, Auth
from switchboard.http.base import AGENTS, CONTACTS, DESK, ROUTER
from switchboard.http.schemas import ContactWrapUp
from switchboard.http.views import contact_json


@API.route(
    "GET",
    "/api/v1/desk",
    "The desktop's configuration: not-ready reasons, each queue's wrap-up codes and "
    "canned replies, the queues; sip_accounts: whether this node gives agents a SIP "
    "account for their softphone (GET /api/v1/agents/{id}/sip-account)",
    auth=Auth.STAFF,
    responses={200: "the configuration", 401: ""},
)
async def desk(request: web.Request, principal: Principal) -> web.Response:
    config = request.app[DESK]
    queues = request.app[ROUTER].queues
    return web.json_response(
        {
            "not_ready_reasons": list(config.not_ready_reasons),
            "repeat_window_s": config.repeat_window_s,
            "sip_accounts": request.app[AGENTS].softphones is not None,
            "queues": {
                name: {
                    "wrap_up_s": queue.wrap_up_s,
                    "ring_s": queue.ring_s,
                    "codes": list(config.disposition(name).codes),
                    "code_required": config.disposition(name).required,
                    "canned": [
                        {"language": reply.language, "title": reply.title, "text": reply.text}
                        for reply in config.canned
                        if reply.queue == name
                    ],
                }
                for name, queue in queues.items()
            },
        }
    )


@API.route(
    "GET",
    "/api/v1/directory",
    "Queues and colleagues to transfer to: each agent's id, region and state",
    auth=Auth.STAFF,
    responses={200: "queues and agents", 401: ""},
)
async def directory(request: web.Request, principal: Principal) -> web.Response:
    router = request.app[ROUTER]
    now = now_ms()
    agents = [
        {"agent_id": agent.agent_id, "region": agent.region, "state": agent.state(now).value}
        for agent in await router.list_agents()
    ]
    return web.json_response({"queues": sorted(router.queues), "agents": agents})


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/wrapup",
    "The agent's wrap-up of a finished contact: a code from the queue's list and a note",
    auth=Auth.STAFF,
    roles=roles_that_may(Act.WRAP_UP),
    body=ContactWrapUp,
    responses={200: "the wrap-up", 401: "", 403: "", 404: "", 409: "not finished yet"},
)
async def wrap_up(request: web.Request, principal: Principal, body: ContactWrapUp) -> web.Response:
    saved = await request.app[CONTACTS].wrap_up(
        principal, request.match_info["contact_id"], body.code, body.note
    )
    return web.json_response(saved)


@API.route(
    "GET",
    "/api/v1/contacts/{contact_id}/customer",
    "The customer of a contact and their contacts on every channel (360°; audited for supervisors)",
    auth=Auth.STAFF,
    responses={200: "the customer and their contacts", 401: "", 403: "", 404: ""},
)
async def customer(request: web.Request, principal: Principal) -> web.Response:
    history = await request.app[CONTACTS].history(principal, request.match_info["contact_id"])
    return web.json_response(history_json(history, request.app[DESK].show_caller_number))


def history_json(history: CustomerHistory, show_numbers: bool) -> dict[str, object]:
    """The 360° panel; a caller's number stays masked unless the center shows numbers."""
    return {
        "customer": {
            "id": history.customer_id if show_numbers else mask_phone_numbers(history.customer_id),
            "verified": history.verified,
            "tier": history.tier,
            "language": history.language,
            "home_region": history.home_region,
        },
        "contacts": [
            {
                **contact_json(past.contact, show_numbers=show_numbers),
                "rating": past.contact.rating,
                "wrap_up": {k: v for k, v in past.wrap_up.items() if k in ("code", "note")},
                "repeat": past.repeat,
            }
            for past in history.contacts
        ],
        # the customer's contacts outside the reader's queues or regions, not listed
        "left_out": history.left_out,
    }
