"""A contact's own estimated wait counts only the agents who could ever take it: those
signed in and ready who speak its language (or one its queue relaxes to: fallback
languages, a chat's translation pairs), in a region it can be routed to, with its skill
at the proficiency its widest step asks. With none of them, its position alone, as
with nobody serving the queue (docs/routing.md, "Nobody to serve, no wait"); the queue's
own figures still count by skill. A real router on the embedded Redis."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Channel, ContactState, NewContact, QueueConfig
from router.service import Router
from router.stats import DEFAULT_AHT_S
from router.store import RoutingStore
from switchboard.common.clock import utc_day_start_ms
from tests.router.test_routing import T0, ready


def queue(name: str, **rules: object) -> QueueConfig:
    """A queue of skill `booking` whose rules widen only where `rules` say."""
    values: dict[str, object] = {
        "skill": "booking",
        "wrap_up_s": 0,
        "min_proficiency": 1,
        "fallback_languages": ("en",),
        "relax_language_after_s": 10,
        "relax_region_after_s": None,
        "relax_proficiency_after_s": None,
        "relax_translation_after_s": None,
    }
    values.update(rules)
    return QueueConfig(name=name, **values)  # type: ignore[arg-type]


QUEUES = [
    # The probe's airline line: the language relaxes to English only.
    queue("air"),
    queue("anywhere", relax_region_after_s=20),
    queue("skilled", min_proficiency=3),
    queue("skilled_later", min_proficiency=3, relax_proficiency_after_s=30),
    queue("help", fallback_languages=(), relax_translation_after_s=30),
]


@pytest.fixture
async def router(redis_client: aioredis.Redis) -> Router:
    router = Router(RoutingStore(redis_client), QUEUES, node_id="n1", region="eu")
    await router.publish_configuration(["eu", "asia"])
    await router.store.publish_translation_pairs([("ko", "en"), ("en", "ko")])
    return router


def agent(agent_id: str, *languages: str, region: str = "eu", **skills: int) -> Agent:
    return Agent(agent_id, region, skills or {"booking": 4}, list(languages))


async def waiting(
    router: Router,
    queue_name: str,
    language: str = "ko",
    channel: Channel = Channel.VOICE,
    at_ms: int = T0,
    **kw: object,
) -> str:
    new = NewContact(channel=channel, queue=queue_name, language=language, region="eu", **kw)  # type: ignore[arg-type]
    contact = await router.create_contact(new, at_ms=at_ms)
    assert contact.state == ContactState.QUEUED
    return contact.contact_id


async def told(router: Router, contact_id: str, at_ms: int = T0 + 5000) -> float | None:
    """The wait the contact is told (its position events, the IVR, the chat page)."""
    where = await router.position(contact_id, at_ms=at_ms)
    assert where.position >= 1  # still waiting: not offered meanwhile
    return where.ewt_s


async def test_a_caller_whose_language_no_ready_agent_speaks_is_told_its_place_alone(
    router: Router, redis_client: aioredis.Redis
) -> None:
    """The probe: a Korean caller with Japanese and Chinese agents ready heard "about 1
    minute", three times, and was never served."""
    await ready(router, agent("yuki", "ja"), T0)
    await ready(router, agent("li", "zh"), T0)
    korean = await waiting(router, "air")
    assert await told(router, korean) is None
    # Past every step the queue has (the language's, at 10 s): still nobody.
    assert await told(router, korean, at_ms=T0 + 600_000) is None
    key = router.store.keys.contact(korean)
    assert await redis_client.hget(key, "ewt") is None  # nothing kept to be scored
    # The queue's figures still count by skill: two agents serve `air`.
    status = await router.queue_status("air", utc_day_start_ms())
    assert status.serving_agents == 2

    # An English agent (the queue's fallback) signs in: the wait counts that one agent.
    await ready(router, agent("ann", "en"), T0 + 6000)
    where = await router.position(korean, at_ms=T0 + 7000)
    assert where.ewt_s is not None
    assert where.estimates["ql"] == pytest.approx(DEFAULT_AHT_S)  # 1 agent, not 3
    assert await redis_client.hget(key, "ewt") is not None


async def test_only_agents_of_a_region_the_contact_can_reach_count(router: Router) -> None:
    await ready(router, agent("min", "ko", region="asia"), T0)
    assert await told(router, await waiting(router, "air")) is None  # never leaves eu
    assert await told(router, await waiting(router, "anywhere")) is not None  # after 20 s


async def test_only_agents_skilled_enough_at_the_widest_step_count(router: Router) -> None:
    await ready(router, agent("joon", "ko", booking=2), T0)
    assert await told(router, await waiting(router, "skilled")) is None
    assert await told(router, await waiting(router, "skilled_later")) is not None


async def test_a_chat_counts_the_agents_a_translation_pair_reaches(router: Router) -> None:
    await ready(router, agent("ann", "en"), T0)
    chat = await waiting(router, "help", channel=Channel.CHAT)
    assert await told(router, chat) is not None  # ko>en and en>ko, after 30 s
    # A call is not translated: nobody speaks Korean, and `help` has no fallback.
    assert await told(router, await waiting(router, "help")) is None
    assert (
        await told(router, await waiting(router, "help", channel=Channel.CHAT, language="th"))
        is None
    )


async def test_a_contact_with_a_skill_of_its_own_counts_the_agents_with_that_skill(
    router: Router,
) -> None:
    """An IVR reason's skill: agents of the queue's skill cannot take it."""
    await ready(router, agent("ann", "en", "ko"), T0)
    first = await waiting(router, "air", skill="baggage")
    second = await waiting(router, "air", skill="baggage", at_ms=T0 + 1)
    assert await told(router, second) is None
    # bo takes the first (tests/router/test_reason_skill_offer.py); the second counts him
    await ready(router, agent("bo", "ko", baggage=3), T0 + 1000)
    assert (await router.get_contact(first)).agent_id == "bo"
    assert await told(router, second, at_ms=T0 + 2000) is not None
