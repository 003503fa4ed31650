"""A Router on the real embedded Redis, with the default configuration's queues."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from router.model import Agent, QueueConfig, Strategy
from router.service import Router
from router.store import RoutingStore

ROOT = Path(__file__).resolve().parents[2]

QUEUES = [
    QueueConfig(
        name="booking",
        skill="booking",
        strategy=Strategy.LONGEST_IDLE,
        priority=2,
        ring_s=5,
        wrap_up_s=0,
        min_proficiency=3,
        fallback_languages=("en",),
        relax_language_after_s=10,
        relax_region_after_s=20,
        relax_proficiency_after_s=30,
        max_wait_s=100,
        overflow_queue="general",
    ),
    QueueConfig(name="general", skill="general", strategy=Strategy.ROUND_ROBIN, wrap_up_s=0),
    QueueConfig(name="expert", skill="booking", strategy=Strategy.MOST_SKILLED, wrap_up_s=0),
]


@pytest.fixture
async def router(redis_client: aioredis.Redis) -> AsyncIterator[Router]:
    store = RoutingStore(redis_client)
    router = Router(store, QUEUES, node_id="n1", region="eu")
    await router.publish_configuration(["eu", "asia"])
    yield router


def make_agent(agent_id: str, region: str = "eu", languages=("en",), **skills: int) -> Agent:
    return Agent(
        agent_id=agent_id,
        region=region,
        skills=skills or {"booking": 4},
        languages=list(languages),
    )
