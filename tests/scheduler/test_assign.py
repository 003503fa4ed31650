"""Handing the solver's head counts to agents: groups trade counts so agents stay put."""

from __future__ import annotations

from collections import Counter

from scheduler.assign import steady_split


def totals(split: dict[int, dict[str, int]]) -> tuple[Counter[str], dict[int, int]]:
    per_queue: Counter[str] = Counter()
    for heads in split.values():
        per_queue.update(heads)
    return per_queue, {g: sum(heads.values()) for g, heads in split.items()}


def test_groups_trade_counts_so_that_every_agent_keeps_the_queue_it_was_on() -> None:
    # Both groups take billing and support; the solver asked each to put one head on
    # each queue, though group 0 was all on billing and group 1 all on support.
    split = {0: {"billing": 1, "support": 1}, 1: {"billing": 1, "support": 1}}
    previous = {0: Counter(billing=2), 1: Counter(support=2)}
    serves = {0: ("billing", "support"), 1: ("billing", "sales", "support")}
    traded = steady_split(split, previous, serves)
    assert traded == {0: {"billing": 2}, 1: {"support": 2}}
    assert totals(traded) == totals(split)  # coverage and each group's heads unchanged


def test_a_queue_a_group_cannot_take_is_never_traded_to_it() -> None:
    # Group 1 was on sales, which group 0 cannot serve: the counts stay the solver's.
    split = {0: {"billing": 2}, 1: {"billing": 1, "support": 1}}
    previous = {0: Counter(support=2), 1: Counter(billing=2)}
    serves = {0: ("billing",), 1: ("billing", "support")}
    assert steady_split(split, previous, serves) == split


def test_the_most_agents_stay_when_not_all_can() -> None:
    split = {0: {"billing": 2, "support": 1}, 1: {"billing": 1, "support": 2}}
    previous = {0: Counter(support=3), 1: Counter(support=1, billing=2)}
    serves = {0: ("billing", "support"), 1: ("billing", "support")}
    traded = steady_split(split, previous, serves)
    assert totals(traded) == totals(split)
    stayed = sum(min(n, previous[g][q]) for g, heads in traded.items() for q, n in heads.items())
    assert stayed == 5  # 3 on support need group 0's three (3) and group 1's billing (2)
