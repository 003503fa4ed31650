"""Contact records turned into the planners' history CSV (interval_start,queue,contacts,aht_s)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from router.reports.report import arrival_ms, share_handle_ms, shares_by_queue


def interval_rows(
    records: Iterable[Mapping[str, str]], interval_s: int
) -> list[tuple[str, str, int, float | None]]:
    """Contacts per arrival interval and queue, and the AHT of that queue's agents.

    Counted as the service report by queue counts them (report.py `attribution`), so
    that the history and `report --by queue,interval` agree: a contact is offered where
    it was first answered (or ended, unanswered) and in each queue it was transferred to
    after its answer; a queue's handle time is its agents' connected legs there, over the
    completed contacts held there, so a transferred contact's other leg and its wait
    between agents are not in it (a record without legs: answer to end, where it ended).
    Intervals without contacts are left out: to the forecaster a missing row means closed.
    """
    counts: dict[tuple[int, str], int] = defaultdict(int)
    handled: dict[tuple[int, str], int] = defaultdict(int)
    handle_ms: dict[tuple[int, str], int] = defaultdict(int)
    step_ms = interval_s * 1000
    for record in records:
        arrived = arrival_ms(record)
        if not arrived:
            continue
        start = arrived - arrived % step_ms
        for queue, share in shares_by_queue(record).items():
            held = share_handle_ms(record, share)
            if not share.offered and held is None:
                continue  # a queue it was only moved out of: no contact of it
            key = (start, queue)
            counts[key] += share.offered
            if held is not None:
                handled[key] += 1
                handle_ms[key] += held
    rows = []
    for (start_ms, queue), count in sorted(counts.items()):
        label = dt.datetime.fromtimestamp(start_ms / 1000, dt.UTC).isoformat()
        held_count = handled.get((start_ms, queue), 0)
        aht = round(handle_ms[(start_ms, queue)] / held_count / 1000, 1) if held_count else None
        rows.append((label, queue, count, aht))
    return rows
