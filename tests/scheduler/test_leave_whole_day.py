"""Leave is the whole local day: a shift from the evening before may not run into it (a
probe: an agent on leave worked 00:00-00:30 of the leave day at the end of a shift),
in the candidate shifts and in the checker alike."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.checker import check
from scheduler.model import AgentWishes
from scheduler.patterns import Horizon, agent_patterns

from .conftest import HALF_HOUR, START, agent, rules
from .test_checker import shift

LEAVE = START + timedelta(days=1)  # Tuesday, local Berlin
B1 = agent("B1", "sales", "de;en")
LATE = rules(latest_start=time(18), agents={"B1": AgentWishes(unavailable=frozenset({LEAVE}))})


def test_no_candidate_shift_runs_into_a_day_of_leave() -> None:
    horizon = Horizon.from_date(START, 3, HALF_HOUR)
    monday = agent_patterns(B1, LATE, horizon)[0]
    ends = {p.local_start + timedelta(minutes=30) * (p.end - p.start) for p in monday}
    midnight = max(ends)
    # Shifts ending at midnight are kept (16:00 + 8 h, 18:00 + 6 h); 17:00 + 8 h is not.
    assert midnight.date() == LEAVE and midnight.time() == time(0)
    assert {(p.local_start.hour, p.end - p.start) for p in monday} >= {(16, 16), (18, 12)}
    assert (17, 16) not in {(p.local_start.hour, p.end - p.start) for p in monday}
    # The day of leave itself has no shift; the day after has its late ones again.
    assert agent_patterns(B1, LATE, horizon)[1] == []
    wednesday = agent_patterns(B1, LATE, horizon)[2]
    assert (17, 16) in {(p.local_start.hour, p.end - p.start) for p in wednesday}


def test_the_checker_finds_a_shift_running_into_leave() -> None:
    # 17:00-01:00 Berlin (16:00-00:00 UTC) ends an hour into Tuesday, a day of leave.
    into = check(shift("B1", 0, 16), [B1], LATE, None, START, 7)
    assert [(v.rule, v.message.rpartition(": ")[2]) for v in into] == [
        ("availability", "agent is unavailable on 2024-03-05")
    ]
    # 16:00-00:00 Berlin ends at the leave's first moment: not on leave.
    assert check(shift("B1", 0, 15), [B1], LATE, None, START, 7) == []
