"""Contact records turned into the planners' history CSV (interval_start,queue,contacts,aht_s)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping


def interval_rows(
    records: Iterable[Mapping[str, str]], interval_s: int
) -> list[tuple[str, str, int, float | None]]:
    """Contacts per arrival interval and queue; AHT over the answered ones (talk time).

    Intervals without contacts are left out: to the forecaster a missing row means closed.
    """
    counts: dict[tuple[int, str], int] = defaultdict(int)
    handle: dict[tuple[int, str], list[float]] = defaultdict(list)
    step_ms = interval_s * 1000
    for record in records:
        arrived = int(record.get("queued_at") or record.get("arrived_at") or 0)
        if not arrived:
            continue
        key = (arrived - arrived % step_ms, record.get("queue", ""))
        counts[key] += 1
        answered, ended = record.get("answered_at"), record.get("ended_at")
        if record.get("state") == "completed" and answered and ended:
            handle[key].append((int(ended) - int(answered)) / 1000)
    rows = []
    for (start_ms, queue), count in sorted(counts.items()):
        start = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC).isoformat()
        times = handle.get((start_ms, queue))
        rows.append((start, queue, count, round(sum(times) / len(times), 1) if times else None))
    return rows
