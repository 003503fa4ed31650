"""Disruption advisories over HTTP: declare one (warn, tell, staff), list, read, end (with
its all clear); and the wallboard's alerts for queues that need more agents before an
advisory's peak."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from aiohttp import web
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from router.access import OVERSEERS, Principal
from router.advisories.model import (
    ALL_CLEAR,
    WARNING,
    Advisory,
    AdvisoryRequest,
    Fallback,
    Outcomes,
    Staffing,
)
from router.advisories.service import Advisories
from switchboard.common.clock import iso_utc, now_ms
from switchboard.common.languages import canonical
from switchboard.http.api import API, Auth, json_body, validate
from switchboard.http.schemas import Id, LanguageTag, Moment, Name, Strict, Text

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


def _each_tag_once(messages: Any) -> Any:
    """Keys that are one tag spelled twice (`en` and `EN`, `pt_BR` and `pt-BR`: tags are
    case-insensitive) would keep one text and drop the other unseen: refused, naming
    both. Tags that differ (`pt-BR` and `pt-PT`, `zh-TW` and `zh`) are kept, each for
    its readers."""
    if isinstance(messages, dict):
        seen: dict[str, str] = {}
        for key in messages:
            tag = canonical(key) if isinstance(key, str) else key
            if tag in seen:
                raise ValueError(
                    f"each language tag once ({key!r} is the same tag as {seen[tag]!r})"
                )
            seen[tag] = key
    return messages


# language tag (as BCP 47 writes it: `pt-BR`, `zh-Hant-TW`) -> text
Messages = Annotated[
    dict[LanguageTag, MessageText],
    BeforeValidator(_each_tag_once),
    Field(min_length=1, max_length=50),
]
_STAFF = {401: "", 403: "not a supervisor or admin of the queue"}


class NewAdvisory(Strict):
    """A disruption: who is affected, what they are told, until when, what is expected."""

    queue: Name
    title: Title
    # a list of anonymous chats' ids alone reaches nobody: refused by the service
    customers: list[Id] = Field(min_length=1, max_length=MAX_CUSTOMERS)
    messages: Messages
    starts_at: Moment | None = None
    until: Moment
    # numbers as JSON numbers: "3" or true is a mistake, not a 3 or a 1
    priority_boost: int = Field(default=2, ge=0, le=9, strict=True)
    expected_contacts_per_hour: float | None = Field(
        default=None, gt=0, le=1_000_000, allow_inf_nan=False, strict=True
    )


class EndAdvisory(Strict):
    """An advisory ended early: what its passengers and chats are told (optional)."""

    # the all clear, as `messages` of a declaration; a language it leaves out: the
    # catalog's default in the reader's language
    messages: Messages | None = None


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


def deliveries_json(advisory: Advisory, event_type: str) -> dict[str, Any]:
    """How the webhooks delivered its events of `event_type`: in all, and per webhook."""
    total = advisory.delivered(event_type)
    return {
        "delivered": total.delivered,
        "failed": total.failed,
        "deliveries": {
            webhook: _outcomes_json(outcomes)
            for webhook, outcomes in advisory.deliveries.get(event_type, {}).items()
        },
    }


def _outcomes_json(outcomes: Outcomes) -> dict[str, int]:
    return {"delivered": outcomes.delivered, "failed": outcomes.failed}


def fallbacks_json(fallbacks: Mapping[str, Fallback]) -> dict[str, Any]:
    """Passengers told in another language than theirs: by their tag (`und`: not
    known), the tag of the message they were sent and how many."""
    return {tag: {"sent": row.sent, "passengers": row.passengers} for tag, row in fallbacks.items()}


def all_clear_json(advisory: Advisory) -> dict[str, Any] | None:
    """Its all clear, once ended early: the texts, whom it reached, how it was delivered."""
    if not advisory.ended_ms:
        return None
    return {
        "messages": advisory.cleared_messages,
        "notified": advisory.cleared,
        "in_chat": advisory.cleared_in_chat,
        "fallbacks": fallbacks_json(advisory.cleared_fallbacks),
        **deliveries_json(advisory, ALL_CLEAR),
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
        **deliveries_json(advisory, WARNING),
        "fallbacks": fallbacks_json(advisory.fallbacks),
        "in_chat": advisory.in_chat,
        "all_clear": all_clear_json(advisory),
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
    roles=OVERSEERS,
    body=NewAdvisory,
    idempotent=True,
    responses={
        201: "advisory_id, regions, warned, in_chat, staffing, and fallbacks: the passengers "
        "warned in another language than theirs, by their language tag ('und': not known), "
        'as {"zh-TW": {"sent": "en", "passengers": 2}} (sent: the tag of the message they '
        "got: English, else the first given)",
        **_STAFF,
    },
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
            "fallbacks": fallbacks_json(declared.advisory.fallbacks),
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
    "One advisory with the customers warned, how the webhooks delivered the warnings "
    "(delivered, failed: dead-lettered), the contacts boosted so far and its all clear "
    "(its queue's supervisors whose scope reaches every region it covers, admins)",
    auth=Auth.STAFF,
    responses={200: "the advisory", **_STAFF, 404: "no such advisory (or expired)"},
)
async def get_advisory(request: web.Request, principal: Principal) -> web.Response:
    advisory = await request.app[ADVISORIES].get(principal, request.match_info["advisory"])
    return web.json_response(advisory_json(advisory))


@API.route(
    "DELETE",
    "/api/v1/advisories/{advisory}",
    "End an advisory now: later contacts are no longer boosted, and the passengers it "
    "warned (webhook customer.advisory_ended) and the chats it told hear it is withdrawn, "
    "once; an optional JSON body {messages: {language tag: text}} gives the all clear "
    "(languages it leaves out get the default in each reader's language) (its queue's "
    "supervisors whose scope reaches every region it covers, admins)",
    auth=Auth.STAFF,
    roles=OVERSEERS,
    responses={
        200: "the advisory, ended, with its all_clear",
        400: "a bad body: the field named",
        **_STAFF,
        404: "no such advisory (or expired)",
    },
)
async def end_advisory(request: web.Request, principal: Principal) -> web.Response:
    body = await _end_body(request)
    advisory = await request.app[ADVISORIES].end(
        principal, request.match_info["advisory"], body.messages
    )
    return web.json_response(advisory_json(advisory))


async def _end_body(request: web.Request) -> EndAdvisory:
    """The optional body of an end: none, as a DELETE usually comes, is the default."""
    if not request.body_exists:
        return EndAdvisory()
    ended: EndAdvisory = validate(EndAdvisory, await json_body(request), "$")
    return ended


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
