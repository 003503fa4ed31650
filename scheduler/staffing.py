"""Agents needed per interval: Erlang C (callers wait forever) and Erlang A (they abandon).

Erlang C is the M/M/n queue; Erlang A (Palm) is M/M/n+M, where every waiting caller
hangs up after an exponential patience with the given mean. Erlang A is computed
exactly on its birth-death chain: the stationary distribution seen by an arrival
(PASTA) and, per queue position, the probability of reaching an agent within the
target time before hanging up, by uniformization of the tagged caller's progress.

Service level here is the share of *all* arriving callers answered within the
target time; callers who hang up count as not answered (the conservative choice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# The most steps (uniformization steps and states of the chain), and steps times queue
# positions, that the Erlang A figures of one interval may take together (about a second):
# an answer time of hours, a patience of a millisecond or a load of a hundred thousand
# agents would otherwise run for hours.
MAX_UNIFORM_STEPS = 100_000
MAX_UNIFORM_WORK = 100_000_000


class BeyondReach(ValueError):
    """Staffing that cannot be computed in bounded time (or exceeds the caller's limit):
    the message says why, for the caller to name the row it came from."""


@dataclass
class Budget:
    """What the Erlang A figures of one interval may still spend (`MAX_UNIFORM_*`)."""

    steps: int = MAX_UNIFORM_STEPS
    work: int = MAX_UNIFORM_WORK

    def spend(self, steps: int, size: int) -> None:
        """Take `steps` uniformization steps over `size` positions, or refuse before."""
        if steps > self.steps or steps * size > self.work:
            raise BeyondReach(
                f"Erlang A needs more than {MAX_UNIFORM_STEPS:,} steps or "
                f"{MAX_UNIFORM_WORK:,} step-positions here (a load of tens of thousands of "
                "agents, an answer time of hours or a patience of a fraction of a second); "
                "Erlang C (no patience) has no such limit"
            )
        self.steps -= steps
        self.work -= steps * size


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/n/n by the stable recurrence."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability that a caller waits (M/M/n); 1.0 when the queue is unstable."""
    if servers <= load:
        return 1.0
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1 - blocking))


def service_level_c(servers: int, load: float, aht_s: float, target_s: float) -> float:
    """Share answered within `target_s` under Erlang C."""
    if load <= 0:
        return 1.0
    if servers <= load:
        return 0.0
    return _service_level(servers, load, erlang_b(servers, load), aht_s, target_s)


def _service_level(
    servers: int, load: float, blocking: float, aht_s: float, target_s: float
) -> float:
    """Erlang C's service level from Erlang B's blocking of the same `servers` (> load)."""
    wait = servers * blocking / (servers - load * (1 - blocking))
    return 1.0 - wait * math.exp(-(servers - load) * target_s / aht_s)


@dataclass(frozen=True)
class ErlangA:
    """Steady-state figures of M/M/n+M."""

    service_level: float  # answered within target, over all arrivals
    abandon: float  # share of arrivals who hang up
    answered: float  # share of arrivals eventually answered
    occupancy: float  # busy agents / agents


def _stationary(servers: int, rate: float, mu: float, theta: float) -> np.ndarray:
    """π_k for k callers in the system, truncated where the tail is negligible."""
    weights = [0.0]  # log π_k up to a constant
    highest = 0.0  # the largest of them so far (max() of the list made this quadratic)
    k = 0
    while True:
        k += 1
        death = min(k, servers) * mu + max(k - servers, 0) * theta
        weights.append(weights[-1] + math.log(rate) - math.log(death))
        highest = max(highest, weights[-1])
        if k > servers and weights[-1] < highest - 40 and death > rate:
            break
        if k > servers + 100000:
            break
    log_pi = np.array(weights)
    pi = np.exp(log_pi - log_pi.max())
    return pi / pi.sum()


def _answered_within(
    rates: np.ndarray, theta: float, target_s: float, budget: Budget
) -> np.ndarray:
    """P(answered within target | j callers ahead) for every j, by uniformization.

    From position j (callers ahead) the tagged caller moves up at rate
    rates[j] = nμ + jθ (an agent frees up or someone ahead hangs up) and hangs up
    at rate θ. `served` is absorbing; v_m[j] = P(served within m uniformized steps).
    """
    size = len(rates)
    uniform = float(rates.max() + theta)
    advance = rates / uniform
    stay = 1.0 - (rates + theta) / uniform
    mean = uniform * target_s
    steps = int(mean + 12 * math.sqrt(mean) + 30)
    budget.spend(steps, size)
    v = np.zeros(size)
    result = np.zeros(size)
    log_weight = -mean  # Poisson(m=0)
    for m in range(steps + 1):
        result += math.exp(log_weight) * v
        shifted = np.empty(size)
        shifted[0] = 1.0  # from position 0 the next advance is service
        shifted[1:] = v[:-1]
        v = advance * shifted + stay * v
        log_weight += math.log(mean) - math.log(m + 1) if mean > 0 else -math.inf
    return result


def erlang_a(
    servers: int,
    rate_per_s: float,
    aht_s: float,
    patience_s: float,
    target_s: float,
    budget: Budget | None = None,
) -> ErlangA:
    """Service level, abandonment and occupancy of M/M/n+M (exact on the truncated chain);
    `BeyondReach` when that takes more than the `budget` left (default: a whole one)."""
    if rate_per_s <= 0:
        return ErlangA(1.0, 0.0, 1.0, 0.0)
    if servers <= 0:
        return ErlangA(0.0, 1.0, 0.0, 0.0)
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    budget = budget or Budget()
    budget.spend(servers, 1)  # a Python step per state, as a uniformization step
    pi = _stationary(servers, rate_per_s, mu, theta)
    budget.spend(len(pi) - servers, 1)  # the waiting states
    immediate = float(pi[:servers].sum())
    queued = pi[servers:]
    ahead = np.arange(len(queued))
    rates = servers * mu + ahead * theta
    within = _answered_within(rates, theta, target_s, budget)
    # Eventually answered from position j: every stage must beat the caller's own patience.
    eventually = np.exp(np.cumsum(np.log(rates / (rates + theta))))
    answered = immediate + float(queued @ eventually)
    busy = float(np.minimum(np.arange(len(pi)), servers) @ pi)
    return ErlangA(
        service_level=immediate + float(queued @ within),
        abandon=1.0 - answered,
        answered=answered,
        occupancy=busy / servers,
    )


def agents_needed(
    contacts: float,
    aht_s: float,
    interval_s: float,
    service_level: float,
    target_s: float,
    max_occupancy: float = 1.0,
    patience_s: float | None = None,
    limit: int | None = None,
) -> int:
    """Fewest agents meeting the service level and the occupancy cap in one interval.

    Erlang C walks up from the fewest agents that keep the queue stable, Erlang B's
    blocking carried from one head count to the next: the work grows with the load, not
    with the load times the head counts walked (recomputing B at each). Erlang A searches
    from Erlang C's answer by doubling and halving (both its figures are monotone in the
    head count). Above `limit` agents, and for an Erlang A search beyond
    `MAX_UNIFORM_*`, `BeyondReach` is raised."""
    if contacts <= 0 or aht_s <= 0:
        return 0
    rate = contacts / interval_s
    load = rate * aht_s
    if patience_s is None:
        return _erlang_c_agents(load, aht_s, service_level, target_s, max_occupancy, limit)

    budget = Budget()  # for all of this interval's figures together

    def meets(servers: int) -> bool:
        figures = erlang_a(servers, rate, aht_s, patience_s, target_s, budget)
        return figures.service_level >= service_level and figures.occupancy <= max_occupancy

    # Start from the Erlang C answer (usually close): bracket the answer, then halve.
    servers = _erlang_c_agents(load, aht_s, service_level, target_s, max_occupancy, limit)
    step = 1
    if meets(servers):
        high, low = servers, servers - 1
        while low >= 1 and meets(low):
            high, low, step = low, max(0, low - 2 * step), 2 * step
    else:
        low, high = servers, servers + 1
        while not meets(high):
            _check_limit(high, limit)
            low, high, step = high, high + 2 * step, 2 * step
    while high - low > 1:  # meets(high), not meets(low) (or low is 0)
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    _check_limit(high, limit)
    return max(high, 1)


def _erlang_c_agents(
    load: float,
    aht_s: float,
    service_level: float,
    target_s: float,
    max_occupancy: float,
    limit: int | None,
) -> int:
    servers = max(1, math.floor(load) + 1, math.ceil(load / max_occupancy - 1e-9))
    _check_limit(servers, limit)
    blocking = erlang_b(servers, load)
    while _service_level(servers, load, blocking, aht_s, target_s) < service_level:
        servers += 1
        _check_limit(servers, limit)
        blocking = load * blocking / (servers + load * blocking)
    return servers


def _check_limit(servers: int, limit: int | None) -> None:
    if limit is not None and servers > limit:
        raise BeyondReach(
            f"more than {limit:,} agents in one interval of one queue, beyond what staffing "
            "computes"
        )
