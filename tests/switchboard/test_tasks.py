"""cancel_and_wait ends a loop of Redis commands every time, on the real Redis: a single
cancellation is lost now and then inside redis-py, and the loop then ran for ever."""

from __future__ import annotations

import asyncio
import random

import redis.asyncio as aioredis

from switchboard.common.tasks import cancel_and_wait

TRIES = 200


async def commands(client: aioredis.Redis) -> None:
    """A background loop as the node runs them, short of a stop event: only a
    cancellation ends it."""
    while True:
        await client.hgetall("sb:test:tasks")
        await asyncio.sleep(0)


async def test_a_loop_of_redis_commands_always_ends(redis_client: aioredis.Redis) -> None:
    rng = random.Random(7)
    still_running = 0
    for _ in range(TRIES):
        task = asyncio.create_task(commands(redis_client))
        await asyncio.sleep(rng.random() * 0.004)
        pending = await cancel_and_wait([task], within_s=2.0)
        still_running += len(pending)
        if pending:  # a lost cancellation: clean up and count it
            task.cancel()
    assert still_running == 0, f"{still_running} of {TRIES} loops ran on after cancel_and_wait"
    assert task.cancelled()


async def test_finished_tasks_keep_their_result() -> None:
    async def answer() -> int:
        return 42

    done = asyncio.create_task(answer())
    await done
    assert await cancel_and_wait([done]) == set()
    assert done.result() == 42
