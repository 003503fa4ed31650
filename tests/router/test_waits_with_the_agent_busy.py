"""The IVR probe's queue: one agent ready but busy on a long call, the other not ready,
three callers of other languages waiting behind. Every one of them is told a wait at
every announcement, ordered by position and below the queue's own figure for a new
caller (docs/routing.md, "Nobody to serve, no wait": a busy agent who is signed in and
ready serves). While nobody moves, the told wait stays what it was ("Time already
waited"): a remaining wait, which the queue moving shortens, not the clock. A real
router on the embedded Redis, with an explicit clock."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Channel, ContactState, NewContact, Presence, QueueConfig
from router.service import Router
from router.store import RoutingStore
from switchboard.common.clock import utc_day_start_ms
from tests.router.test_routing import T0, ready

EVERY = ("en", "zh", "es", "ar", "ja", "fr", "de", "hi", "pt", "ru", "ko", "it")
# The shipped `booking` queue (config/default.toml): its rules widen at 60, 120, 180 s.
BOOKING = QueueConfig(
    name="booking",
    skill="booking",
    wrap_up_s=10,
    ring_s=15,
    min_proficiency=2,
    fallback_languages=("en",),
    relax_language_after_s=60,
    relax_region_after_s=120,
    relax_proficiency_after_s=180,
    max_wait_s=900,
)


@pytest.fixture
async def router(redis_client: aioredis.Redis) -> Router:
    router = Router(RoutingStore(redis_client), [BOOKING], node_id="n1", region="default")
    await router.publish_configuration(["default"])
    return router


def call(language: str) -> NewContact:
    return NewContact(channel=Channel.VOICE, queue="booking", language=language)


async def test_every_caller_behind_a_busy_agent_is_told_a_wait_at_every_announcement(
    router: Router,
) -> None:
    await ready(router, Agent("a1", "default", {"booking": 4}, list(EVERY)), T0)
    await router.store.upsert_agent(Agent("a2", "default", {"booking": 4}, list(EVERY)), T0)
    await router.set_presence("a2", Presence.NOT_READY, at_ms=T0)
    on_the_line = await router.create_contact(call("en"), at_ms=T0 + 1000)
    await router.accept(on_the_line.contact_id, "a1", at_ms=T0 + 1000)  # a long call
    callers = []
    for index, language in enumerate(("es", "fr", "de")):  # within 4 s
        contact = await router.create_contact(call(language), at_ms=T0 + 10_000 + 2000 * index)
        assert contact.state == ContactState.QUEUED
        callers.append(contact.contact_id)

    told: list[list[float]] = []
    for at_ms in range(T0 + 20_000, T0 + 140_001, 10_000):  # every 10 s for 2 minutes
        await router.tick(at_ms=at_ms)  # the relaxation steps fire meanwhile
        places = [await router.position(cid, at_ms=at_ms) for cid in callers]
        assert [place.position for place in places] == [1, 2, 3]
        waits = [place.ewt_s for place in places]
        assert None not in waits, f"no wait told at {(at_ms - T0) // 1000} s: {waits}"
        told.append([wait for wait in waits if wait is not None])
    for announced in told:
        assert announced[0] < announced[1] < announced[2]
    # Nobody moved: each caller was told the same wait at every announcement.
    assert all(announced == told[0] for announced in told)

    # The queue's figure for a new caller (position 4) counts the same one agent. No
    # history: the estimates do not depend on the clock the status reads.
    status = await router.queue_status("booking", utc_day_start_ms())
    assert (status.waiting, status.serving_agents) == (3, 1)
    assert told[-1][2] < status.ewt_s

    # The queue moves: the call ends, a1 takes the first caller after wrap-up; the next
    # one is now first in line and told the shorter wait of that place.
    await router.complete(on_the_line.contact_id, "a1", at_ms=T0 + 143_000)
    await router.tick(at_ms=T0 + 153_000)
    assert (await router.get_contact(callers[0])).state == ContactState.OFFERED
    moved = await router.position(callers[1], at_ms=T0 + 153_000)
    assert moved.position == 1
    assert moved.ewt_s is not None and moved.ewt_s < told[-1][1]
