"""Solving a schedule: bound, starting schedule, CP-SAT search, plan.

Stages, in order (docs/scheduling.md explains why each is there):
1. the CP-SAT model of the whole team (`cpmodel.py`);
2. a proven lower bound and the LP optimum it comes from (`relaxation.py`);
3. a starting schedule: the LP optimum rostered onto agents cell by cell
   (`roster.py`), or the greedy schedule (`heuristic.py`) when there is no LP optimum
   or the roster fails;
4. CP-SAT on the whole model, hinted with that schedule, for the time left.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from scheduler import cpmodel
from scheduler.heuristic import Choice, greedy
from scheduler.model import Agent, Rules, SolveReport
from scheduler.patterns import Horizon, Pattern, agent_patterns
from scheduler.relaxation import Guide, lower_bound
from scheduler.roster import roster

log = logging.getLogger(__name__)

# Share of the time limit by which the roster must be done (relaxation included):
# the rest is CP-SAT's, which needs about 10 s on 300 agents to load the model.
ROSTER_SHARE = 0.6


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


class _Progress(cp_model.CpSolverSolutionCallback):
    """Logs every improving solution with the best bound known at that moment."""

    def __init__(
        self, sink: Callable[[float, float, float], None] | None, started: float, floor: float
    ) -> None:
        super().__init__()
        self.sink = sink
        self.started = started
        self.floor = floor  # the relaxation's bound, proven before the search
        self.trace: list[tuple[float, float, float]] = []

    def on_solution_callback(self) -> None:
        bound = max(self.best_objective_bound, self.floor)
        point = (time.monotonic() - self.started, self.objective_value, bound)
        self.trace.append(point)
        if self.sink is not None:
            self.sink(*point)


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


def _start(
    built: cpmodel.Built,
    agents: list[Agent],
    needs: dict[tuple[str, int], int],
    servable: dict[str, tuple[str, ...]],
    rules: Rules,
    horizon: Horizon,
    options: SolveOptions,
    guide: Guide | None,
    deadline: float,
) -> str:
    """Hint the model with the rostered LP optimum, else the greedy schedule; says which."""
    schedule: dict[str, dict[int, Choice]] | None = None
    split: dict[tuple[int, int, str], int] = {}
    if guide is not None and options.roster:
        found = roster(
            agents,
            built.patterns,
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
        if found is not None:
            index = {group_queues: g for g, (_ids, group_queues) in enumerate(built.groups)}
            schedule = found.schedule
            split = {(index[qs], i, q): n for (qs, i, q), n in found.split.items()}
    start = "roster"
    if schedule is None:
        schedule = greedy(agents, built.patterns, servable, needs, rules, horizon)
        split = cpmodel.greedy_split(built, schedule, needs, rules, horizon)
        start = "greedy"
    cpmodel.add_hint(built, schedule, split, needs)
    return start


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
    built = cpmodel.build(agents, patterns, needs, queues, rules, horizon, options.best_effort)
    model = built.model
    # Minimum hours hold; the literals exist so that a diagnosis can ask which clash.
    if diagnose:
        model.clear_objective()
        model.add_assumptions(list(built.min_hours.values()))
    else:
        for literal in built.min_hours.values():
            model.add(literal == 1)

    # Bound: the aggregate LP relaxation, proven before the search; its optimum guides
    # the starting schedule.
    floor, guide = math.nan, None
    servable = {a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in agents}
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
    start = ""
    if options.hint and not diagnose:
        deadline = started + options.time_limit_s * ROSTER_SHARE
        start = _start(built, agents, needs, servable, rules, horizon, options, guide, deadline)
        log.info("start: %s after %.1f s", start, time.monotonic() - started)

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
    progress = _Progress(options.on_progress, started, -math.inf if math.isnan(floor) else floor)
    status = solver.solve(model, progress)
    wall = time.monotonic() - started
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        blamed = []
        if diagnose and status == cp_model.INFEASIBLE:
            names = {var.index: a for a, var in built.min_hours.items()}
            blamed = sorted(
                names[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in names
            )
        report = SolveReport(name, math.nan, math.nan, math.nan, wall, progress.trace)
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
        name, objective, bound, gap, wall, progress.trace, solver.deterministic_time, floor, start
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
