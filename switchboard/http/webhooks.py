"""Outgoing webhooks over HTTP (admins): each webhook's backlog and dead letters, and a
dead letter sent again. The webhooks carry case, contact and advisory events; their
delivery is `router/cases/webhooks.py`."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from router.access import ADMINS, Principal
from router.cases.webhooks import WebhookDelivery
from switchboard.http.api import API, Auth
from switchboard.http.schemas import Query

WEBHOOKS = web.AppKey("webhooks", WebhookDelivery)

_STAFF = {401: "", 403: ""}


class DeadLetterQuery(Query):
    """A query string."""

    last: int = Field(default=100, ge=1, le=10_000)


@API.route(
    "GET",
    "/api/v1/webhooks",
    "Outgoing webhooks: events waiting and dead letters of each (admins)",
    auth=Auth.STAFF,
    roles=ADMINS,
    responses={200: "webhooks", **_STAFF},
)
async def list_webhooks(request: web.Request, principal: Principal) -> web.Response:
    return web.json_response({"webhooks": await request.app[WEBHOOKS].status()})


@API.route(
    "GET",
    "/api/v1/webhooks/{webhook}/dead-letters",
    "Events a webhook could not deliver, newest first, with the last answer (admins)",
    auth=Auth.STAFF,
    roles=ADMINS,
    query=DeadLetterQuery,
    responses={200: "dead letters", **_STAFF, 404: "no such webhook"},
)
async def dead_letters(
    request: web.Request, principal: Principal, query: DeadLetterQuery
) -> web.Response:
    name = request.match_info["webhook"]
    letters = await request.app[WEBHOOKS].dead_letters(name, query.last)
    return web.json_response({"webhook": name, "dead_letters": letters})


@API.route(
    "POST",
    "/api/v1/webhooks/{webhook}/dead-letters/{delivery}/redeliver",
    "Send a dead letter again, with its delivery id, once the receiver is fixed: it "
    "leaves the list and goes out before the webhook's next event (admins)",
    auth=Auth.STAFF,
    roles=ADMINS,
    responses={202: "put back for delivery", **_STAFF, 404: "no such webhook or dead letter"},
)
async def redeliver(request: web.Request, principal: Principal) -> web.Response:
    name, delivery_id = request.match_info["webhook"], request.match_info["delivery"]
    await request.app[WEBHOOKS].redeliver(name, delivery_id)
    return web.json_response({"webhook": name, "id": delivery_id}, status=202)
