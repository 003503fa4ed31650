"""What the report tests that play a day through the Router share: the day's clock
(2026-11-21, UTC), the Router that writes its records on the real Redis, and the records,
report rows and live counters read back to compare them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import redis.asyncio as aioredis

from router.model import QueueConfig
from router.reports.report import ReportOptions, ReportRow, build_report
from router.service import Router
from router.stats import QueueFigures, add_buckets
from router.store import RoutingStore

T0 = int(dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
DAY_START = int(dt.datetime(2026, 11, 21, tzinfo=dt.UTC).timestamp() * 1000)
DAY_END = DAY_START + 86_400_000
S = 1000
MIN = 60 * S


async def eu_router(client: aioredis.Redis, queues: list[QueueConfig]) -> Router:
    """Node n1's Router in region eu with these queues, published as a node's start does."""
    router = Router(RoutingStore(client), queues, node_id="n1", region="eu")
    await router.publish_configuration(["eu"])
    return router


async def records_of(router: Router) -> list[dict[str, str]]:
    """The contact records the Router wrote, as the report reads them."""
    return [record async for record in router.store.records()]


def rows_by(
    records: list[dict[str, str]], options: ReportOptions
) -> dict[tuple[str, ...], ReportRow]:
    """The report's rows by the values of their key: `("booking",)`, `("booking", "ana")`."""
    return {tuple(row.key.values()): row for row in build_report(records, options).rows}


def as_counters(row: ReportRow) -> QueueFigures:
    """A report row in the shape of the routing core's counters, to compare them."""
    return QueueFigures(
        offered=row.volume,
        answered=row.answered,
        answered_in_sl=row.answered_in_sl,
        abandoned=row.abandoned,
        abandoned_in_sl=0,
        failed=row.failed,
        handled=row.handled,
        wait_ms=row.wait_ms,
        handle_ms=row.handle_ms,
        abandon_wait_ms=0,
    )


async def counters(router: Router, queue: str) -> QueueFigures:
    """The queue's live counters of the day, less what the report rows do not keep."""
    figures = add_buckets(await router.store.stat_buckets(queue, DAY_START, DAY_END - 1))
    return dataclasses.replace(
        figures, abandoned_in_sl=0, abandon_wait_ms=0, departures=0, departure_gap_ms=0
    )
