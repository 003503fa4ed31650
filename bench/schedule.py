"""Scheduling bench: 300 agents, 7 days, 30-minute intervals, 6 queues in 3 regions;
with --fit, planted instances of several sizes on a 15- or 30-minute grid.

Demand follows the Anonymous Bank's real arrival profile (February 1999, see
../shared/data/README.md or --data), by weekday and half hour, in each region's
local time; global queues add the three regions up in UTC ("follow the sun").
Requirements come from Erlang C (80 % in 20 s). The solved schedule is verified by
the independent checker. A second, single-queue instance is also solved by the
fixed-pattern model of the open anchor (pyworkforce: an integer count per daily
shift pattern, covering requirements at minimum cost, no breaks, no weekly rules)
and the two are printed side by side. With --planted the schedule's own coverage
becomes the requirements of a second solve, so that a schedule fitting them exactly
is known and the search's shortfall can be told apart from the bound's.

With --fit (bench/planted.py) the instance is drawn instead: every agent gets a random
week that keeps every rule of the class (15-minute grid, 6/8/9 h shifts, a paid
15-minute break and an unpaid lunch with windows; or --grid 30, the 30-minute class),
and the requirements are exactly its coverage, so a schedule with no shortfall and no
surplus is known to exist. The files are written as a planner would write them
(agents CSV, requirements CSV, rules TOML), `switchboard schedule` solves them as a
separate process, `switchboard schedule check` verifies the result, and under- and
overstaffing are reported against the requirements (the known fit has 0 and 0).

Run by hand:  .venv/bin/python bench/schedule.py [--time-limit 120] [--workers 2]
              .venv/bin/python bench/schedule.py --fit --agents 240 [--grid 15]
The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import planted as planting
from research.tours import tour_bound

from scheduler.assign import coverage
from scheduler.checker import check
from scheduler.csvfiles import read_schedule
from scheduler.improve import objective
from scheduler.model import (
    Agent,
    AgentWishes,
    BreakRule,
    CoverageRow,
    ForecastRow,
    QueueRule,
    Requirement,
    Rules,
    ScheduleResult,
    Segment,
)
from scheduler.patterns import Horizon, agent_patterns, start_times, team_patterns
from scheduler.problem import Problem
from scheduler.rules import load_rules
from scheduler.service import make_requirements, make_schedule, whole_needs
from scheduler.solver import SolveOptions
from scheduler.units import parse_duration

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
START = date(2024, 3, 4)  # a Monday; the US switches to summer time on Sunday 2024-03-10
DAYS = 7
INTERVAL = timedelta(minutes=30)
REGIONS = {  # region → (time zone, local language)
    "emea": ("Europe/Berlin", "de"),
    "amer": ("America/New_York", "es"),
    "apac": ("Asia/Kolkata", "hi"),
}
QUEUES = {  # queue → (skill, language, priority, home region or None for global, share)
    "billing_en": ("billing", "en", 2, None, 0.9),
    "support_en": ("support", "en", 1, None, 1.1),
    "sales_en": ("sales", "en", 3, None, 0.7),
    "billing_de": ("billing", "de", 2, "emea", 0.6),
    "sales_es": ("sales", "es", 3, "amer", 0.6),
    "support_hi": ("support", "hi", 1, "apac", 0.6),
}


def bank_profile(path: Path) -> tuple[dict[tuple[int, int], float], float]:
    """Mean arrivals per (weekday, half-hour of day) and the mean service time.

    The bank's week runs Sunday to Thursday with a short Friday and a quiet Saturday;
    it is moved one day on, so its Sunday becomes our Monday.
    """
    counts: dict[tuple[int, int], int] = defaultdict(int)
    days_seen: dict[int, set[str]] = defaultdict(set)
    service, served = 0.0, 0
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            day = datetime.strptime(row["date"], "%y%m%d").date()
            weekday = (day.weekday() + 1) % 7  # Sunday → Monday
            hour, minute, _ = (int(x) for x in row["vru_exit"].split(":"))
            counts[weekday, hour * 2 + minute // 30] += 1
            days_seen[weekday].add(row["date"])
            if row["outcome"] == "AGENT" and int(row["ser_time"]) > 0:
                service += int(row["ser_time"])
                served += 1
    profile = {key: count / len(days_seen[key[0]]) for key, count in counts.items()}
    return profile, service / served


def forecast(profile: dict[tuple[int, int], float], aht: float, scale: float) -> list[ForecastRow]:
    """Contacts per queue and UTC interval from the bank's profile in each region's local time."""
    horizon_start = datetime.combine(START, datetime.min.time(), UTC)
    rows = []
    for i in range(DAYS * 48):
        moment = horizon_start + i * INTERVAL
        local_volume = {}
        for region, (zone, _language) in REGIONS.items():
            local = moment.astimezone(ZoneInfo(zone))
            slot = local.hour * 2 + local.minute // 30
            # Opening hours 07:00-22:00 local; the evening before the first local day
            # would need shifts that start before the horizon, so it is left out.
            open_hours = 7 <= local.hour < 22 and local.date() >= START
            local_volume[region] = profile.get((local.weekday(), slot), 0.0) * open_hours
        for queue, (_skill, _language, _priority, home, share) in QUEUES.items():
            volume = local_volume[home] if home else sum(local_volume.values()) / 2
            rows.append(ForecastRow(moment, queue, round(volume * share * scale, 2), aht))
    return rows


def agents_and_rules(count: int, rng: random.Random) -> tuple[list[Agent], Rules]:
    agents = []
    wishes = {}
    skills = ("billing", "support", "sales")
    for n in range(count):
        region = list(REGIONS)[n % 3]
        zone, language = REGIONS[region]
        own = set(rng.sample(skills, rng.choice((1, 2, 2, 3))))
        languages = {"en"} | ({language} if rng.random() < 0.8 else set())
        agent_id = f"{region[:2].upper()}{n:03d}"
        agents.append(Agent(agent_id, region, zone, frozenset(own), frozenset(languages), 24, 40))
        if rng.random() < 0.15:
            wishes[agent_id] = AgentWishes(prefer=rng.choice(("early", "late")))
        elif rng.random() < 0.05:
            wishes[agent_id] = AgentWishes(
                unavailable=frozenset({START + timedelta(days=rng.randrange(DAYS))})
            )
    rules = _rules(wishes)
    return agents, rules


SHIFT_LENGTHS: tuple[timedelta, ...] = (timedelta(hours=8), timedelta(hours=6))
START_EVERY = timedelta(hours=1)


def _rules(wishes: dict[str, AgentWishes], queues: dict[str, QueueRule] | None = None) -> Rules:
    from datetime import time as clock

    if queues is None:
        queues = {
            name: QueueRule(name, skill, language, priority)
            for name, (skill, language, priority, _home, _share) in QUEUES.items()
        }
    return Rules(
        shift_lengths=SHIFT_LENGTHS,
        start_granularity=START_EVERY,
        earliest_start=clock(6),
        latest_start=clock(16),
        min_rest=timedelta(hours=11),
        max_consecutive_days=5,
        days_off_per_week=2,
        max_hours_per_week=40,
        breaks=(
            BreakRule(
                "lunch", INTERVAL, timedelta(hours=3), timedelta(hours=4), timedelta(hours=6), False
            ),
        ),
        max_on_break=12,
        queues=queues,
        agents=wishes,
        cost_per_hour={"emea": 30, "amer": 35, "apac": 20},
    )


def scaled_requirements(
    profile: dict[tuple[int, int], float], aht: float, target: float
) -> list[Requirement]:
    """Requirements whose total is close to `target` agent-intervals (scale found by bisection)."""
    low, high = 0.1, 50.0
    rows: list[Requirement] = []
    for _ in range(12):
        scale = math.sqrt(low * high)
        rows = make_requirements(forecast(profile, aht, scale), 0.8, timedelta(seconds=20))
        total = sum(r.required for r in rows)
        if abs(total - target) / target < 0.02:
            break
        low, high = (scale, high) if total < target else (low, scale)
    return rows


def totals(coverage: list[CoverageRow]) -> tuple[dict[str, float], dict[str, float]]:
    under: dict[str, float] = defaultdict(float)
    over: dict[str, float] = defaultdict(float)
    for row in coverage:
        under[row.queue] += max(0.0, row.required - row.scheduled)
        over[row.queue] += max(0.0, row.scheduled - row.required)
    return dict(under), dict(over)


def queue_switches(segments: list[Segment]) -> int:
    """How often an agent goes straight from one queue to another (not through a break):
    what a published schedule asks agents to follow."""
    switches = 0
    by_agent: dict[str, list[Segment]] = defaultdict(list)
    for segment in segments:
        by_agent[segment.agent_id].append(segment)
    for rows in by_agent.values():
        rows.sort(key=lambda row: row.start)
        for before, after in itertools.pairwise(rows):
            queues = before.activity in QUEUES and after.activity in QUEUES
            switches += queues and before.end == after.start and before.activity != after.activity
    return switches


def anchor_fixed_patterns(
    requirements: list[Requirement], rules: Rules, zone: str, workers: int, limit: float
) -> tuple[float, float, float]:
    """pyworkforce's model: an integer count per daily shift pattern (start, length), no breaks.

    Minimises paid hours subject to covering every interval; returns (under, over, gap).
    """
    horizon_start = datetime.combine(START, datetime.min.time(), UTC)
    need = {int((r.interval_start - horizon_start) / INTERVAL): r.required for r in requirements}
    model = cp_model.CpModel()
    cover: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    cost = []
    for day in range(DAYS):
        for clock in start_times(rules):
            local = datetime.combine(START + timedelta(days=day), clock, ZoneInfo(zone))
            first = int((local.astimezone(UTC) - horizon_start) / INTERVAL)
            for length in rules.shift_lengths:
                last = first + int(length / INTERVAL)
                if first < 0 or last > DAYS * 48:
                    continue
                count = model.new_int_var(0, 200, f"n_{day}_{clock}_{length}")
                for i in range(first, last):
                    cover[i].append(count)
                cost.append(count * int(length / INTERVAL))
    for i, required in need.items():
        model.add(sum(cover[i]) >= math.ceil(required))
    model.minimize(sum(cost))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = limit
    solver.solve(model)
    over = sum(sum(solver.value(v) for v in cover[i]) - required for i, required in need.items())
    gap = abs(solver.objective_value - solver.best_objective_bound) / max(1, solver.objective_value)
    return 0.0, float(over), gap


def single_queue(
    profile: dict[tuple[int, int], float], aht: float, workers: int, limit: float, seed: int
) -> dict[str, float]:
    """One queue, one skill, one region: ours (breaks, weekly rules) vs the anchor's model."""
    zone = REGIONS["emea"][0]
    rows = [row for row in forecast(profile, aht, 1.0) if row.queue == "billing_de"]
    requirements = make_requirements(rows, 0.8, timedelta(seconds=20))
    rules = _rules({}, {"billing_de": QueueRule("billing_de", "billing", None, 1)})
    peak = max(r.required for r in requirements)
    agents = [
        Agent(f"S{n:03d}", "emea", zone, frozenset({"billing"}), frozenset({"de"}), 0, 40)
        for n in range(int(peak * 2.2) + 4)
    ]
    result = make_schedule(
        requirements,
        agents,
        rules,
        START,
        DAYS,
        SolveOptions(time_limit_s=limit, workers=workers, seed=seed),
    )
    under, over = totals(result.coverage)
    violations = check(result.segments, agents, rules, {"billing_de"}, START, DAYS)
    anchor_under, anchor_over, anchor_gap = anchor_fixed_patterns(
        requirements, rules, zone, workers, limit
    )
    return {
        "single_queue_agents": len(agents),
        "single_queue_ours_under": round(sum(under.values()), 2),
        "single_queue_ours_over": round(sum(over.values()), 2),
        "single_queue_ours_gap": round(result.report.gap, 4),
        "single_queue_ours_violations": len(violations),
        "single_queue_anchor_under": anchor_under,
        "single_queue_anchor_over": anchor_over,
        "single_queue_anchor_gap": round(anchor_gap, 4),
    }


def planted(
    agents: list[Agent],
    rules: Rules,
    first: ScheduleResult,
    options: SolveOptions,
) -> dict[str, float]:
    """The first schedule's own coverage as the requirements, solved again from scratch.

    A schedule without surplus or shortfall is then known to exist (the first one); its
    objective is the first one's less the over- and understaffing terms. How far the
    second solve ends above it is what the search leaves, whatever the bound's gap.
    """
    requirements = [
        Requirement(row.interval_start, row.queue, float(row.scheduled)) for row in first.coverage
    ]
    under, over = totals(first.coverage)
    weights = rules.weights
    known = (
        first.report.objective
        - weights.over * sum(over.values())
        - sum(weights.under * rules.queue_rule(q).priority * v for q, v in under.items())
    )
    result = make_schedule(requirements, agents, rules, START, DAYS, options)
    violations = check(result.segments, agents, rules, set(QUEUES), START, DAYS)
    under, over = totals(result.coverage)
    found = result.report.objective
    return {
        "planted_objective": round(known, 1),
        "planted_found": found,
        "planted_bound": round(result.report.bound, 1),
        "planted_excess": round((found - known) / max(1.0, found), 4),
        "planted_under": round(sum(under.values()), 2),
        "planted_over": round(sum(over.values()), 2),
        "planted_violations": len(violations),
    }


def tour_figures(
    agents: list[Agent], rules: Rules, requirements: list[Requirement], limit: float
) -> dict[str, object]:
    """The column-generation bound over whole weekly tours, for comparison with the
    aggregate relaxation's (docs/scheduling.md: how tight is the bound)."""
    horizon = Horizon.from_date(START, DAYS, INTERVAL)
    queues = sorted(QUEUES)
    patterns = {a.agent_id: agent_patterns(a, rules, horizon) for a in agents}
    servable = {a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in agents}
    needs = whole_needs(requirements, horizon)
    found = tour_bound(agents, patterns, servable, needs, queues, rules, horizon, limit)
    if found is None:
        return {"tour_bound": None}
    print(
        f"tour bound {found.value:,.0f} (LP {found.lp_value:,.0f}, {found.rounds} rounds, "
        f"{found.tours} tours, converged {found.converged}) in {found.wall_s:.0f} s",
        file=sys.stderr,
    )
    return {
        "tour_bound": round(found.value, 1),
        "tour_lp": round(found.lp_value, 1),
        "tour_converged": found.converged,
        "tour_rounds": found.rounds,
        "tour_s": round(found.wall_s, 1),
    }


def _switchboard(*arguments: str) -> list[str]:
    """The command line of `switchboard` in this environment."""
    script = Path(sys.executable).with_name("switchboard")
    if script.exists():
        return [str(script), *arguments]
    return [
        sys.executable,
        "-c",
        "import sys; from switchboard.cli import main; sys.exit(main())",
        *arguments,
    ]


PROGRESS = re.compile(r"best objective ([\d,]+)\s+bound ([\d,]+|-)")
# the last line: "solver OPTIMAL: objective 1200, bound 1150.0, gap 4.17%", or without a
# proven bound "..., no bound yet" (bound and gap then NaN)
FINAL = re.compile(r"solver (\w+): objective ([^,]+), (?:bound ([^,]+), gap ([^,]+)%|no bound yet)")


def fit_objective(instance: planting.Instance, rules: Rules) -> float:
    """The scheduler's objective of the planted schedule (no shortfall, no surplus)."""
    horizon = Horizon.from_date(instance.start, instance.days, instance.fit.grid)
    patterns = team_patterns(instance.agents, rules, horizon)
    queues = instance.queues
    servable = {
        a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in instance.agents
    }
    needs = whole_needs(instance.requirements, horizon)
    problem = Problem(instance.agents, patterns, servable, needs, queues, rules, horizon)
    schedule: dict[str, dict[int, tuple[int, tuple[int, ...]]]] = defaultdict(dict)
    for a, shifts in instance.weeks.items():
        for begin, end, starts in shifts:
            d, k = next(
                (d, k)
                for d, day in patterns[a].items()
                for k, p in enumerate(day)
                if (p.start, p.end) == (begin, end)
            )
            schedule[a][d] = (k, starts)
    split: dict[tuple[tuple[str, ...], int, str], int] = defaultdict(int)
    for segment in instance.planted:
        if segment.activity in queues:
            first = horizon.index(segment.start)
            assert first is not None
            for i in range(first, first + int((segment.end - segment.start) / horizon.interval)):
                split[servable[segment.agent_id], i, segment.activity] += 1
    return float(objective(problem, dict(schedule), dict(split)))


def fit_bench(args: argparse.Namespace) -> dict[str, object]:
    """A planted instance solved by `switchboard schedule` and checked by `schedule check`."""
    fit = (
        planting.half_hour_class()
        if args.grid == 30
        else planting.quarter_hour_class(args.second_break)
    )
    instance = planting.plant(args.agents, fit, args.seed)
    with tempfile.TemporaryDirectory(prefix="switchboard-fit-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        paths = planting.write(instance, folder)
        known = fit_objective(instance, load_rules(paths["rules"]))
        schedule = folder / "schedule.csv"
        common = ["--agents", str(paths["agents"]), "--rules", str(paths["rules"])]
        window = ["--start", instance.start.isoformat(), "--days", str(instance.days)]
        planted_check = subprocess.run(
            _switchboard(
                "schedule",
                "check",
                "--schedule",
                str(paths["planted"]),
                *common,
                "--requirements",
                str(paths["requirements"]),
                *window,
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        command = _switchboard(
            "schedule",
            "--requirements",
            str(paths["requirements"]),
            *common,
            *window,
            "--out",
            str(schedule),
            "--time-limit",
            f"{args.time_limit:g}",
            "--workers",
            str(args.workers),
            "--seed",
            str(args.seed),
        )
        began = time.monotonic()
        process = subprocess.Popen(
            command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        first_feasible, written, final = math.nan, math.nan, None
        assert process.stderr is not None
        for line in process.stderr:
            now = time.monotonic() - began
            print(f"  [{now:6.1f} s] {line.rstrip()}", file=sys.stderr)
            if PROGRESS.search(line) and math.isnan(first_feasible):
                first_feasible = now
            if line.startswith("first schedule written") and math.isnan(written):
                written = now
            if (match := FINAL.search(line)) is not None:
                final = match
        process.wait()
        run_s = time.monotonic() - began
        checked = subprocess.run(
            _switchboard(
                "schedule",
                "check",
                "--schedule",
                str(schedule),
                *common,
                "--requirements",
                str(paths["requirements"]),
                *window,
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        segments = read_schedule(schedule) if schedule.exists() else []
    horizon = Horizon.from_date(instance.start, instance.days, fit.grid)
    rows = coverage(segments, instance.requirements, horizon)
    required = sum(r.required for r in rows)
    under = sum(max(0.0, r.required - r.scheduled) for r in rows)
    over = sum(max(0.0, r.scheduled - r.required) for r in rows)
    violations = [line for line in checked.stdout.splitlines() if line.strip()]
    for line in violations[:10]:
        print(f"  violation: {line}", file=sys.stderr)
    bound = float(final.group(3)) if final and final.group(3) else math.nan
    return {
        "agents": len(instance.agents),
        "grid_min": int(fit.grid.total_seconds() // 60),
        "breaks": len(fit.breaks),
        "shifts_planted": instance.shifts,
        "required_total": required,
        "first_feasible_s": round(first_feasible, 1),
        "first_written_s": round(written, 1),
        "run_s": round(run_s, 1),
        "status": final.group(1) if final else "none",
        "objective": float(final.group(2)) if final else math.nan,
        "fit_objective": known,
        "bound": bound,
        "gap": round(float(final.group(4)) / 100, 4) if final and final.group(4) else math.nan,
        "under": under,
        "over": over,
        "under_pct": round(100 * under / required, 3),
        "over_pct": round(100 * over / required, 3),
        "violations": len(violations) if checked.returncode in (0, 1) else -1,
        "planted_violations": planted_check.returncode,
        "exit_status": process.returncode,
    }


def _parameter(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, {"true": True, "false": False}.get(value.lower(), value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "anonymous_bank_1999_02.tsv")
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--load", type=float, default=0.65, help="demand / agent capacity")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--log", action="store_true", help="CP-SAT search log")
    parser.add_argument(
        "--no-hint", action="store_true", help="CP-SAT on the whole model alone, no search"
    )
    parser.add_argument("--lengths", default="8h,6h", help="allowed shift lengths (8h,6h)")
    parser.add_argument("--start-every", default="1h", help="shift start granularity (1h)")
    parser.add_argument(
        "--tour-bound",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also run the tour column generation for up to SECONDS (bench/research/tours.py)",
    )
    parser.add_argument(
        "--planted",
        action="store_true",
        help="solve again with the schedule's own coverage as requirements (search vs bound)",
    )
    parser.add_argument(
        "--param", action="append", default=[], help="extra CP-SAT parameter NAME=VALUE"
    )
    parser.add_argument(
        "--fit",
        action="store_true",
        help="a planted instance with a known exact fit (bench/planted.py)",
    )
    parser.add_argument("--grid", type=int, choices=(15, 30), default=15, help="--fit: minutes")
    parser.add_argument("--second-break", action="store_true", help="--fit: a second paid break")
    parser.add_argument("--keep", help="--fit: write the instance and the schedule to this folder")
    args = parser.parse_args()
    if args.fit:
        print(json.dumps(fit_bench(args)))
        return 0

    global SHIFT_LENGTHS, START_EVERY
    SHIFT_LENGTHS = tuple(parse_duration(text) for text in args.lengths.split(","))
    START_EVERY = parse_duration(args.start_every)
    rng = random.Random(args.seed)
    profile, aht = bank_profile(args.data)
    agents, rules = agents_and_rules(args.agents, rng)
    capacity = args.agents * 5 * 7 * 2  # agent-intervals: five 7-hour working days
    requirements = scaled_requirements(profile, aht, args.load * capacity)
    print(
        f"{len(agents)} agents, {DAYS} days, {len(QUEUES)} queues, mean AHT {aht:.0f} s, "
        f"{sum(r.required for r in requirements):.0f} required agent-intervals",
        file=sys.stderr,
    )

    def progress(wall: float, objective: float, bound: float) -> None:
        gap = abs(objective - bound) / max(1.0, abs(objective))
        print(
            f"  {wall:6.1f} s  objective {objective:,.0f}  bound {bound:,.0f}  gap {gap:.2%}",
            file=sys.stderr,
        )

    options = SolveOptions(
        args.time_limit,
        args.workers,
        args.seed,
        on_progress=progress,
        log_search=args.log,
        hint=not args.no_hint,
        parameters=dict(_parameter(text) for text in args.param),
    )
    started = time.monotonic()
    result = make_schedule(requirements, agents, rules, START, DAYS, options)
    elapsed = time.monotonic() - started
    violations = check(result.segments, agents, rules, set(QUEUES), START, DAYS)
    under, over = totals(result.coverage)
    for queue in QUEUES:
        print(f"  {queue:11s} under {under.get(queue, 0):6.1f}  over {over.get(queue, 0):6.1f}")
    for line in result.problems[:10]:
        print(f"  cannot be met: {line}")
    for violation in violations[:10]:
        print(f"  violation: {violation}")
    figures: dict[str, object] = {
        "agents": len(agents),
        "status": result.report.status,
        "start": result.report.start,
        "solve_s": round(result.report.wall_s, 1),
        "total_s": round(elapsed, 1),
        "gap": round(result.report.gap, 4),
        "objective": result.report.objective,
        "bound": round(result.report.bound, 1),
        "relaxation_bound": round(result.report.relaxation_bound, 1),
        "violations": len(violations),
        "under_agent_intervals": {q: round(v, 2) for q, v in under.items()},
        "over_agent_intervals": {q: round(v, 2) for q, v in over.items()},
        "under_total": round(sum(under.values()), 2),
        "over_total": round(sum(over.values()), 2),
        "required_total": round(sum(r.required for r in requirements), 2),
        "deterministic_s": round(result.report.deterministic_s, 1),
        "problems": len(result.problems),
        "queue_switches": queue_switches(result.segments),
    }
    if args.planted:
        figures.update(planted(agents, rules, result, options))
    if args.tour_bound:
        figures.update(tour_figures(agents, rules, requirements, args.tour_bound))
    if not args.skip_single:
        figures.update(single_queue(profile, aht, args.workers, args.time_limit, args.seed))
        print(
            f"single queue: ours under {figures['single_queue_ours_under']} "
            f"over {figures['single_queue_ours_over']} (with lunch and weekly rules); "
            f"anchor under {figures['single_queue_anchor_under']} "
            f"over {figures['single_queue_anchor_over']} (fixed patterns, no breaks)"
        )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
