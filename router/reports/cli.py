"""`switchboard report` and `switchboard privacy retain|audit`: reports and privacy chores."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import datetime as dt
import getpass
import io
import json
import re
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from router.cases.store import CaseStore
from router.model import Contact, QueueConfig
from router.reports.ivr import GROUPS as IVR_GROUPS
from router.reports.ivr import IvrReport, ivr_report, ivr_table
from router.reports.periods import (
    MAX_REPORT_ROWS,
    Period,
    PeriodRefused,
    interval_count,
    report_period,
)
from router.reports.report import (
    DIMENSIONS,
    Report,
    ReportOptions,
    Shift,
    build_report,
    contact_table,
    report_table,
)
from router.reports.service import ReportInputs, Reports
from router.reports.sla import sla_report, sla_tables
from router.reports.store import AuditPage
from router.store import RoutingStore
from switchboard.cli import CommandRegistry, add_config_flag
from switchboard.common.clock import now_ms
from switchboard.common.durations import duration_s
from switchboard.common.errors import InputError
from switchboard.common.ids import AUDIT_ENTRY_ID
from switchboard.services import services_for_command
from switchboard.settings import Settings, load_settings


def register(registry: CommandRegistry) -> None:
    report = registry.command(
        "report", "Service report from the contact records: CSV or HTML with plots."
    )
    report.add_argument("--from", dest="start", required=True, help="DATE or ISO time with offset")
    report.add_argument("--to", dest="end", required=True, help="DATE (inclusive) or ISO time")
    report.add_argument("--by", default="", help=f"comma list of {','.join(DIMENSIONS)}")
    report.add_argument("--format", choices=("csv", "html"), default="csv")
    report.add_argument("--out", type=Path, help="file to write (default: standard output)")
    report.add_argument("--interval", default="30m", help="interval length for --by interval")
    report.add_argument(
        "--repeat-window", default="24h", help="a repeat contact within it counts against FCR"
    )
    report.add_argument(
        "--tz", default="UTC", help="IANA time zone of dates and intervals (any letter case)"
    )
    report.add_argument(
        "--schedule", type=Path, help="schedule CSV (agent_id,start,end,activity) for occupancy"
    )
    report.add_argument(
        "--contacts", action="store_true", help="one CSV line per contact instead of figures"
    )
    report.add_argument(
        "--excel",
        action="store_true",
        help="CSV for Microsoft Excel: a UTF-8 byte-order mark first, so it reads • and accents",
    )
    report.add_argument(
        "--unmasked", action="store_true", help="with --contacts: customer ids in clear (audited)"
    )
    report.add_argument(
        "--sla",
        choices=("queue", "policy", "cause"),
        help="SLA figures from the cases instead: FRT and next-response time per queue, "
        "attainment and breaches per policy, or escalations by cause (CSV)",
    )
    report.add_argument(
        "--ivr",
        action="store_true",
        help="IVR figures instead: calls the IVR answered, routed, hung up by stage, closed "
        "and failed (CSV; --by region,interval)",
    )
    add_config_flag(report)
    report.set_defaults(handler=run_report)

    retain = registry.subcommand(
        "privacy", "retain", "Delete contact content older than N days, keeping the counts."
    )
    retain.add_argument("--days", type=float, required=True)
    add_config_flag(retain)
    retain.set_defaults(handler=run_retention)

    audit = registry.subcommand("privacy", "audit", "Print the audit log (who read what), JSON.")
    audit.add_argument("--last", type=int, default=100)
    audit.add_argument(
        "--before", default=None, help="the entries before this entry_id (older ones)"
    )
    add_config_flag(audit)
    audit.set_defaults(handler=print_audit)


# -- parsing -------------------------------------------------------------------------------


# `report_period`'s bounds by the flags that give them.
_FLAGS = {"from": "--from", "to": "--to", "tz": "--tz"}


def parse_period(args: argparse.Namespace) -> Period:
    """--from/--to/--tz as the HTTP reports read from/to/tz (`report_period`), or one
    line naming the flag."""
    try:
        return report_period(args.start, args.end, args.tz, now_ms=now_ms())
    except PeriodRefused as refused:
        if refused.read is not None:  # --to not after --from: say what each stood for
            read = refused.read
            raise InputError(
                f"--to: expected a date or time after --from, found --from "
                f"{_shown(args.start, read.start_ms, 'from', read.zone)} and --to "
                f"{_shown(args.end, read.end_ms, 'up to', read.zone)}"
            ) from None
        raise InputError(
            f"{_FLAGS[refused.bound]}: expected {refused.expected}, found {refused.found!r}"
        ) from None


def _shown(text: str, ms: int, word: str, zone: ZoneInfo) -> str:
    """A bound as given, and for a date the time it stands for in --tz."""
    if len(text.strip()) != 10:
        return repr(text)
    return f"{text!r} ({word} {dt.datetime.fromtimestamp(ms / 1000, zone).isoformat()})"


def parse_options(args: argparse.Namespace, settings: Settings) -> ReportOptions:
    by = tuple(name.strip() for name in args.by.split(",") if name.strip())
    for name in by:
        if name not in DIMENSIONS:
            raise InputError(f"--by: expected some of {','.join(DIMENSIONS)}, found {name!r}")
    interval_s = duration_s(args.interval, "--interval")
    window_s = duration_s(args.repeat_window, "--repeat-window")
    if interval_s <= 0 or 86_400 % interval_s:
        raise InputError(f"--interval: expected a divisor of a day, found {args.interval!r}")
    period = parse_period(args)
    start, end = period.start_ms, period.end_ms
    intervals = interval_count(start, end, interval_s)
    plotted = args.format == "html"  # the HTML plots are per interval
    if ("interval" in by or plotted) and intervals > MAX_REPORT_ROWS:
        raise InputError(
            f"--interval: {args.interval} from {args.start} to {args.end} is {intervals} "
            f"intervals, more than a report holds ({MAX_REPORT_ROWS}): choose a longer "
            "--interval or a shorter period"
        )
    return ReportOptions(
        start_ms=start,
        end_ms=end,
        by=by,
        interval_s=interval_s,
        repeat_window_s=window_s,
        timezone=period.zone.key,  # as the tz database spells it (`utc` is UTC)
        answer_within_s={queue.name: queue.answer_within_s for queue in settings.queues},
    )


async def live_queues(routing: RoutingStore, settings: Settings) -> dict[str, QueueConfig]:
    """The queues as the deployment defines them now (`queue_defs`: an admin's new or
    changed queue, as the wallboard judges it), else as the config file does (a Redis no
    node has published to, a queue an admin removed since)."""
    queues = {queue.name: queue for queue in settings.queues}
    queues.update({name: queue for name, (queue, _) in (await routing.queue_definitions()).items()})
    return queues


async def open_contacts(routing: RoutingStore) -> list[dict[str, str]]:
    """The contacts not ended yet (the live set), as records: what `open` counts. Read
    before the records, so one that ends meanwhile has its record and counts once."""
    ids = sorted(await routing.live_contacts())
    found: list[dict[str, str]] = []
    for start in range(0, len(ids), 200):
        batch = ids[start : start + 200]
        contacts = await asyncio.gather(*(routing.get_contact(i) for i in batch))
        found += [_as_record(c) for c in contacts if c is not None and not c.is_terminal]
    return found


def _as_record(contact: Contact) -> dict[str, str]:
    times = contact.timestamps
    return {
        "contact_id": contact.contact_id,
        "channel": contact.channel.value,
        "queue": contact.queue,
        "region": contact.region,
        "language": contact.language,  # so an open contact counts in its language's row
        "agent_id": contact.agent_id,
        "state": contact.state.value,
        **{name: str(times[name]) for name in ("arrived_at", "queued_at") if times.get(name)},
    }


def read_schedule(path: Path) -> list[Shift]:
    """The scheduler's export (DESIGN: agent_id,start,end,activity) as staffed shifts."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as failure:
        raise InputError(f"{path}: cannot read: {failure.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"agent_id", "start", "end", "activity"} - set(reader.fieldnames or [])
    if missing:
        raise InputError(f"{path}: row 1: header: missing column {sorted(missing)[0]}")
    shifts = []
    for number, row in enumerate(reader, start=2):
        times = []
        for name in ("start", "end"):
            try:
                moment = dt.datetime.fromisoformat(row[name])
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                raise InputError(
                    f"{path}: row {number}: field {name}: expected ISO 8601 time with offset, "
                    f"found {row[name]!r}"
                )
            times.append(int(moment.timestamp() * 1000))
        shifts.append(Shift(row["agent_id"], times[0], times[1], row["activity"]))
    return shifts


@contextlib.asynccontextmanager
async def reports_for_command(settings: Settings) -> AsyncIterator[Reports]:
    async with services_for_command(settings) as services:
        yield services.reports


async def contact_cases(
    reports: Reports, settings: Settings, records: Sequence[Mapping[str, str]]
) -> dict[str, str]:
    """Contact id -> the id of its case, for the `case_id` column of a contact list
    (`report --contacts`, `history export --contacts`)."""
    store = CaseStore(reports.store.client, settings.redis.key_prefix)
    ids = [record.get("contact_id", "") for record in records]
    return await store.cases_of_contacts([i for i in ids if i])


def run_report(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    options = parse_options(args, settings)
    if args.unmasked and not args.contacts:
        raise InputError("--unmasked: only with --contacts (figures carry no customer ids)")
    if args.contacts and args.format != "csv":
        raise InputError(f"--contacts: the contact list is CSV only, found --format {args.format}")
    if args.excel and args.format != "csv":
        raise InputError(f"--excel: only with CSV, found --format {args.format}")
    if args.ivr and (args.format != "csv" or args.contacts or args.sla):
        raise InputError("--ivr: the IVR figures are CSV, without --contacts or --sla")
    shifts = read_schedule(args.schedule) if args.schedule else None

    cases: dict[str, str] = {}
    case_records: list[dict[str, str]] = []
    queues: dict[str, QueueConfig] = {}
    still_open: list[dict[str, str]] = []
    ivr_records: list[dict[str, str]] = []

    async def read() -> ReportInputs:
        async with reports_for_command(settings) as reports:
            queues.update(await live_queues(reports.store.routing, settings))
            if args.ivr or args.format == "html":  # the HTML has an IVR section
                ivr_records.extend(await reports.ivr_outcomes(options.start_ms))
            if not (args.ivr or args.sla or args.contacts):
                still_open.extend(await open_contacts(reports.store.routing))
            inputs = await reports.inputs(options.start_ms)
            store = CaseStore(reports.store.client, settings.redis.key_prefix)
            if args.sla:
                case_records.extend(await store.records_since(options.start_ms))
            if args.contacts:
                cases.update(await contact_cases(reports, settings, inputs.records))
            await reports.audit(
                getpass.getuser(),
                "report.export",
                start=args.start,
                end=args.end,
                by=args.by,
                format=args.format,
                out=str(args.out or "stdout"),
                contacts=args.contacts,
                unmasked=args.unmasked,
                ivr=args.ivr,
            )
            return inputs

    inputs = asyncio.run(read())
    options = dataclasses.replace(
        options, answer_within_s={name: q.answer_within_s for name, q in queues.items()}
    )
    records, ratings, first = inputs.records, inputs.ratings, inputs.first_agent_message_ms
    if args.ivr:
        table = ivr_csv(ivr_records, options)
        _write(csv_text(table), args.out, f"{len(table) - 1} IVR rows", args.excel)
        return 0
    if args.sla:
        table = sla_tables(sla_report(case_records, options.start_ms, options.end_ms))[args.sla]
        _write(csv_text(table), args.out, f"{len(table) - 1} SLA rows by {args.sla}", args.excel)
        return 0
    if args.contacts:
        lines = contact_table(
            records,
            options,
            ratings=ratings,
            masked=not args.unmasked,
            wrap_ups=inputs.wrap_ups,
            cases=cases,
        )
        _write(csv_text(lines), args.out, f"{len(lines) - 1} contacts", args.excel)
        return 0
    try:
        report = build_report(
            records,
            options,
            ratings=ratings,
            first_agent_message_ms=first,
            shifts=shifts,
            wrap_ups=inputs.wrap_ups,
            open_contacts=still_open,
        )
    except ValueError as refused:  # an interval report too large to read
        raise InputError(f"--by {args.by}: {refused}") from None
    table = report_table(report)
    # parse_options bounded the period's intervals: the HTML's plots per interval fit
    text = (
        csv_text(table)
        if args.format == "csv"
        else render(report, inputs, shifts, args, queues, html_ivr(ivr_records, options))
    )
    _write(text, args.out, f"{len(table) - 1} report rows", args.excel)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def ivr_csv(records: Sequence[Mapping[str, str]], options: ReportOptions) -> list[list[str]]:
    """`--ivr`: the IVR's figures of the period, by --by's region and interval."""
    try:
        report = ivr_report(
            records,
            options.start_ms,
            options.end_ms,
            by=options.by,
            interval_s=options.interval_s,
            zone=ZoneInfo(options.timezone),
        )
    except ValueError as refused:
        raise InputError(f"--by: {refused}") from None
    return ivr_table(report)


def html_ivr(records: Sequence[Mapping[str, str]], options: ReportOptions) -> IvrReport:
    """The HTML report's IVR section: the same period, zone and interval, grouped by the
    report's --by as far as the IVR groups (region, interval; the rest is said there)."""
    return ivr_report(
        records,
        options.start_ms,
        options.end_ms,
        by=tuple(name for name in options.by if name in IVR_GROUPS),
        interval_s=options.interval_s,
        zone=ZoneInfo(options.timezone),
    )


# Cells a spreadsheet would run as a formula (OWASP, CSV injection): =, +, -, @, tab, CR.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs: one starting like a formula
    gets a leading apostrophe (OWASP's rule), unless it is a plain number (`-3.5`)."""
    text = "" if cell is None else str(cell)
    if not text.startswith(_FORMULA_STARTS) or _is_number(text):
        return text
    return "'" + text


def _is_number(text: str) -> bool:
    digits = text.removeprefix("-").replace(".", "", 1)
    return digits.isascii() and digits.isdigit()


def csv_text(table: Sequence[Sequence[object]]) -> str:
    """A report's table as CSV text (LF lines), each cell `spreadsheet_safe`: notes,
    customer ids, subjects and names are typed by people."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([spreadsheet_safe(cell) for cell in line] for line in table)
    return buffer.getvalue()


def _write(text: str, out: Path | None, what: str, excel: bool = False) -> None:
    """Plain UTF-8, as every other CSV the project writes and reads (`history export`,
    the scheduler's); `excel` puts a UTF-8 byte-order mark first, which Excel needs to
    read UTF-8 (`•` is `â€¢` without) and which a plain UTF-8 reader would take for part
    of the first column's name."""
    if excel:
        text = "\ufeff" + text
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as failure:
        raise InputError(f"{out}: cannot write: {failure.strerror}") from None
    print(f"wrote {what} to {out}", file=sys.stderr)


def render(
    report: Report,
    inputs: ReportInputs,
    shifts: list[Shift] | None,
    args: argparse.Namespace,
    queues: Mapping[str, QueueConfig],
    ivr: IvrReport | None = None,
) -> str:
    """The HTML report; its service level plot's target line is the strictest queue's;
    `ivr`, the IVR's calls of the period, in a section of their own."""
    from router.reports.html import render_html  # matplotlib only when HTML is asked for

    by_interval = build_report(
        inputs.records,
        ReportOptions(**{**report.options.__dict__, "by": ("interval",)}),
        ratings=inputs.ratings,
        first_agent_message_ms=inputs.first_agent_message_ms,
        shifts=shifts,
        wrap_ups=inputs.wrap_ups,
    )
    targets = [queue.service_level_target for queue in queues.values()]
    target = max(targets) if targets else None  # the strictest
    title = f"Service report {args.start} to {args.end}"
    return render_html(report, by_interval, title, target, ivr)


# -- privacy ---------------------------------------------------------------------------------


def run_retention(args: argparse.Namespace) -> int:
    if args.days <= 0:
        raise InputError(f"--days: expected a positive number of days, found {args.days}")
    settings = load_settings(args.config)

    async def retain() -> int:
        async with reports_for_command(settings) as reports:
            count = await reports.apply_retention(args.days)
            await reports.audit(getpass.getuser(), "privacy.retain", days=args.days, contacts=count)
            return count

    print(f"scrubbed {asyncio.run(retain())} contacts older than {args.days:g} days")
    return 0


def print_audit(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)

    async def read() -> AuditPage:
        async with reports_for_command(settings) as reports:
            return await reports.audit_page(args.last, args.before)

    if args.before is not None and not re.match(AUDIT_ENTRY_ID, args.before):
        raise InputError(f"--before: expected an entry_id such as 1796554075891-0: {args.before!r}")
    page = asyncio.run(read())
    for entry in page.entries:
        print(json.dumps(entry.__dict__, sort_keys=True))
    if page.next is not None:
        print(f"older entries remain: --before {page.next}", file=sys.stderr)
    return 0
