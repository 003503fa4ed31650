"""A queue's live figures as one reader sees them: the wallboard's cards and the queue API
(`GET /api/v1/queues`, `/api/v1/queues/{queue}`) ask here, so both show the same.

A reader whose scope names regions sees each of their queues over those regions: the
contacts waiting there (of the first `WAITING_SCAN`), the agents there serving it, its
callbacks owed there, and today's and the last 30 minutes' figures summed from the
per-region report rows of today's records (so the card agrees with the wallboard's
per-region table). Everyone else sees the whole queue as the routing core counts it
(`Router.queue_status`). The EWT is the queue's, whatever the scope: the wait its chosen
method announces to a new caller (`Router.new_caller_wait_s`), as the customers hear it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from router import access
from router.access import Principal
from router.errors import UnknownQueue
from router.model import Agent, QueueConfig
from router.reports.report import (
    ReportOptions,
    ReportRow,
    arrival_ms,
    build_report,
    record_ms,
    short_abandon,
)
from router.reports.service import Reports
from router.service import RECENT_MS, QueueStatus, Router, occupancy_of
from router.stats import QueueFigures
from switchboard.common.clock import now_ms, utc_day_start_ms

WAITING_SCAN = 500  # contacts per queue read to split the waiting count by region

Rows = dict[tuple[str, ...], ReportRow]  # (region, queue) -> the report's row
# The counts of a report row that add up over regions into a queue's figures.
FIGURES = (
    "volume",
    "answered",
    "answered_in_sl",
    "abandoned",
    "short_abandoned",
    "failed",
    "wait_ms",
    "handled",
    "handle_ms",
)
Abandons = dict[str, tuple[int, int]]  # queue -> (abandoned within its answer time, wait ms)


def region_queue_reports(
    records: Sequence[dict[str, str]],
    answer_within_s: dict[str, float],
    day_start: int,
    now: int,
) -> tuple[Rows, Rows]:
    """Per region and queue, the report rows of today and of the last 30 minutes."""

    def rows(start: int) -> Rows:
        options = ReportOptions(
            start_ms=start, end_ms=now + 1, by=("region", "queue"), answer_within_s=answer_within_s
        )
        report = build_report(records, options)
        return {tuple(row.key.values()): row for row in report.rows}

    return rows(day_start), rows(max(day_start, now - RECENT_MS))


def regional_abandons(
    records: Sequence[dict[str, str]],
    regions: Collection[str],
    answer_within_s: Mapping[str, float],
    since_ms: int,
    now: int,
) -> Abandons:
    """Per queue, of the contacts of `regions` that arrived since `since_ms` (as the
    report counts them) and were abandoned: how many within the queue's answer time, and
    their total wait in ms (what the per-region report rows do not keep). Short abandons
    are in neither, as in the routing core's counters."""
    found: Abandons = {}
    for record in records:
        if record.get("state") != "abandoned" or short_abandon(record):
            continue
        if record.get("region") not in regions:
            continue
        arrived = arrival_ms(record)
        if not arrived or not since_ms <= arrived <= now:
            continue
        queue = record.get("queue", "")
        wait = max(record_ms(record.get("ended_at")) - arrived, 0)
        within = wait <= answer_within_s.get(queue, 0.0) * 1000
        count, waited = found.get(queue, (0, 0))
        found[queue] = (count + within, waited + wait)
    return found


def regional_figures(
    rows: Rows, abandons: Abandons, queue: str, regions: Collection[str]
) -> QueueFigures:
    """A queue's figures over some regions: the sum of its per-region report rows, with
    its abandons within the answer time from `regional_abandons`."""
    total = ReportRow(key={})
    for (region, name), row in rows.items():
        if name == queue and region in regions:
            for part in FIGURES:
                setattr(total, part, getattr(total, part) + getattr(row, part))
    abandoned_in_sl, abandon_wait_ms = abandons.get(queue, (0, 0))
    return QueueFigures(
        offered=total.volume,
        answered=total.answered,
        answered_in_sl=total.answered_in_sl,
        abandoned=total.abandoned,
        abandoned_in_sl=abandoned_in_sl,
        failed=total.failed,
        handled=total.handled,
        wait_ms=total.wait_ms,
        handle_ms=total.handle_ms,
        abandon_wait_ms=abandon_wait_ms,
        short_abandoned=total.short_abandoned,
    )


@dataclass(frozen=True)
class Scope:
    """What one reader's queue figures are made of, read once: the agents they count
    (and everyone, for the EWT and alerts), each one's state, today's per-region report
    rows and, for a region's supervisor, their regions' abandons."""

    now: int
    everyone: list[Agent]
    agents: list[Agent]
    states: dict[str, str]
    reports: tuple[Rows, Rows]
    abandons: tuple[Abandons, Abandons]
    callbacks: Counter[tuple[str, ...]]  # waiting for their next attempt, by queue and region


@dataclass(frozen=True)
class QueueRow:
    """One queue as a reader sees it: its status, its waiting contacts by region and the
    agents with its skill (those the reader counts) by state."""

    status: QueueStatus
    waiting_by_region: dict[str, int]
    agents_by_state: dict[str, int]


async def read_scope(router: Router, reports: Reports, principal: Principal) -> Scope:
    """Everything the reader's rows are computed from, now."""
    now = now_ms()
    everyone = await router.list_agents()
    agents = access.agents_counted(principal, everyone, router.queue_skills)
    states = {agent.agent_id: agent.state(now).value for agent in agents}
    start = utc_day_start_ms(now)
    records = await reports.records_today(start)
    answer_within = {name: config.answer_within_s for name, config in router.queues.items()}
    abandons: tuple[Abandons, Abandons] = ({}, {})
    if principal.regions:
        recent = max(start, now - RECENT_MS)
        abandons = (
            regional_abandons(records, principal.regions, answer_within, start, now),
            regional_abandons(records, principal.regions, answer_within, recent, now),
        )
    per_region = region_queue_reports(records, answer_within, start, now)
    callbacks = await router.callbacks_due("queue", "region")
    return Scope(now, everyone, agents, states, per_region, abandons, callbacks)


async def queue_rows(
    router: Router, reports: Reports, principal: Principal, scope: Scope | None = None
) -> list[QueueRow]:
    """Each queue the reader may see (`access.may_see_queue`), as they see it."""
    scope = scope or await read_scope(router, reports, principal)
    rows = []
    for name, config in router.queues.items():  # the queues as the read began
        if not access.may_see_queue(principal, name):
            continue
        try:
            rows.append(await _row(router, principal, scope, config))
        except KeyError:  # an admin removed the queue while its row was read: gone
            if name in router.queues:
                raise
    return rows


async def queue_row(router: Router, reports: Reports, principal: Principal, name: str) -> QueueRow:
    """One queue as the reader sees it (UnknownQueue, or Forbidden outside their scope),
    computed alone."""
    config = router.queues.get(name)
    if config is None:
        raise UnknownQueue(name)
    access.require_may_see_queue(principal, name)
    try:
        return await _row(router, principal, await read_scope(router, reports, principal), config)
    except KeyError:  # an admin removed it meanwhile
        if name in router.queues:
            raise
        raise UnknownQueue(name) from None


async def _row(router: Router, principal: Principal, scope: Scope, config: QueueConfig) -> QueueRow:
    """One queue's row: over the reader's regions, or whole."""
    if principal.regions:
        status, by_region = await _regional(router, config, principal.regions, scope)
    else:
        status, by_region = await _whole(router, config, scope)
    skilled = (agent for agent in scope.agents if config.skill in agent.skills)
    return QueueRow(status, by_region, dict(Counter(scope.states[a.agent_id] for a in skilled)))


async def _whole(
    router: Router, config: QueueConfig, scope: Scope
) -> tuple[QueueStatus, dict[str, int]]:
    """The whole queue, as the routing core counts it, and its waiting split by region."""
    name = config.name
    owed = sum(n for (queue, _), n in scope.callbacks.items() if queue == name)
    day_start = utc_day_start_ms(scope.now)
    status = await router.queue_status(name, day_start, scope.agents, owed, config)
    counts = await router.waiting_counts(name, "region", limit=WAITING_SCAN)
    return status, {region: n for (region,), n in counts.items()}


async def _regional(
    router: Router, config: QueueConfig, regions: Collection[str], scope: Scope
) -> tuple[QueueStatus, dict[str, int]]:
    """A queue over some regions only (a region-scoped supervisor's): its contacts
    waiting there (of the first `WAITING_SCAN`), the longest wait among them, the agents
    there serving it (the scope's: those of the regions), its callbacks owed there, and
    today's and the last 30 minutes' figures from the records of those regions
    (`regional_figures`); the EWT is the queue's (`Router.new_caller_wait_s`)."""
    name, now = config.name, scope.now
    counts = await router.waiting_counts(name, "region", "queued_at", limit=WAITING_SCAN)
    waiting_by_region: Counter[str] = Counter()
    oldest = now
    for (region, queued_at), count in counts.items():
        if region in regions:
            waiting_by_region[region] += count
            oldest = min(oldest, record_ms(queued_at) or now)
    skilled = [agent for agent in scope.agents if config.skill in agent.skills]
    serving = [agent.state(now) for agent in skilled if agent.serving]
    status = QueueStatus(
        name=name,
        waiting=sum(waiting_by_region.values()),
        longest_wait_s=max(0.0, (now - oldest) / 1000),
        ewt_s=await router.new_caller_wait_s(name, now, scope.everyone),
        serving_agents=len(serving),
        occupancy=occupancy_of(serving),
        today=regional_figures(scope.reports[0], scope.abandons[0], name, regions),
        last_30_min=regional_figures(scope.reports[1], scope.abandons[1], name, regions),
        service_level_target=config.service_level_target,
        answer_within_s=config.answer_within_s,
        callbacks_due=sum(scope.callbacks[(name, region)] for region in regions),
    )
    return status, dict(sorted(waiting_by_region.items()))
