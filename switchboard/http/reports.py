"""Report figures over HTTP: the SLA report (cases' timers) and the IVR report (calls the
IVR answered), of a period as `switchboard report` reads it, in the reader's scope."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from router.access import REPORT_READERS, Principal, records_shown
from router.errors import InvalidInput
from router.reports.ivr import ivr_report
from router.reports.periods import PeriodRefused, report_period
from router.reports.sla import sla_report
from switchboard.common.clock import iso_utc, now_ms
from switchboard.http.api import API, Auth
from switchboard.http.base import REPORTS
from switchboard.http.cases import CASES
from switchboard.http.schemas import Query

_STAFF = {401: "", 403: ""}


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


@API.route(
    "GET",
    "/api/v1/reports/sla",
    "SLA figures of a period (from, to: a date, a whole day in tz, UTC by default, or a "
    "time with its UTC offset, as switchboard report takes them): FRT and next-response "
    "time per queue, attainment and breaches per policy, escalations by cause "
    "(supervisors: their queues; planners; admins)",
    auth=Auth.STAFF,
    roles=REPORT_READERS,
    query=ReportPeriod,
    responses={200: "the figures", **_STAFF, 400: "a bad from, to or tz, named"},
)
async def sla_figures(
    request: web.Request, principal: Principal, query: ReportPeriod
) -> web.Response:
    start, end = _period(query)
    records = records_shown(principal, await request.app[CASES].records(start))
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
    roles=REPORT_READERS,
    query=ReportPeriod,
    responses={200: "the figures", **_STAFF, 400: "a bad from, to or tz, named"},
)
async def ivr_figures(
    request: web.Request, principal: Principal, query: ReportPeriod
) -> web.Response:
    start, end = _period(query)
    records = records_shown(principal, await request.app[REPORTS].ivr_outcomes(start))
    report = ivr_report(records, start, end)
    return web.json_response(
        {"from": iso_utc(start), "to": iso_utc(end), **report.total.figures(report.stages)}
    )
