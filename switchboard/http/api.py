"""Routes declared once: path, who may call, request schemas; the OpenAPI document follows.

Each feature module declares its operations on the shared `API` with `API.route(...)`.
The declaration registers the aiohttp handler, validates the JSON body, the query
string and the names a path creates (`path`) with pydantic models (a bad one answers 400
naming the field path: `$.queue`, `query.status`, `path.queue`), resolves the
caller (`Auth`) and refuses staff of a role the route is not for (`roles`, 403) before
anything of the request is read, so a caller learns no schema from a route not theirs,
and is what `openapi.document()` describes, so a route cannot exist without its
documentation.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from router.access import Actor, Principal, require_route_role
from router.errors import Unauthenticated
from router.model import Role
from switchboard.common.ids import first_fault, json_path
from switchboard.http.base import (
    CONTACTS,
    BadField,
    ClientLeft,
    DuplicateKey,
    customer_token,
    parse_json,
    request_principal,
)
from switchboard.http.idempotency import answered
from switchboard.http.schemas import CREDENTIAL_KEYS

MAX_JSON_DEPTH = 16

Handler = Callable[..., Awaitable[web.StreamResponse]]


class Auth(StrEnum):
    """Who may call an operation, checked before its handler runs."""

    PUBLIC = "public"  # anyone (health, login, starting a chat, pages)
    STAFF = "staff"  # a bearer token: the handler gets `principal`
    PARTY = "party"  # a bearer token or the contact's customer token: `actor`
    SCRAPE = "scrape"  # the metrics scrape token, or a supervisor's or admin's bearer token


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    auth: Auth
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_names: type[BaseModel] | None = None  # the path's names, as the API's id rules
    responses: dict[int, str] = field(default_factory=dict)
    websocket: bool = False
    stream: str | None = None  # media type of a streamed answer (text/event-stream)
    content: str = "application/json"  # media type of the answer
    idempotent: bool = False  # takes Idempotency-Key (switchboard.http.idempotency)
    # The staff roles the route is for (`router.access`: ADMINS, OVERSEERS, ...; None: any
    # signed-in staff), checked before its path names, query and body: a caller of
    # another role is 403 whatever they send. On a PARTY route, staff only.
    roles: tuple[Role, ...] | None = None


class Api:
    """The table of operations, shared by every feature module."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.routes = web.RouteTableDef()

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        auth: Auth = Auth.PUBLIC,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        path_names: type[BaseModel] | None = None,
        responses: dict[int, str] | None = None,
        websocket: bool = False,
        stream: str | None = None,
        content: str = "application/json",
        idempotent: bool = False,
        roles: tuple[Role, ...] | None = None,
    ) -> Callable[[Handler], Handler]:
        if roles is not None and auth not in (Auth.STAFF, Auth.PARTY):
            raise ValueError(f"{method} {path}: roles need a caller (auth staff or party)")
        operation = Operation(
            method.upper(),
            path,
            summary,
            auth,
            body,
            query,
            path_names,
            responses or {200: "OK"},
            websocket,
            stream,
            content,
            idempotent,
            roles,
        )
        self.operations.append(operation)

        def register(handler: Handler) -> Handler:
            async def endpoint(request: web.Request) -> web.StreamResponse:
                kwargs: dict[str, Any] = {}
                if operation.auth == Auth.STAFF:
                    kwargs["principal"] = await require_principal(request)
                elif operation.auth == Auth.PARTY:
                    kwargs["actor"] = await require_actor(request)
                caller = kwargs.get("principal") or kwargs.get("actor")
                if operation.roles is not None and caller is not None:
                    require_route_role(caller, operation.roles)  # before anything is read
                if operation.path_names is not None:
                    validate(operation.path_names, dict(request.match_info), "path")
                query = single_keys(request)
                if operation.content != "application/json":
                    query = keys_a_page_reads(operation, query)
                if operation.query is not None:
                    kwargs["query"] = validate(operation.query, query, "query")
                else:
                    refuse_query_keys(query)
                if operation.body is not None:
                    kwargs["body"] = validate(operation.body, await json_body(request), "$")
                if operation.idempotent:
                    return await answered(request, caller, lambda: handler(request, **kwargs))
                return await handler(request, **kwargs)

            endpoint.__name__ = handler.__name__
            endpoint.__doc__ = handler.__doc__
            self.routes.route(operation.method, path)(endpoint)
            return handler

        return register


API = Api()


# -- the caller ----------------------------------------------------------------------------


async def optional_principal(request: web.Request) -> Principal | None:
    return await request_principal(request)


async def require_principal(request: web.Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthenticated("a valid bearer token is required")
    return principal


async def require_actor(request: web.Request) -> Actor:
    """Staff with a bearer token, else the customer of the contact in the path."""
    principal = await optional_principal(request)
    if principal is not None:
        return principal
    return await request.app[CONTACTS].customer(
        request.match_info["contact_id"], customer_token(request)
    )


# -- query strings ---------------------------------------------------------------------------


def single_keys(request: web.Request) -> dict[str, str]:
    """The query as one value per key; a key given twice is 400 naming it (`query.queue`),
    since reading one of them would filter on half of what the caller asked."""
    seen: dict[str, str] = {}
    for key, value in request.query.items():
        if key in seen:
            raise BadField(f"query.{key}", "the key once", "a repeated key")
        seen[key] = value
    return seen


def keys_a_page_reads(operation: Operation, query: dict[str, str]) -> dict[str, str]:
    """A page's or a script's query without the keys it does not read: links to them
    carry what sites and campaigns add (`?v=2` to bust a cache, `utm_source`), which must
    not turn a page into a JSON error; the keys it reads are checked as ever."""
    names = set(operation.query.model_fields) if operation.query is not None else set()
    return {key: value for key, value in query.items() if key in names | CREDENTIAL_KEYS}


def refuse_query_keys(query: dict[str, str]) -> None:
    """A route that declares no query takes none but the caller's credential (`token`,
    `customer_token`): any other key is 400 naming it, as a body's unknown field is."""
    for key in query:
        if key not in CREDENTIAL_KEYS:
            raise BadField(f"query.{key}", "no such query key (this route takes none)", key)


# -- request bodies --------------------------------------------------------------------------


async def json_body(request: web.Request) -> Any:
    """The body as JSON, whatever its Content-Type (`curl -d` sends a form's); 400 naming
    the problem when it is not JSON, too deep, not UTF-8 or gives a key twice (naming the
    key, as a query's key given twice is)."""
    try:
        text = await request.text()
    except UnicodeDecodeError:
        raise BadField("$", "a UTF-8 JSON body", "undecodable bytes") from None
    except ConnectionResetError:  # aiohttp's "Connection lost": the client hung up
        raise ClientLeft from None
    if not text.strip():
        raise BadField("$", "a JSON object", "an empty body")
    if _nesting(text) > MAX_JSON_DEPTH:
        raise BadField("$", f"JSON nested at most {MAX_JSON_DEPTH} deep", "deeper nesting")
    try:
        return parse_json(text)
    except DuplicateKey as twice:
        raise BadField(json_path("$", twice.loc), "the key once", "a repeated key") from None
    except (ValueError, RecursionError):
        raise BadField("$", "a JSON object", "invalid JSON") from None


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _nesting(text: str) -> int:
    """How deep brackets nest outside strings, without parsing (so no recursion)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def validate(model: type[BaseModel], data: Any, root: str) -> Any:
    """`data` as `model`, or 400 naming the first bad field's path."""
    try:
        return model.model_validate(data)
    except ValidationError as failure:
        fault = first_fault(failure, root)
        raise BadField(fault.path, fault.expected, fault.found) from None
