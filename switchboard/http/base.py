"""What every HTTP handler shares: JSON errors, field validation, auth, Redis outages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.exceptions
from aiohttp import web

from router.auth import Principal, UserStore
from router.service import RoutingError
from router.store import UnknownAgent, UnknownContact

log = logging.getLogger(__name__)
T = TypeVar("T")

USERS = web.AppKey("users", UserStore)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadField(web.HTTPBadRequest):
    """400 naming the JSON path of the bad field."""

    def __init__(self, path: str, expected: str, found: object = None) -> None:
        super().__init__(
            text=_json(
                {"error": "bad_request", "field": path, "expected": expected, "found": found}
            ),
            content_type="application/json",
        )


def _json(data: Any) -> str:
    import json

    return json.dumps(data, default=str)


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadField("$", "a JSON object", "invalid JSON") from None
    if not isinstance(body, dict):
        raise BadField("$", "a JSON object", type(body).__name__)
    return body


def field(
    body: dict[str, Any],
    name: str,
    kind: type[T] | tuple[type, ...],
    *,
    path: str = "$",
    required: bool = True,
    default: Any = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """Read one field or raise 400 with its JSON path, what was expected and what came."""
    where = f"{path}.{name}"
    if name not in body or body[name] is None:
        if required:
            raise BadField(where, _kind_name(kind), None)
        return default
    value = body[name]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise BadField(where, _kind_name(kind), value)
    if not isinstance(value, kind):
        raise BadField(where, _kind_name(kind), value)
    if choices and value not in choices:
        raise BadField(where, f"one of {', '.join(choices)}", value)
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        dict: "an object",
        list: "a list",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


PRINCIPAL_KEY = "principal"


async def principal_of(request: web.Request) -> Principal | None:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else request.query.get("token", "")
    if not token:
        return None
    return await request.app[USERS].principal(token)


async def require_principal(request: web.Request) -> Principal:
    principal = await principal_of(request)
    if principal is None:
        raise web.HTTPUnauthorized(
            text=_json({"error": "unauthorized", "message": "a valid bearer token is required"}),
            content_type="application/json",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def forbidden(message: str) -> web.HTTPForbidden:
    return web.HTTPForbidden(
        text=_json({"error": "forbidden", "message": message}), content_type="application/json"
    )


def not_found(message: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=_json({"error": "not_found", "message": message}), content_type="application/json"
    )


@web.middleware
async def domain_error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown ids answer 404; a request the contact's state does not allow answers 409."""
    try:
        return await handler(request)
    except (UnknownContact, UnknownAgent) as failure:
        return error(404, "not_found", f"no such {type(failure).__name__[7:].lower()}: {failure}")
    except RoutingError as failure:
        return error(409, "conflict", str(failure))


@web.middleware
async def redis_outage_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Redis unreachable: answer 503 with Retry-After; the node itself stays up."""
    try:
        return await handler(request)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as failure:
        log.warning("%s %s: Redis unavailable: %s", request.method, request.path, failure)
        return error(
            503, "unavailable", "the state store is unreachable; retry", **{"Retry-After": "2"}
        )
    except redis.exceptions.BusyLoadingError:
        return error(
            503, "unavailable", "the state store is loading; retry", **{"Retry-After": "2"}
        )
