"""HTTP for ratings: a customer rates a finished chat with the token they were given.

Kept apart from `router.reports.survey` so that the telephony workers, which run the voice
survey, need neither aiohttp nor the router's HTTP app.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from router.reports.survey import RatingStore, check_score
from switchboard.http.base import BadField, error, field, json_body, not_found
from switchboard.http.contacts import ROUTER

RATINGS = web.AppKey("ratings", RatingStore)
routes = web.RouteTableDef()


@routes.post("/api/v1/contacts/{contact_id}/rating")
async def rate_contact(request: web.Request) -> web.Response:
    """The customer rates a finished chat 1-5 with the customer token they were given."""
    contact_id = request.match_info["contact_id"]
    router = request.app[ROUTER]
    client: Any = router.store.client
    fields: dict[str, str] = await client.hgetall(f"{router.store.tag}contact:{contact_id}")
    if not fields:
        raise not_found(f"no contact {contact_id}")
    token = request.headers.get("X-Customer-Token") or request.query.get("customer_token", "")
    stored = fields.get("customer_token", "")
    if not (token and stored and secrets.compare_digest(token, stored)):
        return error(401, "unauthorized", "the customer token of this contact is required")
    body = await json_body(request)
    score = check_score(field(body, "score", int))
    if score is None:
        raise BadField("$.score", "an integer from 1 to 5", body.get("score"))
    if fields.get("state") != "completed" or not fields.get("answered_at"):
        return error(409, "conflict", f"contact {contact_id} is not a completed conversation")
    store = request.app.get(RATINGS) or RatingStore(router.store.client, router.store.prefix)
    if not await store.add(contact_id, score, fields.get("channel", "chat")):
        return error(409, "conflict", f"contact {contact_id} is already rated")
    return web.json_response({"contact_id": contact_id, "score": score}, status=201)
