"""`switchboard staffing`, `switchboard schedule` and `switchboard schedule check`."""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler import csvfiles, exports
from scheduler.checker import check
from scheduler.model import Requirement, Rules, ScheduleResult, Segment
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

    forecast = csvfiles.read_forecast(Path(args.forecast))
    if args.shrinkage != 0:
        _fraction("--shrinkage", args.shrinkage, 0, 1, open_high=True)
    aht = _duration("--aht", args.aht)
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
    if aht:
        filled = sum(1 for row in forecast if row.aht_s <= 0)
        print(
            f"--aht {aht.total_seconds():g} s used for {filled} rows without a handle time",
            file=sys.stderr,
        )
    print(f"{len(rows)} requirement rows ({model}) written to {args.out}", file=sys.stderr)
    return 0


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
    _check_outputs(args)
    requirements = csvfiles.read_requirements(Path(args.requirements))
    agents = csvfiles.read_agents(Path(args.agents))
    rules = _rules(args.rules)
    horizon = schedule_horizon(requirements, start, args.days)
    interval = horizon.interval
    check_grid(rules, interval, args.rules or "default rules")
    options = SolveOptions(
        time_limit_s=args.time_limit,
        workers=args.workers,
        seed=args.seed,
        best_effort=args.best_effort,
        on_progress=_progress,
    )
    print(
        f"solving {len(agents)} agents x {args.days} days, {args.workers} workers, "
        f"limit {args.time_limit:g} s",
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
    if report.status != NOT_SOLVED:
        print(
            f"solver {report.status}: {exports.solve_figures(report)}, {report.wall_s:.1f} s",
            file=sys.stderr,
        )
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
    return 2 if result.problems else 0


def _check(args: argparse.Namespace) -> int:
    segments = csvfiles.read_schedule(Path(args.schedule))
    agents = csvfiles.read_agents(Path(args.agents))
    rules = _rules(args.rules)
    queues = None
    if args.requirements:
        queues = {r.queue for r in csvfiles.read_requirements(Path(args.requirements))}
    start = None
    if args.start:
        try:
            start = date.fromisoformat(args.start)
        except ValueError:
            raise InputError(f"--start: expected a date YYYY-MM-DD, found {args.start!r}") from None
    violations = check(segments, agents, rules, queues, start, args.days)
    for violation in violations:
        print(violation)
    if args.requirements:
        requirements = csvfiles.read_requirements(Path(args.requirements))
        _coverage_summary(segments, requirements, start, args.days)
    print(
        f"{len(violations)} violation(s) in {len(segments)} segments of "
        f"{len({s.agent_id for s in segments})} agents",
        file=sys.stderr,
    )
    return 1 if violations else 0


def _coverage_summary(
    segments: list[Segment], requirements: list[Requirement], start: date | None, days: int | None
) -> None:
    """Under- and overstaffing per queue of a checked schedule (information, not violations),
    over the solve's horizon when `start` and `days` give it (requirements outside it were
    not asked of the schedule), else over the days the requirements span."""
    from scheduler.assign import coverage
    from scheduler.service import schedule_horizon

    if not requirements:
        return
    if start is None or days is None:
        first = min(r.interval_start for r in requirements).astimezone(UTC)
        last = max(r.interval_start for r in requirements).astimezone(UTC)
        start, days = first.date(), (last.date() - first.date()).days + 1
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
    schedule.add_argument("--workers", type=int, default=2, help="solver threads (default 2)")
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
        "--start", help="first day of the weeks, YYYY-MM-DD (default: first shift)"
    )
    checker.add_argument("--days", type=int, help="horizon length in days, as in the solve")
    checker.set_defaults(handler=_check)
