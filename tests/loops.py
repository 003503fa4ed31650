"""Bounded waits of the tests beside the product's background loops (heartbeat, failover
watcher, timers), and ending those loops as the node does on stop: set their stop event
first, then cancel until they end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from switchboard.common.tasks import cancel_and_wait


async def end_loops(stop: asyncio.Event, tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Stop `tasks` (bounded: see cancel_and_wait). A loop still running after that fails
    the test with its stack; a loop that failed raises its error, as awaiting it would."""
    tasks = list(tasks)
    stop.set()
    running = await cancel_and_wait(tasks)
    assert not running, [(task.get_name(), task.get_stack()) for task in running]
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


async def until(probe: Callable[[], Awaitable[Any]], within_s: float) -> Any:
    """The first truthy answer of `probe`, polled for at most `within_s`; else None. A
    probe that fails (Redis may be on its way back) counts as no answer."""
    deadline = time.monotonic() + within_s
    while True:
        with contextlib.suppress(Exception):
            answer = await probe()
            if answer:
                return answer
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.05)
