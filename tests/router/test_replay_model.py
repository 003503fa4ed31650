"""The replay's model of the bank's record (bench/_bank.py: pure), and one replayed day
through the real router (bench/replay.py on the suite's Redis)."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bench._bank import (
    AgentDay,
    Call,
    Roster,
    ServiceTimes,
    Staffing,
    _most_likely_share,
    agent_days,
    availability,
    parse_calls,
    staffing_plan,
    subtract,
)

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)


def clock(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def row(call_id: int, arrival: int, wait: int, served: int, server: str, kind: str = "PS") -> str:
    """A data row: queued `wait` s from `arrival`, then served `served` s (0: hung up)."""
    start = arrival + wait
    outcome = "AGENT" if served else "HANG"
    return "\t".join(
        [
            "AA0101",
            str(call_id),
            "0",
            "0",
            kind,
            "990203",
            clock(arrival - 5),
            clock(arrival),
            "5",
            clock(arrival) if wait else "0:00:00",
            clock(start) if wait else "0:00:00",
            str(wait),
            outcome,
            clock(start) if served else "0:00:00",
            clock(start + served) if served else "0:00:00",
            str(served),
            server if served else "NO_SERVER",
        ]
    )


def call(call_id: str, arrival: int, wait: int, served: int, server: str, kind: str = "PS") -> Call:
    return Call(
        call_id, "990203", kind, 0, "0", arrival, wait, served > 0, served, server, arrival + wait
    )


def test_a_malformed_row_names_its_row_and_field() -> None:
    good = dict(zip(HEADER.split("\t"), row(1, 36_000, 0, 60, "ANN").split("\t"), strict=True))
    bad = {**good, "q_time": "soon"}
    with pytest.raises(ValueError, match=r"row 3: field q_time: expected a whole number"):
        parse_calls([good, bad])


def test_busy_and_idle_intervals_leave_out_time_when_a_caller_it_could_take_waited() -> None:
    calls = [
        call("1", 1000, 0, 100, "ANN"),  # busy 1000-1105 with 5 s wrap-up
        call("2", 1300, 200, 100, "BEN"),  # a PS caller waited 1300-1500
        call("3", 1700, 0, 100, "ANN"),  # busy 1700-1805
    ]
    days = agent_days(calls, wrap_up_s=5)
    assert days["ANN"].busy == [(1000, 1105), (1700, 1805)]
    assert days["ANN"].idle == [(1105, 1300), (1500, 1700)]
    assert agent_days(calls, wrap_up_s=5, holes=False)["ANN"].idle == [(1105, 1700)]
    assert subtract((0, 10), [(2, 3), (5, 20)]) == [(0, 2), (3, 5)]


def test_the_share_of_available_idle_agents_is_recovered_from_who_waited() -> None:
    rng = random.Random(7)
    alpha = 0.3
    observations = []
    for _ in range(4000):
        idle = rng.randint(1, 5)
        observations.append((idle, rng.random() < (1 - alpha) ** idle))
    assert _most_likely_share(observations) == pytest.approx(alpha, abs=0.03)
    assert _most_likely_share([]) == 1.0


def test_availability_reads_arrivals_that_found_nobody_of_their_type_waiting() -> None:
    # Callers found one, two and one idle agents; the one who found two waited:
    # the likelihood α(1-α)^2·α is highest at α = 1/2.
    calls = [
        call("1", 1000, 0, 100, "ANN"),  # nobody seen idle yet: tells nothing
        call("2", 1200, 0, 100, "BEN"),  # answered at once while ANN idled
        call("3", 1400, 50, 100, "BEN"),  # waited while ANN and BEN idled
        call("4", 2000, 0, 100, "ANN"),  # answered at once while ANN idled
    ]
    days = agent_days(calls, wrap_up_s=0)
    assert availability(calls, days) == pytest.approx(0.5, abs=0.01)


def test_the_plan_counts_busy_agents_and_the_available_share_of_idle_ones() -> None:
    days = {
        "A": AgentDay(frozenset({"PS"}), busy=[(0, 100)], idle=[]),
        "B": AgentDay(frozenset({"PS"}), busy=[(0, 10), (90, 100)], idle=[(10, 90)]),
        "C": AgentDay(frozenset({"PS"}), busy=[(0, 10), (90, 100)], idle=[(10, 90)]),
    }
    plan = staffing_plan(days, alpha=0.5)
    assert [(s.at_s, s.on_duty) for s in plan] == [(0, 3), (10, 2), (90, 3), (100, 0)]
    assert plan[1].present == frozenset({"A", "B", "C"})


def test_the_roster_logs_off_idle_agents_and_prefers_those_the_record_shows() -> None:
    roster = Roster(["A", "B", "C"], extra=[], change=0)
    roster.plan(Staffing(0, 2, frozenset({"B", "C"})))
    assert roster.joiners() == ["B", "C"]
    roster.on |= {"B", "C"}
    roster.busy.add("B")
    roster.plan(Staffing(10, 1, frozenset({"B"})))
    assert roster.leavers() == ["C"]  # the busy one stays until it finishes
    roster.on.discard("C")
    roster.plan(Staffing(20, 0, frozenset()))
    assert roster.leavers() == []  # B is busy: it leaves when its call ends
    roster.busy.discard("B")
    assert roster.leavers() == ["B"]


def test_extra_agents_come_whenever_the_center_is_staffed() -> None:
    roster = Roster(["A", "B", "extra-1"], extra=["extra-1"], change=1)
    roster.plan(Staffing(0, 1, frozenset({"A"})))
    assert sorted(roster.joiners()) == ["A", "extra-1"]
    roster.plan(Staffing(10, 0, frozenset()))
    assert roster.target == 0


def test_calls_last_as_recorded_or_as_fast_as_the_agent_is() -> None:
    month = [
        call(str(i), 1000 * i, 0, 60 if i % 2 else 240, "FAST" if i % 2 else "SLOW")
        for i in range(40)
    ]
    times = ServiceTimes(month)
    times.draw(month, random.Random(1))
    assert times.speed("FAST", "PS") < 1 < times.speed("SLOW", "PS")
    assert times.speed("NEW", "PS") == 1.0
    slow_call = month[0]
    assert times.seconds(slow_call, "FAST", by_agent=False) == 240
    assert times.seconds(slow_call, "FAST", by_agent=True) < 240
    assert times.proficiency(["FAST", "SLOW"], "PS") == {"FAST": 5, "SLOW": 3}


def test_a_replayed_day_ends_every_caller_and_reports_each_predictor(
    tmp_path: Path, redis_url: str
) -> None:
    """A small day through bench/replay.py and the real routing function."""
    rng = random.Random(5)
    rows, at = [HEADER], 8 * 3600
    for number in range(60):
        at += rng.randint(20, 90)
        kind = "NW" if number % 5 == 0 else "PS"
        if number % 7 == 3:
            rows.append(row(number, at, rng.randint(10, 90), 0, "", kind))  # hung up
        else:
            wait = rng.choice([0, 0, 5, 30, 70])
            rows.append(
                row(number, at, wait, rng.randint(40, 200), rng.choice(["ANN", "BEN"]), kind)
            )
    data = tmp_path / "day.tsv"
    data.write_text("\n".join(rows) + "\n")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "replay.py"),
            "--data",
            str(data),
            "--date",
            "990203",
            "--days",
            "none",
            "--agents",
            "+1",
            "--redis-url",
            redis_url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    day = figures["replay_days"]["990203"]
    assert day["calls"] == 60
    for key in ("service_level", "mean_wait_s", "abandonment", "les_mae_s", "ewt_mae_s"):
        assert math.isfinite(day[key])
    assert {"hol_mae_s", "ql_mae_s", "ours_mae_s"} <= set(day)
    assert day["what_if"][0]["service_level"] >= day["service_level"] - 0.05


def test_the_replay_refuses_a_malformed_file_with_its_row(tmp_path: Path) -> None:
    data = tmp_path / "bad.tsv"
    broken = row(1, 36_000, 0, 60, "ANN").replace(
        "\t0:00:00\t0:00:00\t0\t", "\t0:00:00\t0:00:00\tx\t", 1
    )
    data.write_text(HEADER + "\n" + broken + "\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "replay.py"), "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "bad.tsv: row 2: field q_time" in done.stderr
