"""Announced waits: how long a queued caller should expect to wait. Pure functions.

Several predictors, all from what the router knows when the caller asks (Ibrahim &
Whitt, "Real-time delay estimation based on delay history", 2009, and "... in
overloaded multiserver queues with abandonments", 2009):

- `les`: the wait of the last caller to enter service from the queue.
- `hol`: how long the caller at the head of the queue has waited so far; with
  nobody ahead there is no head to read, and `ql` answers.
- `ql`: the queue-length predictor of the Erlang-A model with the rates measured on
  the queue: with j callers ahead, the line moves when one of the s serving agents
  finishes (rate s/AHT) or one of those ahead gives up (rate j·θ, θ the measured
  abandonment rate), so the expected wait at position k is
  Σ_{j=0}^{k-1} 1 / (s/AHT + j·θ). Without abandonment this is k·AHT/s.
- `ours`: the median wait of a caller who will be served, in the same model with the
  service rate the queue has really shown. MAE is smallest at the median, and the
  error is scored on answered callers only, whose waits are shorter than everyone's:
  a caller served after k departures waited through k exponential stages, and being
  served (patience exp(θ) outlasting the wait) tilts each stage's rate from r to
  r + θ. The rate r is measured: departures from the queue over the time the queue
  took to move for each (last two hours), with two departures at the nominal s/AHT
  as a prior. Agents on break, agents taken by other queues, priorities: whatever
  slows the line shows in the measured rate, not in s/AHT. The median of the
  stages' sum is that of the gamma law with the same mean and variance.

Which one a queue announces is chosen by measured error (`choose`): each queued
caller's predictions are kept on the contact when first announced and scored by the
routing function when the caller is answered (the `ewt_err_<method>` counters of the
queue's statistics buckets); the method with the lowest mean absolute error over the
last day wins, once it has enough scored callers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from router.model import Agent

METHODS = ("les", "hol", "ql", "ours")
# Before a queue has scored enough callers: the method that did best on the bank's
# month in bench/replay.py (docs/routing.md, "Announced waits").
DEFAULT_METHOD = "ours"
MIN_SCORED = 30
# Departures at the nominal rate s/AHT that the measured rate starts from.
PRIOR_DEPARTURES = 2.0


@dataclass(frozen=True)
class WaitInputs:
    """What the router knows when a caller asks how long it will wait."""

    position: int  # 1 = next to be served
    # Signed in and ready (Agent.serving) and able to take the caller (Reach.admits); a
    # new caller of the queue (queue_status): with the queue's skill.
    serving_agents: int
    handle_s: float  # average handle time of the queue, recent
    abandon_rate_per_s: float  # θ: abandonments per second of waiting, recent
    head_wait_s: float | None  # how long the head of the queue has waited (None: no head)
    last_wait_s: float | None  # wait of the last caller to enter service (None: none yet)
    departures: int = 0  # answered after waiting, recent
    departure_gap_s: float = 0.0  # the time the queue took to move for each of them


@dataclass(frozen=True)
class Reach:
    """Who could ever take a waiting contact: its skill (an IVR reason's, else the
    queue's) and the widest step its queue's rules reach (routing.lua `reach`, which
    asks `relaxation`: languages with the fallbacks and a chat's translation pairs,
    regions, proficiency). An agent outside it is never offered the contact, so the
    contact's wait must not count them: a Korean caller with only Japanese and Chinese
    agents ready was told "about 1 minute" and never served."""

    queue: str
    skill: str
    languages: frozenset[str]
    regions: frozenset[str]
    min_proficiency: int

    @classmethod
    def decode(cls, fields: Mapping[str, str]) -> Reach:
        """From the routing function's reply (lists joined by '|')."""
        return cls(
            queue=fields["queue"],
            skill=fields["skill"],
            languages=frozenset(filter(None, fields.get("languages", "").split("|"))),
            regions=frozenset(filter(None, fields.get("regions", "").split("|"))),
            min_proficiency=int(fields.get("min_proficiency") or 1),
        )

    def admits(self, agent: Agent) -> bool:
        """Signed in and ready, and within reach: routing could offer it the contact."""
        return (
            agent.serving
            and agent.skills.get(self.skill, 0) >= max(self.min_proficiency, 1)
            and agent.region in self.regions
            and not self.languages.isdisjoint(agent.languages)
        )

    def serving(self, agents: Iterable[Agent]) -> int:
        """How many of `agents` could take the contact (its `serving_agents`)."""
        return sum(1 for agent in agents if self.admits(agent))


def les_s(inputs: WaitInputs) -> float:
    """Last to enter service; the queue-length estimate while nobody has been served."""
    if inputs.last_wait_s is None:
        return ql_s(inputs)
    return inputs.last_wait_s


def hol_s(inputs: WaitInputs) -> float:
    """Head of line: the head's wait so far, when someone is ahead of the caller."""
    if inputs.position <= 1 or inputs.head_wait_s is None:
        return ql_s(inputs)
    return inputs.head_wait_s


def nominal_rate(inputs: WaitInputs) -> float:
    """Departures per second if every serving agent took from this queue: s / AHT."""
    return max(inputs.serving_agents, 1) / max(inputs.handle_s, 1.0)


def ql_s(inputs: WaitInputs) -> float:
    """Erlang-A queue length: Σ_{j<k} 1 / (s/AHT + j·θ)."""
    if inputs.position <= 0:
        return 0.0
    rate = nominal_rate(inputs)
    theta = max(inputs.abandon_rate_per_s, 0.0)
    return sum(1.0 / (rate + ahead * theta) for ahead in range(inputs.position))


def measured_rate(inputs: WaitInputs) -> float:
    """Departures per second of the queue moving, from two at the nominal rate on."""
    nominal = nominal_rate(inputs)
    return (inputs.departures + PRIOR_DEPARTURES) / (
        max(inputs.departure_gap_s, 0.0) + PRIOR_DEPARTURES / nominal
    )


def ours_s(inputs: WaitInputs) -> float:
    """Median wait of a caller who will be served: stages at rates r + (j+1)·θ."""
    if inputs.position <= 0:
        return 0.0
    rate = measured_rate(inputs)
    theta = max(inputs.abandon_rate_per_s, 0.0)
    return stages_median_s([rate + (ahead + 1) * theta for ahead in range(inputs.position)])


def stages_median_s(rates: Sequence[float]) -> float:
    """Median of a sum of exponential stages: the gamma law with the same mean and
    variance (its shape is at least 1), median by Choi's expansion (within 0.1 %)."""
    mean = sum(1.0 / rate for rate in rates)
    variance = sum(1.0 / rate**2 for rate in rates)
    shape, scale = mean * mean / variance, variance / mean
    return scale * (shape - 1 / 3 + 8 / (405 * shape) + 184 / (25515 * shape * shape))


PREDICTORS = {"les": les_s, "hol": hol_s, "ql": ql_s, "ours": ours_s}


def predict_all(inputs: WaitInputs) -> dict[str, float]:
    """Every method's estimate, in seconds."""
    return {name: max(0.0, PREDICTORS[name](inputs)) for name in METHODS}


@dataclass(frozen=True)
class Score:
    """A method's absolute errors over the scored callers of a window."""

    error_s: float
    scored: int

    @property
    def mean_abs_error_s(self) -> float:
        return self.error_s / self.scored if self.scored else math.inf


def scores(buckets: Iterable[Mapping[str, int]]) -> dict[str, Score]:
    """Sum the routing function's `ewt_err_<method>` (ms) and `ewt_scored` counters."""
    errors = dict.fromkeys(METHODS, 0)
    scored = 0
    for bucket in buckets:
        scored += bucket.get("ewt_scored", 0)
        for name in METHODS:
            errors[name] += bucket.get(f"ewt_err_{name}", 0)
    return {name: Score(errors[name] / 1000, scored) for name in METHODS}


def choose(measured: Mapping[str, Score], default: str = DEFAULT_METHOD) -> str:
    """The method with the lowest mean absolute error, once enough callers are scored."""
    ready = {name: s for name, s in measured.items() if s.scored >= MIN_SCORED}
    if not ready:
        return default
    return min(ready, key=lambda name: (ready[name].mean_abs_error_s, METHODS.index(name)))


def encode(at_ms: int, estimates: Mapping[str, float]) -> str:
    """The contact field the routing function scores at answer: 'at:<ms> les:<ms> ...'."""
    parts = [f"at:{at_ms}"] + [
        f"{name}:{round(seconds * 1000)}"
        for name, seconds in estimates.items()
        if name in METHODS and math.isfinite(seconds)
    ]
    return " ".join(parts)
