"""Ctrl-C during `schedule` (a probe: the command exited at once, without a word, and the
file held the first schedule, not the best one found by then): the search stops, the
best schedule so far is written as at the time limit, the command says so and exits 130.
And CP-SAT's own Ctrl-C handler is kept out of every solve: it leaves SIGINT at the
system default when a solve ends, after which Ctrl-C would kill the command silently."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from scheduler import csvfiles

from .conftest import RULES_TOML, agent, requirements

ROOT = Path(__file__).resolve().parents[2]


def _week(tmp_path: Path) -> list[str]:
    """A week of 36 agents on two queues: the search runs for its whole time limit."""
    team = [
        agent(f"B{n}", "sales", "de;en" if n % 3 else "en", hours=(0, 40)) for n in range(24)
    ] + [agent(f"N{n}", "sales", "en", "America/New_York", "amer") for n in range(12)]
    paths = [tmp_path / name for name in ("requirements.csv", "agents.csv", "rules.toml")]
    csvfiles.write_requirements(
        paths[0], requirements({"sales_de": (6, 16, 6), "sales_en": (7, 23, 9)}, days=7)
    )
    csvfiles.write_agents(paths[1], team)
    paths[2].write_text(RULES_TOML, encoding="utf-8")
    return [
        *("schedule", "--requirements", str(paths[0]), "--agents", str(paths[1])),
        *("--rules", str(paths[2]), "--start", "2024-03-04", "--days", "7"),
        *("--out", str(tmp_path / "schedule.csv"), "--time-limit", "120", "--seed", "1"),
    ]


def test_ctrl_c_writes_the_best_schedule_so_far_and_says_so(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "switchboard.cli", *_week(tmp_path)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    try:
        assert process.stderr is not None
        lines, values = [], []
        for line in process.stderr:  # bounded: the command ends within its time limit
            lines.append(line)
            if "best objective" in line:
                values.append(int(line.split("best objective ")[1].split()[0].replace(",", "")))
            if len(values) > 1 and values[-1] < values[0]:
                break  # the first schedule, then a better one: stopped in the search
        # As a terminal's Ctrl-C: to the whole group, the bound's process included.
        os.killpg(process.pid, signal.SIGINT)
        _, rest = process.communicate(timeout=100)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    err = "".join(lines) + rest
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "stopped by Ctrl-C after" in err
    assert "the best schedule found so far is written, as at the time limit" in err
    assert f"segments written to {tmp_path / 'schedule.csv'}" in err
    progress = [
        int(line.split("best objective ")[1].split()[0].replace(",", ""))
        for line in err.splitlines()
        if "best objective" in line
    ]
    final = int(err.split("solver FEASIBLE: objective ")[1].split(",")[0])
    # The file holds the best schedule met (the last one printed), not the first.
    assert final == progress[-1] <= values[-1] < progress[0]
    check = [sys.executable, "-m", "switchboard.cli", "schedule", "check"]
    check += ["--schedule", str(tmp_path / "schedule.csv"), "--agents"]
    check += [str(tmp_path / "agents.csv"), "--rules", str(tmp_path / "rules.toml")]
    checked = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_cp_sat_solve_leaves_python_to_handle_ctrl_c() -> None:
    script = textwrap.dedent(
        """
        import os, signal, threading
        from ortools.sat.python import cp_model
        from scheduler.solver import stoppable

        heard = []
        signal.signal(signal.SIGINT, lambda signum, frame: heard.append(signum))
        model = cp_model.CpModel()
        x = model.new_int_var(0, 10, "x")
        model.maximize(x)
        for stop in (None, threading.Event()):
            assert stoppable(cp_model.CpSolver(), model, stop) == cp_model.OPTIMAL
            os.kill(os.getpid(), signal.SIGINT)  # killed here if CP-SAT reset the handler
        print("heard", len(heard))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout.strip()) == (0, "heard 2"), result.stderr
