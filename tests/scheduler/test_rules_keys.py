"""The rules file is read with all its faults at once (docs/scheduling.md), a misspelled
key among them with the nearest known one: `undr` or `max_consecutve_days` silently
left at their defaults made `schedule check` report 0 violations of a rule it never had."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scheduler.rules import load_rules
from tests.scheduler.conftest import Files

ROOT = Path(__file__).resolve().parents[2]


def test_schedule_check_reports_every_misspelled_rule_and_checks_nothing(
    files: Files, tmp_path: Path
) -> None:
    text = files.rules.read_text(encoding="utf-8")
    assert "max_consecutive_days = 5" in text
    text = text.replace("max_consecutive_days = 5", "max_consecutve_days = 1")
    text += "\n[weights]\nundr = 10000\nover = 100\n\n[agents.A1]\nprefr = 'early'\n"
    files.rules.write_text(text, encoding="utf-8")
    schedule = tmp_path / "schedule.csv"
    schedule.write_text(
        "agent_id,start,end,activity\n"
        "B4,2024-03-04T07:00:00+00:00,2024-03-04T15:00:00+00:00,sales_de\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "switchboard.cli", "schedule", "check"]
    command += ["--schedule", str(schedule), "--agents", str(files.agents)]
    result = subprocess.run(
        [*command, "--rules", str(files.rules)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    rules = files.rules
    assert result.stderr.splitlines() == [
        f"switchboard: error: {rules}: shifts.max_consecutve_days: unknown key "
        "(did you mean shifts.max_consecutive_days?)",
        f"{rules}: weights.undr: unknown key (did you mean weights.under?)",
        f"{rules}: agents.A1.prefr: unknown key (did you mean agents.A1.prefer?)",
    ]
    assert "violation" not in result.stdout + result.stderr


def test_the_example_rules_have_no_unknown_key() -> None:
    rules = load_rules(ROOT / "config" / "rules-example.toml")
    assert rules.max_consecutive_days == 5 and rules.weights.under == 10000
