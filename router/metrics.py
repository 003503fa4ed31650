"""The node's Prometheus metrics, with `prometheus_client`: one registry per node.

Counters and histograms are updated where things happen (a routing call, an HTTP
request, a contact ending, a SIP call, a translation); the gauges of queues and agents
are read from the routing state when Prometheus scrapes (`QueueCollector`). A registry
per node, not the library's global one, so that several nodes in one process (tests,
benches) never count into each other.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis.exceptions
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client import Counter as CounterMetric
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from router.model import Agent
from router.service import QueueStatus
from router.stats import known_wait_s

# What a failure to reach Redis raises (a command timed out or its connection failed).
REDIS_OUTAGES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# Decisions take a few milliseconds; a stall shows in the buckets past 20 ms.
DECISION_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)
REQUEST_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# A free loop wakes a sleeper within a millisecond; routing timers tick every 250 ms (the
# default tick_ms), so lags past 0.1 s delay them noticeably, and seconds mean the node
# is stuck.
LOOP_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LOOP_LAG_EVERY_S = 0.5  # how often the event loop's lag is sampled


class Metrics:
    def __init__(self, node: str) -> None:
        self.node = node
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.decisions = CounterMetric(
            "switchboard_routing_calls",
            "Calls of the routing function by command and outcome (status).",
            ["command", "outcome"],
            registry=r,
        )
        self.decision_seconds = Histogram(
            "switchboard_routing_call_seconds",
            "Latency of one routing call, from this node, by command.",
            ["command"],
            buckets=DECISION_BUCKETS,
            registry=r,
        )
        self.offers = CounterMetric(
            "switchboard_offers",
            "Offers of this node's contacts by queue and relaxation step.",
            ["queue", "step"],
            registry=r,
        )
        self.contacts = CounterMetric(
            "switchboard_contacts_ended",
            "This node's contacts by final outcome.",
            ["queue", "channel", "outcome"],
            registry=r,
        )
        self.http_requests = CounterMetric(
            "switchboard_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "switchboard_http_request_seconds",
            "HTTP request latency by route.",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.redis_errors = CounterMetric(
            "switchboard_redis_errors",
            "Failures to reach the state store, by where they happened.",
            ["where"],
            registry=r,
        )
        self.sip_calls = CounterMetric(
            "switchboard_sip_calls",
            "SIP calls of this node by outcome (completed, abandoned, failed, worker_lost...).",
            ["outcome"],
            registry=r,
        )
        self.ivr_calls = CounterMetric(
            "switchboard_ivr_calls",
            "Calls this node's IVR answered, by outcome (routed, hung_up, closed, failed) "
            "and the IVR stage the call left it in (answer, language, reason, "
            "closed_message, routing).",
            ["outcome", "stage"],
            registry=r,
        )
        self.redactions = CounterMetric(
            "switchboard_chat_redactions",
            "What this node masked in text as it came in (chat messages, wrap-up notes, "
            "case notes and subjects), by kind (card_number: one per card number; "
            "card_expiry, card_security_code).",
            ["kind"],
            registry=r,
        )
        self.worker_restarts = CounterMetric(
            "switchboard_worker_restarts",
            "SIP worker processes restarted after they died.",
            registry=r,
        )
        self.queues = QueueCollector(node)
        r.register(self.queues)
        self.translation_seconds = Histogram(
            "switchboard_translation_seconds",
            "Chat message translation latency by engine.",
            ["engine"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "switchboard_event_loop_lag_seconds",
            "How late the node's event loop woke a sleep it was due to end (sampled every "
            "0.5 s): the time something held the loop, delaying routing timers and requests.",
            buckets=LOOP_LAG_BUCKETS,
            registry=r,
        )

    def observe_call(self, command: str, seconds: float, outcome: str) -> None:
        self.decisions.labels(command, outcome).inc()
        self.decision_seconds.labels(command).observe(seconds)

    def sip_call(self, outcome: str) -> None:
        """A SIP call of this node ended (telephony's worker pool reports each)."""
        self.sip_calls.labels(outcome or "unknown").inc()

    def worker_restarted(self) -> None:
        self.worker_restarts.inc()

    def redacted(self, kind: str) -> None:
        """Something of `kind` was masked in incoming text (`router.redaction.Redactor`)."""
        self.redactions.labels(kind).inc()

    def ivr_call(self, outcome: str, stage: str) -> None:
        """A call left this node's IVR with its one outcome (telephony's pool reports it)."""
        self.ivr_calls.labels(outcome, stage).inc()

    def store_failed(self, where: str, failure: BaseException) -> None:
        """A background loop (routing timers, heartbeat, failover check, events, case
        timers) failed: counted when Redis was out of reach, as HTTP requests are, so that
        an outage at night without requests shows on the dashboard."""
        if isinstance(failure, REDIS_OUTAGES):
            self.redis_errors.labels(where).inc()

    def observe_event(self, event: dict[str, Any]) -> None:
        """Count offers and endings of this node's contacts (every node sees every event)."""
        if event.get("node") != self.node:
            return
        kind = event.get("type")
        if kind == "offer":
            self.offers.labels(
                event.get("queue", ""), _step(str(event.get("explanation", "")))
            ).inc()
        elif kind == "contact_closed":
            self.contacts.labels(
                event.get("queue", ""), event.get("channel", ""), event.get("state", "")
            ).inc()

    async def watch_loop_lag(self, stop: asyncio.Event, every_s: float = LOOP_LAG_EVERY_S) -> None:
        """Sleep `every_s` at a time and observe how much later than due each sleep ends,
        until `stop`: the one asyncio loop runs every routing timer and request, so a
        callback that blocks it (a slow computation, a synchronous call) shows here even
        when no request is slow enough to show it."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            due = loop.time() + every_s
            await asyncio.sleep(every_s)
            self.loop_lag.observe(max(0.0, loop.time() - due))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _step(explanation: str) -> str:
    for part in explanation.split():
        if part.startswith("step="):
            return part[5:]
    return "unknown"


QueueValue = Callable[[QueueStatus], float | None]
# "Today" is the UTC day (the scrape reads the routing core's 5-minute counters from
# 00:00 UTC, as /api/v1/queues does); NaN where a figure has no base yet.
QUEUE_GAUGES: tuple[tuple[str, str, QueueValue], ...] = (
    ("switchboard_queue_waiting", "Contacts waiting in the queue now.", lambda s: s.waiting),
    (
        "switchboard_queue_longest_wait_seconds",
        "Seconds the longest-waiting contact in the queue has waited since it was first "
        "queued; 0 when none waits.",
        lambda s: s.longest_wait_s,
    ),
    (
        "switchboard_queue_ewt_seconds",
        "Estimated wait of a new contact; NaN when no agent serves the queue.",
        lambda s: known_wait_s(s.ewt_s, s.serving_agents),
    ),
    (
        "switchboard_queue_serving_agents",
        "Agents with the queue's skill signed in and ready, idle or handling contacts "
        "(an agent on a break is not counted, whatever they still hold).",
        lambda s: s.serving_agents,
    ),
    (
        "switchboard_queue_occupancy",
        "Serving agents busy or reserved (a contact offered to them) over serving agents; "
        "NaN when none serves.",
        lambda s: s.occupancy,
    ),
    (
        "switchboard_queue_service_level_today",
        "Contacts answered within the queue's answer_within_s over contacts answered, "
        "today (UTC); abandons are not counted.",
        lambda s: s.today.service_level,
    ),
    (
        "switchboard_queue_service_level_30m",
        "Contacts answered within the queue's answer_within_s over contacts answered, in "
        "the last 30 minutes (whole 5-minute buckets: 30 to 35 minutes).",
        lambda s: s.last_30_min.service_level,
    ),
    (
        "switchboard_queue_abandonment_rate_today",
        "Abandoned over answered plus abandoned, today (UTC), as the report and the "
        "wallboard count it; short abandons (switchboard_queue_short_abandoned_today) "
        "are in neither.",
        lambda s: s.today.abandonment_rate,
    ),
    (
        "switchboard_queue_offered_today",
        "Contacts offered to the queue today (UTC), as the report counts them (one moved "
        "before its answer counts in its new queue alone, one transferred after its answer "
        "in both); not offers to agents (switchboard_offers_total).",
        lambda s: s.today.offered,
    ),
    (
        "switchboard_queue_answered_today",
        "Contacts answered in the queue today (UTC), once each, at their first answer.",
        lambda s: s.today.answered,
    ),
    (
        "switchboard_queue_abandoned_today",
        "Contacts whose customer left before any answer, today (UTC), having waited at "
        "least the queue's short_abandon_s.",
        lambda s: s.today.abandoned,
    ),
    (
        "switchboard_queue_short_abandoned_today",
        "Contacts whose customer left before the queue's short_abandon_s (a misdial, a "
        "chat opened by mistake), today (UTC): in no other abandon figure, nor any rate.",
        lambda s: s.today.short_abandoned,
    ),
)


class QueueCollector(Collector):
    """Gauges of queues and agents, from the last snapshot the scrape handler read, and
    whether that read reached Redis (`switchboard_redis_up`)."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.statuses: list[QueueStatus] = []
        self.agents: list[Agent] = []
        self.now_ms = 0
        self.redis_up: bool | None = None  # None: not scraped yet

    def update(self, statuses: Iterable[QueueStatus], agents: Iterable[Agent], now_ms: int) -> None:
        self.statuses, self.agents, self.now_ms = list(statuses), list(agents), now_ms
        self.redis_up = True

    def unreachable(self) -> None:
        """Redis did not answer the scrape: the queues' and agents' figures are unknown,
        so they are left out (a gap in the graphs), not shown stale as if current."""
        self.statuses, self.agents = [], []
        self.redis_up = False

    def collect(self) -> Iterator[Metric]:
        if self.redis_up is not None:
            yield GaugeMetricFamily(
                "switchboard_redis_up",
                "1 when the scrape read the queues and agents from Redis, 0 when it could not.",
                value=1.0 if self.redis_up else 0.0,
            )
        for name, documentation, value in QUEUE_GAUGES:
            family = GaugeMetricFamily(name, documentation, labels=["queue", "node"])
            for status in self.statuses:
                measured = value(status)
                family.add_metric(
                    [status.name, self.node], float("nan") if measured is None else float(measured)
                )
            yield family
        by_state = Counter((agent.region, agent.state(self.now_ms).value) for agent in self.agents)
        agents = GaugeMetricFamily(
            "switchboard_agents", "Agents by region and routing state.", labels=["region", "state"]
        )
        for (region, state), count in sorted(by_state.items()):
            agents.add_metric([region, state], count)
        yield agents
