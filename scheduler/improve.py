"""The search: descents of single-agent sweeps, and neighbourhoods of a few agents
re-solved by CP-SAT, everyone else fixed, when the descents stall.

A descent (`anneal`) sweeps every agent to their cheapest week with everyone else
fixed (`respond.py`), first at the objective's weights, then with understaffing
priced low and rising rung by rung: the low prices let hours go that a hole would
otherwise pin down, the rising ones fill the holes with whoever fills them cheapest.
The prices carry a little noise, so that a hole, which no single move can close
without opening another, drifts from agent to agent until it meets a spare hour.
Descents run back to back while they gain. When one gains nothing, moves of several
agents at once take over for `ANNEAL_EVERY_S`: a neighbourhood of agents is cut out
of the schedule, the others' coverage and breaks become fixed data (`needs` what
they leave uncovered, `break_load` what they take of the break cap), and the CP-SAT
model (`cpmodel.build`) for just those agents is solved for a second or two, hinted
with their current shifts. A neighbourhood is drawn around an overstaffed queue and
interval: agents who work there and others who serve that queue nearest in time, so
a surplus hour can move to where a colleague's hour can be freed; or, as a time
window, three times as many agents free only on the days around that interval, their
other shifts pinned. Each round takes the kind that gained more per second lately.
Every schedule met is judged by the full objective (computed here exactly as
`cpmodel.build` defines it) and kept when it is no worse. Every hard rule holds
because every change comes out of the same rules (the sweeps' dynamic program, or
the model).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from scheduler import cpmodel
from scheduler.heuristic import Choice
from scheduler.patterns import Pattern, misses, paid_in_week, weekly_bounds, weeks
from scheduler.problem import Problem, Split, fairness_counts, fairness_range, shift_charge
from scheduler.respond import Responder

log = logging.getLogger(__name__)


# Agents per neighbourhood at the start, and its bounds as it adapts.
START_SIZE, MIN_SIZE, MAX_SIZE = 8, 4, 60
# Seconds CP-SAT gets per neighbourhood.
SOLVE_S = 1.5
# Two kinds of neighbourhood: free all week, or a time window of WINDOW_FACTOR times as
# many agents, free only on the local days that touch WINDOW intervals either side of
# the surplus. Each round takes the kind with the higher recent gain per second (an
# average with weight RECENT on the last round), every EXPLORE-th round the other one.
WINDOW_FACTOR, WINDOW = 3, 12
RECENT, EXPLORE = 0.3, 4
# Seconds of neighbourhoods after a descent of single-agent sweeps (`respond.py`) that
# gained nothing; then descents again (the neighbourhoods leave moves of one agent that
# the sweeps find in seconds).
ANNEAL_EVERY_S = 15.0
# With a budget of steps instead of a deadline (`improve`'s `steps`): neighbourhoods
# after a stalled descent, and CP-SAT's deterministic time for each of them.
ROUNDS_AFTER_STALL = 4
# A descent sweeps at the objective's weights while the objective falls, then with
# understaffing priced at each of these weights per unit of queue priority in turn (at
# each until a sweep gains nothing or SWEEPS_PER_WEIGHT sweeps are done), then at its own
# weight again while the objective falls.
UNDER_LADDER = (0.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
SWEEPS_PER_WEIGHT = 6
# Every descent after the first starts at one of the first LATER_STARTS weights, drawn
# at random: from the same schedule the same ladder mostly ends where it ended before.
LATER_STARTS = 5
# Noise on the sweeps' interval prices, drawn from ±PRICE_JITTER (the objective's
# over-staffing weight is 100, an hour of paid time 20-35): without it, moving a hole
# from one agent to another is no gain, so no sweep starts the chain of such moves
# that ends where someone has an hour to spare (`Responder.sweep`). On the bench,
# 60 s of descents from the same start: no noise 321 906; ±10 307 077, ±20 306 192
# and 308 156, ±40 307 540, ±80 312 133.
PRICE_JITTER = 20.0


@dataclass
class Incumbent:
    """The best schedule so far, its split over queues and its objective."""

    schedule: dict[str, dict[int, Choice]]  # agent → local day → (pattern index, break starts)
    split: Split
    objective: int


def objective(problem: Problem, schedule: dict[str, dict[int, Choice]], split: Split) -> int:
    """The objective `cpmodel.build` gives this schedule and split (its slack at best)."""
    rules, horizon, weights = problem.rules, problem.horizon, problem.rules.weights
    covered: dict[tuple[str, int], int] = defaultdict(int)
    for (_group, i, q), heads in split.items():
        covered[q, i] += heads
    total = 0
    for q in problem.queues:
        priority = rules.queue_rule(q).priority
        for i in range(horizon.size):
            need, have = problem.needs.get((q, i), 0), covered.get((q, i), 0)
            total += max(0, need - have) * weights.under * priority
            total += max(0, have - need) * weights.over
    weekend, night, missed = [], [], []
    for agent in problem.agents:
        a = agent.agent_id
        if not problem.servable[a]:
            continue
        days = schedule.get(a, {})
        chosen = {d: problem.patterns[a][d][k] for d, (k, _starts) in days.items()}
        total += sum(shift_charge(problem, agent, d, p) for d, p in chosen.items())
        weekends, nights, missed_wishes = fairness_counts(problem, a, days)
        weekend.append(weekends)
        night.append(nights)
        if rules.wishes(a).prefer:
            missed.append(missed_wishes)
        if problem.best_effort:
            for week in weeks(horizon.days):
                low, _high = weekly_bounds(agent, rules, week)
                total += max(0, low - paid_in_week(chosen, week)) * weights.under
    spreads = [max(counts) - min(counts) for counts in (weekend, night) if counts]
    return total + weights.fairness * (sum(spreads) + max(missed, default=0))


@dataclass
class Outcome:
    """The best schedule found and what the search did."""

    best: Incumbent
    rounds: int = 0  # neighbourhoods solved
    descents: int = 0  # descents of single-agent sweeps
    deterministic_s: float = 0.0  # CP-SAT's machine-independent work, summed


def improve(
    problem: Problem,
    start: Incumbent,
    deadline: float,
    workers: int = 2,
    seed: int = 0,
    on_improvement: Callable[[int], None] | None = None,
    responder: Responder | None = None,
    on_round: Callable[[], None] | None = None,
    steps: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> Outcome:
    """Descents of single-agent sweeps while they gain (`responder`: the sweeps, when
    already built), neighbourhoods re-solved by CP-SAT for `ANNEAL_EVERY_S` whenever a
    descent gains nothing (or all the time when the sweeps cannot express the rules),
    until `deadline` (time.monotonic()); `on_round` is called after each descent and
    neighbourhood.

    With `steps`, the clock plays no part (`deadline` is ignored): the search is that
    many descents and neighbourhoods, `ROUNDS_AFTER_STALL` neighbourhoods after a
    stalled descent, each solved by one CP-SAT worker for `SOLVE_S` of its
    deterministic time, so that a seed gives the same schedule on any machine at any
    load (tests).

    `stop` (when it says so: Ctrl-C) ends the search after the sweep or neighbourhood
    under way, with the best schedule so far: an improvement inside a descent is taken
    (and reported to `on_improvement`) as soon as it is met.

    The neighbourhood grows when CP-SAT proves its sub-model optimal and shrinks when
    it runs out of time without an improvement; once it holds every agent and is
    proved optimal there is nothing left to search.
    """
    rng = random.Random(seed)
    staff = sum(1 for a in problem.agents if problem.servable[a.agent_id])
    outcome = Outcome(start)
    size, wide = START_SIZE, START_SIZE * WINDOW_FACTOR
    rate = [math.inf, math.inf]  # recent gain per second: whole week, window
    responder = responder or Responder(problem)
    neighbourhoods_until = -math.inf  # on the clock
    neighbourhoods_left = 0  # counted, with `steps`
    if steps is not None:
        deadline, workers = math.inf, 1

    def going() -> bool:
        if stop is not None and stop():
            return False
        if steps is not None:
            return outcome.descents + outcome.rounds < steps
        return deadline - time.monotonic() > 0.3

    def descend_now() -> bool:
        if steps is not None:
            return neighbourhoods_left <= 0
        return time.monotonic() >= neighbourhoods_until

    def better(found: Incumbent) -> None:
        """A descent's better schedule, kept at once."""
        if found.objective < outcome.best.objective:
            outcome.best = found
            if on_improvement is not None:
                on_improvement(found.objective)

    while going():
        if on_round is not None:
            on_round()
        if responder.usable and descend_now():
            first = outcome.descents == 0
            ladder = UNDER_LADDER if first else UNDER_LADDER[rng.randrange(LATER_STARTS) :]
            outcome.descents += 1
            until = deadline - 0.3  # its rungs share the time left (see `anneal`)
            before = outcome.best.objective
            anneal(
                problem,
                responder,
                outcome.best,
                rng,
                until,
                ladder,
                PRICE_JITTER,
                on_round,
                on_better=better,
                stop=stop,
            )
            if outcome.best.objective >= before:
                # the descents stall: moves of several agents at once for a while
                neighbourhoods_until = time.monotonic() + ANNEAL_EVERY_S
                neighbourhoods_left = ROUNDS_AFTER_STALL
            continue
        neighbourhoods_left -= 1
        best = outcome.best
        windowed = rate[1] > rate[0]
        if outcome.rounds % EXPLORE == EXPLORE - 1:
            windowed = not windowed
        began = time.monotonic()
        team, i = _neighbourhood(problem, best, wide if windowed else size, rng)
        if not team:
            break
        window = (i - WINDOW, i + WINDOW + 1) if windowed and i >= 0 else None
        outcome.rounds += 1
        found, proved, work = _resolve(
            problem,
            best,
            team,
            None if steps is not None else min(SOLVE_S, deadline - time.monotonic() - 0.2),
            workers,
            seed + outcome.rounds,
            window,
        )
        outcome.deterministic_s += work
        improved = found is not None and found.objective < best.objective
        spent = work if steps is not None else time.monotonic() - began
        gain = (best.objective - found.objective if improved and found else 0) / max(0.01, spent)
        kind = int(windowed)
        rate[kind] = gain if math.isinf(rate[kind]) else (1 - RECENT) * rate[kind] + RECENT * gain
        log.debug(
            "neighbourhood of %d%s: %s, %s -> %s",
            len(team),
            " (window)" if window else "",
            "optimal" if proved else "feasible",
            best.objective,
            found.objective if found is not None else None,
        )
        if found is not None and found.objective <= best.objective:
            outcome.best = found  # equal too: a sideways move varies the next neighbourhoods
        if improved and on_improvement is not None:
            on_improvement(outcome.best.objective)
        if proved and len(team) >= staff and window is None:
            break
        if windowed:
            wide = _resized(wide, proved, improved)
        else:
            size = _resized(size, proved, improved)
    log.info(
        "improve: %d descents, %d neighbourhoods, objective %d -> %d",
        outcome.descents,
        outcome.rounds,
        start.objective,
        outcome.best.objective,
    )
    return outcome


def anneal(
    problem: Problem,
    responder: Responder,
    start: Incumbent,
    rng: random.Random,
    deadline: float,
    ladder: tuple[float, ...] = UNDER_LADDER,
    jitter: float = 0.0,
    on_sweep: Callable[[], None] | None = None,
    on_better: Callable[[Incumbent], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Incumbent:
    """The best schedule met while sweeping at the objective's weights, then with
    understaffing priced low and higher rung by rung back up to its own weight.

    At the objective's own weight a hole costs more than any agent's week, so a sweep
    never opens one, and an agent above their weekly minimum keeps the hour a colleague
    could have taken over. Priced low, agents move to where heads are needed most and
    leave holes behind; as the price rises, the holes are filled again by whoever fills
    them cheapest. Each schedule is judged by the exact objective, so the result is
    never worse than the sweeps at the objective's weights alone (without `jitter`;
    with it, every sweep prices with that much noise, see `Responder.sweep`).

    At the objective's own weight (the first rung and the last) it sweeps for as long as
    the exact objective falls, up to `deadline`: on a large team (340 agents, 11 queues)
    the sixth sweep there still gained 1 %, and a fixed count of sweeps made every time
    limit end on the same schedule. Each rung of the ladder between gets an even share
    of the time left before `deadline` and at most `SWEEPS_PER_WEIGHT` sweeps, so that
    where a sweep takes seconds a descent still climbs back to the objective's weight
    and closes the holes the low prices opened. `on_sweep` is called after each sweep
    (a descent can take the whole time limit: the bound is printed meanwhile),
    `on_better` with each schedule better than any before in this descent (the best so
    far is never lost to an interruption), and `stop` (when it says so) ends the
    descent after the sweep under way.
    """
    best = current = start
    own = float(problem.rules.weights.under)
    weights = (own, *ladder, own)
    rung_end = deadline
    for n, under in enumerate(weights):
        settle = n in (0, len(weights) - 1)  # the objective's own weight: while it falls
        if n >= 1:  # the time left, shared evenly over the rungs left
            rung_end = time.monotonic() + (deadline - time.monotonic()) / (len(weights) - n)
        until = deadline if settle else rung_end
        sweeps = 0
        while time.monotonic() < until and (settle or sweeps < SWEEPS_PER_WEIGHT):
            if stop is not None and stop():
                return best
            order = sorted(responder.pricers)
            rng.shuffle(order)
            schedule, split, gain = responder.sweep(
                current.schedule,
                current.split,
                order,
                under,
                jitter,
                rng.getrandbits(32),
                deadline=until,
            )
            sweeps += 1
            if on_sweep is not None:
                on_sweep()
            if gain <= 0:
                break
            before = current.objective
            current = Incumbent(schedule, split, objective(problem, schedule, split))
            if current.objective < best.objective:
                best = current
                if on_better is not None:
                    on_better(best)
            if settle and current.objective >= before:
                break
    log.debug("descent: %d -> %d", start.objective, best.objective)
    return best


def _resized(size: int, proved: bool, improved: bool) -> int:
    """Grown when CP-SAT proved the neighbourhood optimal, shrunk when it gained nothing."""
    if proved:
        return min(MAX_SIZE, size + 4)
    return size if improved else max(MIN_SIZE, size - 2)


def _working(problem: Problem, schedule: dict[str, dict[int, Choice]]) -> dict[str, set[int]]:
    """agent → intervals on shift and not on a break."""
    return cpmodel.working(problem.patterns, schedule, problem.rules, problem.horizon)


def _resting(problem: Problem, a: str, days: dict[int, Choice]) -> list[int]:
    """Intervals agent `a` spends on a break."""
    width = problem.horizon.interval
    return [
        i
        for _d, (_k, starts) in days.items()
        for first, rule in zip(starts, problem.rules.breaks, strict=True)
        if first >= 0
        for i in range(first, first + int(rule.length / width))
    ]


def _neighbourhood(
    problem: Problem, best: Incumbent, size: int, rng: random.Random
) -> tuple[list[str], int]:
    """Agents around an overstaffed (queue, interval), drawn in proportion to the surplus.

    Half are agents working then who could serve that queue, the rest serve it and
    work nearest in time, who can take over a freed hour; with no surplus anywhere,
    agents serving a random queue.
    """
    staff = [a.agent_id for a in problem.agents if problem.servable[a.agent_id]]
    if not staff:
        return [], -1
    covered: dict[tuple[str, int], int] = defaultdict(int)
    for (_group, i, q), heads in best.split.items():
        covered[q, i] += heads
    surplus = [
        ((q, i), have - problem.needs.get((q, i), 0))
        for (q, i), have in covered.items()
        if have > problem.needs.get((q, i), 0)
    ]
    if surplus:
        q, i = rng.choices([key for key, _ in surplus], [n for _, n in surplus])[0]
    else:
        q, i = rng.choice(problem.queues), -1
    serving = [a for a in staff if q in problem.servable[a]]
    working = _working(problem, {a: best.schedule.get(a, {}) for a in serving})
    there = [a for a in serving if i in working[a]]
    rng.shuffle(there)
    team = there[: size // 2]
    chosen = set(team)
    others = [a for a in serving if a not in chosen]
    rng.shuffle(others)
    others.sort(key=lambda a: min((abs(j - i) for j in working[a]), default=problem.horizon.size))
    return team + others[: size - len(team)], i


def _keep_fairness(
    problem: Problem,
    built: cpmodel.Built,
    schedule: dict[str, dict[int, Choice]],
    team_ids: list[str],
) -> None:
    """The team's weekend and night counts stay within everyone's current range, missed
    wishes at most the current worst: the fairness terms cannot grow, so the sub-model's
    objective (built without them) moves exactly as the whole objective does or better.
    """
    low, high = fairness_range(problem, schedule)
    worst = high[2]
    for a in team_ids:
        wishes = problem.rules.wishes(a)
        weekend, night, missed = [], [], []
        for (b, d, k), var in built.shift.items():
            if b != a:
                continue
            p = built.patterns[a][d][k]
            if problem.horizon.local_date(d).weekday() >= 5:
                weekend.append(var)
            if p.night:
                night.append(var)
            if misses(wishes.prefer, p):
                missed.append(var)
        for n, literals in enumerate((weekend, night)):
            if literals:
                built.model.add_linear_constraint(sum(literals), low[n], high[n])
        if wishes.prefer and missed:
            built.model.add(sum(missed) <= worst)


def _pinned(
    problem: Problem, current: dict[str, dict[int, Choice]], window: tuple[int, int] | None
) -> tuple[dict[str, dict[int, list[Pattern]]], dict[tuple[str, int], int]]:
    """The team's shifts to choose from: all of them on the days that touch `window` (or
    every day without one); elsewhere only the current shift with its breaks, or none.

    Returns those patterns and (agent, day) → the pinned shift's index in the problem's.
    """
    if window is None:
        return problem.patterns, {}
    low, high = window
    patterns: dict[str, dict[int, list[Pattern]]] = {}
    pinned: dict[tuple[str, int], int] = {}
    for a, days in current.items():
        patterns[a] = {}
        for d, options in problem.patterns[a].items():
            if any(p.start < high and p.end > low for p in options):
                patterns[a][d] = options
            elif d in days:
                k, starts = days[d]
                kept = tuple((s,) if s >= 0 else () for s in starts)
                patterns[a][d] = [replace(options[k], break_starts=kept)]
                pinned[a, d] = k
            else:
                patterns[a][d] = []
    return patterns, pinned


def _resolve(
    problem: Problem,
    best: Incumbent,
    team_ids: list[str],
    time_limit_s: float | None,
    workers: int,
    seed: int,
    window: tuple[int, int] | None = None,
) -> tuple[Incumbent | None, bool, float]:
    """The team re-solved with everyone else fixed (with a `window` of intervals: the
    team too, on the local days that do not touch it), for `time_limit_s` seconds or,
    without one, `SOLVE_S` of CP-SAT's deterministic time.

    Returns the new incumbent (None when CP-SAT found nothing), whether CP-SAT proved
    it optimal for the team, and CP-SAT's deterministic time.
    """
    rules, horizon = problem.rules, problem.horizon
    team = set(team_ids)
    by_id = {agent.agent_id: agent for agent in problem.agents}
    working = _working(problem, {a: best.schedule.get(a, {}) for a in team})
    # The team's part of each group's split: taken from the queues with the most surplus,
    # so that the others keep the queues that need them most.
    covered: dict[tuple[str, int], int] = defaultdict(int)
    for (_group, i, q), heads in best.split.items():
        covered[q, i] += heads
    members: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for a in team_ids:
        members[problem.servable[a]].append(a)
    mine: Split = {}
    for group, ids in members.items():
        for i in sorted({i for a in ids for i in working[a]}):
            heads = sum(1 for a in ids if i in working[a])
            left = {q: best.split.get((group, i, q), 0) for q in group}
            for _ in range(heads):
                q = max(
                    (q for q in group if left[q] > 0),
                    key=lambda q: covered[q, i] - problem.needs.get((q, i), 0),
                )
                left[q] -= 1
                covered[q, i] -= 1
                mine[group, i, q] = mine.get((group, i, q), 0) + 1
    # In the problem's order, so that the sub-model's groups are the same tuples.
    queues = [q for q in problem.queues if any(q in problem.servable[a] for a in team_ids)]
    needs = {
        (q, i): wanted
        for (q, i), need in problem.needs.items()
        if q in queues and (wanted := need - covered.get((q, i), 0)) > 0
    }
    break_load: dict[tuple[str, int], int] = defaultdict(int)
    for a, days in best.schedule.items():
        if a not in team:
            for i in _resting(problem, a, days):
                break_load[by_id[a].region, i] += 1

    agents = [by_id[a] for a in team_ids]
    current = {a: best.schedule.get(a, {}) for a in team_ids}
    patterns, pinned = _pinned(problem, current, window)
    built = cpmodel.build(
        agents,
        patterns,
        needs,
        queues,
        rules,
        horizon,
        problem.best_effort,
        break_load,
        fairness=False,
    )
    for literal in built.min_hours.values():
        built.model.add(literal == 1)
    for a, d in pinned:
        built.model.add(built.shift[a, d, 0] == 1)
    _keep_fairness(problem, built, best.schedule, team_ids)
    index = {group: g for g, (_ids, group) in enumerate(built.groups)}
    cpmodel.add_hint(
        built,
        {
            a: {d: (0, c[1]) if (a, d) in pinned else c for d, c in days.items()}
            for a, days in current.items()
        },
        {(index[group], i, q): n for (group, i, q), n in mine.items()},
        needs,
    )
    solver = cp_model.CpSolver()
    if time_limit_s is None:
        solver.parameters.max_deterministic_time = SOLVE_S
    else:
        solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # CP-SAT's Ctrl-C handler would leave SIGINT at the system's default after the solve
    # (a later Ctrl-C then kills the command without a word); a neighbourhood takes a
    # second or two, so Python's own handler is heard soon enough after it.
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(built.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False, solver.deterministic_time
    chosen, split_found = cpmodel.read(built, solver, rules)
    for a, days in chosen.items():
        for d, (k, starts) in days.items():
            days[d] = (pinned.get((a, d), k), starts)
    schedule = {a: days for a, days in best.schedule.items() if a not in team}
    schedule.update({a: chosen.get(a, {}) for a in team_ids})
    split = dict(best.split)
    for key, heads in mine.items():
        split[key] -= heads
    for (g, i, q), heads in split_found.items():
        key = (built.groups[g][1], i, q)
        split[key] = split.get(key, 0) + heads
    split = {key: heads for key, heads in split.items() if heads}
    return (
        Incumbent(schedule, split, objective(problem, schedule, split)),
        status == cp_model.OPTIMAL,
        solver.deterministic_time,
    )
