"""The LP optimum rostered onto agents cell by cell (real HiGHS and CP-SAT solves)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from scheduler import assign
from scheduler.checker import check
from scheduler.model import Agent, Rules, SolveReport
from scheduler.patterns import Horizon
from scheduler.relaxation import Guide, cells_of, lower_bound
from scheduler.roster import FIRST_PASS_SLACK_H, Roster, capped, roster, share_of
from scheduler.solver import Plan, SolveOptions, solve

from .conftest import HALF_HOUR, PROFILE, START, agent, instance, rules


def _instance(team: list[Agent], days: int, plan_rules: Rules) -> tuple:
    inst = instance(team, PROFILE, days, plan_rules)
    return inst.horizon, inst.needs, inst.queues, inst.patterns, inst.servable


def _guided(team: list[Agent], days: int, plan_rules: Rules) -> tuple:
    """The instance and its LP optimum (the roster's guide)."""
    horizon, needs, queues, patterns, servable = _instance(team, days, plan_rules)
    proven = lower_bound(team, patterns, servable, needs, queues, plan_rules, horizon, 30)
    assert proven.guide is not None
    return horizon, needs, queues, patterns, servable, proven.guide


def _covered(found: Roster) -> dict[tuple[str, int], int]:
    covered: dict[tuple[str, int], int] = defaultdict(int)
    for (_group, i, q), heads in found.split.items():
        covered[q, i] += heads
    return covered


@pytest.fixture
def crew(team: list[Agent]) -> list[Agent]:
    """The six of the team plus four more in Berlin, two of them with weekly minimum hours."""
    return [
        *team,
        agent("B5", "sales", "de;en", hours=(24, 40)),
        agent("B6", "sales", "de;en", hours=(24, 40)),
        agent("B7", "sales", "en"),
        agent("N3", "sales", "en", "America/New_York", "amer"),
    ]


def _segments(
    found: Roster,
    crew: list[Agent],
    patterns: dict,
    servable: dict,
    plan_rules: Rules,
    horizon: Horizon,
) -> list:
    """The roster's schedule through the same path as a solver plan."""
    groups = sorted({servable[a.agent_id] for a in crew})
    members = [tuple(a.agent_id for a in crew if servable[a.agent_id] == g) for g in groups]
    split: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for (group_queues, i, q), heads in found.split.items():
        split[groups.index(group_queues), i][q] = heads
    plan = Plan(
        {
            a: [(patterns[a][d][k], starts) for d, (k, starts) in sorted(days_.items())]
            for a, days_ in found.schedule.items()
        },
        list(zip(members, groups, strict=True)),
        dict(split),
        SolveReport("FEASIBLE", 0, 0, 0, 0),
    )
    return assign.segments(plan, plan_rules, horizon)


def test_roster_obeys_every_rule_and_meets_the_demand(crew: list[Agent]) -> None:
    plan_rules = rules()
    days = 7
    horizon, needs, queues, patterns, servable, guide = _guided(crew, days, plan_rules)
    found = roster(crew, patterns, servable, needs, plan_rules, horizon, guide, 20, 1, 1)
    assert found is not None
    segments = _segments(found, crew, patterns, servable, plan_rules, horizon)
    assert check(segments, crew, plan_rules, set(queues), START, days) == []
    # Ten agents can meet this demand (the LP optimum has no shortfall); cell by cell
    # rounding may leave an interval short, never more than one here.
    covered = _covered(found)
    shortfall = sum(max(0, need - covered[key]) for key, need in needs.items())
    assert shortfall <= 1
    # The split only uses agents who work: per interval no more heads than on shift.
    counted = defaultdict(int)
    for segment in segments:
        if segment.activity in queues:
            first = int((segment.start - horizon.start) / HALF_HOUR)
            last = int((segment.end - horizon.start) / HALF_HOUR)
            for i in range(first, last):
                counted[segment.activity, i] += 1
    assert dict(counted) == {key: n for key, n in covered.items() if n}


def test_cells_left_without_time_get_the_greedy_schedule(crew: list[Agent]) -> None:
    # No time at all: no cell is solved by CP-SAT, each gets the greedy schedule for
    # what the cells before it leave; every rule holds, weekly minimums included.
    plan_rules = rules()
    days = 7
    horizon, needs, queues, patterns, servable, guide = _guided(crew, days, plan_rules)

    found = roster(crew, patterns, servable, needs, plan_rules, horizon, guide, 0, 1, 1)

    assert found is not None
    segments = _segments(found, crew, patterns, servable, plan_rules, horizon)
    assert check(segments, crew, plan_rules, set(queues), START, days) == []
    for a in ("B5", "B6"):
        days_worked = found.schedule[a].items()
        assert sum(patterns[a][d][k].paid_minutes for d, (k, _s) in days_worked) >= 24 * 60
    covered = _covered(found)
    assert sum(covered.values()) > 0 and all(n >= 0 for n in covered.values())


def test_cells_share_their_groups_lp_coverage_by_head_count() -> None:
    # Two cells of one group: 3 and 1 heads working, 2 on sales_de and 2 on sales_en.
    group = ("sales_de", "sales_en")
    berlin, tokyo = (group, "emea", "Europe/Berlin"), (group, "apac", "Asia/Tokyo")
    guide = Guide(
        {},
        {(berlin, 5): 3.0, (tokyo, 5): 1.0},
        {(group, 5, "sales_de"): 2.0, (group, 5, "sales_en"): 2.0},
    )
    shares = share_of(guide, {berlin: ["B1"], tokyo: ["T1"]})
    assert shares[berlin]["sales_de", 5] == pytest.approx(1.5)
    assert shares[tokyo]["sales_en", 5] == pytest.approx(0.5)
    assert sum(shares[berlin].values()) + sum(shares[tokyo].values()) == pytest.approx(4.0)


def test_cells_group_interchangeable_agents(team: list[Agent]) -> None:
    servable = {a.agent_id: ("sales_en",) for a in team}
    cells = cells_of(team, servable)
    assert sorted(map(sorted, cells.values())) == [["B1", "B2", "B3", "B4"], ["N1", "N2"]]


def test_solver_starts_from_the_better_start_and_falls_back_to_the_greedy(
    crew: list[Agent],
) -> None:
    plan_rules = rules()
    horizon, needs, queues, _patterns, _servable = _instance(crew, 7, plan_rules)
    options = SolveOptions(time_limit_s=20, workers=2, seed=1)
    rostered = solve(crew, needs, queues, plan_rules, horizon, options)
    assert rostered.start == "roster"  # on this instance the roster beats the construction
    assert rostered.report.status in ("OPTIMAL", "FEASIBLE")
    assert rostered.report.objective >= rostered.report.bound
    no_lp = SolveOptions(time_limit_s=10, workers=2, seed=1, relaxation=False)
    assert solve(crew, needs, queues, plan_rules, horizon, no_lp).start == "construct"
    # Minimum hours soft: beyond the sweeps, and without the LP no roster either.
    soft = SolveOptions(time_limit_s=10, workers=2, seed=1, relaxation=False, best_effort=True)
    assert solve(crew, needs, queues, plan_rules, horizon, soft).start == "greedy"


def test_first_pass_caps_hours_at_the_lp_average_never_below_the_minimum() -> None:
    # One cell of two agents whose LP works 24 paid hours between them in the week:
    # 12 h each on average, so at most 16 h in the first pass, but never below a minimum.
    cell = (("sales_en",), "emea", "Europe/Berlin")
    crew = [agent("B1", "sales", "en"), agent("B2", "sales", "en", hours=(20, 40))]
    plan_rules = rules()
    inst = instance(crew, {"sales_en": (8, 20, 1)}, 7, plan_rules)
    day_one = inst.patterns["B1"][1]
    eight = next(p for p in day_one if p.end - p.start == 16)  # 7.5 h paid
    six = next(p for p in day_one if p.end - p.start == 12)  # 5.5 h paid
    shifts = {
        (cell, (1, eight.start, eight.end)): 2.0,  # 15 h
        (cell, (1, six.start, six.end)): 1.0,  # 5.5 h
        (cell, (1, six.start + 2, six.end + 2)): 0.6363636363636364,  # 3.5 h
    }
    guide = Guide(shifts, {}, {})
    team = capped(crew, cell, guide, inst.patterns, plan_rules, inst.horizon)
    assert team[0].max_hours == pytest.approx(12 + FIRST_PASS_SLACK_H)
    assert team[1].max_hours == 20  # its weekly minimum
    assert [a.min_hours for a in team] == [0, 20]
