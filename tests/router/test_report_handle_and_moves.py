"""Handle time is the agents' legs, the wait between agents is wait, the forecast history
counts what the report counts, and a contact moved before its answer leaves a trace.

A morning played through the real Router on the real (embedded) Redis, the clock driven
by `at_ms`, 2026-11-21 from 09:00 UTC. Queue `rpt` has a skill nobody has and overflows to
`general` after 20 s.

| contact | what happens (seconds after T0)                                                |
|---------|--------------------------------------------------------------------------------|
| tr      | booking, 0: ag1 answers at 1, transfers to general at 4; ag4 (not ready) comes  |
|         | back at 8.5, answers at 9, completes at 13                                      |
| rq      | booking, 60: ag2 answers at 61, is signed out at 64 (the chat goes back to      |
|         | booking); ag1 comes back at 69.5, answers at 70, completes at 73                 |
| ov      | rpt, 120: overflows to general at 141, ag4 answers at 142, completes at 150     |
| mv      | general, 180 (ag4 not ready): a supervisor moves it to baggage at 188; the      |
|         | customer leaves at 195                                                          |
| pl      | booking, 240: ag1 answers at 242, completes at 252                              |

By hand:
- handle time (legs): tr 3 s (ag1, booking) + 4 s (ag4, general), rq 3 s (ag2) + 3 s (ag1),
  both in booking, ov 8 s, pl 10 s: 31 s over 4 contacts. Requeue wait: tr 5 s (4 to 9),
  rq 6 s (64 to 70). First answer to end would have been 12 + 12 + 8 + 10 = 42 s.
- by queue: booking offered tr, rq, pl (3), handled 3 for 3 + 6 + 10 = 19 s, requeue wait
  rq's 6 s; general offered tr (transferred in) and ov (2), handled 2 for 4 + 8 = 12 s,
  requeue wait tr's 5 s, moved in ov, moved out mv; rpt offered nothing, moved out ov;
  baggage offered mv (abandoned), moved in mv.
- by agent: ag1 held tr, rq and pl (3 + 3 + 10 = 16 s over 3, answered 2); ag2 held rq
  (3 s, answered 1); ag4 held tr and ov (4 + 8 = 12 s over 2, answered 1).
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig
from router.reports.history import interval_rows
from router.reports.html import render_html
from router.reports.report import (
    ReportOptions,
    ReportRow,
    build_report,
    contact_table,
    report_table,
)
from router.service import Router
from tests.router.report_records import (
    DAY_END,
    DAY_START,
    MIN,
    T0,
    S,
    as_counters,
    counters,
    eu_router,
    records_of,
    rows_by,
)

QUEUES = [
    QueueConfig(name="booking", skill="booking", answer_within_s=20, wrap_up_s=0),
    QueueConfig(name="general", skill="general", answer_within_s=60, wrap_up_s=0),
    QueueConfig(name="baggage", skill="baggage", answer_within_s=30, wrap_up_s=0),
    QueueConfig(
        name="rpt",
        skill="rpt",
        answer_within_s=10,
        wrap_up_s=0,
        max_wait_s=20,
        overflow_queue="general",
    ),
]
ANSWER_WITHIN = {queue.name: queue.answer_within_s for queue in QUEUES}


async def play(router: Router) -> dict[str, str]:
    """The morning of the module docstring; contact ids by name."""
    ids: dict[str, str] = {}
    for agent in (
        Agent("ag1", "eu", {"booking": 4}, ["en"]),
        Agent("ag2", "eu", {"booking": 4}, ["en"]),
        Agent("ag4", "eu", {"general": 4}, ["en"]),
    ):
        await router.store.upsert_agent(agent, at_ms=T0 - 10 * MIN)
    await router.set_presence("ag1", Presence.AVAILABLE, at_ms=T0 - MIN)

    async def arrive(name: str, queue: str, at: int) -> str:
        new = NewContact(Channel.CHAT, queue, "en", customer_id=f"cust-{name}")
        ids[name] = (await router.create_contact(new, at_ms=at)).contact_id
        return ids[name]

    tr = await arrive("tr", "booking", T0)
    await router.accept(tr, "ag1", at_ms=T0 + 1 * S)
    await router.transfer(tr, "ag1", to_queue="general", at_ms=T0 + 4 * S)
    await router.set_presence("ag4", Presence.AVAILABLE, at_ms=T0 + 8_500)
    await router.accept(tr, "ag4", at_ms=T0 + 9 * S)
    await router.complete(tr, at_ms=T0 + 13 * S)

    await router.set_presence("ag1", Presence.NOT_READY, "break", at_ms=T0 + 20 * S)
    await router.set_presence("ag2", Presence.AVAILABLE, at_ms=T0 + 30 * S)
    rq = await arrive("rq", "booking", T0 + 60 * S)
    await router.accept(rq, "ag2", at_ms=T0 + 61 * S)
    await router.set_presence("ag2", Presence.OFFLINE, "signed out by admin", at_ms=T0 + 64 * S)
    await router.set_presence("ag1", Presence.AVAILABLE, at_ms=T0 + 69_500)
    await router.accept(rq, "ag1", at_ms=T0 + 70 * S)
    await router.complete(rq, at_ms=T0 + 73 * S)

    ov = await arrive("ov", "rpt", T0 + 120 * S)
    await router.tick(at_ms=T0 + 141 * S)  # 21 s waited: past rpt's maximum wait
    assert (await router.get_contact(ov)).queue == "general"
    await router.accept(ov, "ag4", at_ms=T0 + 142 * S)
    await router.complete(ov, at_ms=T0 + 150 * S)

    await router.set_presence("ag4", Presence.NOT_READY, "break", at_ms=T0 + 170 * S)
    mv = await arrive("mv", "general", T0 + 180 * S)
    await router.move(mv, "baggage", "supervisor sup", at_ms=T0 + 188 * S)
    await router.abandon(mv, "customer_left", at_ms=T0 + 195 * S)

    pl = await arrive("pl", "booking", T0 + 240 * S)
    await router.accept(pl, "ag1", at_ms=T0 + 242 * S)
    await router.complete(pl, at_ms=T0 + 252 * S)
    return ids


@pytest.fixture
async def morning(redis_client: aioredis.Redis) -> tuple[Router, dict[str, str]]:
    router = await eu_router(redis_client, QUEUES)
    return router, await play(router)


def options(by: tuple[str, ...] = (), interval_s: int = 1800) -> ReportOptions:
    return ReportOptions(
        DAY_START, DAY_END, by=by, interval_s=interval_s, answer_within_s=ANSWER_WITHIN
    )


async def test_handle_time_is_the_legs_and_the_wait_between_agents_is_wait(
    morning: tuple[Router, dict[str, str]],
) -> None:
    router, ids = morning
    records = await records_of(router)
    total = build_report(records, options()).total
    assert (total.volume, total.answered, total.abandoned) == (5, 4, 1)
    assert (total.handled, total.handle_ms) == (4, 31 * S)  # not 42 s: answer to end
    assert total.aht_s == pytest.approx(7.75)
    assert (total.waited_again, total.requeue_wait_ms) == (2, 11 * S)
    assert total.requeue_wait_s == pytest.approx(5.5)
    queues = rows_by(records, options(("queue",)))
    booking, general = queues[("booking",)], queues[("general",)]
    assert (booking.volume, booking.handled, booking.handle_ms) == (3, 3, 19 * S)
    assert (booking.waited_again, booking.requeue_wait_ms) == (1, 6 * S)
    assert (general.volume, general.handled, general.handle_ms) == (2, 2, 12 * S)
    assert (general.waited_again, general.requeue_wait_ms) == (1, 5 * S)
    # The contact list: each contact's handle time and its wait between agents.
    table = contact_table(records, options())
    lines = {line[0]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
    assert (lines[ids["tr"]]["handle_s"], lines[ids["tr"]]["requeue_wait_s"]) == ("7", "5")
    assert (lines[ids["rq"]]["handle_s"], lines[ids["rq"]]["requeue_wait_s"]) == ("6", "6")
    assert (lines[ids["pl"]]["handle_s"], lines[ids["pl"]]["requeue_wait_s"]) == ("10", "")


async def test_the_live_counters_count_handle_time_as_the_report(
    morning: tuple[Router, dict[str, str]],
) -> None:
    """The wallboard's cards (the routing core's counters) and the report by queue agree,
    handle time included: each queue's agents' legs."""
    router, _ = morning
    queues = rows_by(await records_of(router), options(("queue",)))
    for queue in ANSWER_WITHIN:
        row = queues.get((queue,), ReportRow(key={}))
        assert as_counters(row) == await counters(router, queue), queue


async def test_history_export_counts_what_the_report_by_queue_and_interval_counts(
    morning: tuple[Router, dict[str, str]],
) -> None:
    """The transferred contact counts in booking (answered there) and in general (its
    transfer), each with its own agents' time, in the history as in the report."""
    router, _ = morning
    records = await records_of(router)
    for interval_s in (3600, 1800, 300):
        report = build_report(records, options(("queue", "interval"), interval_s))
        from_report = {
            (row.key["interval"], row.key["queue"]): (
                row.volume,
                None if row.aht_s is None else round(row.aht_s, 1),
            )
            for row in report.rows
            if row.volume or row.handled
        }
        history = {
            (start, queue): (contacts, aht)
            for start, queue, contacts, aht in interval_rows(records, interval_s)
        }
        assert history == from_report, interval_s
    hourly = {(queue, n, aht) for _, queue, n, aht in interval_rows(records, 3600)}
    assert hourly == {("booking", 3, 6.3), ("general", 2, 6.0), ("baggage", 1, None)}


async def test_each_row_says_how_many_contacts_its_handle_time_is_over(
    morning: tuple[Router, dict[str, str]],
) -> None:
    router, _ = morning
    records = await records_of(router)
    report = build_report(records, options(("agent",)))
    agents = {row.key["agent"]: row for row in report.rows}
    assert [(agents[a].answered, agents[a].handled) for a in ("ag1", "ag2", "ag4")] == [
        (2, 3),
        (1, 1),
        (1, 2),
    ]
    table = report_table(report)
    header = table[0]
    assert header.index("handled") == header.index("aht_s") - 1
    lines = {line[0]: dict(zip(header, line, strict=True)) for line in table[1:]}
    assert (lines["ag1"]["handled"], lines["ag1"]["aht_s"]) == ("3", "5.3333")  # 16 s / 3
    assert (lines["all"]["handled"], lines["all"]["aht_s"]) == ("4", "7.75")
    page = render_html(report, build_report(records, options(("interval",))), "morning")
    assert "<th>handled</th>" in page and "<th>moved_out</th>" in page


async def test_a_contact_moved_before_its_answer_is_counted_out_of_the_queue_it_entered(
    morning: tuple[Router, dict[str, str]],
) -> None:
    router, ids = morning
    records = await records_of(router)
    found = {record["contact_id"]: record for record in records}
    ov, mv, tr, pl = (found[ids[name]] for name in ("ov", "mv", "tr", "pl"))
    assert (ov["entered_queue"], ov["moved_before_answer"], ov["queue"]) == ("rpt", "1", "general")
    assert (mv["entered_queue"], mv["moved_before_answer"], mv["queue"]) == (
        "general",
        "1",
        "baggage",
    )
    # A transfer after the answer is no move before it; never moved: where it came.
    assert (tr["entered_queue"], tr["moved_before_answer"]) == ("booking", "")
    assert (pl["entered_queue"], pl["moved_before_answer"]) == ("booking", "")

    queues = rows_by(records, options(("queue",)))
    figures = {
        queue: (row.volume, row.answered, row.abandoned, row.moved_in, row.moved_out)
        for (queue,), row in queues.items()
    }
    # Volume and answers are counted as before: ov is general's, mv baggage's; rpt and
    # general show what left them.
    assert figures == {
        "booking": (3, 3, 0, 0, 0),
        "general": (2, 1, 0, 1, 1),
        "baggage": (1, 0, 1, 1, 0),
        "rpt": (0, 0, 0, 0, 1),
    }
    total = build_report(records, options(("queue",))).total
    assert (total.moved_in, total.moved_out) == (2, 2)
    by_hour = rows_by(records, options(("queue", "interval")))
    assert by_hour[("rpt", "2026-11-21T09:00:00+00:00")].moved_out == 1
    table = contact_table(records, options())
    lines = {line[0]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
    assert (lines[ids["ov"]]["entered_queue"], lines[ids["ov"]]["queue"]) == ("rpt", "general")


async def test_records_written_before_the_moves_were_kept_show_none(
    morning: tuple[Router, dict[str, str]],
) -> None:
    router, _ = morning
    old = [
        {k: v for k, v in record.items() if k not in ("entered_queue", "moved_before_answer")}
        for record in await records_of(router)
    ]
    queues = rows_by(old, options(("queue",)))
    assert ("rpt",) not in queues
    assert sum(row.moved_in + row.moved_out for row in queues.values()) == 0
