"""Solving a schedule: bound, starting schedule, CP-SAT search, plan.

Stages, in order (docs/scheduling.md explains why each is there):
1. a proven lower bound and the LP optimum it comes from (`relaxation.py`);
2. the LP optimum rostered onto agents cell by cell (`roster.py`), then improved by
   descents of single-agent sweeps and by re-solving a few agents at a time with
   CP-SAT, the others fixed (`improve.py`), for the time left;
3. without an LP optimum, or when the roster fails (a cell without a roster whose
   greedy schedule misses a weekly minimum): the CP-SAT model of the whole team
   (`cpmodel.py`), hinted with the greedy schedule (`heuristic.py`), for the time
   left.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler import cpmodel
from scheduler.heuristic import greedy
from scheduler.improve import Incumbent, improve, objective
from scheduler.model import Agent, Rules, SolveReport
from scheduler.patterns import Horizon, Pattern, agent_patterns
from scheduler.problem import Problem
from scheduler.relaxation import SAFETY, lower_bound
from scheduler.roster import Roster, roster

log = logging.getLogger(__name__)

# Share of the time limit by which the roster must be done (relaxation included);
# the rest goes to improving it (`improve.py`).
ROSTER_SHARE = 0.2
# Seconds kept at the end of the time limit for turning the schedule into a plan.
FINISH_S = 0.5


@dataclass
class SolveOptions:
    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    best_effort: bool = False  # min hours become soft, so a schedule always comes out
    on_progress: Callable[[float, float, float], None] | None = None  # wall, objective, bound
    log_search: bool = False  # CP-SAT's own log on stdout, for tuning
    parameters: dict[str, object] = field(default_factory=dict)  # extra CP-SAT parameters
    hint: bool = True  # start CP-SAT from a schedule (roster, else greedy)
    relaxation: bool = True  # prove a lower bound with the aggregate LP (relaxation.py)
    roster: bool = True  # start from the LP optimum rostered onto agents (roster.py)


@dataclass
class Plan:
    """The solver's answer in plain data."""

    shifts: dict[str, list[tuple[Pattern, tuple[int, ...]]]]  # agent → (shift, break starts)
    groups: list[tuple[tuple[str, ...], tuple[str, ...]]]  # (agent ids, queues they serve)
    split: dict[tuple[int, int], dict[str, int]]  # (group, interval) → queue → head count
    report: SolveReport
    infeasible: list[str] = field(default_factory=list)  # agents whose hours cannot be met
    start: str = ""  # where the search started: "roster", "greedy" or "" (no hint)


class _Trace:
    """Records every improving solution with the best bound known at that moment."""

    def __init__(
        self, sink: Callable[[float, float, float], None] | None, started: float, floor: float
    ) -> None:
        self.sink = sink
        self.started = started
        self.floor = floor  # the relaxation's bound, proven before the search
        self.trace: list[tuple[float, float, float]] = []

    def record(self, objective: float, bound: float = -math.inf) -> None:
        point = (time.monotonic() - self.started, objective, max(bound, self.floor))
        self.trace.append(point)
        if self.sink is not None:
            self.sink(*point)


class _Progress(cp_model.CpSolverSolutionCallback):
    """CP-SAT's improving solutions into a `_Trace`."""

    def __init__(self, trace: _Trace) -> None:
        super().__init__()
        self.recorder = trace

    def on_solution_callback(self) -> None:
        self.recorder.record(self.objective_value, self.best_objective_bound)


def solve(
    agents: list[Agent],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    options: SolveOptions,
) -> Plan:
    """Build and solve the model; `needs` maps (queue, interval) to whole agents required.

    When the rules cannot all hold, a second solve with the minimum-hours constraints
    as assumptions names the agents whose hours take part in the conflict (assumptions
    force CP-SAT into one thread, so only this diagnosis uses them).
    """
    plan = _solve(agents, needs, queues, rules, horizon, options, diagnose=False)
    if plan.report.status == "INFEASIBLE" and not options.best_effort:
        blame = _solve(agents, needs, queues, rules, horizon, options, diagnose=True)
        plan.infeasible = blame.infeasible
    return plan


def _improved(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    servable: dict[str, tuple[str, ...]],
    rules: Rules,
    horizon: Horizon,
    options: SolveOptions,
    found: Roster,
    started: float,
    floor: float,
) -> Plan:
    """The roster improved neighbourhood by neighbourhood until the time limit, as a plan."""
    problem = Problem(
        agents, patterns, servable, needs, queues, rules, horizon, options.best_effort
    )
    start = Incumbent(found.schedule, found.split, objective(problem, found.schedule, found.split))
    trace = _Trace(options.on_progress, started, floor)
    trace.record(start.objective)
    outcome = improve(
        problem,
        start,
        started + options.time_limit_s - FINISH_S,
        options.workers,
        options.seed,
        trace.record,
    )
    best = outcome.best
    wall = time.monotonic() - started
    gap = abs(best.objective - floor) / max(1.0, abs(best.objective))
    status = "OPTIMAL" if best.objective <= floor * (1 + 2 * SAFETY) else "FEASIBLE"
    report = SolveReport(
        status,
        float(best.objective),
        floor,
        gap,
        wall,
        trace.trace,
        outcome.deterministic_s,
        floor,
        "roster",
    )
    by_group: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for agent in agents:
        if servable[agent.agent_id]:
            by_group[servable[agent.agent_id]].append(agent.agent_id)
    groups = [(tuple(ids), group_queues) for group_queues, ids in by_group.items()]
    index = {group_queues: g for g, (_ids, group_queues) in enumerate(groups)}
    head_counts: dict[tuple[int, int], dict[str, int]] = {}
    for (group_queues, i, q), heads in best.split.items():
        head_counts.setdefault((index[group_queues], i), {})[q] = heads
    shifts = {
        a: [(patterns[a][d][k], starts) for d, (k, starts) in sorted(days.items())]
        for a, days in best.schedule.items()
    }
    return Plan(shifts, groups, head_counts, report, start="roster")


def _solve(
    agents: list[Agent],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    options: SolveOptions,
    diagnose: bool,
) -> Plan:
    started = time.monotonic()
    patterns = {agent.agent_id: agent_patterns(agent, rules, horizon) for agent in agents}
    servable = {a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in agents}

    # Bound: the aggregate LP relaxation, proven before the search; its optimum guides
    # the starting schedule.
    floor, guide = math.nan, None
    if options.relaxation and not diagnose:
        proven = lower_bound(
            agents,
            patterns,
            servable,
            needs,
            queues,
            rules,
            horizon,
            options.time_limit_s / 4,
            soft_min_hours=options.best_effort,
        )
        floor, guide = proven.value, proven.guide
        log.info("relaxation bound %.0f (%s) in %.1f s", floor, proven.status, proven.wall_s)

    # The LP optimum rostered, then improved a few agents at a time until the limit.
    if guide is not None and options.hint and options.roster:
        deadline = started + options.time_limit_s * ROSTER_SHARE
        found = roster(
            agents,
            patterns,
            servable,
            needs,
            rules,
            horizon,
            guide,
            deadline - time.monotonic(),
            options.workers,
            options.seed,
            options.best_effort,
        )
        log.info("roster %s after %.1f s", found is not None, time.monotonic() - started)
        if found is not None:
            return _improved(
                agents,
                patterns,
                needs,
                queues,
                servable,
                rules,
                horizon,
                options,
                found,
                started,
                floor,
            )

    # Otherwise CP-SAT on the whole model, hinted with the greedy schedule.
    built = cpmodel.build(agents, patterns, needs, queues, rules, horizon, options.best_effort)
    model = built.model
    # Minimum hours hold; the literals exist so that a diagnosis can ask which clash.
    if diagnose:
        model.clear_objective()
        model.add_assumptions(list(built.min_hours.values()))
    else:
        for literal in built.min_hours.values():
            model.add(literal == 1)
    start = ""
    if options.hint and not diagnose:
        schedule = greedy(agents, built.patterns, servable, needs, rules, horizon)
        split = cpmodel.greedy_split(built.patterns, built.groups, schedule, needs, rules, horizon)
        cpmodel.add_hint(built, schedule, split, needs)
        start = "greedy"

    # CP-SAT on the whole model for the time left.
    solver = cp_model.CpSolver()
    spent = time.monotonic() - started
    solver.parameters.max_time_in_seconds = max(1.0, options.time_limit_s - spent)
    solver.parameters.num_workers = 1 if diagnose else max(1, options.workers)
    solver.parameters.random_seed = options.seed
    solver.parameters.log_search_progress = options.log_search
    # Presolve probing costs ~20 s on a 300-agent week and buys little here.
    solver.parameters.cp_model_probing_level = 0
    for name, value in options.parameters.items():
        setattr(solver.parameters, name, value)
    trace = _Trace(options.on_progress, started, -math.inf if math.isnan(floor) else floor)
    status = solver.solve(model, _Progress(trace))
    wall = time.monotonic() - started
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        blamed = []
        if diagnose and status == cp_model.INFEASIBLE:
            names = {var.index: a for a, var in built.min_hours.items()}
            blamed = sorted(
                names[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in names
            )
        report = SolveReport(name, math.nan, math.nan, math.nan, wall, trace.trace)
        report.relaxation_bound = floor
        report.start = start
        return Plan({}, built.groups, {}, report, infeasible=sorted(blamed), start=start)

    objective = solver.objective_value
    bound = (
        solver.best_objective_bound
        if math.isnan(floor)
        else max(solver.best_objective_bound, floor)
    )
    gap = abs(objective - bound) / max(1.0, abs(objective))
    report = SolveReport(
        name, objective, bound, gap, wall, trace.trace, solver.deterministic_time, floor, start
    )
    chosen, split = cpmodel.read(built, solver, rules)
    shifts = {
        a: [(patterns[a][d][k], starts) for d, (k, starts) in sorted(days.items())]
        for a, days in chosen.items()
    }
    head_counts: dict[tuple[int, int], dict[str, int]] = {}
    for (g, i, q), value in split.items():
        head_counts.setdefault((g, i), {})[q] = value
    return Plan(shifts, built.groups, head_counts, report, start=start)
