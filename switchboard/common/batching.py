"""Redis calls issued in the same turn of the event loop go out together.

Under load many coroutines of a node call the routing function in the same turn (HTTP
requests, SIP calls, timers). Sent one by one, each call takes a pooled connection, a
write and a read on the node and on the server: on a small box that socket work is a
large share of a routing call's CPU on both sides (docs/routing.md, "Measured").
`CallBatcher` collects the calls made during one turn and sends them as one pipeline
(one connection, one write; the server reads them at once and answers in one write).
Each caller gets its own reply or its own error, as if it had called alone; a call made
alone goes out alone, as it did without the batcher. (Two other rules measured on
bench/routing.py: holding calls only while earlier ones are on the wire tripled the p99
at 1,000 decisions/s; sending each turn's first call at once did no better than this.
The price: a closed loop of a few clients that each wait for their last call, as in
bench/sla.py's plain rounds, runs about a fifth slower, since the server waits for the
end of the turn; a node's requests come at their own times.)

redis-py's pipeline does the sending, so plain Redis, Sentinel and Cluster clients
batch alike, with the client's own timeouts and retries.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import DataError

Pending = tuple[tuple[Any, ...], "asyncio.Future[Any]"]
_ALONE = object()  # a lone call's answer from the flush: send it yourself, no task needed


class CallBatcher:
    """`execute(*command)` as `client.execute_command` would, batched per loop turn."""

    def __init__(self, client: Any, max_batch: int = 128) -> None:
        self.client = client
        self.max_batch = max_batch
        self._pending: list[Pending] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def execute(self, *command: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)  # after every coroutine ready in this turn has run
        self._pending.append((command, future))
        answer = await future
        if answer is _ALONE:
            return await self.client.execute_command(*command)
        return answer

    def _flush(self) -> None:
        batch = [(command, future) for command, future in self._pending if not future.done()]
        self._pending = []  # a call given up before it went out is never sent
        if len(batch) <= 1:
            for _, future in batch:
                future.set_result(_ALONE)
            return
        loop = asyncio.get_running_loop()
        for start in range(0, len(batch), self.max_batch):
            task = loop.create_task(self._send(batch[start : start + self.max_batch]))
            self._sending.add(task)  # held until done: a task nobody refers to may vanish
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[Pending]) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for command, _ in batch:
                pipe.execute_command(*command)
            results = await pipe.execute(raise_on_error=False)
        except DataError:  # a value Redis cannot take, found while packing: nothing went out
            await asyncio.gather(*(self._send_alone(command, future) for command, future in batch))
            return
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:  # the connection failed: every caller of the batch hears it
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller gave up (cancelled, timed out)
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _send_alone(self, command: tuple[Any, ...], future: asyncio.Future[Any]) -> None:
        """One call of a batch that could not be packed, so that only the faulty one fails."""
        try:
            result = await self.client.execute_command(*command)
        except Exception as error:
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)
