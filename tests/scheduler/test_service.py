"""Real CP-SAT solves of small instances, verified by the independent checker."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from scheduler.checker import check
from scheduler.model import AgentWishes, Rules, ScheduleResult
from scheduler.service import make_schedule
from scheduler.solver import SolveOptions

from .conftest import START, STEPS, agent, requirements, rules

OPTIONS = SolveOptions(time_limit_s=10, workers=2, seed=1, steps=STEPS)


def _solve(team, rows, plan_rules: Rules, days: int = 3, **options) -> ScheduleResult:
    settings = SolveOptions(**{**OPTIONS.__dict__, **options})
    return make_schedule(rows, team, plan_rules, START, days, settings)


def test_schedule_obeys_every_rule_and_covers_demand(team) -> None:
    plan_rules = rules()
    rows = requirements({"sales_de": (8, 15, 1), "sales_en": (8, 20, 1)}, days=3)
    result = _solve(team, rows, plan_rules)
    assert result.report.status in ("OPTIMAL", "FEASIBLE")
    assert result.problems == []
    assert check(result.segments, team, plan_rules, {"sales_de", "sales_en"}, START, 3) == []
    shortfall = sum(max(0, r.required - r.scheduled) for r in result.coverage)
    assert shortfall == 0
    # Every shift with a lunch window gets exactly one lunch.
    assert any(s.activity == "lunch" for s in result.segments)


def test_a_multi_skilled_agent_is_counted_once(team) -> None:
    # One agent can serve both queues, each needing one agent: only one can be covered.
    solo = [agent("B1", "sales", "de;en")]
    rows = requirements({"sales_de": (9, 12, 1), "sales_en": (9, 12, 1)}, days=1)
    result = _solve(solo, rows, rules(max_on_break=None), days=1)
    per_interval: dict[object, int] = defaultdict(int)
    for row in result.coverage:
        per_interval[row.interval_start] += row.scheduled
    assert max(per_interval.values()) == 1
    shortfall = sum(max(0, r.required - r.scheduled) for r in result.coverage)
    assert shortfall >= 6  # three hours of one of the two queues stay uncovered
    # The priority-2 German queue wins over the English one.
    de = sum(r.scheduled for r in result.coverage if r.queue == "sales_de")
    assert de == 6


def test_languages_are_skills(team) -> None:
    rows = requirements({"sales_de": (8, 15, 1), "sales_en": (8, 20, 1)}, days=2)
    result = _solve(team, rows, rules(), days=2)
    speakers = {a.agent_id for a in team if "de" in a.languages}
    german = [s for s in result.segments if s.activity == "sales_de"]
    # The German queue is covered (so the check below is not vacuous), and only by German
    # speakers.
    assert german
    assert all(r.scheduled >= r.required for r in result.coverage if r.queue == "sales_de")
    assert {s.agent_id for s in german} <= speakers
    assert {a.agent_id for a in team} - speakers  # there are agents who must not serve it


def test_agents_in_other_time_zones_follow_local_rules(team) -> None:
    # English demand late in the UTC day can only be met from New York.
    team = [*team, agent("N3", "sales", "en", "America/New_York", "amer")]
    rows = requirements({"sales_en": (16, 22, 1)}, days=3)
    plan_rules = rules()
    result = _solve(team, rows, plan_rules)
    assert sum(max(0, r.required - r.scheduled) for r in result.coverage) == 0
    zone = ZoneInfo("America/New_York")
    new_york = [s for s in result.segments if s.agent_id.startswith("N")]
    assert new_york
    starts = {s.start.astimezone(zone).hour for s in new_york}
    assert min(starts) >= 6
    assert check(result.segments, team, plan_rules, None, START, 3) == []


def test_daylight_saving_change_keeps_local_start_times() -> None:
    # The US moves its clocks on Sunday 2024-03-10; a New York agent still starts 06-14 local.
    team = [agent("N1", "sales", "en", "America/New_York", "amer", (0, 40))]
    rows = requirements({"sales_en": (13, 19, 1)}, days=7)
    plan_rules = rules(days_off_per_week=0, max_consecutive_days=7, max_hours_per_week=60)
    result = _solve(team, rows, plan_rules, days=7)
    zone = ZoneInfo("America/New_York")
    sunday = [s for s in result.segments if s.start.astimezone(zone).day == 10]
    assert sunday, "the Sunday demand is covered"
    assert check(result.segments, team, plan_rules, None, START, 7) == []


def test_unavailable_days_and_requested_days_off(team) -> None:
    plan_rules = rules(
        agents={
            "B1": AgentWishes(unavailable=frozenset({START})),
            "B2": AgentWishes(requested_days_off=frozenset({START + timedelta(days=1)})),
        }
    )
    rows = requirements({"sales_de": (8, 15, 1)}, days=2)
    result = _solve(team, rows, plan_rules, days=2)
    local = ZoneInfo("Europe/Berlin")
    assert not any(
        s.agent_id == "B1" and s.start.astimezone(local).date() == START for s in result.segments
    )
    # B3 can cover the second day, so B2's wish is granted.
    assert not any(
        s.agent_id == "B2" and s.start.astimezone(local).date() == START + timedelta(days=1)
        for s in result.segments
    )
    assert sum(max(0, r.required - r.scheduled) for r in result.coverage) == 0


def test_requirement_beyond_the_skilled_agents_is_explained(team) -> None:
    rows = requirements({"sales_de": (9, 10, 5)}, days=1)
    result = _solve(team, rows, rules(), days=1)
    assert any(
        "queue sales_de at 2024-03-04T09:00:00+00:00 needs 5 agents, 3 with sales and de" in line
        for line in result.problems
    )
    # Best effort is still a schedule: the three German speakers are all there.
    assert max(r.scheduled for r in result.coverage) == 3


def test_unreachable_minimum_hours_name_the_agent() -> None:
    team = [agent("B1", "sales", "de", hours=(40, 40))]
    plan_rules = rules(
        agents={"B1": AgentWishes(unavailable=frozenset({START, START + timedelta(days=1)}))}
    )
    rows = requirements({"sales_de": (8, 15, 1)}, days=7)
    strict = _solve(team, rows, plan_rules, days=7)
    assert any(line.startswith("agent B1: week 1 needs at least 40 h") for line in strict.problems)
    assert strict.segments == []
    relaxed = _solve(team, rows, plan_rules, days=7, best_effort=True)
    assert relaxed.segments, "best effort still schedules what it can"
    violations = check(relaxed.segments, team, plan_rules, None, START, 7)
    assert {v.rule for v in violations} == {"min_hours"}


def test_same_seed_same_schedule(team) -> None:
    rows = requirements({"sales_de": (8, 15, 1), "sales_en": (8, 20, 1)}, days=1)
    first = _solve(team, rows, rules(), days=1, workers=1)
    second = _solve(team, rows, rules(), days=1, workers=1)
    assert first.segments == second.segments


def test_early_and_late_wishes_are_granted_when_free() -> None:
    team = [agent("B1", "sales", "en"), agent("B2", "sales", "en")]
    plan_rules = rules(
        agents={"B1": AgentWishes(prefer="late"), "B2": AgentWishes(prefer="early")},
        breaks=(),
        max_on_break=None,
    )
    # One agent 05:00-11:00 UTC (06:00 Berlin, early) and one 13:00-19:00 (14:00, late).
    early = requirements({"sales_en": (5, 11, 1)}, days=2)
    late = requirements({"sales_en": (13, 19, 1)}, days=2)
    rows = [
        type(first)(first.interval_start, first.queue, first.required + second.required)
        for first, second in zip(early, late, strict=True)
    ]
    result = _solve(team, rows, plan_rules, days=2)
    berlin = ZoneInfo("Europe/Berlin")
    starts = {(s.agent_id, s.start.astimezone(berlin).hour) for s in result.segments}
    assert ("B2", 6) in starts and ("B1", 14) in starts
    assert ("B1", 6) not in starts and ("B2", 14) not in starts


def test_the_first_schedule_is_handed_over_before_the_search_and_keeps_every_rule(team) -> None:
    plan_rules = rules()
    rows = requirements({"sales_de": (8, 15, 1), "sales_en": (8, 20, 1)}, days=3)
    seen: list[ScheduleResult] = []
    final = make_schedule(rows, team, plan_rules, START, 3, OPTIONS, on_first=seen.append)
    assert len(seen) == 1
    first = seen[0]
    assert first.segments and first.report.start == "construct"
    assert check(first.segments, team, plan_rules, {"sales_de", "sales_en"}, START, 3) == []
    assert final.report.objective <= first.report.objective
    # With something that cannot be met, nothing is handed over early (no file to write).
    short = requirements({"sales_de": (9, 10, 5)}, days=1)
    make_schedule(short, team, plan_rules, START, 1, OPTIONS, on_first=seen.append)
    assert len(seen) == 1


def test_coverage_lists_scheduled_intervals_without_a_requirement_row() -> None:
    # Requirement rows for 09:00-10:00 only; the shortest shift is 6 h: the other hours
    # the agent works are coverage rows too, required 0.
    solo = [agent("B4", "sales", "en")]
    rows = [r for r in requirements({"sales_en": (9, 10, 1)}, days=1) if r.required]
    result = _solve(solo, rows, rules(), days=1)
    worked = sum(
        int((s.end - s.start) / timedelta(minutes=30))
        for s in result.segments
        if s.activity == "sales_en"
    )
    assert worked >= 11  # 6 h less a lunch
    assert sum(r.scheduled for r in result.coverage) == worked
    assert [(r.interval_start.hour, r.required) for r in result.coverage if r.required] == [
        (9, 1),
        (9, 1),
    ]
    extra = [r for r in result.coverage if not r.required]
    assert len(extra) == len(result.coverage) - 2 and all(r.scheduled == 1 for r in extra)
    starts = [r.interval_start for r in result.coverage]
    assert starts == sorted(starts)


def test_best_effort_on_a_feasible_team_searches_as_the_normal_solve(team) -> None:
    # Minimum hours that can be met: best effort keeps them in the search instead of
    # handing the whole model to CP-SAT, and finds the same schedule.
    crew = [*team[:3], agent("B5", "sales", "de;en", hours=(24, 40))]
    plan_rules = rules()
    rows = requirements({"sales_de": (8, 15, 1), "sales_en": (10, 14, 1)}, days=7)
    normal = _solve(crew, rows, plan_rules, days=7, workers=1, steps=1)
    relaxed = _solve(crew, rows, plan_rules, days=7, workers=1, steps=1, best_effort=True)
    assert normal.problems == [] and relaxed.problems == []
    assert relaxed.report.start == "construct"
    assert relaxed.report.objective == normal.report.objective
    assert relaxed.segments == normal.segments
    assert check(relaxed.segments, crew, plan_rules, {"sales_de", "sales_en"}, START, 7) == []
