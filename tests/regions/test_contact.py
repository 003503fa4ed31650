"""When a node may take an expired heartbeat for a death (regions/contact.py), on a clock
of the test's own: not until a whole TTL after it reached Redis again."""

from __future__ import annotations

from regions.contact import RedisContact

TTL_S = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def contact(clock: Clock) -> RedisContact:
    return RedisContact(settle_s=TTL_S, max_gap_s=TTL_S / 2, clock=clock)


def checks(node: RedisContact, clock: Clock, seconds: float) -> None:
    """Successful round trips every half second (the failover check's pace)."""
    for _ in range(int(seconds / 0.5)):
        clock.now += 0.5
        node.reached()


def test_a_node_in_steady_contact_judges_at_once() -> None:
    clock = Clock()
    steady = contact(clock)
    assert steady.settled()  # a process that just started read Redis to start
    checks(steady, clock, 10.0)
    assert steady.settled()


def test_after_failures_a_node_waits_a_ttl_from_its_first_success() -> None:
    clock = Clock()
    node = contact(clock)
    node.reached()
    clock.now += 1.0
    node.lost()
    clock.now += 3.0  # the outage, shorter than the TTL
    node.lost()
    assert not node.settled()
    clock.now += 0.5
    node.reached()  # Redis is back
    checks(node, clock, TTL_S - 0.5)
    assert not node.settled()
    checks(node, clock, 0.5)
    assert node.settled()


def test_a_long_silence_between_two_successes_counts_as_an_outage() -> None:
    """Redis paused (or restarted between two checks): nothing failed, yet heartbeats
    may have lapsed meanwhile."""
    clock = Clock()
    node = contact(clock)
    node.reached()
    clock.now += TTL_S / 2 + 0.25
    node.reached()
    assert not node.settled()
    checks(node, clock, TTL_S)
    assert node.settled()


def test_redis_losing_the_nodes_own_heartbeat_restarts_the_wait() -> None:
    clock = Clock()
    node = contact(clock)
    node.reached()
    node.doubt("Redis holds no heartbeat of this node")
    assert not node.settled()
    clock.now += 0.5
    node.reached()
    node.doubt("still none")  # each check until the node's next beat lands
    checks(node, clock, TTL_S - 0.5)
    assert not node.settled()
    checks(node, clock, 0.5)
    assert node.settled()
