"""Who and where a contact is counted when it changes hands: the report, the wallboard's
per-region table and the routing core's live counters must agree.

A day played through the real Router on the real (embedded) Redis, the clock driven by
`at_ms` (as tests/router/test_report.py does), 2026-11-21 (UTC), region eu:

| contact | queue           | what happens (times after its arrival)                              |
|---------|-----------------|---------------------------------------------------------------------|
| x1      | baggage→general | ben answers at 25 s, transfers to general at 40 s; chloe, available  |
|         |                 | at 60 s, accepts at 62 s and completes at 120 s (customer cust-2)    |
| y1      | booking         | ana answers at 2 s; ana is signed out at 132 s (the chat goes back   |
|         |                 | to booking); dai, available at 133 s, accepts at 134 s, ends at 138 s |
| z1      | booking         | cust-1 again (repeats y1); dai answers at 5 s, completes at 65 s     |
| a1      | booking         | anonymous (`anon-…`); dai answers at 1 s; the customer never came:   |
|         |                 | it ends by the customer leaving at 61 s                              |

baggage answers within 30 s, general within 20 s, booking within 20 s.

By hand:
- x1 is answered in baggage (25 s: within baggage's 30 s, outside general's 20 s), offered
  in baggage and in general, ended in general, 95 s after its first answer: ben held it
  15 s (baggage's handle time), chloe 58 s (general's); it waited 22 s between them
  (requeue wait, where it ended). Its handle time is 73 s.
- y1 is ana's answer (ASA 2 s); ana held it 130 s, dai 4 s: 134 s of handle time, 2 s of
  requeue wait (136 s from the first answer).
- FCR: the completed contacts of known customers are x1, y1 and z1 (a1 is anonymous),
  y1 is repeated by z1: 2/3.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from router import queue_view
from router.model import Agent, Channel, NewContact, Presence, QueueConfig
from router.reports.report import (
    ReportOptions,
    build_report,
    contact_table,
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

ANON = "anon-0123456789abcdef"
QUEUES = [
    QueueConfig(name="baggage", skill="baggage", answer_within_s=30, wrap_up_s=0),
    QueueConfig(name="general", skill="general", answer_within_s=20, wrap_up_s=0),
    QueueConfig(name="booking", skill="booking", answer_within_s=20, wrap_up_s=0),
]
ANSWER_WITHIN = {queue.name: queue.answer_within_s for queue in QUEUES}


async def play(router: Router) -> dict[str, str]:
    """The day of the module docstring; contact ids by name."""
    ids: dict[str, str] = {}
    for agent in (
        Agent("ben", "eu", {"baggage": 4}, ["en"]),
        Agent("chloe", "eu", {"general": 3}, ["en"]),
        Agent("ana", "eu", {"booking": 4}, ["en"]),
        Agent("dai", "eu", {"booking": 4}, ["en"]),
    ):
        await router.store.upsert_agent(agent, at_ms=T0 - 10 * MIN)
    for agent_id in ("ben", "ana"):
        await router.set_presence(agent_id, Presence.AVAILABLE, at_ms=T0 - MIN)

    async def arrive(name: str, queue: str, customer: str, at: int) -> str:
        new = NewContact(Channel.CHAT, queue, "en", customer_id=customer)
        ids[name] = (await router.create_contact(new, at_ms=at)).contact_id
        return ids[name]

    x1 = await arrive("x1", "baggage", "cust-2", T0)
    await router.accept(x1, "ben", at_ms=T0 + 25 * S)
    await router.transfer(x1, "ben", to_queue="general", at_ms=T0 + 40 * S)
    await router.set_presence("chloe", Presence.AVAILABLE, at_ms=T0 + 60 * S)
    await router.accept(x1, "chloe", at_ms=T0 + 62 * S)
    await router.complete(x1, at_ms=T0 + 120 * S)

    t = T0 + 10 * MIN
    y1 = await arrive("y1", "booking", "cust-1", t)
    await router.accept(y1, "ana", at_ms=t + 2 * S)
    await router.set_presence("ana", Presence.OFFLINE, "signed out by admin", at_ms=t + 132 * S)
    await router.set_presence("dai", Presence.AVAILABLE, at_ms=t + 133 * S)
    await router.accept(y1, "dai", at_ms=t + 134 * S)
    await router.complete(y1, at_ms=t + 138 * S)

    t = T0 + 20 * MIN
    z1 = await arrive("z1", "booking", "cust-1", t)
    await router.accept(z1, "dai", at_ms=t + 5 * S)
    await router.complete(z1, at_ms=t + 65 * S)

    t = T0 + 30 * MIN
    a1 = await arrive("a1", "booking", ANON, t)
    await router.accept(a1, "dai", at_ms=t + 1 * S)
    await router.abandon(a1, "customer_left", at_ms=t + 61 * S)
    return ids


@pytest.fixture
async def day(redis_client: aioredis.Redis) -> tuple[Router, dict[str, str]]:
    router = await eu_router(redis_client, QUEUES)
    return router, await play(router)


def options(by: tuple[str, ...] = ()) -> ReportOptions:
    return ReportOptions(DAY_START, DAY_END, by=by, answer_within_s=ANSWER_WITHIN)


async def test_record_says_where_and_by_whom_it_was_first_answered(
    day: tuple[Router, dict[str, str]],
) -> None:
    router, ids = day
    records = {r["contact_id"]: r for r in await records_of(router)}
    x1, y1 = records[ids["x1"]], records[ids["y1"]]
    assert (x1["queue"], x1["agent_id"]) == ("general", "chloe")
    assert (x1["answered_queue"], x1["answered_agent"]) == ("baggage", "ben")
    assert x1["transferred_to"] == "general"
    assert x1["handled_by"] == "ben@baggage:15000 chloe@general:58000"
    assert (y1["answered_queue"], y1["answered_agent"], y1["agent_id"]) == ("booking", "ana", "dai")
    assert y1["handled_by"] == "ana@booking:130000 dai@booking:4000"
    assert y1["transferred_to"] == ""


async def test_transferred_after_answer_counts_where_it_was_answered(
    day: tuple[Router, dict[str, str]],
) -> None:
    router, _ = day
    records = await records_of(router)
    queues = rows_by(records, options(("queue",)))
    baggage, general = queues[("baggage",)], queues[("general",)]
    assert (baggage.volume, baggage.answered) == (1, 1)
    assert baggage.asa_s == 25.0 and baggage.service_level == 1.0
    # Each queue's handle time is its agents' legs: ben's 15 s in baggage.
    assert (baggage.handled, baggage.aht_s, baggage.waited_again) == (1, 15.0, 0)
    # Offered in general too, where it ended: its answer is not general's.
    assert (general.volume, general.answered, general.abandoned) == (1, 0, 0)
    assert (general.handled, general.aht_s) == (1, 58.0)
    # The 22 s it waited between ben and chloe is wait, where it ended: no handle time.
    assert (general.waited_again, general.requeue_wait_s) == (1, 22.0)
    # The centre counts it once; its service level is judged on baggage's 30 s.
    total = build_report(records, options(("queue",))).total
    assert (total.volume, total.answered) == (4, 4)
    assert total.service_level == 1.0  # 25, 2, 5 and 1 s: each within its answering queue's


async def test_report_region_table_and_live_counters_agree(
    day: tuple[Router, dict[str, str]],
) -> None:
    router, _ = day
    records = await records_of(router)
    report = rows_by(records, options(("queue",)))
    today, _ = queue_view.region_queue_reports(records, ANSWER_WITHIN, DAY_START, DAY_END - 1)
    for queue in ANSWER_WITHIN:
        live = await counters(router, queue)
        assert as_counters(report[(queue,)]) == live, queue
        assert as_counters(today[("eu", queue)]) == live, queue


async def test_agent_report_gives_the_answer_to_the_first_agent_and_splits_handle_time(
    day: tuple[Router, dict[str, str]],
) -> None:
    router, _ = day
    records = await records_of(router)
    agents = rows_by(records, options(("agent",)))
    ana, ben, chloe, dai = (agents[(name,)] for name in ("ana", "ben", "chloe", "dai"))
    assert (ana.volume, ana.answered, ana.asa_s) == (1, 1, 2.0)
    assert (ana.handled, ana.handle_ms) == (1, 130 * S)
    assert (ben.answered, ben.asa_s, ben.handled, ben.handle_ms) == (1, 25.0, 1, 15 * S)
    assert (chloe.volume, chloe.answered, chloe.handled, chloe.handle_ms) == (0, 0, 1, 58 * S)
    # dai answered z1 (5 s) and a1 (1 s); held y1 4 s, z1 60 s and a1 60 s.
    assert (dai.volume, dai.answered, dai.asa_s) == (2, 2, 3.0)
    assert (dai.handled, dai.handle_ms) == (3, (4 + 60 + 60) * S)
    assert sum(row.volume for row in agents.values()) == 4
    both = rows_by(records, options(("queue", "agent")))
    assert (both[("baggage", "ben")].answered, both[("baggage", "ben")].handle_ms) == (1, 15 * S)
    assert both[("general", "chloe")].volume == 1
    assert (both[("general", "chloe")].answered, both[("general", "chloe")].handle_ms) == (
        0,
        58 * S,
    )


async def test_old_records_without_attribution_read_as_before(
    day: tuple[Router, dict[str, str]],
) -> None:
    router, _ = day
    new_fields = ("answered_queue", "answered_agent", "handled_by", "transferred_to")
    records = [
        {k: v for k, v in r.items() if k not in new_fields} for r in await records_of(router)
    ]
    queues = rows_by(records, options(("queue",)))
    assert (queues[("general",)].volume, queues[("general",)].answered) == (1, 1)
    assert ("baggage",) not in queues
    agents = rows_by(records, options(("agent",)))
    assert (agents[("dai",)].answered, agents[("dai",)].handle_ms) == (3, (136 + 60 + 60) * S)


async def test_fcr_leaves_anonymous_customers_out(day: tuple[Router, dict[str, str]]) -> None:
    router, ids = day
    records = await records_of(router)
    total = build_report(records, options()).total
    assert (total.fcr_base, total.repeated) == (3, 1)
    assert total.fcr == pytest.approx(2 / 3)
    for masked in (True, False):
        table = contact_table(records, options(), masked=masked)
        lines = {line[0]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
        assert lines[ids["a1"]]["customer_id"] == ""
        assert lines[ids["y1"]]["customer_id"] != ""


async def test_contact_list_says_why_a_contact_ended(day: tuple[Router, dict[str, str]]) -> None:
    router, ids = day
    table = contact_table(await records_of(router), options())
    lines = {line[0]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
    assert lines[ids["a1"]]["state"] == "completed"
    assert lines[ids["a1"]]["reason"] == "customer_left"
    assert lines[ids["a1"]]["handle_s"] == "60"
    assert lines[ids["z1"]]["reason"] == ""


async def test_warm_transfer_splits_the_call_between_its_agents(
    redis_client: aioredis.Redis,
) -> None:
    """A call ana answers after 4 s and, consulting dai, hands over to dai at 100 s; dai
    ends it at 160 s: the answer is ana's, 96 s of it ana's and 60 s dai's. Ana's phone
    held the caller 10 s (while she consulted), dai's 5 s: each agent's row has their own
    hold (the whole 15 s went to dai, who ended it)."""
    router = await eu_router(redis_client, QUEUES)
    for agent_id in ("ana", "dai"):
        await router.store.upsert_agent(
            Agent(agent_id, "eu", {"booking": 4}, ["en"]), at_ms=T0 - 10 * MIN
        )
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 - MIN)
    call = await router.create_contact(
        NewContact(Channel.VOICE, "booking", "en", customer_id="cust-9"), at_ms=T0
    )
    await router.accept(call.contact_id, "ana", at_ms=T0 + 4 * S)
    await router.set_presence("dai", Presence.AVAILABLE, at_ms=T0 + 50 * S)
    for step, at in (("reserve", 80), ("answered", 85), ("hand_over", 100)):
        await router.consult(call.contact_id, "dai", step, at_ms=T0 + at * S)
        if step == "reserve":
            await router.note_hold(
                call.contact_id, {"at_ms": T0 + 80 * S, "held_ms": 10 * S, "agent": "ana"}
            )
    await router.note_hold(
        call.contact_id, {"at_ms": T0 + 120 * S, "held_ms": 5 * S, "agent": "dai"}
    )
    await router.complete(call.contact_id, at_ms=T0 + 160 * S)
    records = await records_of(router)
    assert records[0]["handled_by"] == "ana@booking:96000 dai@booking:60000"
    agents = rows_by(records, options(("agent",)))
    assert (agents[("ana",)].answered, agents[("ana",)].handle_ms) == (1, 96 * S)
    assert (agents[("dai",)].answered, agents[("dai",)].handle_ms) == (0, 60 * S)
    assert [(agents[(a,)].held, agents[(a,)].hold_ms) for a in ("ana", "dai")] == [
        (1, 10 * S),
        (1, 5 * S),
    ]
    total = build_report(records, options()).total
    assert (total.handle_ms, total.held, total.hold_ms) == (156 * S, 1, 15 * S)
    both = rows_by(records, options(("queue", "agent")))
    assert both[("booking", "ana")].hold_ms == 10 * S
    queues = rows_by(records, options(("queue",)))
    assert (queues[("booking",)].held, queues[("booking",)].hold_ms) == (1, 15 * S)


async def test_a_transfer_within_a_queue_or_back_to_it_counts_one_contact_there(
    redis_client: aioredis.Redis,
) -> None:
    """The probe: ana transferred a booking chat to dai (booking too): booking showed 9
    contacts where there were 8, in the report and on the wallboard alike. w1 goes from
    ana to dai in booking; w2 from ana to general and back to booking. Each queue counts
    each contact once, live and in the report, and answered + abandoned + failed is still
    its volume."""
    router = await eu_router(redis_client, QUEUES)
    for agent in (
        Agent("ana", "eu", {"booking": 4, "general": 4}, ["en"]),
        Agent("dai", "eu", {"booking": 4}, ["en"]),
    ):
        await router.store.upsert_agent(agent, at_ms=T0 - 10 * MIN)
        await router.set_presence(agent.agent_id, Presence.AVAILABLE, at_ms=T0 - MIN)

    async def arrive(at: int) -> str:
        new = NewContact(Channel.CHAT, "booking", "en", customer_id="cust-7")
        contact = await router.create_contact(new, at_ms=at)
        await router.accept(contact.contact_id, contact.agent_id, at_ms=at + 2 * S)
        return contact.contact_id

    w1 = await arrive(T0)
    first = (await router.get_contact(w1)).agent_id
    other = "dai" if first == "ana" else "ana"
    await router.transfer(w1, first, to_agent=other, at_ms=T0 + 30 * S)
    await router.accept(w1, other, at_ms=T0 + 32 * S)
    await router.complete(w1, at_ms=T0 + 90 * S)

    t = T0 + 10 * MIN
    await router.set_presence("ana", Presence.NOT_READY, at_ms=t - S)  # dai takes w2
    w2 = await arrive(t)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=t + 10 * S)
    await router.transfer(w2, "dai", to_queue="general", at_ms=t + 20 * S)
    await router.accept(w2, "ana", at_ms=t + 22 * S)
    await router.transfer(w2, "ana", to_queue="booking", at_ms=t + 40 * S)
    await router.accept(w2, "dai", at_ms=t + 42 * S)
    await router.complete(w2, at_ms=t + 100 * S)

    records = await records_of(router)
    assert [r["transferred_to"] for r in records] == ["", "general"]
    queues = rows_by(records, options(("queue",)))
    booking, general = queues[("booking",)], queues[("general",)]
    assert (booking.volume, booking.answered) == (2, 2)
    assert general.volume == 1
    assert (await counters(router, "booking")).offered == 2
    assert (await counters(router, "general")).offered == 1
    # Records written before: a transfer within the queue named it again.
    old = [{**records[0], "transferred_to": "booking"}, records[1]]
    assert rows_by(old, options(("queue",)))[("booking",)].volume == 2
