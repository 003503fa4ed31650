"""`switchboard` subcommands of the forecasting package.

- `history import --format anonymous-bank|asterisk-queue-log|calls-csv FILE --interval 30m
  [--timezone Area/City] --out history.csv`
- `forecast --history FILE --start ISO --horizon DURATION [--interval 30m] --out FILE
  [--events FILE] [--region NAME] [--holidays CC[-SUBDIV]|none] [--config FILE]
  [--timezone ZONE|QUEUE=ZONE,...] [--peaks p90|CAPACITY] [--peaks-out FILE]`
- `forecast backtest --history FILE [--history FILE ...] [--interval 30m] [--weeks 4]
  [--holidays ...] [--json] [--plot week.png]`

`forecast` is a command and `forecast backtest` a mode of it: argparse cannot hold a
command that is also a group, so the word `backtest` in place of the options selects it.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import math
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from forecasting import asterisk, bank, calls_csv, clocks, csvtext, files, service, zones
from forecasting.calls import Imported
from forecasting.model import ALLOWED_WIDTHS, Event, History
from switchboard.cli import CommandRegistry
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.configfile import ConfigReader
from switchboard.common.durations import duration_arg
from switchboard.common.errors import InputError
from switchboard.common.hours import timezone_named

NO_HOLIDAYS = "none"
# The longest --horizon, and the longest gap from the history's end to --start (the days
# between are forecast too): a year, a leap year's too. A staffing plan looks weeks ahead,
# a budget a year; further out a forecast is no more than last year's shape.
MAX_HORIZON = timedelta(days=366)

Importer = Callable[[Path, int, ZoneInfo | None], Imported]
# --format -> (reader, what it reads)
FORMATS: dict[str, tuple[Importer, str]] = {
    "anonymous-bank": (bank.read, "Technion call-center TSV"),
    "asterisk-queue-log": (asterisk.read, "Asterisk queue_log file"),
    "calls-csv": (calls_csv.read, "one row per call: arrived_at,queue[,handle_s,outcome]"),
}


def register(registry: CommandRegistry) -> None:
    """Add `history import` and `forecast` (with its `backtest` mode)."""
    imp = registry.subcommand("history", "import", "Turn per-contact records into history CSV")
    imp.add_argument("file", type=Path, help="records to import")
    imp.add_argument(
        "--format",
        required=True,
        choices=list(FORMATS),
        help="record format: "
        + "; ".join(f"{name}: {what}" for name, (_, what) in FORMATS.items()),
    )
    imp.add_argument(
        "--interval",
        default="30m",
        help="interval width: " + ", ".join(f"{w}m" for w in ALLOWED_WIDTHS),
    )
    imp.add_argument(
        "--timezone",
        metavar="AREA/CITY",
        help="IANA zone of the centre, whose wall clock the intervals follow (default: "
        f"anonymous-bank {bank.DEFAULT_TIMEZONE}; asterisk-queue-log {asterisk.DEFAULT_TIMEZONE}; "
        "calls-csv the offset each arrived_at carries)",
    )
    imp.add_argument("--out", required=True, type=Path, help="history CSV to write")
    imp.set_defaults(handler=_import)

    fc = registry.command(
        "forecast",
        "Forecast contacts and AHT per interval (or `forecast backtest --history FILE`)",
    )
    fc.add_argument(
        "mode",
        nargs="?",
        choices=["backtest"],
        help="`backtest`: rolling-origin evaluation against two baselines",
    )
    fc.add_argument(
        "--history",
        required=True,
        type=Path,
        action="append",
        help="history CSV (backtest: may be repeated, one report per history)",
    )
    fc.add_argument("--start", help="first interval, ISO 8601 with offset (forecast)")
    fc.add_argument("--horizon", help="how far: 6h, 7d, 1w (forecast)")
    fc.add_argument("--interval", help="interval width (default: the history's)")
    fc.add_argument("--out", type=Path, help="forecast CSV to write (forecast)")
    fc.add_argument("--events", type=Path, help="events CSV: start,end,region,queue,kind,factor")
    fc.add_argument("--region", help="region of this history (selects events, holidays)")
    fc.add_argument(
        "--holidays",
        help="public holidays: a country (US) or country-subdivision (US-NY); 'none' turns "
        "them off (default: the region's `holidays` in --config, else inferred from the "
        "weekdays history shows closed)",
    )
    fc.add_argument(
        "--config", type=Path, help="node config: the --region's `holidays` key is used"
    )
    fc.add_argument(
        "--timezone",
        metavar="ZONE|QUEUE=ZONE,...",
        help="the center's IANA zone: history times are read on its clock (an export in "
        "UTC) and forecast offsets follow it; or a zone per queue, with a bare zone for the "
        "rest (emea_en=Europe/London,americas_es=America/Mexico_City,UTC) (default: the "
        "history's offsets, or on a UTC export the zones each queue's hours step with)",
    )
    fc.add_argument(
        "--history-timezone",
        help="the IANA zone (UTC for most cloud exports) of history times written without "
        "an offset (default: --timezone's); the center's zone is then found from its hours "
        "as for times with offsets, unless --timezone gives it",
    )
    fc.add_argument(
        "--peaks",
        nargs="?",
        const="p90",
        help="flag peaks: pNN (percentile of recent volume, default p90) or a "
        "capacity in contacts per interval",
    )
    fc.add_argument(
        "--peaks-out", type=Path, help="write flagged peaks to this CSV (implies --peaks)"
    )
    fc.add_argument(
        "--alert-probability",
        type=float,
        help="flag a peak when P(contacts > threshold) reaches this (default: calibrated "
        "to catch 90 %% of held-out peaks; implies --peaks)",
    )
    fc.add_argument("--weeks", type=int, default=4, help="backtest: weeks of targets (default 4)")
    fc.add_argument("--json", action="store_true", help="backtest: last line is JSON")
    fc.add_argument("--plot", type=Path, help="backtest: PNG of actual vs forecast for a week")
    fc.add_argument("--plot-week", help="backtest: first day of the plotted week (YYYY-MM-DD)")
    fc.set_defaults(handler=_forecast)


def _width(text: str | None, flag: str = "--interval") -> int | None:
    if text is None:
        return None
    span = duration_arg(text, flag)
    minutes = int(span.total_seconds() // 60)
    if span.total_seconds() % 60 or 1440 % minutes:
        raise InputError(
            f"{flag}: expected whole minutes that divide a day (such as 15m, 30m, 45m, 1h, "
            f"12h or 1d), found {text!r}"
        )
    return minutes


def _written_on(args: argparse.Namespace) -> ZoneInfo | None:
    """The zone of history times without offset (`--history-timezone`), if given."""
    name = args.history_timezone
    return _zone(name, "--history-timezone") if name else None


def _zone(name: str, flag: str) -> ZoneInfo:
    """The zone a planner typed, in any letter case, as the reports read theirs."""
    try:
        return timezone_named(name)
    except ValueError as unknown:
        raise InputError(f"{flag}: {unknown}") from None


def history_width(text: str, flag: str = "--interval") -> int:
    """The minutes of a history's intervals: one of the widths the forecaster reads back
    on its own grid (`forecasting.model.ALLOWED_WIDTHS`), for `history import` and
    `history export` alike."""
    seconds = duration_arg(text, flag).total_seconds()
    if seconds % 60 or int(seconds // 60) not in ALLOWED_WIDTHS:
        allowed = ", ".join(f"{w}m" for w in ALLOWED_WIDTHS)
        raise InputError(f"{flag}: expected one of {allowed}, found {text!r}")
    return int(seconds // 60)


def _import(args: argparse.Namespace) -> int:
    width = history_width(args.interval)
    zone = _zone(args.timezone, "--timezone") if args.timezone else None
    reader, _ = FORMATS[args.format]
    result = reader(args.file, width, zone)
    count = files.write_history(args.out, result.rows)
    print(
        f"{args.out}: {count} rows, {len({r.queue for r in result.rows})} queues, "
        f"{width}-minute intervals"
    )
    print(f"{args.file}: {result.calls} calls, {result.handled} handled with a handle time")
    for reason, lines in sorted(result.skipped.items()):
        print(f"skipped {lines} lines: {reason}")
    for note in result.notes:
        print(note)
    return 0


def _holidays(args: argparse.Namespace) -> tuple[HolidayCalendar | None, bool]:
    """(calendar, infer from history when None) from --holidays, else the config."""
    spec: str | None = args.holidays
    where = "--holidays"
    if spec is None and args.config is not None:
        if not args.region:
            raise InputError("--config: expected --region too (the region's holidays are used)")
        spec, where = _region_holidays(args.config, args.region)
    if spec is None:
        return None, True
    if spec.strip().lower() == NO_HOLIDAYS:
        return None, False
    try:
        return HolidayCalendar.parse(spec), False
    except InputError as error:
        raise InputError(f"{where}: {error}") from None


def _region_holidays(path: Path, region: str) -> tuple[str | None, str]:
    """The `holidays` of the [[regions]] named `region` (refused when none is)."""
    reader = ConfigReader.open(path)
    for index, section in enumerate(reader.sections("regions")):
        if section.string("name", "") == region:
            value = section.string("holidays", None)
            reader.faults.raise_if_any()
            return value, f"{path}: regions[{index}].holidays"
    raise InputError(f"--region: no [[regions]] named {region!r} in {path}")


def _forecast(args: argparse.Namespace) -> int:
    if args.mode == "backtest":
        return _backtest(args)
    for flag in ("start", "horizon", "out"):
        if getattr(args, flag) is None:
            raise InputError(f"--{flag}: required for a forecast")
    if len(args.history) > 1:
        raise InputError("--history: a forecast reads one history (several only for backtest)")
    if args.region and args.config is None and args.events is None:
        raise InputError(
            f"--region: expected --events (the region's events) or --config (its holidays) "
            f"with it, found --region {args.region!r} alone"
        )
    calendar, infer = _holidays(args)
    spec = clocks.parse(args.timezone)
    given = spec.default  # the clock of times written without offset (--start, events)
    parts = files.read_histories(args.history[0], spec, _written_on(args))
    histories = [history for _, history in parts]
    start, start_note = _start(args.start, given, histories)
    horizon = _horizon(args.horizon)
    for history in histories:
        local_start = start.astimezone(history.tz).replace(tzinfo=None)
        if local_start - history.end > MAX_HORIZON:  # the days between are forecast too
            raise InputError(
                f"--start: expected at most {MAX_HORIZON.days} days after the history's end "
                f"({history.end.isoformat(sep=' ')}), found {args.start!r}"
            )
    events = files.read_events(args.events, given, UTC) if args.events else []
    _check_event_regions(args, events)
    region_note = _region_note(args, events)
    switch_notes = []
    for group, history in parts:
        if group.how != clocks.GIVEN and isinstance(history.tz, timezone):  # one offset
            since = min(start, history.end.replace(tzinfo=history.tz))  # the weekend between
            switch_notes.append(zones.switch_note(history.tz, since, start + horizon))
    if args.peaks is None and (args.peaks_out or args.alert_probability is not None):
        args.peaks = "p90"  # asking for the peaks' file or their cut asks for peaks
    threshold, percentile = _peaks(args.peaks)
    with _naming(args.history[0]):
        result = service.forecast_on_clocks(
            histories,
            start,
            horizon,
            _width(args.interval),
            events,
            args.region,
            threshold,
            percentile,
            str(args.events),
            _probability(args.alert_probability),
            calendar,
            infer,
        )
    rows = [(row, history.tz, history.file_clock) for row, history in result.rows()]
    count = files.write_forecast_rows(args.out, rows)
    print(f"{args.out}: {count} rows, {result.width_min}-minute intervals")
    for note in (start_note, region_note):
        if note:
            print(note)
    several = len(parts) > 1
    notes = [group.note() for group, _ in parts] if several else []
    notes += [note for note in switch_notes if note]
    notes += [note for _, part in result.parts for note in part.notes]
    for note in dict.fromkeys(notes):  # each once: the queues of several clocks share some
        print(note)
    for history, part in result.parts:
        for day in part.closed_days:
            why = part.closed_why.get(day, "as the center was on past holidays")
            print(
                f"closed {day.isoformat()}{_of(history, several)} (holiday: {why}; an 'open' "
                "event opens it)"
            )
    for _, line in sorted(_model_lines(result)) if several else _model_lines(result):
        print(line)
    for history, part in result.parts:
        for kind, factor in sorted(part.uplift.items()):
            print(f"event {kind}: factor {factor:.2f}{_of(history, several)}")
    if args.peaks is not None:
        for peak, history in result.peaks():
            hours = peak.lead.total_seconds() / 3600
            print(
                f"peak alert {files.stamp(peak.interval_start, history.tz, history.file_clock)} "
                f"{peak.queue}: "
                f"forecast {peak.contacts:.1f}, P(> {peak.threshold:.0f}) = "
                f"{peak.probability:.2f}, lead {hours:.1f} h"
            )
        for history, part in result.parts:
            print(
                f"{len(part.peaks)} peak alerts{_of(history, several)}: intervals that may "
                f"exceed the threshold (alert when P(exceed) >= "
                f"{part.alert_probability_today:.2f} for the rest of today, >= "
                f"{part.alert_probability:.2f} for later days)"
            )
        if args.peaks_out:
            peaks = [(peak, history.tz, history.file_clock) for peak, history in result.peaks()]
            files.write_peak_rows(args.peaks_out, peaks)
    return 0


def _of(history: History, several: bool) -> str:
    """ " for queues a, b" when the queues are on several clocks, each forecast apart."""
    return f" for queues {', '.join(history.queues)}" if several else ""


def _model_lines(result: service.OnClocks) -> list[tuple[str, str]]:
    """(queue, `model choice QUEUE: …`) per queue."""
    lines = []
    for history, part in result.parts:
        weights = part.choice.get("weights")
        adopted = part.choice.get("cycles")
        trended = part.choice.get("shape_trend")
        if isinstance(weights, list) and isinstance(adopted, list) and isinstance(trended, list):
            for queue, (model, four, naive), names, trend in zip(
                history.queues, weights, adopted, trended, strict=True
            ):
                line = (
                    f"model choice {queue}: {model:.1f} model + {four:.1f} four-week mean + "
                    f"{naive:.1f} seasonal naive{_model_extras(names, trend)}"
                )
                lines.append((queue, line))
    return lines


def _start(text: str, given: tzinfo | None, histories: list[History]) -> tuple[datetime, str]:
    """`--start`, and a note when it had no offset: on `--timezone`'s clock, else on the
    history's (the zone its offsets name), said, since a planner writing local times for a
    history exported in UTC would be an hour or two off. Not refused: `--start 2025-10-13`
    is what a planner types, and the forecast says how it read it; unless the queues are
    on clocks that no one file's clock holds (zones given per queue)."""
    if given is not None:
        return csvtext.parse_time(text, "--start", given), ""
    try:
        return csvtext.parse_time(text, "--start"), ""
    except InputError:
        start = csvtext.parse_time(text, "--start", _naive_clock(text, histories))
    clock = zones.offset_text(start.utcoffset())
    return start, (
        f"note: --start {text} has no UTC offset: read on the history's clock "
        f"({start.isoformat()}, UTC{clock}); give one, or --timezone, if that is not the "
        "center's"
    )


def _naive_clock(text: str, histories: list[History]) -> tzinfo:
    """The clock a `--start` without offset is read on: the history's, or, for queues on
    several clocks, the file's one clock they are written on."""
    if len(histories) == 1:
        return histories[0].tz
    written = {history.file_clock or history.tz for history in histories}
    if len(written) == 1:
        return written.pop()
    shown = ", ".join(sorted(str(clock) for clock in written))
    raise InputError(
        f"--start: expected a time with a UTC offset: the queues are on several clocks "
        f"({shown}), found {text!r}"
    )


def _horizon(text: str) -> timedelta:
    """`--horizon`, at most `MAX_HORIZON`: `7000d` typed for `7d` would write millions of
    rows (274 years of them for `100000d`) before anyone noticed."""
    horizon = duration_arg(text, "--horizon")
    if horizon > MAX_HORIZON:
        raise InputError(
            f"--horizon: expected at most {MAX_HORIZON.days}d (a year), found {text!r}"
        )
    return horizon


def _check_event_regions(args: argparse.Namespace, events: list[Event]) -> None:
    """With --config, every region an event names is one of its [[regions]], as a queue
    an event names is one of the history's: a misspelt region would silently select
    nothing. Without it the names cannot be checked (`_region_note`)."""
    if args.config is None:
        return
    known = _config_regions(args.config)
    if args.region and args.region not in known:  # read here when --holidays was given
        raise InputError(f"--region: no [[regions]] named {args.region!r} in {args.config}")
    for event in events:
        if event.region is not None and event.region not in known:
            close = difflib.get_close_matches(event.region, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"{args.events}: row {event.row}: field region: unknown region "
                f"{event.region!r} (the [[regions]] of {args.config}: "
                f"{', '.join(sorted(known)) or 'none'}){hint}"
            )


def _config_regions(path: Path) -> list[str]:
    """The names of the [[regions]] of a node's configuration file."""
    reader = ConfigReader.open(path)
    names = [section.string("name", "") for section in reader.sections("regions")]
    return [name for name in names if isinstance(name, str) and name]


def _region_note(args: argparse.Namespace, events: list[Event]) -> str | None:
    """Without --config, --region is checked against the regions the events name: one
    none of them names (a typo, or a region with no events of its own) is said; without
    --region, that events naming a region apply all the same."""
    if args.config is not None:
        return None
    named = sorted({event.region for event in events if event.region})
    if not args.region:
        if not named:
            return None
        return (
            f"note: {args.events} names regions ({', '.join(named)}) but no --region was "
            "given: every event applies, whatever region it names (--region selects a "
            "region's events, --config checks the names against its [[regions]])"
        )
    if args.region in named:
        return None
    close = difflib.get_close_matches(args.region, named, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    regions = f"it names {', '.join(named)}" if named else "it names no region"
    return (
        f"note: --region {args.region}: no event of {args.events} is of it ({regions}{hint}): "
        "only the events of every region apply (--config checks the name against its "
        "[[regions]])"
    )


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """A fault of a history found while forecasting from it names its file, not the
    word "history" (several may be backtested in one run)."""
    try:
        yield
    except InputError as error:
        text = str(error)
        if text.startswith("history: "):
            raise InputError(f"{path}: {text.removeprefix('history: ')}") from None
        raise


def _model_extras(cycle_names: list[str], shape_trend: bool) -> str:
    """ " (model with the fortnight cycle and the shape's trend)", or "" without extras."""
    extras = []
    if cycle_names:
        plural = "s" if len(cycle_names) > 1 else ""
        extras.append(f"the {' and '.join(cycle_names)} cycle{plural}")
    if shape_trend:
        extras.append("the shape's trend")
    return f" (model with {' and '.join(extras)})" if extras else ""


def _probability(value: float | None) -> float | None:
    if value is not None and not 0 < value <= 1:
        raise InputError(f"--alert-probability: expected a number in (0, 1], found {value}")
    return value


def _peaks(text: str | None) -> tuple[float | None, float | None]:
    if text is None:
        return None, None
    value = text.strip().lower()
    try:
        if value.startswith("p"):
            percentile = float(value[1:])
            if 0 < percentile < 100:
                return None, percentile
        else:
            capacity = float(value)
            if capacity > 0:
                return capacity, None
    except ValueError:
        pass
    raise InputError(f"--peaks: expected pNN (a percentile) or a capacity > 0, found {text!r}")


def _backtest(args: argparse.Namespace) -> int:
    from forecasting import backtest

    if args.weeks < 1:
        raise InputError(f"--weeks: expected at least 1, found {args.weeks}")
    if args.plot and len(args.history) > 1:
        raise InputError("--plot: expected one --history")
    if args.region and args.config is None:  # a backtest reads no events
        raise InputError(
            f"--region: expected --config with it (whose [[regions]] holidays it selects), "
            f"found --region {args.region!r} alone"
        )
    calendar, infer = _holidays(args)
    width = _width(args.interval)
    spec = clocks.parse(args.timezone)
    summaries: dict[str, dict[str, object]] = {}
    # Every file read first: a bad one is refused before the others' long backtests.
    histories = []
    for path in args.history:
        parts = files.read_histories(path, spec, _written_on(args))
        if width is not None:
            parts = [(group, service.aggregate(history, width)) for group, history in parts]
        histories.append((path, parts))
    for path, parts in histories:
        with _naming(path):  # the queues of each clock one after another
            reports = [
                backtest.run(history, weeks=args.weeks, holidays=calendar, infer_holidays=infer)
                for _, history in parts
            ]
        report = reports[0] if len(reports) == 1 else backtest.merge(reports)
        if len(args.history) > 1:
            print(f"--- {path}")
        for group, _ in parts if len(parts) > 1 else []:
            print(group.note())
        for line in backtest.describe(report):
            print(line)
        summaries[str(path)] = report.summary()
        if args.plot:
            from forecasting import plot

            # the queues of one clock: those with the most contacts
            _, history = max(parts, key=lambda part: float(part[1].contacts.sum()))
            week = plot.plot_week(history, args.plot, args.plot_week, calendar, infer)
            drawn = f" (queues {', '.join(history.queues)})" if len(parts) > 1 else ""
            print(f"{args.plot}: week of {week}{drawn}")
    if args.json:
        if len(summaries) == 1:
            print(_json(next(iter(summaries.values()))))
        else:
            worst = max(float(str(s["ratio_to_best_baseline"])) for s in summaries.values())
            print(_json({"histories": summaries, "worst_ratio_to_best_baseline": worst}))
    sys.stdout.flush()
    return 0


def _json(figures: object) -> str:
    """Strict JSON: a figure that could not be measured (NaN: no intraday day scored, no
    peak) is null, which every parser reads."""

    def finite(value: object) -> object:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {key: finite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [finite(item) for item in value]
        return value

    return json.dumps(finite(figures), sort_keys=True, allow_nan=False)
