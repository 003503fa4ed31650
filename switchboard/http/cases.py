"""Cases over HTTP: open, list, read, change; a contact's case and emotion triggers; the
customer's follow-up answer; a live stream of case, SLA and emotion events for staff.
(The SLA report is `reports.py`'s, the webhooks' admin routes `webhooks.py`'s, the
wallboard's case alerts `switchboard/web/alerts.py`'s.)"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, StringConstraints

from router.access import (
    ACTING_STAFF,
    CUSTOMERS_ONLY,
    Actor,
    Principal,
    require_customer,
    require_may_see_cases,
    sees_case_event,
)
from router.cases.model import Case, CaseStatus
from router.cases.service import CaseChange, CaseFilter, CaseRequest, Cases, ListPlace
from switchboard.common.clock import iso_utc
from switchboard.common.ids import described
from switchboard.http.api import API, Auth
from switchboard.http.base import HUB
from switchboard.http.schemas import Flag, Id, Integer, Name, Prose, Query, Strict
from switchboard.http.streams import pump

CASES = web.AppKey("cases", Cases)

CaseId = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=64,
        pattern=described(r"^[0-9a-f]+$", "a case id: lowercase hex digits"),
    ),
]


class CasePath(Strict):
    """The case a path names: an id as the service makes them (a malformed one: 400)."""

    case: CaseId


Subject = Annotated[Prose, StringConstraints(min_length=1, max_length=300)]
# The live events a case stream carries.
STREAMED = frozenset(
    {"case_created", "case_updated", "sla_warning", "sla_breached", "contact_flagged"}
)


# -- request bodies and queries ------------------------------------------------------------


class CaseCustomer(Strict):
    id: Id
    tier: Name | None = None


class NewCase(Strict):
    subject: Subject
    customer: CaseCustomer | None = None
    queue: Name | None = None
    region: Name | None = None
    priority: Integer = Field(default=0, ge=0, le=9)
    owner: Id | None = None
    contact_id: Id | None = None


class CaseFromContact(Strict):
    subject: Subject
    queue: Name | None = None
    priority: Integer = Field(default=0, ge=0, le=9)


class CaseUpdate(Strict):
    subject: Subject | None = None
    priority: Integer | None = Field(default=None, ge=0, le=9)
    owner: Id | None = None
    queue: Name | None = None
    status: CaseStatus | None = None


class CaseNote(Strict):
    text: Annotated[Prose, StringConstraints(min_length=1, max_length=4000)]


class CaseWrapUp(Strict):
    codes: list[Name] = Field(min_length=1, max_length=20)


class LinkContact(Strict):
    contact_id: Id


class FollowUpAnswer(Strict):
    solved: Flag


# Where a page of the case list ended: `<created ms>.<case id>` (go on after that case),
# or `<created ms>` (go on with cases created before then).
Cursor = Annotated[
    str,
    StringConstraints(
        max_length=80,
        pattern=described(
            r"^[0-9]{1,15}(\.[0-9a-f]{1,64})?$", "where a page ended, as its next gives it"
        ),
    ),
]


class CaseQuery(Query):
    """Filters, newest first; `before`: the `next` of the page before."""

    status: CaseStatus | None = None
    queue: Name | None = None
    region: Name | None = None
    owner: Id | None = None
    customer: Id | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    before: Cursor | None = None


# -- views ---------------------------------------------------------------------------------


def case_json(case: Case, cases: Cases, *, full: bool = True) -> dict[str, Any]:
    """A case with its timers as they stand now; `full` adds notes and wrap-up codes."""
    body: dict[str, Any] = {
        "case_id": case.case_id,
        "customer": {"id": case.customer_id, "tier": case.customer_tier},
        "subject": case.subject,
        "queue": case.queue,
        "region": case.region,
        "status": case.status.value,
        "priority": case.priority,
        "owner": case.owner or None,
        "policy": case.policy or None,
        "source": case.source.value,
        "created_by": case.created_by,
        "created_at": iso_utc(case.created_ms),
        "updated_at": iso_utc(case.updated_ms),
        "contacts": list(case.contacts),
        "timers": [_timer_json(timer) for timer in cases.timer_status(case)],
        "close_due_at": iso_utc(case.close_due_ms) if case.close_due_ms else None,
        "solved_at": iso_utc(case.solved_ms) if case.solved_ms else None,
        "closed_at": iso_utc(case.closed_ms) if case.closed_ms else None,
    }
    if full:
        body["notes"] = [asdict(note) for note in case.notes]
        body["wrap_up_codes"] = list(case.wrap_up_codes)
    return body


def _timer_json(timer: Any) -> dict[str, Any]:
    return {
        "kind": timer.kind,
        "state": timer.state,
        "target_s": timer.target_s,
        "spent_s": timer.spent_s,
        "remaining_s": timer.remaining_s,
        "due_at": iso_utc(timer.due_ms) if timer.due_ms else None,
        "warned": timer.warned,
        "breached_at": iso_utc(timer.breached_ms) if timer.breached_ms else None,
        "started_at": iso_utc(timer.started_ms),
        "stopped_at": iso_utc(timer.stopped_ms) if timer.stopped_ms else None,
        "outcome": timer.outcome,
    }


_STAFF = {401: "", 403: ""}


# -- cases ---------------------------------------------------------------------------------


@API.route(
    "POST",
    "/api/v1/cases",
    "Open a case: an agent only with the contact_id of a contact they hold (its customer's; "
    "a customer.id given must be the contact's), a supervisor in their queues and regions, "
    "an admin anywhere; with contact_id, linked to that contact",
    auth=Auth.STAFF,
    roles=ACTING_STAFF,
    body=NewCase,
    idempotent=True,
    responses={
        201: "the case",
        **_STAFF,
        400: "a bad field (an owner who is no agent, a region the deployment does not "
        "have), or a customer.id that is not the contact's",
        404: "unknown contact",
        409: "contact has a case",
    },
)
async def create_case(request: web.Request, principal: Principal, body: NewCase) -> web.Response:
    cases = request.app[CASES]
    case = await cases.create(
        principal,
        CaseRequest(
            customer_id=body.customer.id if body.customer else "",
            customer_tier=(body.customer.tier if body.customer else None) or "standard",
            subject=body.subject,
            queue=body.queue or "",  # from a contact: the contact's
            region=body.region,
            priority=body.priority,
            owner=body.owner or "",
            contact_id=body.contact_id or "",
        ),
    )
    return web.json_response(case_json(case, cases), status=201)


@API.route(
    "GET",
    "/api/v1/cases",
    "Cases the caller may see, newest first, filtered (supervisors: their queues and "
    "regions; agents: those they own or whose contact they hold; never planners). "
    "`truncated`: more may follow; `next`: "
    "pass it as `before` for the next page (a page may be short, even empty, when few "
    "cases match: follow `next` until `truncated` is false)",
    auth=Auth.STAFF,
    roles=ACTING_STAFF,
    query=CaseQuery,
    responses={
        200: "cases, truncated and next",
        **_STAFF,
        400: "an unknown key, queue or region, or a bad before, named",
    },
)
async def list_cases(request: web.Request, principal: Principal, query: CaseQuery) -> web.Response:
    cases = request.app[CASES]
    wanted = CaseFilter(
        status=query.status,
        queue=query.queue,
        region=query.region,
        owner=query.owner,
        customer_id=query.customer,
        limit=query.limit,
        before=_place(query.before),
    )
    page = await cases.find_page(principal, wanted)
    return web.json_response(
        {
            "cases": [case_json(case, cases, full=False) for case in page.items],
            "truncated": page.next is not None,
            "next": _cursor(page.next),
        }
    )


def _place(cursor: str | None) -> ListPlace | None:
    """`before` as the service's place in the list: `<ms>.<case id>` or `<ms>`."""
    if cursor is None:
        return None
    at_ms, _, case_id = cursor.partition(".")
    return int(at_ms), case_id


def _cursor(place: ListPlace | None) -> str | None:
    if place is None:
        return None
    at_ms, case_id = place
    return f"{at_ms}.{case_id}" if case_id else str(at_ms)


@API.route(
    "GET",
    "/api/v1/cases/events",
    "WebSocket of case, SLA and emotion events of the cases the caller may see",
    auth=Auth.STAFF,
    websocket=True,
    responses={101: "switching to WebSocket", **_STAFF},
)
async def case_events(request: web.Request, principal: Principal) -> web.WebSocketResponse:
    require_may_see_cases(principal)
    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)
    async with request.app[HUB].listen() as events:
        visible: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def relay() -> None:
            while True:
                event = await events.get()
                if event.get("type") == "session_closed" or _visible(principal, event):
                    visible.put_nowait(event)

        relaying = asyncio.create_task(relay())
        try:
            await pump(socket, visible, request, principal)
        finally:
            relaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relaying
    return socket


def _visible(principal: Principal, event: dict[str, Any]) -> bool:
    """A case or emotion event the principal would be allowed to read the case of."""
    return event.get("type") in STREAMED and sees_case_event(principal, event)


@API.route(
    "GET",
    "/api/v1/cases/{case}",
    "A case: customer, status, priority, owner, contacts, notes, timers and its history",
    auth=Auth.STAFF,
    path_names=CasePath,
    responses={200: "the case", **_STAFF, 404: ""},
)
async def get_case(request: web.Request, principal: Principal) -> web.Response:
    cases = request.app[CASES]
    case, history = await cases.get_with_history(principal, request.match_info["case"])
    return web.json_response({**case_json(case, cases), "history": [asdict(h) for h in history]})


@API.route(
    "PATCH",
    "/api/v1/cases/{case}",
    "Change a case: subject, priority, owner, queue (one the caller may put a case in), "
    "status (open, pending_customer, solved, closed); a closed case changes no more",
    auth=Auth.STAFF,
    path_names=CasePath,
    roles=ACTING_STAFF,
    body=CaseUpdate,
    responses={200: "the case", **_STAFF, 404: "", 409: "the case is closed"},
)
async def change_case(request: web.Request, principal: Principal, body: CaseUpdate) -> web.Response:
    cases = request.app[CASES]
    change = CaseChange(
        subject=body.subject,
        priority=body.priority,
        owner=body.owner,
        queue=body.queue,
        status=body.status,
    )
    case = await cases.change(principal, request.match_info["case"], change)
    return web.json_response(case_json(case, cases))


@API.route(
    "POST",
    "/api/v1/cases/{case}/notes",
    "Add a note to a case (not to a closed one)",
    auth=Auth.STAFF,
    path_names=CasePath,
    roles=ACTING_STAFF,
    body=CaseNote,
    idempotent=True,
    responses={201: "the case", **_STAFF, 404: "", 409: "the case is closed"},
)
async def add_note(request: web.Request, principal: Principal, body: CaseNote) -> web.Response:
    cases = request.app[CASES]
    case = await cases.add_note(principal, request.match_info["case"], body.text)
    return web.json_response(case_json(case, cases), status=201)


@API.route(
    "POST",
    "/api/v1/cases/{case}/wrap-up",
    "Add wrap-up codes to a case: from its queue's list (`[[dispositions]]`) when it has one",
    auth=Auth.STAFF,
    path_names=CasePath,
    roles=ACTING_STAFF,
    body=CaseWrapUp,
    responses={200: "the case", **_STAFF, 404: "", 409: "the case is closed"},
)
async def wrap_up(request: web.Request, principal: Principal, body: CaseWrapUp) -> web.Response:
    cases = request.app[CASES]
    case = await cases.add_wrap_up(principal, request.match_info["case"], body.codes)
    return web.json_response(case_json(case, cases))


@API.route(
    "POST",
    "/api/v1/cases/{case}/contacts",
    "Link a contact to a case (any channel, any region)",
    auth=Auth.STAFF,
    path_names=CasePath,
    roles=ACTING_STAFF,
    body=LinkContact,
    responses={
        200: "the case",
        **_STAFF,
        404: "",
        409: "the contact has another case, or the case is closed",
    },
)
async def link_contact(
    request: web.Request, principal: Principal, body: LinkContact
) -> web.Response:
    cases = request.app[CASES]
    case = await cases.link(principal, request.match_info["case"], body.contact_id)
    return web.json_response(case_json(case, cases))


# -- a contact's case ----------------------------------------------------------------------


@API.route(
    "GET",
    "/api/v1/contacts/{contact_id}/case",
    "The contact's case with its SLA timers (null: none), and the emotion triggers "
    "recorded on the contact with the words that fired them",
    auth=Auth.STAFF,
    responses={200: "case and triggers", **_STAFF, 404: ""},
)
async def contact_case(request: web.Request, principal: Principal) -> web.Response:
    cases = request.app[CASES]
    contact_id = request.match_info["contact_id"]
    case = await cases.of_contact(principal, contact_id)
    triggers = await cases.triggers(principal, contact_id)
    return web.json_response(
        {"case": case_json(case, cases) if case else None, "triggers": triggers}
    )


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/case",
    "Open a case from a contact (its agent, or a supervisor of its queue); the contact is "
    "linked to it",
    auth=Auth.STAFF,
    roles=ACTING_STAFF,
    body=CaseFromContact,
    idempotent=True,
    responses={201: "the case", **_STAFF, 404: "", 409: "the contact has a case"},
)
async def case_from_contact(
    request: web.Request, principal: Principal, body: CaseFromContact
) -> web.Response:
    cases = request.app[CASES]
    case = await cases.create(
        principal,
        CaseRequest(
            customer_id="",  # the contact's
            subject=body.subject,
            queue=body.queue or "",  # the contact's
            priority=body.priority,
            contact_id=request.match_info["contact_id"],
        ),
    )
    return web.json_response(case_json(case, cases), status=201)


@API.route(
    "POST",
    "/api/v1/contacts/{contact_id}/case/confirm",
    "The customer answers the follow-up of a solved case: solved closes it, not solved "
    "reopens it (customer token)",
    auth=Auth.PARTY,
    roles=CUSTOMERS_ONLY,
    body=FollowUpAnswer,
    responses={200: "the case's status", 401: "", 403: "", 404: "", 409: "not solved"},
)
async def confirm(request: web.Request, actor: Actor, body: FollowUpAnswer) -> web.Response:
    customer = require_customer(actor)
    case = await request.app[CASES].confirm(customer, request.match_info["contact_id"], body.solved)
    return web.json_response({"case_id": case.case_id, "status": case.status.value})
