"""The node's event-loop lag is on /metrics (`switchboard_event_loop_lag_seconds`): a
callback that holds the loop shows there as a late wake-up of the node's sampler.

The node runs in the test's own loop, so a `time.sleep` in the test blocks the node. The
node samples every 0.05 s here (0.5 s in service), so a 0.3 s block always spans a
sample that was due: that sample wakes at least 0.25 s late.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from switchboard.node import Node
from switchboard.settings import RedisConfig, load_settings
from tests.nodes import ROOT, TEST_AUTH, http_session

LAG = "switchboard_event_loop_lag_seconds"
SAMPLE_S = 0.05
BLOCK_S = 0.3


async def slow_samples(http: aiohttp.ClientSession) -> float:
    """How many samples the node's /metrics counts as later than 0.1 s."""
    response = await http.get("/metrics")
    assert response.status == 200
    families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    assert LAG in families, f"{LAG} is not exported"
    samples = families[LAG].samples
    count = next(s.value for s in samples if s.name == f"{LAG}_count")
    within = next(s.value for s in samples if s.name == f"{LAG}_bucket" and s.labels["le"] == "0.1")
    return count - within


async def test_a_blocked_loop_shows_in_the_lag_metric(redis_url: str) -> None:
    settings = dataclasses.replace(
        load_settings(ROOT / "config" / "default.toml"),
        redis=RedisConfig(url=redis_url),
        http_port=0,
        auth=TEST_AUTH,
    )
    node = Node(settings, voice=False)
    node.loop_lag_every_s = SAMPLE_S
    await node.start()
    try:
        async with http_session(node) as http:
            before = await slow_samples(http)
            time.sleep(BLOCK_S)  # holds the loop: the node's sampler cannot wake
            after = before
            for _ in range(100):  # the late sample is observed as soon as the loop runs
                after = await slow_samples(http)
                if after > before:
                    break
                await asyncio.sleep(SAMPLE_S)
            assert after - before > 0
    finally:
        await node.stop()
    assert all(task.done() for task in node.tasks)  # the sampler stopped with the node
