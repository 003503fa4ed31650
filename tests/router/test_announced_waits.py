"""Announced waits on a real Redis: what a queued caller is told, how the routing
function scores it when the caller is answered, and the queue's choice of method."""

from __future__ import annotations

import redis.asyncio as aioredis

from router.model import Channel, ContactState, NewContact, Presence
from router.service import Router
from router.stats import add_buckets
from router.waits import METHODS, MIN_SCORED, encode
from switchboard.common.clock import utc_day_start_ms
from tests.router.conftest import make_agent
from tests.router.test_routing import T0, ready


def call() -> NewContact:
    """A call: an agent holds one at a time, so the next caller waits."""
    return NewContact(channel=Channel.VOICE, queue="booking", language="en")


async def test_a_queued_caller_hears_the_chosen_estimate_and_it_is_scored_at_answer(
    router: Router, redis_client: aioredis.Redis
) -> None:
    await ready(router, make_agent("a1"), T0)
    first = await router.create_contact(call(), at_ms=T0 + 1000)
    await router.accept(first.contact_id, "a1", at_ms=T0 + 2000)
    waiting = await router.create_contact(call(), at_ms=T0 + 3000)
    assert waiting.state == ContactState.QUEUED

    where = await router.position(waiting.contact_id, at_ms=T0 + 3000)
    assert where.position == 1 and where.method == "ours"
    assert set(where.estimates) == set(METHODS)
    assert where.ewt_s == where.estimates["ours"] > 0
    kept = await redis_client.hget(router.store.keys.contact(waiting.contact_id), "ewt")
    assert kept == encode(T0 + 3000, where.estimates)
    # A later announcement does not replace what was announced first.
    await router.position(waiting.contact_id, at_ms=T0 + 30_000)
    assert await redis_client.hget(router.store.keys.contact(waiting.contact_id), "ewt") == kept

    await router.complete(first.contact_id, "a1", at_ms=T0 + 63_000)  # a1 takes the caller
    await router.accept(waiting.contact_id, "a1", at_ms=T0 + 64_000)
    figures = await router.store.stat_buckets("booking", T0, T0 + 64_000)
    totals = {key: sum(b.get(key, 0) for b in figures) for key in figures[0] | figures[-1]}
    assert totals["ewt_scored"] == 1
    for name in METHODS:
        announced_ms = round(where.estimates[name] * 1000)
        assert totals[f"ewt_err_{name}"] == abs(announced_ms - 61_000)
    # One departure from the queue, which took from the caller's arrival to move.
    moves = add_buckets(figures)
    assert (moves.departures, moves.departure_gap_ms) == (1, 61_000)


async def test_the_last_answered_wait_is_what_les_announces(router: Router) -> None:
    await ready(router, make_agent("a1"), T0)
    first = await router.create_contact(call(), at_ms=T0 + 1000)
    await router.accept(first.contact_id, "a1", at_ms=T0 + 1000)
    second = await router.create_contact(call(), at_ms=T0 + 2000)
    await router.complete(first.contact_id, "a1", at_ms=T0 + 47_000)
    await router.accept(second.contact_id, "a1", at_ms=T0 + 47_000)  # waited 45 s
    third = await router.create_contact(call(), at_ms=T0 + 50_000)
    where = await router.position(third.contact_id, at_ms=T0 + 60_000)
    assert where.estimates["les"] == 45.0
    assert where.estimates["hol"] == where.estimates["ql"]  # nobody ahead of it


async def test_the_head_of_the_line_wait_is_what_hol_announces(router: Router) -> None:
    await ready(router, make_agent("a1"), T0)
    busy = await router.create_contact(call(), at_ms=T0)
    await router.accept(busy.contact_id, "a1", at_ms=T0)
    await router.create_contact(call(), at_ms=T0 + 10_000)
    behind = await router.create_contact(call(), at_ms=T0 + 20_000)
    where = await router.position(behind.contact_id, at_ms=T0 + 35_000)
    assert where.position == 2 and where.estimates["hol"] == 25.0


async def test_a_contact_no_longer_waiting_is_told_nothing_and_keeps_no_estimate(
    router: Router, redis_client: aioredis.Redis
) -> None:
    await ready(router, make_agent("a1"), T0)
    offered = await router.create_contact(call(), at_ms=T0 + 1000)
    where = await router.position(offered.contact_id, at_ms=T0 + 1000)
    assert (where.position, where.ewt_s) == (0, 0.0)
    assert await redis_client.hget(router.store.keys.contact(offered.contact_id), "ewt") is None


async def test_a_caller_nobody_can_serve_is_told_its_place_and_no_wait(
    router: Router, redis_client: aioredis.Redis
) -> None:
    """With no agent of the skill signed in and ready, every method assumes one agent:
    no wait is announced (`ewt_s` None) and none is kept to be scored, until one is."""
    await router.store.upsert_agent(make_agent("a1"), at_ms=T0)  # signed out
    first = await router.create_contact(call(), at_ms=T0)
    second = await router.create_contact(call(), at_ms=T0 + 1000)
    where = await router.position(second.contact_id, at_ms=T0 + 5000)
    assert (where.position, where.ewt_s, where.method) == (2, None, "ours")
    assert set(where.estimates) == set(METHODS)  # still computed, for the record
    key = router.store.keys.contact(second.contact_id)
    assert await redis_client.hget(key, "ewt") is None

    await router.set_presence("a1", Presence.AVAILABLE, at_ms=T0 + 6000)  # takes `first`
    assert (await router.get_contact(first.contact_id)).state == ContactState.OFFERED
    where = await router.position(second.contact_id, at_ms=T0 + 7000)
    assert where.position == 1 and where.ewt_s == where.estimates["ours"] > 0
    assert await redis_client.hget(key, "ewt") == encode(T0 + 7000, where.estimates)


async def test_the_queue_announces_the_method_with_the_smallest_measured_error(
    router: Router,
) -> None:
    await router.store.upsert_agent(make_agent("a1"), at_ms=T0)
    at = T0
    for _ in range(MIN_SCORED):
        contact = await router.create_contact(call(), at_ms=at)
        assert contact.state == ContactState.QUEUED
        # What four predictors said; the caller then waits exactly 10 s.
        told = {"les": 10.0, "hol": 50.0, "ql": 90.0, "ours": 30.0}
        await router.store.note_announced(contact.contact_id, encode(at, told))
        await router.set_presence("a1", Presence.AVAILABLE, at_ms=at + 10_000)
        await router.accept(contact.contact_id, "a1", at_ms=at + 10_000)
        await router.complete(contact.contact_id, "a1", at_ms=at + 20_000)
        await router.set_presence("a1", Presence.OFFLINE, at_ms=at + 20_000)
        at += 60_000
    assert await router.ewt_method("booking", at) == "les"
    await router.set_presence("a1", Presence.AVAILABLE, at_ms=at)
    await router.create_contact(call(), at_ms=at)  # offered to a1, who serves the queue
    queued = await router.create_contact(call(), at_ms=at)
    where = await router.position(queued.contact_id, at_ms=at)
    assert where.method == "les" and where.ewt_s == where.estimates["les"]


async def test_queue_status_announces_the_wait_of_a_new_caller(router: Router) -> None:
    await ready(router, make_agent("a1"), T0)
    busy = await router.create_contact(call(), at_ms=T0)
    await router.accept(busy.contact_id, "a1", at_ms=T0)
    await router.create_contact(call(), at_ms=T0 + 1000)
    status = await router.queue_status("booking", utc_day_start_ms())
    assert status.waiting == 1 and status.serving_agents == 1
    assert status.ewt_s > 0
