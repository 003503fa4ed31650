"""Disruption advisories over HTTP: declare one (warn, tell, staff), list, read, end; and
the wallboard's alerts for queues that need more agents before an advisory's peak."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, Field, StringConstraints

from router.access import Principal
from router.advisories.model import Advisory, AdvisoryRequest, Staffing
from router.advisories.service import Advisories
from switchboard.common.clock import iso_utc, now_ms
from switchboard.http.api import API, Auth
from switchboard.http.schemas import Id, Language, Moment, Name, Strict, Text

ADVISORIES = web.AppKey("advisories", Advisories)


def _not_blank(text: str) -> str:
    """A title or message of spaces alone says nothing to anyone."""
    if not text.strip():
        raise ValueError("text that is not only spaces")
    return text


Title = Annotated[Text, StringConstraints(min_length=1, max_length=200), AfterValidator(_not_blank)]
MessageText = Annotated[
    Text, StringConstraints(min_length=1, max_length=2000), AfterValidator(_not_blank)
]
MAX_CUSTOMERS = 10_000
_STAFF = {401: "", 403: "not a supervisor or admin of the queue"}


class NewAdvisory(Strict):
    """A disruption: who is affected, what they are told, until when, what is expected."""

    queue: Name
    title: Title
    # a list of anonymous chats' ids alone reaches nobody: refused by the service
    customers: list[Id] = Field(min_length=1, max_length=MAX_CUSTOMERS)
    messages: dict[Language, MessageText] = Field(min_length=1, max_length=50)
    starts_at: Moment | None = None
    until: Moment
    # numbers as JSON numbers: "3" or true is a mistake, not a 3 or a 1
    priority_boost: int = Field(default=2, ge=0, le=9, strict=True)
    expected_contacts_per_hour: float | None = Field(
        default=None, gt=0, le=1_000_000, allow_inf_nan=False, strict=True
    )


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def regions_json(advisory: Advisory) -> list[str] | None:
    """The regions it covers (its declarer's); null: every region."""
    return list(advisory.regions) or None


def staffing_json(staffing: Staffing | None) -> dict[str, Any] | None:
    if staffing is None:
        return None
    return {
        "agents_needed": staffing.agents_needed,
        "agents_signed_in": staffing.agents_signed_in,
        "agents_to_move": staffing.agents_to_move,
        "by": iso_utc(staffing.by_ms),
        "expected_contacts_per_hour": staffing.expected_contacts_per_hour,
        "average_handle_time_s": round(staffing.handle_s, 1),
    }


def advisory_json(advisory: Advisory) -> dict[str, Any]:
    return {
        "advisory_id": advisory.advisory_id,
        "queue": advisory.queue,
        "title": advisory.title,
        "state": advisory.state(now_ms()),
        "messages": advisory.messages,
        "starts_at": iso_utc(advisory.starts_ms),
        "until": iso_utc(advisory.until_ms),
        "ended_at": iso_utc(advisory.ended_ms) if advisory.ended_ms else None,
        "priority_boost": advisory.priority_boost,
        "regions": regions_json(advisory),
        "customers": advisory.customers,
        "warned": advisory.warned,
        "in_chat": advisory.in_chat,
        "contacts": advisory.contacts,
        "staffing": staffing_json(advisory.staffing),
        "created_by": advisory.created_by,
        "created_at": iso_utc(advisory.created_ms),
    }


@API.route(
    "POST",
    "/api/v1/advisories",
    "Declare a disruption advisory: warn its customers (webhook customer.advisory), tell "
    "those in a live chat, boost their new contacts, work out the agents the queue needs "
    "(supervisors and admins of the queue)",
    auth=Auth.STAFF,
    body=NewAdvisory,
    idempotent=True,
    responses={201: "advisory_id, regions, warned, in_chat, staffing", **_STAFF},
)
async def declare(request: web.Request, principal: Principal, body: NewAdvisory) -> web.Response:
    declared = await request.app[ADVISORIES].declare(
        principal,
        AdvisoryRequest(
            queue=body.queue,
            title=body.title,
            customers=tuple(body.customers),
            messages=dict(body.messages),
            until_ms=_ms(body.until),
            starts_ms=_ms(body.starts_at) if body.starts_at else None,
            priority_boost=body.priority_boost,
            expected_contacts_per_hour=body.expected_contacts_per_hour,
        ),
    )
    return web.json_response(
        {
            "advisory_id": declared.advisory.advisory_id,
            "regions": regions_json(declared.advisory),
            "warned": declared.warned,
            "in_chat": declared.in_chat,
            "staffing": staffing_json(declared.advisory.staffing),
        },
        status=201,
    )


@API.route(
    "GET",
    "/api/v1/advisories",
    "Advisories the caller may read (of the queues they oversee, covering only regions of "
    "their scope), live first (until they expire)",
    auth=Auth.STAFF,
    responses={200: "advisories", **_STAFF},
)
async def list_advisories(request: web.Request, principal: Principal) -> web.Response:
    found = await request.app[ADVISORIES].running(principal)
    return web.json_response({"advisories": [advisory_json(a) for a in found]})


@API.route(
    "GET",
    "/api/v1/advisories/{advisory}",
    "One advisory with the customers warned and the contacts boosted so far (its queue's "
    "supervisors whose scope reaches every region it covers, admins)",
    auth=Auth.STAFF,
    responses={200: "the advisory", **_STAFF, 404: "no such advisory (or expired)"},
)
async def get_advisory(request: web.Request, principal: Principal) -> web.Response:
    advisory = await request.app[ADVISORIES].get(principal, request.match_info["advisory"])
    return web.json_response(advisory_json(advisory))


@API.route(
    "DELETE",
    "/api/v1/advisories/{advisory}",
    "End an advisory now: later contacts are no longer boosted (its queue's supervisors "
    "whose scope reaches every region it covers, admins)",
    auth=Auth.STAFF,
    responses={200: "the advisory, ended", **_STAFF, 404: "no such advisory (or expired)"},
)
async def end_advisory(request: web.Request, principal: Principal) -> web.Response:
    advisory = await request.app[ADVISORIES].end(principal, request.match_info["advisory"])
    return web.json_response(advisory_json(advisory))


# -- the wallboard's alerts ------------------------------------------------------------------


async def advisory_alerts(request: web.Request, principal: Principal) -> list[dict[str, Any]]:
    """Queues of the viewer's scope that need more agents signed in (in the advisory's
    regions) before an advisory's expected peak."""
    advisories = request.app.get(ADVISORIES)
    if advisories is None:
        return []
    found = []
    for alert in await advisories.staffing_alerts(principal):
        advisory, staffing = alert.advisory, alert.staffing
        where = f" ({', '.join(advisory.regions)})" if advisory.regions else ""
        short = alert.agents_short
        found.append(
            {
                "level": "warning",
                "kind": "advisory_staffing",
                "queue": advisory.queue,
                "regions": regions_json(advisory),
                "advisory_id": advisory.advisory_id,
                "message": f"{advisory.queue}{where}: {short} more "
                f"{'agent' if short == 1 else 'agents'} needed by "
                f"{iso_utc(staffing.by_ms)} for advisory '{advisory.title}' "
                f"({staffing.expected_contacts_per_hour:g} contacts/h expected: "
                f"{staffing.agents_needed} needed, {alert.agents_signed_in} signed in)",
            }
        )
    return found
