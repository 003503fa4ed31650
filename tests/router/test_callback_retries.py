"""A callback whose customer does not pick up is tried again later, on a real Redis with
an explicit clock: the agent free at once, the contact offered to nobody until its next
attempt, back at its place then, and one outcome after the last attempt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis

from router.model import Channel, Contact, ContactState, NewContact, QueueConfig
from router.service import Router
from router.store import RoutingStore
from switchboard.common.hours import OpeningHours
from tests.router.conftest import QUEUES, make_agent
from tests.router.test_routing import T0, ready

RETRY_MS = 60_000
CALL_BACK = QueueConfig(
    name="callme",
    skill="booking",
    ring_s=5,
    wrap_up_s=30,
    callback_attempts=3,
    callback_retry_s=RETRY_MS / 1000,
)


@pytest.fixture
async def router(redis_client: aioredis.Redis) -> AsyncIterator[Router]:
    router = Router(RoutingStore(redis_client), [*QUEUES, CALL_BACK], node_id="n1", region="eu")
    await router.publish_configuration(["eu"])
    yield router


async def connected_callback(
    router: Router, queue: str, agent_id: str, at_ms: int, skill: str = "booking"
) -> Contact:
    """A caller in `queue` who asked for a callback, taken by `agent_id` (the only one
    signed in, with `skill`) at `at_ms`."""
    call = NewContact(channel=Channel.VOICE, queue=queue, language="en")
    contact = await router.create_contact(call, at_ms=at_ms - 2000)
    await router.request_callback(contact.contact_id, "sip:+15551230000@trunk")
    await ready(
        router, make_agent(agent_id, region="eu", languages=("en",), **{skill: 4}), at_ms - 1000
    )
    assert (await router.get_contact(contact.contact_id)).agent_id == agent_id
    return await router.accept(contact.contact_id, agent_id, at_ms=at_ms)


async def test_an_unanswered_callback_waits_for_its_next_attempt_then_ends_once(
    router: Router,
) -> None:
    contact = await connected_callback(router, "callme", "a1", T0 + 2000)
    cid = contact.contact_id

    waiting = await router.callback_unanswered(cid, at_ms=T0 + 30_000)
    assert (waiting.state, waiting.agent_id) == (ContactState.QUEUED, "")
    assert "callback attempt 1 of 3 not answered; the next in 60 s" in waiting.explanation[-1]
    a1 = await router.get_agent("a1")
    assert (a1.load["voice"], a1.wrap_up_until_ms) == (0, 0)  # free at once, no wrap-up

    # Two agents free, and nobody is offered it before its time.
    await ready(router, make_agent("a2"), T0 + 31_000)
    await router.tick(at_ms=T0 + 30_000 + RETRY_MS - 1)
    assert (await router.get_contact(cid)).state == ContactState.QUEUED
    assert (await router.position(cid, at_ms=T0 + 31_000)).position == 0  # in no line
    # What the line does not show, the queue's status does: a call is owed.
    assert (await router.queue_status("callme", T0)).callbacks_due == 1

    for attempt in (2, 3):
        due = T0 + 30_000 + (attempt - 1) * RETRY_MS
        _, _, _, _, retried = await router.tick(at_ms=due)
        offered = await router.get_contact(cid)
        assert (retried, offered.state) == (1, ContactState.OFFERED)
        assert (await router.queue_status("callme", T0)).callbacks_due == 0
        await router.accept(cid, offered.agent_id, at_ms=due + 1000)
        after = await router.callback_unanswered(cid, at_ms=due)
        if attempt == 2:
            assert after.state == ContactState.QUEUED
            assert "callback attempt 2 of 3 not answered" in after.explanation[-1]

    assert (after.state, after.reason) == (ContactState.FAILED, "callback_unanswered")
    records = [r async for r in router.store.records()]
    assert [(r["contact_id"], r["state"], r["reason"]) for r in records] == [
        (cid, "failed", "callback_unanswered")
    ]
    # Nobody picked up: never answered (the agents' pick-ups were counted as its answer).
    assert records[0]["answered_at"] == ""
    assert (await router.last_hour("callme", at_ms=T0 + 4 * RETRY_MS)).answered == 0
    ended = await router.get_contact(cid)
    assert "callback attempt 3 of 3 not answered; no attempt left" in ended.explanation
    assert await router.tick(at_ms=T0 + 10 * RETRY_MS) == [0, 0, 0, 0, 0]


async def test_a_queue_without_attempts_set_calls_back_once(router: Router) -> None:
    """`callback_attempts` defaults to 1: the unanswered callback fails at once."""
    contact = await connected_callback(router, "general", "a1", T0 + 2000, skill="general")
    ended = await router.callback_unanswered(contact.contact_id, at_ms=T0 + 30_000)
    assert (ended.state, ended.reason) == (ContactState.FAILED, "callback_unanswered")
    assert (await router.get_agent("a1")).load["voice"] == 0


async def test_a_callback_moved_before_its_next_attempt_is_due_at_once(router: Router) -> None:
    contact = await connected_callback(router, "callme", "a1", T0 + 2000)
    cid = contact.contact_id
    await router.callback_unanswered(cid, at_ms=T0 + 30_000)
    await ready(router, make_agent("g1", general=3), T0 + 31_000)
    moved = await router.move(cid, "general", "supervisor", at_ms=T0 + 32_000)
    assert (moved.state, moved.agent_id) == (ContactState.OFFERED, "g1"), moved.explanation
    await router.accept(cid, "g1", at_ms=T0 + 33_000)
    # Its old attempt time finds nothing to put back.
    assert (await router.tick(at_ms=T0 + 30_000 + RETRY_MS))[4] == 0
    taken = await router.get_contact(cid)
    assert (taken.state, taken.agent_id) == (ContactState.CONNECTED, "g1")


async def test_a_callback_ended_while_it_waits_is_not_offered_later(router: Router) -> None:
    contact = await connected_callback(router, "callme", "a1", T0 + 2000)
    cid = contact.contact_id
    await router.callback_unanswered(cid, at_ms=T0 + 30_000)
    ended = await router.fail(cid, "cancelled", at_ms=T0 + 40_000)
    assert ended.state == ContactState.FAILED
    assert (await router.tick(at_ms=T0 + 30_000 + RETRY_MS))[4] == 0
    assert (await router.get_contact(cid)).state == ContactState.FAILED
    assert (await router.get_agent("a1")).load["voice"] == 0


async def test_nothing_offers_a_waiting_callback_before_its_time(router: Router) -> None:
    """A priority change (an escalation) and a node's adoption of the contacts of a lost
    one route waiting contacts at once: not a callback waiting for its next attempt."""
    contact = await connected_callback(router, "callme", "a1", T0 + 2000)
    cid = contact.contact_id
    await router.callback_unanswered(cid, at_ms=T0 + 30_000)
    await router.set_priority(cid, 5, "escalated", at_ms=T0 + 31_000)
    await ready(router, make_agent("a2"), T0 + 32_000)
    await router.adopt("n1", "n2")
    assert (await router.get_contact(cid)).state == ContactState.QUEUED
    await router.tick(at_ms=T0 + 30_000 + RETRY_MS)
    assert (await router.get_contact(cid)).state == ContactState.OFFERED


async def test_a_callback_is_answered_when_its_customer_picks_up(router: Router) -> None:
    """Its wait, service level and handle time run to the customer's answer, not to the
    agent's pick-up before it, when nobody was on the line."""
    contact = await connected_callback(router, "callme", "a1", T0 + 2000)  # queued at T0
    cid = contact.contact_id
    assert (await router.last_hour("callme", at_ms=T0 + 3000)).answered == 0
    await router.callback_answered(cid, at_ms=T0 + 20_000)
    figures = await router.last_hour("callme", at_ms=T0 + 21_000)
    assert (figures.answered, figures.wait_ms) == (1, 20_000)
    await router.complete(cid, "a1", at_ms=T0 + 80_000)
    records = [r async for r in router.store.records()]
    assert [(r["state"], r["answered_at"], r["answered_agent"]) for r in records] == [
        ("completed", str(T0 + 20_000), "a1")
    ]
    # The agent's leg, the report's handle time, starts at the answer too: no dialling.
    assert records[0]["handled_by"] == "a1@callme:60000"
    assert (await router.last_hour("callme", at_ms=T0 + 81_000)).handle_ms == 60_000


async def test_a_next_attempt_outside_the_regions_hours_waits_for_its_opening(
    redis_client: aioredis.Redis,
) -> None:
    """Attempts came at fixed intervals whatever the hour: a customer not picking up at
    19:58 was called again at 19:59, 20:00 ... and at 03:00 for a queue that retried every
    few hours. The next attempt outside the region's hours (08:00-20:00 here) waits for
    its opening; a contact taken while the region was closed (an emergency line) does
    not."""
    hours = {"eu": OpeningHours("Europe/Madrid", "08:00", "20:00")}
    router = Router(
        RoutingStore(redis_client), [*QUEUES, CALL_BACK], node_id="n1", region="eu", hours=hours
    )
    await router.publish_configuration(["eu"])
    madrid = ZoneInfo("Europe/Madrid")
    evening = int(datetime(2026, 3, 2, 19, 59, 30, tzinfo=madrid).timestamp() * 1000)
    contact = await connected_callback(router, "callme", "a1", evening)
    held = await router.callback_unanswered(contact.contact_id, at_ms=evening + 1000)
    opening = int(datetime(2026, 3, 3, 8, tzinfo=madrid).timestamp() * 1000)
    key = f"sb:{{rt}}:contact:{contact.contact_id}"
    assert await redis_client.hget(key, "callback_retry_at") == str(opening)
    assert held.explanation[-1].endswith("when its region opens"), held.explanation[-1]

    night = int(datetime(2026, 3, 3, 3, 0, tzinfo=madrid).timestamp() * 1000)
    urgent = await connected_callback(router, "callme", "a1", night)
    retried = await router.callback_unanswered(urgent.contact_id, at_ms=night + 1000)
    assert "the next in 60 s" in retried.explanation[-1]
