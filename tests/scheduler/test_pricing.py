"""The tour pricing finds the cheapest rule-abiding tour (checked against enumeration)."""

from __future__ import annotations

import itertools
import random
from datetime import time, timedelta

import numpy as np
import pytest

from scheduler.patterns import Horizon, Pattern, agent_patterns
from scheduler.pricing import NotPriceable, TourPricer, WeekLimits

from .conftest import HALF_HOUR, START, agent, rules

REST = 22  # 11 h in half-hour intervals
RUN = 2  # at most two working days in a row


def _days(horizon_days: int = 3, every: int = 4, lengths: tuple[int, ...] = (8, 6)) -> dict:
    """Real candidate shifts of a Berlin agent (local days with the edge days)."""
    plan_rules = rules(
        shift_lengths=tuple(timedelta(hours=h) for h in lengths),
        start_granularity=timedelta(hours=every),
        earliest_start=time(6),
        latest_start=time(14),
        breaks=(),
    )
    horizon = Horizon.from_date(START, horizon_days, HALF_HOUR)
    return agent_patterns(agent("B1", "sales"), plan_rules, horizon)


def _feasible(days: dict[int, list[Pattern]], tour: tuple, weeks: list[WeekLimits]) -> bool:
    """The rules, checked directly on the shifts (independent of the pricing's states)."""
    shifts = sorted((days[d][k] for d, k in tour), key=lambda p: p.start)
    worked = sorted(d for d, _k in tour)
    if len(set(worked)) != len(worked):
        return False
    if any(later - first < RUN + 1 for first, later in zip(worked, worked[RUN:], strict=False)):
        # RUN + 1 working days inside a window of RUN + 1 consecutive days
        return False
    if any(b.start < a.end + REST for a, b in itertools.pairwise(shifts)):
        return False
    for week in weeks:
        inside = [days[d][k] for d, k in tour if d in week.days]
        paid = sum(p.paid_minutes for p in inside)
        if len(inside) > week.max_days or not week.min_minutes <= paid <= week.max_minutes:
            return False
    return True


def _all_tours(days: dict[int, list[Pattern]]) -> list[tuple]:
    order = sorted(days)
    choices = [[None, *range(len(days[d]))] for d in order]
    return [
        tuple((d, k) for d, k in zip(order, combo, strict=True) if k is not None)
        for combo in itertools.product(*choices)
    ]


def _one_week() -> tuple[dict, list[WeekLimits]]:
    days = _days()
    return days, [WeekLimits(frozenset(days), 3, 12 * 60, 20 * 60)]


def _two_weeks() -> tuple[dict, list[WeekLimits]]:
    """8 days (10 local days): a full week, then a partial one with at most one shift."""
    days = _days(horizon_days=8, every=8, lengths=(8,))
    first = WeekLimits(frozenset(range(-1, 7)), 5, 24 * 60, 32 * 60)
    return days, [first, WeekLimits(frozenset({7, 8}), 1, 0, 8 * 60)]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("calendar", [_one_week, _two_weeks])
def test_cheapest_tours_match_enumeration(seed: int, calendar) -> None:
    days, weeks = calendar()
    pricer = TourPricer(days, REST, RUN, weeks)
    rng = random.Random(seed)
    weights = {d: np.array([rng.uniform(-50, 30) for _ in shifts]) for d, shifts in days.items()}

    def weight(tour: tuple) -> float:
        return float(sum(weights[d][k] for d, k in tour))

    feasible = [t for t in _all_tours(days) if _feasible(days, t, weeks)]
    assert feasible and len(feasible) < len(_all_tours(days))  # the rules do cut
    found = pricer.cheapest(weights, count=3)
    assert 1 <= len(found) <= 3  # one per end state (last week's mix, last shift, run)
    assert found[0][0] == pytest.approx(min(weight(t) for t in feasible))
    assert [v for v, _t in found] == sorted(v for v, _t in found)
    assert len({t for _v, t in found}) == len(found)
    for value, tour in found:
        assert _feasible(days, tour, weeks)
        assert value == pytest.approx(weight(tour))


def test_no_tour_when_the_hours_cannot_be_reached() -> None:
    days = _days()
    week = WeekLimits(frozenset(days), 3, 30 * 60, 40 * 60)  # 3 shifts of at most 8 h
    pricer = TourPricer(days, REST, RUN, [week])
    assert pricer.cheapest({d: np.zeros(len(s)) for d, s in days.items()}) == []


def test_rest_reaching_past_the_next_day_is_refused() -> None:
    days = _days()
    week = WeekLimits(frozenset(days), 3, 0, 40 * 60)
    with pytest.raises(NotPriceable):
        TourPricer(days, 72, RUN, [week])  # 36 h of rest: 22:00 to 06:00 two days on is 32 h
