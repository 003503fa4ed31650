"""`switchboard staffing`, `switchboard schedule` and `switchboard schedule check`."""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler import csvfiles, exports, names
from scheduler.checker import check
from scheduler.model import ForecastRow, Requirement, Rules, ScheduleResult, Segment
from scheduler.rules import check_grid, load_rules
from scheduler.units import format_duration, parse_duration
from switchboard.cli import CommandRegistry
from switchboard.common.errors import InputError
from switchboard.common.textfiles import cannot

# OR-Tools (and pandas behind it) load in about half a second: the modules that need
# it are imported inside the handlers, so that `switchboard serve` and every other
# command do not pay for it.


def _duration(flag: str, text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        value = parse_duration(text)
    except ValueError as error:
        raise InputError(f"{flag}: {error}") from None
    if value <= timedelta(0):
        raise InputError(f"{flag}: expected a positive duration, found {text!r}")
    return value


def _fraction(flag: str, value: float, low: float, high: float, open_high: bool = False) -> float:
    if not low < value <= high or (open_high and value >= high):
        bound = f"< {high:g}" if open_high else f"<= {high:g}"
        raise InputError(f"{flag}: expected a number > {low:g} and {bound}, found {value:g}")
    return value


def _staffing(args: argparse.Namespace) -> int:
    from scheduler.service import make_requirements

    forecast = csvfiles.read_forecast(Path(args.forecast), args.volume)
    if args.shrinkage != 0:
        _fraction("--shrinkage", args.shrinkage, 0, 1, open_high=True)
    aht = _duration("--aht", args.aht)
    if aht is not None and aht.total_seconds() > csvfiles.MAX_AHT_S:
        raise InputError(
            f"--aht: expected at most {csvfiles.MAX_AHT_S:.0f} seconds (a day), found {args.aht!r}"
        )
    rows = make_requirements(
        forecast,
        service_level=_fraction("--service-level", args.service_level, 0, 1),
        answer_within=_duration("--answer-within", args.answer_within) or timedelta(seconds=20),
        patience=_duration("--patience", args.patience),
        shrinkage=args.shrinkage,
        max_occupancy=_fraction("--max-occupancy", args.max_occupancy, 0, 1),
        interval=_duration("--interval", args.interval),
        aht_s=aht.total_seconds() if aht else None,
        source=args.forecast,
    )
    csvfiles.write_requirements(Path(args.out), rows)
    model = "Erlang A" if args.patience else "Erlang C"
    if args.volume != "mean":
        _say_volume(forecast, csvfiles.VOLUMES[args.volume])
        model += f", volume {args.volume}"
    if aht:
        filled = sum(1 for row in forecast if row.aht_s <= 0)
        print(
            f"--aht {aht.total_seconds():g} s used for {filled} rows without a handle time",
            file=sys.stderr,
        )
    print(f"{len(rows)} requirement rows ({model}) written to {args.out}", file=sys.stderr)
    return 0


def _say_volume(forecast: list[ForecastRow], column: str) -> None:
    """How many rows were staffed for the bound, and how many for the mean (the bound on
    its far side: an interval of whole contacts has `high` 0 for a mean of 0.32)."""
    kept = sum(1 for row in forecast if row.volume != column)
    side = "below" if column == "high" else "above"
    print(
        f"--volume {column}: {len(forecast) - kept} rows staffed for {column}, {kept} for "
        f"contacts (the mean) where {column} is {side} it",
        file=sys.stderr,
    )


def _rules(path: str | None) -> Rules:
    return load_rules(Path(path)) if path else Rules()


def _progress(wall: float, objective: float, bound: float) -> None:
    if not math.isfinite(bound):  # the first schedule comes before the bound
        print(f"  {wall:7.1f} s  best objective {objective:,.0f}  bound -", file=sys.stderr)
        return
    gap = abs(objective - bound) / max(1.0, abs(objective))
    print(
        f"  {wall:7.1f} s  best objective {objective:,.0f}  bound {bound:,.0f}  gap {gap:.2%}",
        file=sys.stderr,
    )


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse unwritable outputs before the solve, not after a minute of it."""
    for path in (args.out, args.coverage, args.report):
        if path is not None:
            csvfiles.check_writable(Path(path))
    if args.ics_dir is not None:
        exports.check_calendar_folder(Path(args.ics_dir))


def _write_report(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise cannot(path, "write", error) from None


@contextlib.contextmanager
def _ctrl_c_stops(stop: threading.Event) -> Iterator[None]:
    """While solving, the first Ctrl-C sets `stop` (the search ends with its best schedule,
    which is written as at the time limit); a second one aborts as Ctrl-C does elsewhere.
    Nothing is printed from the handler: a print there could land inside another."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (a caller running us in another)
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:  # None: a handler not set from Python, which Python cannot set back
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _workers(value: int) -> int:
    from scheduler.solver import worker_count

    try:
        return worker_count(value)
    except ValueError as error:
        raise InputError(f"--workers: {error}") from None


def _schedule(args: argparse.Namespace) -> int:
    from scheduler.service import NOT_SOLVED, make_schedule, outside_horizon, schedule_horizon
    from scheduler.solver import SolveOptions

    missing = [
        flag
        for flag, value in (
            ("--requirements", args.requirements),
            ("--agents", args.agents),
            ("--start", args.start),
            ("--days", args.days),
            ("--out", args.out),
        )
        if value is None
    ]
    if missing:
        raise InputError(f"schedule: missing {', '.join(missing)} (or use `schedule check`)")
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        raise InputError(f"--start: expected a date YYYY-MM-DD, found {args.start!r}") from None
    if args.days < 1:
        raise InputError(f"--days: expected a whole number >= 1, found {args.days}")
    if not 0 <= args.time_limit < math.inf:  # 0: the first schedule, no search
        raise InputError(f"--time-limit: expected seconds >= 0, found {args.time_limit:g}")
    workers = _workers(args.workers)
    _check_outputs(args)
    requirements = csvfiles.read_requirements(Path(args.requirements))
    agents = csvfiles.read_agents(Path(args.agents))
    rules = _rules(args.rules)
    horizon = schedule_horizon(requirements, start, args.days)
    interval = horizon.interval
    check_grid(rules, interval, args.rules or "default rules")
    queues = sorted({r.queue for r in requirements})
    for line in [
        *names.unknown_agents(agents, rules, args.rules or "rules", args.agents),
        *names.unused_skills(agents, queues, rules, args.agents),
    ]:
        print(f"warning: {line}", file=sys.stderr)
    stop = threading.Event()
    options = SolveOptions(
        time_limit_s=args.time_limit,
        workers=workers,
        seed=args.seed,
        best_effort=args.best_effort,
        on_progress=_progress,
        stop=stop,
    )
    cores = " (one per core)" if args.workers == 0 else ""
    print(
        f"solving {len(agents)} agents x {args.days} days, "
        f"{workers} worker{'' if workers == 1 else 's'}{cores}, limit {args.time_limit:g} s",
        file=sys.stderr,
    )
    if horizon.start.time() != datetime.min.time():
        print(
            f"grid: {format_duration(interval)} intervals from {horizon.start:%H:%M} UTC, "
            "as the requirements' rows",
            file=sys.stderr,
        )
    for line in outside_horizon(requirements, horizon):
        print(line, file=sys.stderr)
    began = time.monotonic()
    out = Path(args.out)

    def first(found: ScheduleResult) -> None:
        csvfiles.write_schedule(out, found.segments)
        print(
            f"first schedule written to {out} after {time.monotonic() - began:.1f} s "
            "(replaced by the final one)",
            file=sys.stderr,
        )

    with _ctrl_c_stops(stop):
        result = make_schedule(
            requirements,
            agents,
            rules,
            start,
            args.days,
            options,
            interval,
            on_first=first,
            stop_on_problems=True,
        )
    report = result.report
    if stop.is_set():
        written = (
            "the best schedule found so far is written, as at the time limit"
            if result.segments
            else "no schedule is written"
        )
        print(
            f"stopped by Ctrl-C after {time.monotonic() - began:.1f} s: {written}", file=sys.stderr
        )
    if report.status != NOT_SOLVED:
        print(
            f"solver {report.status}: {exports.solve_figures(report)}, {report.wall_s:.1f} s",
            file=sys.stderr,
        )
    if report.search:
        print(f"search: {report.search}", file=sys.stderr)
    for line in result.problems:
        print(f"cannot be met: {line}", file=sys.stderr)
    if result.problems and not args.best_effort:
        print("no schedule written; --best-effort writes the best schedule anyway", file=sys.stderr)
        return 2
    if result.segments or not result.problems:
        csvfiles.write_schedule(out, result.segments)
        if args.coverage:
            csvfiles.write_coverage(Path(args.coverage), result.coverage)
        if args.ics_dir:
            zones = {agent.agent_id: ZoneInfo(agent.timezone) for agent in agents}
            exports.write_calendars(Path(args.ics_dir), result.segments, datetime.now(UTC), zones)
        if args.report:
            page = exports.report_html(result.coverage, report, result.problems)
            _write_report(Path(args.report), page)
        for queue in sorted({row.queue for row in result.coverage}):
            rows = [r for r in result.coverage if r.queue == queue]
            under = sum(max(0.0, r.required - r.scheduled) for r in rows)
            over = sum(max(0.0, r.scheduled - r.required) for r in rows)
            print(f"  {queue}: under {under:g}, over {over:g} agent-intervals", file=sys.stderr)
        print(f"{len(result.segments)} segments written to {args.out}", file=sys.stderr)
    if stop.is_set():
        return 130  # as any command stopped by Ctrl-C, with what it has written said above
    return 2 if result.problems else 0


def _check(args: argparse.Namespace) -> int:
    segments = csvfiles.read_schedule(Path(args.schedule))
    agents = csvfiles.read_agents(Path(args.agents))
    rules = _rules(args.rules)
    for line in names.unknown_agents(agents, rules, args.rules or "rules", args.agents):
        print(f"warning: {line}", file=sys.stderr)
    requirements = csvfiles.read_requirements(Path(args.requirements)) if args.requirements else []
    queues = {r.queue for r in requirements} if args.requirements else None
    start = None
    if args.start:
        try:
            start = date.fromisoformat(args.start)
        except ValueError:
            raise InputError(f"--start: expected a date YYYY-MM-DD, found {args.start!r}") from None
    if args.days is not None and args.days < 1:
        raise InputError(f"--days: expected a whole number >= 1, found {args.days}")
    start, days = _check_horizon(segments, start, args.days)
    violations = check(segments, agents, rules, queues, start, days)
    for violation in violations:
        print(violation)
    if requirements:
        _coverage_summary(segments, requirements, start, days)
    print(
        f"{len(violations)} violation(s) in {len(segments)} segments of "
        f"{len({s.agent_id for s in segments})} agents",
        file=sys.stderr,
    )
    return 1 if violations else 0


def _check_horizon(
    segments: list[Segment], start: date | None, days: int | None
) -> tuple[date, int]:
    """The horizon the schedule was solved for: `--start` and `--days` when given, else as
    the solve's would be: shifts lie wholly inside its UTC days, so it starts on the UTC
    date of the first and ends on the UTC day of the last. The weeks of days off and weekly
    hours count from it, for every agent alike (each agent's own first and last shift made
    a partial week of a full one, pro rata: about 200 false violations on a clean week).
    Says what it took when it was not given."""
    if (start is not None and days is not None) or not segments:
        return start or date.today(), days or 1
    first = min(s.start for s in segments).astimezone(UTC)
    last = max(s.end for s in segments).astimezone(UTC)
    taken = []
    if start is None:
        start = first.date()
        taken.append(f"from {start} (the UTC date of the first shift)")
    if days is None:
        midnight = datetime.combine(start, datetime.min.time(), UTC)
        days = max(1, math.ceil((last - midnight) / timedelta(days=1)))
        taken.append(f"{days} day{'s' if days > 1 else ''} (to the UTC day of the last shift)")
    print(
        f"horizon: {' over '.join(taken)}; give --start and --days as in the solve to check "
        "another",
        file=sys.stderr,
    )
    return start, days


def _coverage_summary(
    segments: list[Segment], requirements: list[Requirement], start: date, days: int
) -> None:
    """Under- and overstaffing per queue of a checked schedule (information, not violations),
    over the solve's horizon (requirements outside it were not asked of the schedule)."""
    from scheduler.assign import coverage
    from scheduler.service import schedule_horizon

    horizon = schedule_horizon(requirements, start, days)
    rows = coverage(segments, requirements, horizon)
    for queue in sorted({row.queue for row in rows}):
        under = sum(max(0.0, r.required - r.scheduled) for r in rows if r.queue == queue)
        over = sum(max(0.0, r.scheduled - r.required) for r in rows if r.queue == queue)
        print(f"  {queue}: under {under:g}, over {over:g} agent-intervals", file=sys.stderr)


def register(registry: CommandRegistry) -> None:
    """Add `staffing`, `schedule` (solve) and `schedule check`."""
    staffing = registry.command(
        "staffing", "agents needed per interval and queue (Erlang C, or Erlang A with --patience)"
    )
    staffing.add_argument("--forecast", required=True, help="forecast CSV")
    staffing.add_argument("--service-level", type=float, required=True, help="e.g. 0.8")
    staffing.add_argument("--answer-within", required=True, help="target answer time, e.g. 20s")
    staffing.add_argument("--patience", help="mean caller patience (Erlang A), e.g. 60s")
    staffing.add_argument("--shrinkage", type=float, default=0.0, help="e.g. 0.3 (default 0)")
    staffing.add_argument("--max-occupancy", type=float, default=1.0, help="e.g. 0.85")
    staffing.add_argument(
        "--interval",
        help="interval length of a forecast of one interval (otherwise its rows' spacing)",
    )
    staffing.add_argument(
        "--aht",
        help="handle time in seconds (or 4m, 4m30s) where the forecast has none (aht_s 0 or empty)",
    )
    staffing.add_argument(
        "--volume",
        choices=tuple(csvfiles.VOLUMES),
        default="mean",
        help="contacts to staff for: the forecast's mean (contacts, the default) or a bound "
        "of its prediction interval (high: the busy side, never below the mean; low)",
    )
    staffing.add_argument("--out", required=True, help="requirements CSV to write")
    staffing.set_defaults(handler=_staffing)

    schedule = registry.command("schedule", "shift schedules from requirements (CP-SAT)")
    schedule.add_argument("--requirements", help="requirements CSV")
    schedule.add_argument("--agents", help="agents CSV")
    schedule.add_argument("--start", help="first day, YYYY-MM-DD (UTC midnight)")
    schedule.add_argument("--days", type=int, help="number of days")
    schedule.add_argument("--rules", help="rules TOML (see config/rules-example.toml)")
    schedule.add_argument("--out", help="schedule CSV to write")
    schedule.add_argument("--coverage", help="coverage CSV to write")
    schedule.add_argument("--ics-dir", help="directory for one .ics calendar per agent")
    schedule.add_argument("--report", help="HTML report with coverage plots")
    schedule.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    schedule.add_argument(
        "--workers",
        type=int,
        default=2,
        help="threads (default 2: the search on one core, the lower bound beside it on "
        "another; 1: the bound first, for a quarter of the time limit; 0: one per core)",
    )
    schedule.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    schedule.add_argument(
        "--best-effort",
        action="store_true",
        help="when rules cannot all be met, still write the best schedule (exit status 2)",
    )
    schedule.set_defaults(handler=_schedule)
    actions = schedule.add_subparsers(dest="schedule_command", metavar="SUBCOMMAND")
    actions.required = False
    checker = actions.add_parser(
        "check", help="list every rule a schedule breaks", description="verify a schedule"
    )
    checker.add_argument("--schedule", required=True, help="schedule CSV")
    checker.add_argument("--agents", required=True, help="agents CSV")
    checker.add_argument("--rules", help="rules TOML")
    checker.add_argument("--requirements", help="requirements CSV: activities must be its queues")
    checker.add_argument(
        "--start",
        help="first day of the solve's horizon, YYYY-MM-DD (default: the UTC date of the "
        "first shift)",
    )
    checker.add_argument(
        "--days",
        type=int,
        help="horizon length in days, as in the solve (default: to the UTC day of the last shift)",
    )
    checker.set_defaults(handler=_check)
