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
    wait = erlang_c(servers, load)
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
    k = 0
    while True:
        k += 1
        death = min(k, servers) * mu + max(k - servers, 0) * theta
        weights.append(weights[-1] + math.log(rate) - math.log(death))
        if k > servers and weights[-1] < max(weights) - 40 and death > rate:
            break
        if k > servers + 100000:
            break
    log_pi = np.array(weights)
    pi = np.exp(log_pi - log_pi.max())
    return pi / pi.sum()


def _answered_within(rates: np.ndarray, theta: float, target_s: float) -> np.ndarray:
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
    servers: int, rate_per_s: float, aht_s: float, patience_s: float, target_s: float
) -> ErlangA:
    """Service level, abandonment and occupancy of M/M/n+M (exact on the truncated chain)."""
    if rate_per_s <= 0:
        return ErlangA(1.0, 0.0, 1.0, 0.0)
    if servers <= 0:
        return ErlangA(0.0, 1.0, 0.0, 0.0)
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    pi = _stationary(servers, rate_per_s, mu, theta)
    immediate = float(pi[:servers].sum())
    queued = pi[servers:]
    ahead = np.arange(len(queued))
    rates = servers * mu + ahead * theta
    within = _answered_within(rates, theta, target_s)
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
) -> int:
    """Fewest agents meeting the service level and the occupancy cap in one interval."""
    if contacts <= 0 or aht_s <= 0:
        return 0
    rate = contacts / interval_s
    load = rate * aht_s
    if patience_s is None:
        servers = max(1, math.floor(load) + 1, math.ceil(load / max_occupancy - 1e-9))
        while service_level_c(servers, load, aht_s, target_s) < service_level:
            servers += 1
        return servers

    def meets(servers: int) -> bool:
        figures = erlang_a(servers, rate, aht_s, patience_s, target_s)
        return figures.service_level >= service_level and figures.occupancy <= max_occupancy

    # Start from the Erlang C answer (usually close) and walk; both figures are monotone in n.
    servers = agents_needed(contacts, aht_s, interval_s, service_level, target_s, max_occupancy)
    while servers > 1 and meets(servers - 1):
        servers -= 1
    while not meets(servers):
        servers += 1
    return servers
