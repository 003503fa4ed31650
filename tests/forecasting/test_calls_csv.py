"""`history import --format calls-csv`, through the real command line."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from switchboard.cli import main

from .records import generate, to_calls_csv
from .test_queue_log import check_against, history_table, only_this_package, run_import

__all__ = ["only_this_package"]  # the fixture, used by every test here


def write_calls(
    path: Path, rows: list[dict[str, str]], header: list[str], delimiter: str = ","
) -> Path:
    """An ACD-style export: the given header names (any case, extra columns), a BOM."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for n, row in enumerate(rows):
            by_name = {**row, "agent": f"agent {n % 7}", "notes": 'said "hi", left'}
            writer.writerow([by_name[name.lower()] for name in header])
    return path


HEADER = ["Agent", "Arrived_At", "QUEUE", "Handle_S", "Outcome", "notes"]


def test_counts_and_aht_per_interval_across_a_dst_switch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = generate(date(2026, 10, 24), days=3)
    path = write_calls(tmp_path / "calls.csv", to_calls_csv(planted), HEADER)
    table = history_table(run_import(path, "calls-csv"))  # each arrival's own offset
    check_against(table, planted)
    assert ("2026-10-25T02:00:00+02:00", "emergency") in table
    assert ("2026-10-25T02:00:00+01:00", "emergency") in table
    calls = sum(planted.counts.values())
    assert f"{calls} calls," in capsys.readouterr().out


def test_utc_export_with_the_centres_zone(tmp_path: Path) -> None:
    planted = generate(date(2026, 10, 24), days=3, seed=5)
    utc_rows = to_calls_csv(planted, in_utc=True)
    assert all(row["arrived_at"].endswith("+00:00") for row in utc_rows)
    header = ["queue", "handle_s", "arrived_at"]  # no outcome, other order
    path = write_calls(tmp_path / "utc.csv", utc_rows, header, delimiter=";")
    check_against(
        history_table(run_import(path, "calls-csv", "--timezone", "Europe/Berlin")), planted
    )
    # without the zone the history keeps UTC, the same calls on another clock
    utc = history_table(run_import(path, "calls-csv"))
    assert {start[-6:] for start, _ in utc} == {"+00:00"}
    assert sum(c for c, _ in utc.values()) == sum(planted.counts.values())


def test_hourly_intervals(tmp_path: Path) -> None:
    planted = generate(date(2026, 3, 2), days=2, width_min=60, seed=9)
    path = write_calls(tmp_path / "calls.csv", to_calls_csv(planted), HEADER, delimiter="\t")
    check_against(history_table(run_import(path, "calls-csv", interval="60m")), planted)


ROWS = [
    "arrived_at,queue,handle_s,outcome",
    "2026-03-02T09:01:00+01:00,sales,120,answered",
    "2026-03-02T09:07:00+01:00,sales,,abandoned",
]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["when,queue", "2026-03-02T09:01:00+01:00,sales"], "row 1: column 'arrived_at': missing"),
        (
            [*ROWS, "2026-03-02 09:15,sales,60,answered"],
            "row 4: field arrived_at: expected ISO 8601 time with offset",
        ),
        (
            [*ROWS, "2026-03-02T09:15:00+01:00,sales,-60,answered"],
            "row 4: field handle_s: expected a number >= 0",
        ),
        (
            [*ROWS, "2026-03-02T09:15:00+01:00,sales,1m,answered"],
            "row 4: field handle_s: expected a number",
        ),
        (
            [*ROWS, "2026-03-02T09:15:00+01:00, ,60,answered"],
            "row 4: field queue: expected a queue name",
        ),
        ([*ROWS, "2026-03-02T09:15:00+01:00,sales,60"], "row 4: expected 4 fields, found 3"),
        (
            ["arrived_at,queue,queue", "2026-03-02T09:15:00+01:00,a,b"],
            "row 1: column 'queue': appears twice",
        ),
        (["arrived_at,queue"], "no data rows"),
        (
            [*ROWS, "2026-03-02T13:45:00+05:30,sales,60,answered"],
            "row 4: field arrived_at: offsets of several time zones (+01:00, +05:30)",
        ),
    ],
)
def test_faults_name_file_row_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], message: str
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "h.csv"
    code = main(["history", "import", "--format", "calls-csv", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: {message}" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_two_zones_interleaved_for_weeks_are_refused_as_the_forecaster_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offsets an hour apart are a daylight-saving switch only when each holds for weeks
    (as `forecast` reads a history): Paris's and Helsinki's calls day after day are two
    zones, refused here, not in the history written for the forecaster to refuse."""
    lines = ["arrived_at,queue,handle_s"]
    for day in range(1, 31):
        lines += [
            f"2026-01-{day:02d}T09:10:00+01:00,a,60",
            f"2026-01-{day:02d}T09:20:00+02:00,a,60",
        ]
    path = tmp_path / "calls.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "h.csv"
    code = main(["history", "import", "--format", "calls-csv", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: row 2: field arrived_at: mixed time zones (offset +01:00" in err
    assert "give --timezone" in err and "Traceback" not in err
    assert not out.exists()
    # with the centre's zone every call is on its clock
    zone = ("--timezone", "Europe/Paris")
    assert (
        main(["history", "import", "--format", "calls-csv", str(path), *zone, "--out", str(out)])
        == 0
    )


def test_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(
        ("\n".join(ROWS) + "\n").encode()
        + "2026-03-02T09:15:00+01:00,caf\xe9,1,x\n".encode("latin-1")
    )
    code = main(
        ["history", "import", "--format", "calls-csv", str(path), "--out", str(tmp_path / "h.csv")]
    )
    assert code == 2
    assert f"{path}: row 4: not UTF-8 text" in capsys.readouterr().err


def test_an_export_without_offsets_reads_on_the_centres_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = generate(date(2026, 11, 2), days=3, seed=6)
    rows = [{**row, "arrived_at": row["arrived_at"][:19]} for row in to_calls_csv(planted)]
    assert all("+" not in row["arrived_at"] for row in rows)
    path = write_calls(tmp_path / "wall.csv", rows, HEADER)
    check_against(
        history_table(run_import(path, "calls-csv", "--timezone", "Europe/Berlin")), planted
    )
    out = tmp_path / "plain-history.csv"
    args = ["history", "import", "--format", "calls-csv", str(path), "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "row 2: field arrived_at: expected ISO 8601 time with offset" in err
    assert "give --timezone" in err and not out.exists()
