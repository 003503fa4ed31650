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

from scheduler.problem import Problem
from scheduler.relaxation import Bound, lower_bound


@dataclass(frozen=True)
class BoundInput:
    """What `relaxation.lower_bound` reads: the problem, its time and its bucket."""

    problem: Problem
    time_limit_s: float
    bucket: int

    def solve(self) -> Bound:
        problem = self.problem
        return lower_bound(
            problem.agents,
            problem.patterns,
            problem.servable,
            problem.needs,
            problem.queues,
            problem.rules,
            problem.horizon,
            self.time_limit_s,
            problem.best_effort,
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
