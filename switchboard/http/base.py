"""What every HTTP handler shares: the services, one JSON error shape, credentials, outages.

Every 4xx and 5xx answer is a JSON object `{"error": code, "message": ...}`, with the
JSON path of the bad field (`"field"`), what was expected and what was found when a
request body or query is at fault; aiohttp's own answers (404 for an unknown route, 405,
413) are turned into the same shape by `json_errors` (those to a request its parser
refuses, by the node's runner, `runner.py`), and so is any failure nobody foresaw: a
500 `{"error": "internal", ...}` naming only the request's id in the log, where the
traceback is written.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
from aiohttp import web

from regions.service import Regions
from router.access import Principal
from router.admin import Administration
from router.agents import Agents
from router.calls import LiveCalls
from router.cases.webhooks import UnknownWebhook
from router.contacts import Contacts
from router.desk import DeskConfig
from router.errors import (
    BadCredentials,
    Forbidden,
    InvalidInput,
    RoutingError,
    TooManyAttempts,
    Unauthenticated,
    UnknownAdvisory,
    UnknownAgent,
    UnknownCase,
    UnknownContact,
    UnknownQueue,
    UnknownRecording,
    UnknownUser,
)
from router.events import EventHub
from router.metrics import Metrics
from router.reports.service import Reports
from router.service import Router
from router.sessions import Sessions
from switchboard.common.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ROUTER = web.AppKey("router", Router)
CONTACTS = web.AppKey("contacts", Contacts)
CALLS = web.AppKey("calls", LiveCalls)
AGENTS = web.AppKey("agents", Agents)
SESSIONS = web.AppKey("sessions", Sessions)
REPORTS = web.AppKey("reports", Reports)
HUB = web.AppKey("hub", EventHub)
REGIONS = web.AppKey("regions", Regions)
NODE_ID = web.AppKey("node_id", str)
SCRAPE_TOKEN = web.AppKey("scrape_token", str)
METRICS = web.AppKey("metrics", Metrics)
ADMIN = web.AppKey("admin", Administration)
DESK = web.AppKey("desk", DeskConfig)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# `[http] trusted_proxies`: the peers whose X-Forwarded-For is believed (none: no one's).
TRUSTED_PROXIES: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies")
# `[http] metrics_open_to`: the clients whose scrape needs no token (none: everyone shows one).
METRICS_OPEN_TO: web.AppKey[tuple[Network, ...]] = web.AppKey("metrics_open_to")


BACKGROUND: web.AppKey[set[Any]] = web.AppKey("background")


def spawn(app: web.Application, work: Any) -> None:
    """Run `work` (a coroutine) beyond the request that started it; the app cancels
    what is left when it shuts down."""
    import asyncio

    tasks: set[Any] = app[BACKGROUND]
    task = asyncio.create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def cancel_background(app: web.Application) -> None:
    tasks: set[Any] = app[BACKGROUND]
    await cancel_and_wait(list(tasks))


def _json(data: Any) -> str:
    return json.dumps(data, default=str)


class DuplicateKey(ValueError):
    """A JSON object that gives a key twice; `loc` is the steps to the second one."""

    def __init__(self, loc: tuple[str | int, ...]) -> None:
        super().__init__(f"a key given twice at {loc}")
        self.loc = loc


class _Again:
    """Where a JSON object gave a key again (`parse_json` looks for it)."""


def parse_json(text: str) -> Any:
    """JSON text as Python, every object's keys given once: a key given twice is
    DuplicateKey (a ValueError) naming where. `json.loads` would keep the last of the
    two; a proxy or firewall before the node may read the first, and check another
    request than the one served."""
    repeated = False

    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        kept: dict[str, Any] = {}
        for key, value in pairs:
            if key in kept:
                repeated, value = True, _Again()
            kept[key] = value
        return kept

    data = json.loads(text, object_pairs_hook=once)
    if repeated:
        raise DuplicateKey(_where_again(data))
    return data


def _where_again(data: Any) -> tuple[str | int, ...]:
    """The steps to the first key given again (depth first; bodies nest 16 deep at most)."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while pending:
        loc, value = pending.pop()
        if isinstance(value, _Again):
            return loc
        steps: list[tuple[str | int, Any]]
        if isinstance(value, dict):
            steps = list(value.items())
        elif isinstance(value, list):
            steps = list(enumerate(value))
        else:
            continue
        pending.extend(((*loc, step), inner) for step, inner in reversed(steps))
    return ()


class ClientLeft(Exception):
    """The client closed the connection while its request's body was being read (a phone
    that lost its signal mid-message): foreseen, so no incident and no traceback; the
    request is counted as nginx counts it, 499, and nothing can be answered."""


class BadField(web.HTTPBadRequest):
    """400 naming the JSON path of the bad field, what was expected and what came."""

    def __init__(self, path: str, expected: str, found: object = None) -> None:
        super().__init__(
            text=_json(
                {
                    "error": "bad_request",
                    "message": f"{path}: expected {expected}",
                    "field": path,
                    "expected": expected,
                    "found": found,
                }
            ),
            content_type="application/json",
        )


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


def bearer_token(request: web.Request) -> str:
    """The staff token: `Authorization: Bearer`, or `?token=` on the routes where a
    browser cannot set headers (WebSocket, EventSource) and only there: a token in any
    other URL would stay in browser history, Referer headers and proxies' logs. Query
    tokens never reach the access log."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return _token_text(header[7:].strip())
    return _token_text(request.query.get("token", "")) if _takes_query_token(request) else ""


def _token_text(value: str) -> str:
    """A token as given, or "" (none: 401) when it holds what no token of ours does:
    a header's bytes beyond ASCII (aiohttp hands them over as surrogates, which no Redis
    key can be made of)."""
    return value if value.isascii() else ""


def _takes_query_token(request: web.Request) -> bool:
    """Whether the request's route is a WebSocket or an event stream (`websocket`,
    `stream` in the API's table)."""
    resource = request.match_info.route.resource
    streams = request.app.get(STREAM_ROUTES, frozenset())
    return resource is not None and (request.method, resource.canonical) in streams


# (method, path) of every WebSocket and event-stream operation (set by the app from the
# API's table, which imports this module).
STREAM_ROUTES = web.AppKey("stream_routes", frozenset[tuple[str, str]])


# Where `request_principal` keeps its answer on the request.
_PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
# Set on a request aiohttp's parser refused (`runner.RefusingProtocol`), which logs it
# in a line of its own: the access log leaves it out.
PARSER_REFUSED: web.RequestKey[bool] = web.RequestKey("parser_refused")


async def request_principal(request: web.Request) -> Principal | None:
    """Who the request's bearer token names: None without one, or for one that is not
    valid (unknown, expired, revoked, or of another scheme than Bearer). Looked up once
    per request; a Redis failure is raised and nothing is kept."""
    if _PRINCIPAL not in request:
        token = bearer_token(request)
        request[_PRINCIPAL] = await request.app[SESSIONS].principal(token) if token else None
    return request[_PRINCIPAL]


def _address(text: str) -> IPAddress | None:
    """An address as X-Forwarded-For or the socket gives it: `203.0.113.7`, `2001:db8::1`,
    and the forms with a port some proxies write (`203.0.113.7:4711`, `[2001:db8::1]:4711`);
    an IPv4-mapped IPv6 address is its IPv4 address. None for anything else (`unknown`)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _within(address: IPAddress | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: `peer` (the TCP peer) unless it is a trusted proxy; then the
    right-most forwarded hop that is not itself trusted. Hops left of that one were
    written by the client and are never believed. A hop that is no address ends the walk
    at the trusted proxy that passed it on, as does a list of trusted hops only.
    `forwarded_for` is X-Forwarded-For's headers (comma-separated lists) or hops."""
    current = _address(peer)
    if not _within(current, trusted):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _within(address, trusted):
            break
    return str(current)


def forwarded_hops(forwarded: list[str]) -> list[str]:
    """The hops RFC 7239's Forwarded headers name, client first, as `forwarded_client`
    reads them: the `for=` of each element (`for=192.0.2.60;proto=https`,
    `for="[2001:db8::1]:4711"`); an obfuscated node (`_hidden`), `unknown` or an element
    without `for=` is a hop that is no address, which ends the walk there."""
    hops = []
    for header in forwarded:
        for element in header.split(","):
            pairs = (pair.partition("=") for pair in element.split(";"))
            found = [value for key, _, value in pairs if key.strip().lower() == "for"]
            hops.append(found[0].strip().strip('"') if found else "unknown")
    return hops


def client_address(request: web.Request) -> str:
    """The address a per-client decision (login throttling, the public request budget)
    counts against: the TCP peer, or behind a proxy of `[http] trusted_proxies` the
    client it forwarded for, by X-Forwarded-For or Forwarded ('' when there is no peer
    address, a UNIX socket). A proxy writes one of the two: where both come and name
    different clients, the other header was the client's own, and the proxy is all that
    is known."""
    trusted = request.app.get(TRUSTED_PROXIES, ())
    peer = request.remote or ""
    if not trusted:
        return peer
    chains = (
        request.headers.getall("X-Forwarded-For", []),
        forwarded_hops(request.headers.getall("Forwarded", [])),
    )
    named = {forwarded_client(peer, hops, trusted) for hops in chains if hops}
    return named.pop() if len(named) == 1 else peer


def client_within(request: web.Request, networks: tuple[Network, ...]) -> bool:
    """Whether the client is known to be in `networks`: the TCP peer of a request no one
    forwarded, or the client a trusted proxy names. A forwarded request is from someone
    unknown, not from the address it came from, when the peer is no trusted proxy (a
    reverse proxy on this host left out of `trusted_proxies`) or when the proxies name no
    client beyond themselves (an empty or obfuscated header, two headers that disagree)."""
    trusted = request.app.get(TRUSTED_PROXIES, ())
    forwarded = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    if forwarded and not _within(_address(request.remote or ""), trusted):
        return False
    client = _address(client_address(request))
    if forwarded and _within(client, trusted):
        return False
    return _within(client, networks)


# The answer to a bearer token that is not valid. Tokens are random and forgotten when
# they end, so one that expired, was signed out or revoked, and one never issued answer
# alike: nothing tells whether a token ever existed.
TOKEN_ENDED = "token expired or signed out: sign in again"


async def _token_ended(request: web.Request) -> bool:
    """Whether the request was refused for the bearer token it carried (one that is not
    valid), rather than for carrying none: the client should sign in again. Not for the
    metrics scrape, where the token may be the scrape token (its refusal says both)."""
    if not bearer_token(request) or request.path == "/metrics":
        return False
    try:
        return await request_principal(request) is None
    except Exception:  # Redis down: say what was refused, not why
        return False


def customer_token(request: web.Request) -> str:
    return _token_text(
        request.headers.get("X-Customer-Token") or request.query.get("customer_token", "")
    )


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain refusals become statuses here, once; every error answer is JSON."""
    try:
        return await handler(request)
    except (
        UnknownContact,
        UnknownAgent,
        UnknownUser,
        UnknownQueue,
        UnknownCase,
        UnknownRecording,
        UnknownAdvisory,
    ) as failure:
        kind = type(failure).__name__[7:].lower()
        return error(404, "not_found", f"no such {kind}: {failure}")
    except UnknownWebhook as failure:  # its message names the webhook or dead letter
        return error(404, "not_found", str(failure))
    except (Unauthenticated, BadCredentials) as failure:
        message = str(failure)
        if isinstance(failure, Unauthenticated) and await _token_ended(request):
            message = TOKEN_ENDED
        return error(401, "unauthorized", message, **{"WWW-Authenticate": "Bearer"})
    except Forbidden as failure:
        return error(403, "forbidden", str(failure))
    except TooManyAttempts as failure:
        retry = str(max(1, round(failure.retry_after_s)))
        return error(429, "too_many_requests", str(failure), **{"Retry-After": retry})
    except InvalidInput as failure:
        raise BadField(failure.field, failure.expected, failure.found) from None
    except RoutingError as failure:
        return error(409, "conflict", str(failure))
    except ClientLeft:
        log.info("%s %s: the client left before its request was read", request.method, request.path)
        return error(499, "client_closed_request", "the connection closed mid-request")
    except web.HTTPException as failure:
        if failure.content_type == "application/json" or failure.status < 400:
            raise
        code = _CODES.get(failure.status, "error")
        headers = {k: v for k, v in failure.headers.items() if k in ("Allow", "Retry-After")}
        message = _too_large(request) if failure.status == 413 else failure.reason or code
        return error(failure.status, code, message, **headers)
    except Exception:
        if request.writer.output_size > 0:
            raise  # an answer (a stream, a WebSocket) has begun: aiohttp ends the connection
        # The traceback goes to the log under an id the answer gives; the answer itself
        # carries no detail of the failure (no exception text, no internals).
        incident = incident_id()
        log.exception("%s %s failed (incident %s)", request.method, request.path, incident)
        return error(500, "internal", f"the server failed to answer; incident {incident}")


def incident_id() -> str:
    """A new incident's id, `inc_` and 12 hex digits: glued to letters, its digits can
    never read as a phone number, which the log's masking filter would hide (a bare
    `012345678901` did, and the operator could not find the traceback a user reported)."""
    return f"inc_{secrets.token_hex(6)}"


def _too_large(request: web.Request) -> str:
    """What a 413 says: the limit, so the client knows how far to cut."""
    limit = request.client_max_size
    size = f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"
    return f"the request body is larger than the limit of {size}"


@web.middleware
async def measured(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by route (the route's pattern, not its ids)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as answer:
        status = answer.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        metrics = request.app[METRICS]
        metrics.http_requests.labels(request.method, route, str(status)).inc()
        metrics.http_seconds.labels(request.method, route).observe(time.perf_counter() - started)


@web.middleware
async def redis_outage(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Redis unreachable: answer 503 with Retry-After; the node itself stays up."""
    try:
        return await handler(request)
    except redis.exceptions.BusyLoadingError:
        return error(
            503, "unavailable", "the state store is loading; retry", **{"Retry-After": "2"}
        )
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as failure:
        log.warning("%s %s: Redis unavailable: %s", request.method, request.path, failure)
        request.app[METRICS].redis_errors.labels("http").inc()
        return error(
            503, "unavailable", "the state store is unreachable; retry", **{"Retry-After": "2"}
        )
