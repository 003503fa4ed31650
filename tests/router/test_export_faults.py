"""`history export` and `report` as an operator runs them: an export forecasting can read
back, case ids filled as the report fills them, messages that say what was given, no
library chatter, and quiet when the reader of the output goes away (`| head`)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_764_979_200_000  # 2025-12-06T00:00:00Z


def config_for(tmp_path: Path, redis_url: str) -> Path:
    text = (ROOT / "config" / "default.toml").read_text()
    path = tmp_path / "node.toml"
    path.write_text(text.replace('data_dir = "var/redis"', f'url = "{redis_url}"'))
    return path


def switchboard(*args: str, shell_tail: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "switchboard.cli", *args]
    if shell_tail:  # through a shell pipe, as an operator types it (output buffered)
        return subprocess.run(
            subprocess.list2cmdline(command) + shell_tail,
            shell=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        )
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def add_records(redis_url: str, count: int, every_ms: int) -> None:
    client = redis.Redis.from_url(redis_url)
    pipe = client.pipeline()
    for index in range(count):
        queued = T0 + 62_000 + index * every_ms  # 00:01:02, then every `every_ms`
        pipe.xadd(
            "sb:{rt}:records",
            {
                "contact_id": f"c{index}",
                "queue": "booking",
                "channel": "chat",
                "state": "completed",
                "queued_at": queued,
                "answered_at": queued + 5_000,
                "ended_at": queued + 95_000,
            },
        )
    pipe.execute()


@pytest.mark.parametrize("interval", ["7m", "45m", "2h"])
def test_history_export_takes_only_the_widths_forecasting_reads(
    tmp_path: Path, redis_url: str, interval: str
) -> None:
    add_records(redis_url, 2, 7 * 60_000)
    out = tmp_path / "history.csv"
    config = config_for(tmp_path, redis_url)
    result = switchboard(
        "history", "export", "--out", str(out), "--interval", interval, "--config", str(config)
    )
    assert result.returncode == 2 and not out.exists(), result.stderr
    assert result.stderr == (
        "switchboard: error: --interval: expected one of 5m, 10m, 15m, 20m, 30m, 60m, "
        f"found {interval!r}\n"
    )
    # The same list as `history import`, and what an export writes `forecast` reads.
    imported = switchboard(
        "history", "import", "--format", "calls-csv", str(out), "--interval", interval,
        "--out", str(tmp_path / "x.csv"),
    )  # fmt: skip
    assert imported.returncode == 2 and imported.stderr == result.stderr


def test_history_export_by_contact_fills_the_case_as_the_report_does(
    tmp_path: Path, redis_url: str
) -> None:
    add_records(redis_url, 2, 60_000)
    redis.Redis.from_url(redis_url).hset("sb:{cs}:contact_case", "c1", "CASE-7")
    config = config_for(tmp_path, redis_url)
    out = tmp_path / "contacts.csv"
    result = switchboard(
        "history", "export", "--contacts", "--out", str(out), "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    exported = {row["contact_id"]: row["case_id"] for row in csv.DictReader(out.open())}
    assert exported == {"c0": "", "c1": "CASE-7"}
    report = tmp_path / "report.csv"
    day = ["--from", "2025-12-06", "--to", "2025-12-06", "--config", str(config)]
    assert switchboard("report", *day, "--contacts", "--out", str(report)).returncode == 0
    reported = {row["contact_id"]: row["case_id"] for row in csv.DictReader(report.open())}
    assert reported == exported


def test_report_to_before_from_says_what_was_given() -> None:
    result = switchboard(
        "report", "--from", "2026-11-20", "--to", "2026-11-19", "--tz", "Asia/Tokyo"
    )
    assert result.returncode == 2
    assert result.stderr == (
        "switchboard: error: --to: expected a date or time after --from, found --from "
        "'2026-11-20' (from 2026-11-20T00:00:00+09:00) and --to '2026-11-19' "
        "(up to 2026-11-20T00:00:00+09:00)\n"
    )


def test_an_html_report_logs_no_matplotlib_chatter(tmp_path: Path, redis_url: str) -> None:
    add_records(redis_url, 50, 30 * 60_000)
    config = config_for(tmp_path, redis_url)
    out = tmp_path / "report.html"
    result = switchboard(
        "report", "--from", "2025-12-06", "--to", "2025-12-07", "--format", "html",
        "--by", "queue", "--out", str(out), "--config", str(config),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "data:image/png;base64," in out.read_text()  # the plots were drawn
    assert "matplotlib" not in result.stderr and " INFO " not in result.stderr, result.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path, redis_url: str) -> None:
    add_records(redis_url, 5_000, 5 * 60_000)  # a report far longer than a pipe holds
    config = config_for(tmp_path, redis_url)
    piped = switchboard(
        "report", "--from", "2025-12-06", "--to", "2026-01-31", "--by", "interval",
        "--interval", "5m", "--config", str(config),
        shell_tail=" | head -n 2",
    )  # fmt: skip
    assert piped.stdout.startswith("interval,volume,") and len(piped.stdout.splitlines()) == 2
    assert "Broken pipe" not in piped.stderr and "error" not in piped.stderr, piped.stderr
    assert "Traceback" not in piped.stderr and "Exception ignored" not in piped.stderr
