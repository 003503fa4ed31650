"""The relaxation's bound solved beside the search, in a process of its own.

HiGHS and the single-agent sweeps each keep one core busy; on two cores the bound
then costs the search nothing, however long the LP takes (seconds on a 15-minute
week summed per hour, tens of seconds on a 30-minute one when the machine is busy).
The process is started with "spawn" (a fresh interpreter: nothing of the solver's
threads is inherited) and stopped by the solver when its time is up.
"""

from __future__ import annotations

import math
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection

from scheduler.model import Agent, Rules
from scheduler.patterns import Horizon, Pattern
from scheduler.relaxation import Bound, lower_bound


@dataclass(frozen=True)
class BoundInput:
    """Everything `relaxation.lower_bound` reads."""

    agents: list[Agent]
    patterns: dict[str, dict[int, list[Pattern]]]
    servable: dict[str, tuple[str, ...]]
    needs: dict[tuple[str, int], int]
    queues: list[str]
    rules: Rules
    horizon: Horizon
    time_limit_s: float
    soft_min_hours: bool
    bucket: int

    def solve(self) -> Bound:
        return lower_bound(
            self.agents,
            self.patterns,
            self.servable,
            self.needs,
            self.queues,
            self.rules,
            self.horizon,
            self.time_limit_s,
            self.soft_min_hours,
            self.bucket,
        )


def _run(given: BoundInput, send: Connection) -> None:
    try:
        send.send(given.solve())
    finally:
        send.close()


class BoundProcess:
    """`BoundInput.solve` in a child process; `poll` for its answer, `stop` it when done."""

    def __init__(self, given: BoundInput) -> None:
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(given, send), daemon=True)
        self._process.start()
        send.close()
        self._answer: Bound | None = None

    def poll(self) -> Bound | None:
        """The bound once the child has sent it (a failed child: a bound of nan)."""
        if self._answer is None:
            if self._receive.poll():
                try:
                    self._answer = self._receive.recv()
                except EOFError:
                    self._answer = Bound(math.nan, "FAILED", 0.0)
            elif not self._process.is_alive():
                self._answer = Bound(math.nan, "FAILED", 0.0)
        return self._answer

    def stop(self) -> None:
        """End the child (the one process this object started) and wait for it."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(2)
            if self._process.is_alive():
                self._process.kill()
        self._process.join(2)
        self._receive.close()
