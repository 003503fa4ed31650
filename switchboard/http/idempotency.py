"""`Idempotency-Key` on the create routes: a retried POST creates once.

A client whose answer was lost (a timeout, a dropped connection) retries with the same
key; within `ANSWER_TTL_MS` the node answers with the first answer, status and body, and
`Idempotent-Replayed: true` instead of creating again (IETF draft "The Idempotency-Key
HTTP Header Field"). The same key with another request (another body, another route) is
422; while the first is still running, 409. Only successes are kept: a refused or failed
create frees the key, so the client may fix the request and send it again.

A key is only a key and grants nothing: it counts within its caller's own scope, the
signed-in member of staff, the customer of a contact, or, for a customer starting a chat
(no credential yet), the client's address (`client_address`, behind a trusted proxy the
client it names). Whoever guesses a key elsewhere starts a request of their own, never
reads another's answer (a chat's customer_token). Routes opt in with
`API.route(..., idempotent=True)`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from router.access import Actor, Customer, Principal
from switchboard.http.base import (
    BadField,
    bearer_token,
    client_address,
    parse_json,
    request_principal,
)
from switchboard.http.idempotency_store import ANSWER_TTL_MS, Claim, IdempotencyStore, Stored

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
FIELD = f"header.{HEADER}"
MAX_LENGTH = 255
EXPECTED = f"1 to {MAX_LENGTH} visible ASCII characters (a random UUID)"
_VISIBLE = re.compile(r"[!-~]+")
# The document's description of the header, said once.
DESCRIPTION = (
    "A key the client makes up for this request (a random UUID), sent again with its "
    f"retries: within {ANSWER_TTL_MS // 3_600_000} h the same key from the same caller is "
    "answered with the first answer and `Idempotent-Replayed: true`, and creates nothing "
    "more; with another body 422, while the first is still running 409. A customer's key "
    "counts at their address"
)

# The node's store of answers by key (set by the app, on the routing store's client).
IDEMPOTENCY = web.AppKey("idempotency", IdempotencyStore)


def requested_key(request: web.Request) -> str | None:
    """The request's key (a structured-field string's quotes removed), None without the
    header; 400 naming the header for one that is empty, too long, not visible ASCII, or
    sent twice."""
    values = request.headers.getall(HEADER, [])
    if not values:
        return None
    if len(values) > 1:
        raise BadField(FIELD, EXPECTED, f"{len(values)} headers")
    key = values[0].strip()
    if len(key) >= 2 and key.startswith('"') and key.endswith('"'):
        key = key[1:-1]
    if not 0 < len(key) <= MAX_LENGTH or not _VISIBLE.fullmatch(key):
        raise BadField(FIELD, EXPECTED, key[:MAX_LENGTH])
    return key


def scope_of(caller: Actor | None, address: str = "") -> str:
    """Whose keys a key is among: a member of staff's, a contact's customer's, or an
    anonymous client's by its address. Each part quoted, so no caller's scope and key
    can spell another's."""
    if isinstance(caller, Principal):
        return f"user:{quote(caller.user_id, safe='')}"
    if isinstance(caller, Customer):
        return f"customer:{quote(caller.contact_id, safe='')}"
    return f"anon:{quote(address, safe='')}"


def fingerprint(method: str, path: str, body: Any) -> str:
    """sha256 of the request's canonical JSON (keys sorted, no spaces), with its method
    and path: the same key on another route is another request."""
    canonical = json.dumps(
        {"method": method, "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def answered(
    request: web.Request,
    caller: Actor | None,
    create: Callable[[], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """`create()`'s answer, run at most once per key: the stored first answer for a
    retry, 422 or 409 for a key another request holds. Without the header, `create()`."""
    key = requested_key(request)
    scope = await _scope(request, caller) if key is not None else None
    if key is None or scope is None:
        return await create()
    store = request.app[IDEMPOTENCY]
    printed = fingerprint(request.method, request.path, await _body(request))
    claim = await store.claim(scope, key, printed)
    if not claim.claimed:
        return _held(claim, printed)
    try:
        response = await create()
    except Exception:
        await _release(store, claim)
        raise
    if 200 <= response.status < 300 and isinstance(response, web.Response):
        await store.keep(claim, _stored(response))
    else:
        await _release(store, claim)
    return response


async def _scope(request: web.Request, caller: Actor | None) -> str | None:
    """The caller's scope; for a route anyone may call, the signed-in staff member or
    the client's address. None for a bearer token that is not valid: the route refuses
    it, and no stored answer may be given in its place."""
    if caller is not None:
        return scope_of(caller)
    if bearer_token(request):
        principal = await request_principal(request)
        return scope_of(principal) if principal is not None else None
    return scope_of(None, client_address(request))


async def _body(request: web.Request) -> Any:
    """The body as JSON (the route has validated it already); None for none."""
    text = await request.text()
    return parse_json(text) if text.strip() else None


def _held(claim: Claim, printed: str) -> web.Response:
    if claim.fingerprint != printed:
        return web.json_response(
            {
                "error": "unprocessable",
                "message": f"{HEADER}: this key came with another request (another body "
                "or route); a new request needs a new key",
                "field": FIELD,
                "expected": "the body and route of the request first sent with this key",
            },
            status=422,
        )
    if claim.stored is None:
        return web.json_response(
            {
                "error": "conflict",
                "message": f"{HEADER}: the request first sent with this key is still "
                "running; retry once it has answered",
                "field": FIELD,
            },
            status=409,
            headers={"Retry-After": "1"},
        )
    stored = claim.stored
    return web.Response(
        status=stored.status,
        text=stored.body,
        content_type=stored.content_type,
        headers={REPLAYED: "true"},
    )


def _stored(response: web.Response) -> Stored:
    body = response.body
    text = body.decode(response.charset or "utf-8") if isinstance(body, bytes) else ""
    return Stored(response.status, text, response.content_type)


async def _release(store: IdempotencyStore, claim: Claim) -> None:
    """Free the key; if even that fails (Redis gone), the claim lapses by itself."""
    try:
        await store.release(claim)
    except Exception:
        log.warning("could not free an idempotency key; it lapses by itself", exc_info=True)
