"""Cases over HTTP: open, list, read, change; a contact's case and emotion triggers; the
customer's follow-up answer; a live stream of case, SLA and emotion events for staff; the
SLA report; webhooks' backlog and dead letters for admins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, StringConstraints

from router.access import (
    ACTING_STAFF,
    ADMINS,
    CUSTOMERS_ONLY,
    Actor,
    Principal,
    require_customer,
    require_may_see_cases,
    sees_case_event,
)
from router.cases.model import Case, CaseStatus
from router.cases.service import CaseChange, CaseFilter, CaseRequest, Cases, ListPlace
from router.cases.webhooks import WebhookDelivery
from router.errors import InvalidInput, UnknownAgent, UnknownCase
from router.model import Role
from router.reports.ivr import ivr_report
from router.reports.periods import PeriodRefused, report_period
from router.reports.sla import sla_report
from switchboard.common.clock import iso_utc, now_ms
from switchboard.common.ids import described
from switchboard.http.api import API, Auth
from switchboard.http.base import HUB, REGIONS, REPORTS, ROUTER
from switchboard.http.schemas import Flag, Id, Integer, Name, Prose, Query, Strict
from switchboard.http.streams import pump

CASES = web.AppKey("cases", Cases)
WEBHOOKS = web.AppKey("webhooks", WebhookDelivery)

CaseId = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=64,
        pattern=described(r"^[0-9a-f]+$", "a case id: lowercase hex digits"),
    ),
]
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


class WrapUp(Strict):
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


class ReportPeriod(Query):
    """A query string: `from` and `to` as `switchboard report` takes them, a date (a
    whole day in `tz`, `to` inclusive) or a time with its UTC offset (`to` exclusive);
    `tz` an IANA zone (in any letter case: `utc`), UTC by default, as `--tz`."""

    start: str | None = Field(default=None, alias="from")  # required: see `_period`
    end: str | None = Field(default=None, alias="to")
    tz: str = "UTC"


def _echoed(text: str | None) -> str | None:
    """A refused query value as the answer echoes it: short and printable, else not."""
    return text if text is None or (len(text) <= 64 and text.isprintable()) else None


def _period(query: ReportPeriod) -> tuple[int, int]:
    """The period a report query asks for, in ms (to: now when not given), as
    `switchboard report` reads it (`report_period`), or 400 naming the field."""
    try:
        period = report_period(query.start, query.end, query.tz, now_ms=now_ms())
    except PeriodRefused as refused:
        found = _echoed(refused.found)
        raise InvalidInput(f"query.{refused.bound}", refused.expected, found) from None
    return period.start_ms, period.end_ms


class DeadLetterQuery(Query):
    """A query string."""

    last: int = Field(default=100, ge=1, le=10_000)


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
        400: "a bad field, or a customer.id that is not the contact's",
        404: "unknown contact or owner",
        409: "contact has a case",
    },
)
async def create_case(request: web.Request, principal: Principal, body: NewCase) -> web.Response:
    cases = request.app[CASES]
    if body.contact_id is None and body.customer is None:
        raise InvalidInput("$.customer", "the customer, or the contact_id the case is from", None)
    with _owner_named(body.owner):
        case = await cases.create(
            principal,
            CaseRequest(
                customer_id=body.customer.id if body.customer else "",
                customer_tier=(body.customer.tier if body.customer else None) or "standard",
                subject=body.subject,
                queue=body.queue or "",  # from a contact: the contact's
                region=_region(request, body.region),
                priority=body.priority,
                owner=body.owner or "",
                contact_id=body.contact_id or "",
            ),
        )
    return web.json_response(case_json(case, cases), status=201)


@contextlib.contextmanager
def _owner_named(owner: str | None) -> Iterator[None]:
    """An owner who is no agent is a bad field of the body (400 `$.owner`), not a
    missing resource: a 404 on `PATCH /cases/{id}` reads as "the case is gone". Checked
    where the service checks it, after the caller's access to the case."""
    try:
        yield
    except UnknownAgent as failure:
        if owner and str(failure) == owner:
            raise InvalidInput("$.owner", "the id of an agent", owner) from None
        raise


def _region(request: web.Request, region: str | None) -> str | None:
    names = request.app[REGIONS].names
    if region is not None and region not in names:
        raise InvalidInput("$.region", f"one of {', '.join(names)}", region)
    return region


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
        queue=_known_queue(request, query.queue),
        region=_known_region(request, query.region),
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


def _known_queue(request: web.Request, queue: str | None) -> str | None:
    """A filter on a queue that does not exist is a mistake, as opening a case there is."""
    queues = request.app[ROUTER].queues
    if queue is not None and queue not in queues:
        raise InvalidInput("query.queue", f"one of {', '.join(queues)}", queue)
    return queue


def _known_region(request: web.Request, region: str | None) -> str | None:
    names = request.app[REGIONS].names
    if region is not None and region not in names:
        raise InvalidInput("query.region", f"one of {', '.join(names)}", region)
    return region


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
    responses={200: "the case", **_STAFF, 404: ""},
)
async def get_case(request: web.Request, principal: Principal) -> web.Response:
    cases = request.app[CASES]
    case_id = _case_id(request)
    case = await cases.get(principal, case_id)
    history = await cases.store.history(case_id)
    return web.json_response({**case_json(case, cases), "history": [asdict(h) for h in history]})


def _case_id(request: web.Request) -> str:
    case_id = request.match_info["case"]
    if len(case_id) > 64 or not all(c in "0123456789abcdef" for c in case_id):
        raise UnknownCase(case_id[:64])
    return case_id


@API.route(
    "PATCH",
    "/api/v1/cases/{case}",
    "Change a case: subject, priority, owner, queue (one the caller may put a case in), "
    "status (open, pending_customer, solved, closed); a closed case changes no more",
    auth=Auth.STAFF,
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
    with _owner_named(body.owner):
        case = await cases.change(principal, _case_id(request), change)
    return web.json_response(case_json(case, cases))


@API.route(
    "POST",
    "/api/v1/cases/{case}/notes",
    "Add a note to a case (not to a closed one)",
    auth=Auth.STAFF,
    roles=ACTING_STAFF,
    body=CaseNote,
    idempotent=True,
    responses={201: "the case", **_STAFF, 404: "", 409: "the case is closed"},
)
async def add_note(request: web.Request, principal: Principal, body: CaseNote) -> web.Response:
    cases = request.app[CASES]
    case = await cases.add_note(principal, _case_id(request), body.text)
    return web.json_response(case_json(case, cases), status=201)


@API.route(
    "POST",
    "/api/v1/cases/{case}/wrap-up",
    "Add wrap-up codes to a case: from its queue's list (`[[dispositions]]`) when it has one",
    auth=Auth.STAFF,
    roles=ACTING_STAFF,
    body=WrapUp,
    responses={200: "the case", **_STAFF, 404: "", 409: "the case is closed"},
)
async def wrap_up(request: web.Request, principal: Principal, body: WrapUp) -> web.Response:
    cases = request.app[CASES]
    case = await cases.add_wrap_up(principal, _case_id(request), body.codes)
    return web.json_response(case_json(case, cases))


@API.route(
    "POST",
    "/api/v1/cases/{case}/contacts",
    "Link a contact to a case (any channel, any region)",
    auth=Auth.STAFF,
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
    case = await cases.link(principal, _case_id(request), body.contact_id)
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


# -- reports and webhooks --------------------------------------------------------------------


@API.route(
    "GET",
    "/api/v1/reports/sla",
    "SLA figures of a period (from, to: a date, a whole day in tz, UTC by default, or a "
    "time with its UTC offset, as switchboard report takes them): FRT and next-response "
    "time per queue, attainment and breaches per policy, escalations by cause "
    "(supervisors: their queues; planners; admins)",
    auth=Auth.STAFF,
    roles=(Role.SUPERVISOR, Role.PLANNER, Role.ADMIN),
    query=ReportPeriod,
    responses={200: "the figures", **_STAFF, 400: "a bad from, to or tz, named"},
)
async def sla_figures(
    request: web.Request, principal: Principal, query: ReportPeriod
) -> web.Response:
    start, end = _period(query)
    records = _covered(principal, await request.app[CASES].records(start))
    report = sla_report(records, start, end)
    return web.json_response(
        {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "queues": [{"queue": row.queue, **row.figures()} for row in report.queues],
            "policies": [{"policy": row.policy, **row.figures()} for row in report.policies],
            "escalations": report.causes,
        }
    )


@API.route(
    "GET",
    "/api/v1/reports/ivr",
    "IVR figures of a period (from, to, tz as the SLA report takes them): calls the IVR "
    "answered in it, routed into queues, hung up by stage, closed (the closed-hours "
    "message, then hung up on) and failed; routed + hung_up + closed + failed = answered "
    "(supervisors: the calls of their queues and regions; planners; admins)",
    auth=Auth.STAFF,
    roles=(Role.SUPERVISOR, Role.PLANNER, Role.ADMIN),
    query=ReportPeriod,
    responses={200: "the figures", **_STAFF, 400: "a bad from, to or tz, named"},
)
async def ivr_figures(
    request: web.Request, principal: Principal, query: ReportPeriod
) -> web.Response:
    start, end = _period(query)
    records = _covered(principal, await request.app[REPORTS].ivr_outcomes(start))
    report = ivr_report(records, start, end)
    return web.json_response(
        {"from": iso_utc(start), "to": iso_utc(end), **report.total.figures(report.stages)}
    )


def _covered(principal: Principal, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of a report `principal` may read: their queue and region in its scope."""
    return [
        record
        for record in records
        if principal.covers(record.get("queue", ""), record.get("region", ""))
    ]


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
    delivery, name = _webhook(request)
    letters = await delivery.dead_letters(name, query.last)
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
    delivery, name = _webhook(request)
    delivery_id = request.match_info["delivery"]
    if not await delivery.redeliver(name, delivery_id):
        raise web.HTTPNotFound(reason=f"no dead letter {delivery_id[:64]!r} in {name[:64]!r}")
    return web.json_response({"webhook": name, "id": delivery_id}, status=202)


# -- the wallboard's alerts ------------------------------------------------------------------

BREACHES_SHOWN = 200
FLAGGED_SHOWN = 100


async def case_alerts(request: web.Request, principal: Principal) -> list[dict[str, Any]]:
    """Alerts for the wallboard: cases whose SLA target passed unanswered, and chats whose
    customer's words triggered an emotion escalation, in the viewer's scope (the service
    reads past others' until it has its limit of the viewer's, and says when more are left
    out: one more alert says so)."""
    cases = request.app.get(CASES)
    if cases is None:
        return []
    found = []
    breached = await cases.breached_for(principal, BREACHES_SHOWN)
    for case in breached.items:
        late = [t.kind.replace("_", " ") for t in cases.timer_status(case) if t.breached_ms]
        found.append(
            {
                "level": "critical",
                "kind": "sla_breach",
                "queue": case.queue,
                "case_id": case.case_id,
                "message": f"{case.queue}: case {case.case_id[:8]} passed its "
                f"{' and '.join(late)} target ({case.region}, priority {case.priority})",
            }
        )
    if breached.truncated:
        found.append(
            {
                "level": "critical",
                "kind": "sla_breach_more",
                "message": f"more cases passed their targets than the {len(breached.items)} "
                "latest listed here",
            }
        )
    upset = await cases.upset_for(principal, FLAGGED_SHOWN)
    for chat in upset.items:
        contact = chat.contact
        words = ", ".join(dict.fromkeys(w for t in chat.triggers for w in t.get("words", [])))
        found.append(
            {
                "level": "warning",
                "kind": "emotion",
                "queue": contact.queue,
                "contact_id": contact.contact_id,
                "message": f"{contact.queue}: upset customer in chat {contact.contact_id[:8]} "
                f"({contact.state.value}; {words or 'low sentiment'})",
            }
        )
    if upset.truncated:
        found.append(
            {
                "level": "warning",
                "kind": "emotion_more",
                "message": "more customers are upset in live chats than the "
                f"{len(upset.items)} latest listed here",
            }
        )
    return found


def _webhook(request: web.Request) -> tuple[WebhookDelivery, str]:
    """The delivery and the path's webhook (its routes are for admins: `roles`; 404 for a
    name the configuration does not have)."""
    name = request.match_info["webhook"]
    delivery = request.app[WEBHOOKS]
    if name not in delivery.names():
        raise web.HTTPNotFound(reason=f"no such webhook {name[:64]!r}")
    return delivery, name
