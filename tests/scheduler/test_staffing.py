"""Erlang C against published figures, Erlang A against independent computations."""

from __future__ import annotations

import heapq
import math
import random

import pytest

from scheduler.staffing import agents_needed, erlang_a, erlang_c, service_level_c


def test_erlang_c_matches_exact_small_case() -> None:
    # M/M/3 with 2 Erlangs: P(wait) = 4/9 exactly (Erlang C formula by hand).
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)


def test_erlang_c_matches_the_published_worked_example() -> None:
    # The classic worked example (100 calls in 30 min, 180 s AHT, 80/20): 10 Erlangs,
    # P(wait) with 11 agents 68.21 %, and 14 agents are the fewest reaching 80 % in 20 s.
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    assert service_level_c(13, 10.0, 180, 20) < 0.8 < service_level_c(14, 10.0, 180, 20)
    assert agents_needed(100, 180, 1800, 0.8, 20) == 14


def test_occupancy_cap_raises_the_head_count() -> None:
    assert agents_needed(100, 180, 1800, 0.8, 20, max_occupancy=0.65) == math.ceil(10 / 0.65)


def test_no_contacts_need_no_agents() -> None:
    assert agents_needed(0, 180, 1800, 0.8, 20) == 0
    assert agents_needed(0, 180, 1800, 0.8, 20, patience_s=60) == 0


@pytest.mark.parametrize("servers", [11, 12, 14])
def test_erlang_a_with_endless_patience_is_erlang_c(servers: int) -> None:
    figures = erlang_a(servers, 100 / 1800, 180, 1e9, 20)
    assert figures.service_level == pytest.approx(service_level_c(servers, 10.0, 180, 20), abs=1e-4)
    assert figures.abandon == pytest.approx(0, abs=1e-4)


@pytest.mark.parametrize("servers", [8, 10, 12])
def test_erlang_a_flow_balance(servers: int) -> None:
    # Independent identity: answered callers per second equal busy agents times μ.
    rate, aht = 100 / 1800, 180.0
    figures = erlang_a(servers, rate, aht, 60, 20)
    assert figures.answered * rate * aht == pytest.approx(figures.occupancy * servers, rel=1e-6)
    # Overloaded without patience would explode; with abandonment it is stable.
    assert 0 < figures.abandon < 1


def _simulate(servers: int, rate: float, aht: float, patience: float, target: float) -> tuple:
    """M/M/n+M by discrete events, FCFS: share answered within target, share abandoned."""
    rng = random.Random(7)
    now, free_at = 0.0, [0.0] * servers
    heapq.heapify(free_at)
    # With FCFS and exponential patience, a caller's wait is the time until an agent
    # frees up among those not taken by earlier callers; abandoners take no agent.
    answered_in_time = abandoned = total = 0
    for _ in range(60000):
        now += rng.expovariate(rate)
        total += 1
        earliest = free_at[0]
        wait = max(0.0, earliest - now)
        if wait > rng.expovariate(1 / patience):
            abandoned += 1
            continue
        heapq.heapreplace(free_at, now + wait + rng.expovariate(1 / aht))
        answered_in_time += wait <= target
    return answered_in_time / total, abandoned / total


def test_erlang_a_agrees_with_simulation() -> None:
    servers, rate, aht, patience = 9, 100 / 1800, 180.0, 90.0
    figures = erlang_a(servers, rate, aht, patience, 20)
    simulated_sl, simulated_abandon = _simulate(servers, rate, aht, patience, 20)
    assert figures.service_level == pytest.approx(simulated_sl, abs=0.02)
    assert figures.abandon == pytest.approx(simulated_abandon, abs=0.01)


def test_erlang_a_needs_fewer_agents_when_callers_give_up() -> None:
    patient = agents_needed(300, 240, 1800, 0.8, 20)
    impatient = agents_needed(300, 240, 1800, 0.8, 20, patience_s=30)
    assert impatient <= patient
    figures = erlang_a(impatient, 300 / 1800, 240, 30, 20)
    assert figures.service_level >= 0.8
    assert erlang_a(impatient - 1, 300 / 1800, 240, 30, 20).service_level < 0.8
