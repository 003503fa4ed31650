"""The wait predictors and the choice between them: pure functions."""

from __future__ import annotations

import math
import random

import pytest

from router.waits import (
    METHODS,
    MIN_SCORED,
    Score,
    WaitInputs,
    choose,
    encode,
    hol_s,
    les_s,
    measured_rate,
    ours_s,
    predict_all,
    ql_s,
    scores,
    stages_median_s,
)


def inputs(**changes: object) -> WaitInputs:
    values: dict[str, object] = {
        "position": 3,
        "serving_agents": 4,
        "handle_s": 120.0,
        "abandon_rate_per_s": 0.0,
        "head_wait_s": 50.0,
        "last_wait_s": 40.0,
    }
    values.update(changes)
    return WaitInputs(**values)  # type: ignore[arg-type]


def test_les_and_hol_read_the_history_and_fall_back_to_the_queue_length() -> None:
    assert les_s(inputs()) == 40.0
    assert hol_s(inputs()) == 50.0
    assert les_s(inputs(last_wait_s=None)) == ql_s(inputs())
    # Nobody ahead: the head of the line is the caller itself.
    assert hol_s(inputs(position=1)) == ql_s(inputs(position=1))


def test_queue_length_without_abandonment_is_k_times_aht_over_agents() -> None:
    assert ql_s(inputs()) == pytest.approx(3 * 120 / 4)
    assert ql_s(inputs(position=0)) == 0.0
    assert ql_s(inputs(serving_agents=0)) == pytest.approx(3 * 120)  # as if one agent


def test_abandonment_ahead_shortens_the_queue_length_estimate() -> None:
    theta = 1 / 60
    expected = sum(1 / (4 / 120 + ahead * theta) for ahead in range(3))
    assert ql_s(inputs(abandon_rate_per_s=theta)) == pytest.approx(expected)
    assert expected < ql_s(inputs())


def test_stages_median_matches_the_exponential_and_erlang_medians() -> None:
    assert stages_median_s([0.5]) == pytest.approx(math.log(2) / 0.5, rel=2e-3)
    # Erlang-2 with rate 1: median 1.678346990...
    assert stages_median_s([1.0, 1.0]) == pytest.approx(1.678347, rel=1e-3)


def test_stages_median_of_unequal_stages_agrees_with_sampling() -> None:
    rates = [0.05, 0.08, 0.2]
    rng = random.Random(3)
    draws = sorted(sum(rng.expovariate(r) for r in rates) for _ in range(40_000))
    assert stages_median_s(rates) == pytest.approx(draws[len(draws) // 2], rel=0.03)


def test_the_measured_rate_starts_at_the_nominal_one_and_follows_the_queue() -> None:
    nominal = 4 / 120
    assert measured_rate(inputs()) == pytest.approx(nominal)
    # 100 departures in 10,000 s of the queue moving: far slower than the agents suggest.
    slow = inputs(departures=100, departure_gap_s=10_000.0)
    assert measured_rate(slow) == pytest.approx(102 / (10_000 + 2 / nominal))
    assert ours_s(slow) > ours_s(inputs())


def test_ours_is_the_median_of_a_served_caller_with_stages_tilted_by_patience() -> None:
    theta = 0.01
    rate = 4 / 120
    expected = stages_median_s([rate + (ahead + 1) * theta for ahead in range(3)])
    assert ours_s(inputs(abandon_rate_per_s=theta)) == pytest.approx(expected)
    # The median of a served caller's wait is below the mean of everyone's.
    assert ours_s(inputs(abandon_rate_per_s=theta)) < ql_s(inputs(abandon_rate_per_s=theta))


def test_every_method_gives_a_number() -> None:
    estimates = predict_all(inputs())
    assert list(estimates) == list(METHODS)
    assert all(value >= 0 and math.isfinite(value) for value in estimates.values())


def test_the_choice_waits_for_enough_scored_callers_then_takes_the_smallest_error() -> None:
    few = {name: Score(10.0 * (i + 1), MIN_SCORED - 1) for i, name in enumerate(METHODS)}
    assert choose(few, default="ql") == "ql"
    enough = {
        "les": Score(5000.0, MIN_SCORED),
        "hol": Score(900.0, MIN_SCORED),
        "ql": Score(1200.0, MIN_SCORED),
        "ours": Score(1000.0, MIN_SCORED),
    }
    assert choose(enough) == "hol"


def test_scores_add_the_routing_functions_counters() -> None:
    buckets = [
        {"ewt_scored": 2, "ewt_err_les": 30_000, "ewt_err_ours": 10_000, "answered": 9},
        {"ewt_scored": 1, "ewt_err_les": 3_000, "ewt_err_ours": 2_000},
    ]
    measured = scores(buckets)
    assert measured["les"] == Score(33.0, 3)
    assert measured["ours"].mean_abs_error_s == pytest.approx(4.0)
    assert measured["hol"].mean_abs_error_s == 0.0 and measured["hol"].scored == 3


def test_the_encoded_estimates_are_what_the_routing_function_parses() -> None:
    text = encode(1_700_000_000_123, {"les": 12.5, "ours": 3.0004, "nope": 1.0, "ql": math.inf})
    assert text == "at:1700000000123 les:12500 ours:3000"
