"""Prompts to a caller and digits from them: the one place that plays and listens."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from telephony.calls.call import Call
from telephony.endpoint import EngineError, PjEngine
from telephony.model import Prompt
from telephony.prompts import PromptRenderer

log = logging.getLogger(__name__)


class Prompter:
    def __init__(self, engine: PjEngine, prompts: PromptRenderer) -> None:
        self.engine = engine
        self.prompts = prompts
        self._done: dict[int, asyncio.Event] = {}

    def played(self, player: int) -> None:
        """The engine's `played` event: a player reached its end."""
        done = self._done.get(player)
        if done is not None:
            done.set()

    async def play(
        self, call: Call, prompts: tuple[Prompt, ...], collect: bool = False
    ) -> str | None:
        """Play prompts to the caller; with `collect`, a digit interrupts and is returned
        (one pressed before the prompts began counts: type-ahead)."""
        if not prompts:
            return None
        loop = asyncio.get_running_loop()
        known = [self.prompts.known(prompt) for prompt in prompts]
        if all(path is not None for path in known):
            paths = [path for path in known if path is not None]
        else:  # a prompt never said before (a position, a wait): rendered off the loop
            paths = await loop.run_in_executor(None, self.paths, prompts)
        call.heard.extend(paths)
        if collect and not call.digits.empty():
            return call.digits.get_nowait()
        if not collect:
            self.drain(call)
        try:
            player = await self.engine.play(call.leg, [str(p) for p in paths])
        except EngineError as error:  # the leg went meanwhile: its hang-up event follows
            log.info("prompt to leg %d not played: %s", call.leg, error)
            return None
        done = asyncio.Event()
        self._done[player] = done
        waits: set[asyncio.Task[Any]] = {loop.create_task(done.wait())}
        digit_task = loop.create_task(call.digits.get()) if collect else None
        if digit_task is not None:
            waits.add(digit_task)
        try:
            finished, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if digit_task is not None and digit_task in finished:
                return digit_task.result()
            return None
        finally:
            for task in waits:
                task.cancel()
            self._done.pop(player, None)
            await self._stop(player)

    async def _stop(self, player: int) -> None:
        try:
            await self.engine.stop_play(player)
        except EngineError as error:
            log.debug("stopping player %d: %s", player, error)

    def paths(self, prompts: tuple[Prompt, ...]) -> list[Path]:
        return [self.prompts.path(prompt) for prompt in prompts]

    @staticmethod
    def drain(call: Call) -> None:
        """Forget digits pressed so far (the next question wants fresh ones)."""
        while not call.digits.empty():
            call.digits.get_nowait()

    @staticmethod
    async def next_digit(call: Call, timeout_s: float) -> str | None:
        try:
            return await asyncio.wait_for(call.digits.get(), timeout_s)
        except TimeoutError:
            return None
