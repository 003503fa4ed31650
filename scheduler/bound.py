"""The relaxation's bound solved beside the search, in a process of its own.

HiGHS and the single-agent sweeps each keep one core busy; on two cores the bound
then costs the search nothing, however long the LP takes (seconds on a 15-minute
week summed per hour, tens of seconds on a 30-minute one when the machine is busy).
The process is started with "spawn" (a fresh interpreter: nothing of the solver's
threads is inherited) and stopped by the solver when its time is up. With one worker it
runs before the search instead, for its share of the time limit, and is stopped there
if it has not finished: HiGHS's interior point method does not stop at its own time
limit (a limit of 0.5 s took 30 s on a week of 120 agents), and building the LP is not
limited at all, so only a process of its own can be held to a time.

On a grid finer than the bucket, the LP summed per bucket comes first (seconds), then,
when the time left allows, the same LP on single intervals: inside an hour a shortfall
and a surplus cancel, which on demand that changes by the quarter hour can leave the
hourly bound at a third of the optimum (the probe's bank week: 106 309 summed per hour,
314 120 on single intervals, against a schedule of 320 940). Each is sent as it comes;
the solver keeps the larger.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

from scheduler.problem import Problem
from scheduler.relaxation import Bound, lower_bound

# The LP on single intervals is tried only when the time left is at least this many times
# what the LP summed per bucket took (it took 4 to 5 times as long on weeks of 55 and
# 240 agents), so that a hopeless one does not hold the second core for nothing.
SINGLE_FACTOR = 6.0


@dataclass(frozen=True)
class BoundInput:
    """What `relaxation.lower_bound` reads: the problem, its time and its bucket."""

    problem: Problem
    time_limit_s: float
    bucket: int

    def solves(self) -> Iterator[Bound]:
        """The bound summed per bucket, then, with buckets and time enough, on single
        intervals (module doc); each valid, so the larger of them is the bound."""
        started = time.monotonic()
        first = self._solve(self.bucket, self.time_limit_s)
        yield first
        left = self.time_limit_s - (time.monotonic() - started)
        if self.bucket > 1 and left >= SINGLE_FACTOR * max(first.wall_s, 0.1):
            yield self._solve(1, left)

    def _solve(self, bucket: int, time_limit_s: float) -> Bound:
        problem = self.problem
        found = lower_bound(
            problem.agents,
            problem.patterns,
            problem.servable,
            problem.needs,
            problem.queues,
            problem.rules,
            problem.horizon,
            time_limit_s,
            problem.best_effort,
            bucket,
        )
        return replace(found, bucket=bucket)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C ignored for a moment (in the main thread, where handlers belong): a child
    started meanwhile starts with it ignored. Ctrl-C in a terminal reaches the whole
    process group, and the solver stops the child itself (writing the schedule it has);
    a KeyboardInterrupt in the child would only print its traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:  # None: a handler not set from Python, which Python cannot set back
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _run(given: BoundInput, send: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as inherited (`_sigint_ignored`)
    try:
        for found in given.solves():
            send.send(found)
    finally:
        send.close()


class BoundProcess:
    """`BoundInput.solves` in a child process; `poll` for its answers, `stop` it when done."""

    def __init__(self, given: BoundInput) -> None:
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(given, send), daemon=True)
        with _sigint_ignored():  # inherited: the child ignores Ctrl-C from its first moment
            self._process.start()
        send.close()
        self.finished = False  # the child has sent all it will
        self._answered = False
        self.started = time.monotonic()

    def poll(self) -> Bound | None:
        """The next bound the child has sent, None while there is none yet or once it is
        `finished` (a child that failed before its first: a bound of nan)."""
        if self.finished:
            return None
        try:
            if self._receive.poll():
                found: Bound = self._receive.recv()
                self._answered = True
                return found
        except EOFError:
            pass
        else:
            if self._process.is_alive():
                return None
        self.finished = True
        return None if self._answered else Bound(math.nan, "FAILED", 0.0)

    def stop(self) -> None:
        """End the child (the one process this object started) and wait for it."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(2)
            if self._process.is_alive():
                self._process.kill()
        self._process.join(2)
        self._receive.close()
