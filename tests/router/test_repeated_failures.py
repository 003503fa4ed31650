"""Which failures of a background loop are logged (router.model.RepeatedFailures): a
Redis outage made each node write ten lines a second; now the first failure of a run,
one line per interval with the count, and the recovery once. Pure logic, its own clock."""

from __future__ import annotations

import logging

import pytest

from router.model import Burst, LoopLog, RepeatedFailures

OUT = ConnectionError("Error 111 connecting")


def test_a_run_of_failures_logs_the_first_then_one_line_per_interval_with_the_count() -> None:
    failures = RepeatedFailures(every_s=10.0)
    logged = [failures.failed("routing", 100.0 + i * 0.25) for i in range(81)]  # 20 s
    lines = [(i, burst) for i, burst in enumerate(logged) if burst is not None]
    assert lines == [
        (0, Burst(1, 0.0, first=True)),
        (40, Burst(40, 10.0, first=False)),
        (80, Burst(40, 10.0, first=False)),
    ]
    assert lines[1][1].describe(OUT) == (
        "failed 40 times in the last 10 s; last: Error 111 connecting"
    )


def test_each_loop_is_limited_alone_and_its_recovery_is_told_once() -> None:
    failures = RepeatedFailures(every_s=10.0)
    assert failures.failed("routing", 0.0) == Burst(1, 0.0, first=True)
    assert failures.failed("failover", 0.5) == Burst(1, 0.0, first=True)
    assert failures.failed("routing", 1.0) is None
    assert failures.passed("routing", 7.5) == 7.5
    assert failures.passed("routing", 8.0) is None  # told once
    assert failures.passed("cases", 8.0) is None  # never failed
    # A new outage starts a new run: its first failure is logged at once.
    assert failures.failed("routing", 9.0) == Burst(1, 0.0, first=True)
    assert failures.failed("failover", 9.0) is None


def test_a_loop_log_writes_one_line_a_burst_counts_every_failure_and_tells_the_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The four loops (routing tick, window sweep, case timers, failover check) log
    through LoopLog: thirty failures in a row are one line, all thirty are counted for the
    metrics, and the first pass after them says how long the loop failed."""
    counted: list[str] = []
    loop = LoopLog(
        logging.getLogger("probe"), "routing", "routing tick", lambda w, e: counted.append(w)
    )
    with caplog.at_level(logging.INFO, logger="probe"):
        for _ in range(30):
            loop.failed(OUT)
        loop.passed()
        loop.passed()  # working, as before: nothing to say
    lines = [record.getMessage() for record in caplog.records]
    assert counted == ["routing"] * 30
    assert lines[0] == "routing tick failed: Error 111 connecting"
    assert len(lines) == 2 and lines[1].startswith("routing tick works again after ")
