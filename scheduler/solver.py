"""Solving a schedule: first schedule, search, bound, plan.

Stages (docs/scheduling.md explains why each is there):
1. a first schedule in seconds: agent after agent, each their cheapest rule-abiding
   week for what the others leave uncovered (`respond.py`), handed to
   `SolveOptions.on_first` so that it can be written at once;
2. that schedule improved for the time left: descents of single-agent sweeps, and
   a few agents at a time re-solved by CP-SAT with the others fixed when the
   descents stall (`improve.py`);
3. meanwhile a proven lower bound (`relaxation.py`; on grids finer than 30 minutes
   coverage summed per hour), in a process of its own on the second core
   (`bound.py`), or before the search with one worker;
4. when the rules are beyond the sweeps (`Responder.usable`, e.g. minimum hours
   made soft by --best-effort): the CP-SAT model of the whole team (`cpmodel.py`),
   hinted with the greedy schedule (`heuristic.py`), for the time left.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from ortools.sat.python import cp_model

from scheduler import cpmodel
from scheduler.bound import BoundInput, BoundProcess
from scheduler.heuristic import greedy
from scheduler.improve import Incumbent, Outcome, improve, objective
from scheduler.model import Agent, Rules, SolveReport
from scheduler.patterns import Horizon, Pattern, team_patterns
from scheduler.problem import Problem
from scheduler.relaxation import SAFETY, Bound
from scheduler.respond import Responder

log = logging.getLogger(__name__)

# Share of the time limit the relaxation may take when it runs before the search (one
# worker); beside it, it may take all of it.
BOUND_SHARE = 0.25
# Grids finer than this sum the relaxation's coverage over buckets of this length
# (relaxation.py): on a 15-minute grid the LP of single intervals takes minutes.
FINEST_BOUND_GRID = timedelta(minutes=30)
BOUND_BUCKET = timedelta(hours=1)
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
    hint: bool = True  # search from a first schedule (else CP-SAT on the whole model alone)
    relaxation: bool = True  # prove a lower bound with the aggregate LP (relaxation.py)
    on_first: Callable[[Plan], None] | None = None  # the first complete schedule, at once
    # The search from the first schedule as this many steps instead of to the time limit:
    # the same schedule on any machine (`improve`'s `steps`; tests).
    steps: int | None = None
    # Set by the caller (the command on Ctrl-C) to end the solve early with the best
    # schedule found so far, as if the time limit had come.
    stop: threading.Event | None = None


def worker_count(requested: int) -> int:
    """Threads for a `--workers` value: 0 is one per core the process may use (as CP-SAT's
    `num_workers` 0 and the voice node's `workers = 0`); below 0 is refused."""
    if requested < 0:
        raise ValueError(f"expected a whole number >= 0 (0: one per core), found {requested}")
    if requested:
        return requested
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class Plan:
    """The solver's answer in plain data."""

    shifts: dict[str, list[tuple[Pattern, tuple[int, ...]]]]  # agent → (shift, break starts)
    groups: list[tuple[tuple[str, ...], tuple[str, ...]]]  # (agent ids, queues they serve)
    split: dict[tuple[int, int], dict[str, int]]  # (group, interval) → queue → head count
    report: SolveReport
    infeasible: list[str] = field(default_factory=list)  # agents whose hours cannot be met
    start: str = ""  # where the search started: "construct", "greedy" or "" (none)


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
    patterns: dict[str, dict[int, list[Pattern]]] | None = None,
) -> Plan:
    """Build and solve the model; `needs` maps (queue, interval) to whole agents required
    (`patterns`: each agent's candidate shifts, when already computed).

    When the rules cannot all hold, a second solve with the minimum-hours constraints
    as assumptions names the agents whose hours take part in the conflict (assumptions
    force CP-SAT into one thread, so only this diagnosis uses them).
    """
    if patterns is None:
        patterns = team_patterns(agents, rules, horizon)
    options = replace(options, workers=worker_count(options.workers))
    plan = _solve(agents, patterns, needs, queues, rules, horizon, options, diagnose=False)
    stopped = options.stop is not None and options.stop.is_set()
    if plan.report.status == "INFEASIBLE" and not options.best_effort and not stopped:
        blame = _solve(agents, patterns, needs, queues, rules, horizon, options, diagnose=True)
        plan.infeasible = blame.infeasible
    return plan


def _plan(problem: Problem, best: Incumbent, report: SolveReport, start: str) -> Plan:
    """An incumbent of the search (schedule and split by group's queues) as a plan."""
    servable = problem.servable
    by_group: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for agent in problem.agents:
        if servable[agent.agent_id]:
            by_group[servable[agent.agent_id]].append(agent.agent_id)
    groups = [(tuple(ids), group_queues) for group_queues, ids in by_group.items()]
    index = {group_queues: g for g, (_ids, group_queues) in enumerate(groups)}
    head_counts: dict[tuple[int, int], dict[str, int]] = {}
    for (group_queues, i, q), heads in best.split.items():
        head_counts.setdefault((index[group_queues], i), {})[q] = heads
    patterns = problem.patterns
    shifts = {
        a: [(patterns[a][d][k], starts) for d, (k, starts) in sorted(days.items())]
        for a, days in best.schedule.items()
    }
    return Plan(shifts, groups, head_counts, report, start=start)


def _bucket(horizon: Horizon) -> int:
    """Intervals per bucket of the relaxation's coverage (1: single intervals)."""
    if horizon.interval >= FINEST_BOUND_GRID:
        return 1
    return max(1, int(BOUND_BUCKET / horizon.interval))


def _search(
    problem: Problem, options: SolveOptions, started: float, bounded: Problem | None = None
) -> tuple[Plan | None, float]:
    """Stages 1 to 3 (module doc) and the bound (of `bounded`, when it is not `problem`);
    no plan when the sweeps cannot express the rules (or leave an agent below their
    minimum), for CP-SAT on the whole model."""
    trace = _Trace(options.on_progress, started, -math.inf)
    bound = _Bound(bounded or problem, options, trace, started)
    # Before CP-SAT on the whole model, the bound gets the share it would have alone.
    fallback = started + options.time_limit_s * BOUND_SHARE
    try:
        responder = Responder(problem)
        if not responder.usable:
            bound.settle(until=fallback)
            return None, bound.value
        order = sorted(responder.pricers)
        random.Random(options.seed).shuffle(order)
        schedule, split = responder.construct(order)
        if not all(schedule.get(a) or not responder.owed(a) for a in responder.pricers):
            bound.settle(until=fallback)
            return None, bound.value  # someone's weekly minimum out of reach: CP-SAT says why
        first = Incumbent(schedule, split, objective(problem, schedule, split))
        trace.record(first.objective)
        log.info("first schedule %d after %.1f s", first.objective, time.monotonic() - started)
        if options.on_first is not None:
            options.on_first(_plan(problem, first, _report(trace, first, "construct"), "construct"))
        bound.start()  # after the first schedule, so as not to slow it down
        if bound.alone:  # one worker: the bound first, on the one core, for its share
            bound.settle(until=bound.deadline)
        outcome = improve(
            problem,
            first,
            started + options.time_limit_s - FINISH_S,
            options.workers,
            options.seed,
            trace.record,
            responder,
            on_round=bound.settle,
            steps=options.steps,
            stop=_stopped(options),
        )
        bound.finish()
        report = _report(trace, outcome.best, "construct", outcome, bound.why)
        return _plan(problem, outcome.best, report, "construct"), bound.value
    finally:
        bound.stop()


def stoppable(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    stop: threading.Event | None,
    callback: cp_model.CpSolverSolutionCallback | None = None,
) -> cp_model.CpSolverStatus:
    """CP-SAT's solve, ended as at its time limit once `stop` is set. CP-SAT's own Ctrl-C
    handler is left out: it leaves SIGINT at the system's default when the solve ends, so
    a later Ctrl-C would kill the command without a word. With `stop`, the solve runs in a
    thread of its own, so that the main thread, where Python runs its signal handlers,
    notices Ctrl-C and ends the search."""
    solver.parameters.catch_sigint_signal = False
    if stop is None:
        return solver.solve(model, callback)
    answers: list[cp_model.CpSolverStatus] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            answers.append(solver.solve(model, callback))
        except BaseException as error:  # handed to the caller's thread
            failures.append(error)

    thread = threading.Thread(target=run, name="cp-sat", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.1)
        if stop.is_set():
            solver.stop_search()
    if failures:
        raise failures[0]
    return answers[0]


def _stopped(options: SolveOptions) -> Callable[[], bool] | None:
    """Whether the caller asked the search to stop (`SolveOptions.stop`)."""
    stop = options.stop
    return None if stop is None else stop.is_set


class _Bound:
    """The relaxation's bound for one solve, in a process of its own (`bound.py`): beside
    the search with two workers or more; with one, before the search, for its share of
    the time limit, and stopped there (the search needs the one core)."""

    def __init__(
        self, problem: Problem, options: SolveOptions, trace: _Trace, started: float
    ) -> None:
        self.trace = trace
        self.value = math.nan
        self.done = not options.relaxation
        self.alone = options.workers < 2
        self.limit_s = options.time_limit_s
        # Its share of the time limit, counted from the solve's start: the LP's own limit
        # is what is left of it when the process starts.
        self.share_s = options.time_limit_s * (BOUND_SHARE if self.alone else 1.0)
        self.deadline = started + self.share_s
        self.problem = problem
        self.bucket = _bucket(problem.horizon)
        self.beside: BoundProcess | None = None
        self.why = ""  # why there is no bound, once known
        self.stopped = _stopped(options) or (lambda: False)  # the caller's stop (Ctrl-C)

    def start(self) -> None:
        """Start solving in a process of its own."""
        if self.done or self.beside is not None:
            return
        left = max(0.0, self.deadline - time.monotonic())
        self.beside = BoundProcess(BoundInput(self.problem, left, self.bucket))

    def settle(self, until: float = -math.inf) -> None:
        """Take the bounds that are there; when asked to wait, wait up to `until`
        (time.monotonic()): beside the search for the first bound, alone for all of them
        but never past the share, after which the relaxation is stopped."""
        if self.done:
            return
        if self.alone and self.beside is None and time.monotonic() >= self.deadline:
            return self._give_up(self._share_spent())  # no time to start it in
        self.start()
        beside = self.beside
        assert beside is not None
        if self.alone:
            until = min(until, self.deadline)
        while not beside.finished:
            proven = beside.poll()
            if proven is not None:
                self._take(proven)
            elif (
                (not self.alone and math.isfinite(self.value))
                or time.monotonic() >= until
                or self.stopped()
            ):
                break
            else:
                time.sleep(0.05)
        self.done = beside.finished
        if self.alone and not self.done:
            if time.monotonic() >= self.deadline:
                self._give_up(self._share_spent())
            elif self.stopped():
                self._give_up("the solve was stopped before the relaxation finished")

    def _share_spent(self) -> str:
        return (
            f"the relaxation did not finish in its share of the time limit "
            f"({self.share_s:.3g} s of {self.limit_s:g} s with one worker, before the search)"
        )

    def _give_up(self, why: str) -> None:
        """Stop the relaxation; without a bound, say why."""
        self.stop()
        self.done = True
        if math.isnan(self.value):
            self.why = why
            log.info("no bound: %s", why)
        else:
            log.info("relaxation stopped (%s); its bound so far is kept", why)

    def _take(self, proven: Bound) -> None:
        """A bound of the relaxation (per bucket or on single intervals): kept, and
        printed with the best schedule, when it is above the one held."""
        how = "on single intervals" if proven.bucket == 1 else f"per {proven.bucket} intervals"
        log.info(
            "relaxation bound %.0f %s (%s) in %.1f s",
            proven.value,
            how,
            proven.status,
            proven.wall_s,
        )
        if math.isnan(proven.value):
            if math.isnan(self.value):
                self.why = f"the relaxation ended {proven.status} after {proven.wall_s:.1f} s"
            return
        if proven.value <= self.value:
            return
        self.value = proven.value
        self.why = ""
        self.trace.floor = proven.value
        if self.trace.trace:
            self.trace.record(self.trace.trace[-1][1])  # the bound, printed with the best

    def finish(self) -> None:
        """At the end of the search: the bounds that are there, and why there is none."""
        self.settle()
        if not self.done and math.isnan(self.value) and self.beside is not None:
            elapsed = time.monotonic() - self.beside.started
            self._give_up(
                f"the relaxation was still being solved after {elapsed:.0f} s beside the "
                "search (more time gives it time to finish)"
            )

    def stop(self) -> None:
        if self.beside is not None:
            self.beside.stop()


def _report(
    trace: _Trace, best: Incumbent, how: str, outcome: Outcome | None = None, why: str = ""
) -> SolveReport:
    """What the search says about its best schedule so far (`why`: why there is no bound)."""
    floor = trace.floor if math.isfinite(trace.floor) else math.nan
    gap = abs(best.objective - floor) / max(1.0, abs(best.objective))
    optimal = not math.isnan(floor) and best.objective <= floor * (1 + 2 * SAFETY)
    return SolveReport(
        "OPTIMAL" if optimal else "FEASIBLE",
        float(best.objective),
        floor,
        gap,
        time.monotonic() - trace.started,
        trace.trace,
        outcome.deterministic_s if outcome is not None else 0.0,
        floor,
        how,
        no_bound=why if math.isnan(floor) else "",
        search=_searched(outcome, trace) if outcome is not None else "",
    )


def _searched(outcome: Outcome, trace: _Trace) -> str:
    """What the search did, for the planner: `3 descents, 12 neighbourhoods, the best
    schedule found after 61.3 s` (long before the time limit: more time would not have
    helped this run)."""
    descents = f"{outcome.descents} descent{'' if outcome.descents == 1 else 's'}"
    rounds = f"{outcome.rounds} neighbourhood{'' if outcome.rounds == 1 else 's'}"
    found = min(
        (wall for wall, value, _bound in trace.trace if value <= outcome.best.objective),
        default=None,
    )
    when = "" if found is None else f", the best schedule found after {found:.1f} s"
    return f"{descents}, {rounds}{when}"


def _solve(
    agents: list[Agent],
    patterns: dict[str, dict[int, list[Pattern]]],
    needs: dict[tuple[str, int], int],
    queues: list[str],
    rules: Rules,
    horizon: Horizon,
    options: SolveOptions,
    diagnose: bool,
) -> Plan:
    started = time.monotonic()
    servable = {a.agent_id: tuple(q for q in queues if rules.can_serve(a, q)) for a in agents}
    problem = Problem(
        agents, patterns, servable, needs, queues, rules, horizon, options.best_effort
    )
    floor = math.nan
    if options.hint and not diagnose:
        # Best effort searches with the minimum hours kept first: a schedule that keeps them
        # is one of the soft model at no penalty, and the sweeps only price kept minimums.
        # Only when someone's minimum is out of their reach does CP-SAT on the whole model
        # trade hours for coverage. The bound is the soft model's either way.
        strict = replace(problem, best_effort=False) if options.best_effort else problem
        plan, floor = _search(strict, options, started, bounded=problem)
        if plan is not None:
            return plan

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
    status = stoppable(solver, model, options.stop, _Progress(trace))
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

    value = solver.objective_value
    bound = (
        solver.best_objective_bound
        if math.isnan(floor)
        else max(solver.best_objective_bound, floor)
    )
    gap = abs(value - bound) / max(1.0, abs(value))
    report = SolveReport(
        name, value, bound, gap, wall, trace.trace, solver.deterministic_time, floor, start
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
