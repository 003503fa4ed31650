"""The requirements' grid is the width most rows agree on: one row moved off it is refused,
naming it, instead of shrinking the whole schedule to a finer grid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.csvfiles import read_requirements
from scheduler.service import schedule_horizon
from switchboard.cli import main
from switchboard.common.errors import InputError

from .conftest import START, Files
from .test_cli import no_solve, one_line, solve_args

HEADER = "interval_start,queue,required\n"
ORIGIN = datetime(2024, 3, 4, 8, tzinfo=UTC)


def grid_rows(width_min: int, days: int = 2, hours: int = 10) -> list[tuple[datetime, str]]:
    """(start, queue) of two queues every `width_min` minutes, 08:00-18:00 UTC each day."""
    per_day = hours * 60 // width_min
    return [
        (ORIGIN + timedelta(days=day, minutes=width_min * i), queue)
        for day in range(days)
        for i in range(per_day)
        for queue in ("sales_de", "sales_en")
    ]


def write(path: Path, rows: list[tuple[datetime, str]]) -> Path:
    path.write_text(
        HEADER + "".join(f"{start.isoformat()},{queue},1\n" for start, queue in rows),
        encoding="utf-8",
    )
    return path


def test_one_row_off_a_quarter_hour_file_is_refused_naming_it(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The 10:30 row of sales_de moved to 10:35: before, the whole file read as a
    # 5-minute grid and every quarter-hour requirement counted for 5 minutes.
    monkeypatch.setattr("scheduler.service.make_schedule", no_solve)
    rows = grid_rows(15)
    moved = rows.index((ORIGIN + timedelta(hours=2, minutes=30), "sales_de"))
    rows[moved] = (ORIGIN + timedelta(hours=2, minutes=35), "sales_de")
    write(files.requirements, rows)
    assert main(solve_args(files, tmp_path)) == 2
    assert one_line(capsys) == (
        f"switchboard: error: {files.requirements}: row {moved + 2}: field interval_start: "
        "2024-03-04T10:35:00+00:00 is off the file's grid of 15-minute intervals from "
        "2024-03-04T08:00:00+00:00 (row 2)"
    )
    assert not (tmp_path / "schedule.csv").exists()
    assert not (tmp_path / "coverage.csv").exists()


def test_one_row_off_is_refused_by_the_reader_too(tmp_path: Path) -> None:
    rows = grid_rows(15, days=1)
    rows[-1] = (rows[-1][0] + timedelta(minutes=10), rows[-1][1])
    path = write(tmp_path / "req.csv", rows)
    with pytest.raises(InputError, match=rf"row {len(rows) + 1}: field interval_start: .*15-min"):
        read_requirements(path)


@pytest.mark.parametrize("width_min", [15, 5, 30])
def test_a_clean_file_keeps_its_own_grid(tmp_path: Path, width_min: int) -> None:
    path = write(tmp_path / "req.csv", grid_rows(width_min))
    requirements = read_requirements(path)
    assert len(requirements) == len(grid_rows(width_min))
    horizon = schedule_horizon(requirements, START, 2)
    assert horizon.interval == timedelta(minutes=width_min)


def test_a_quarter_hour_file_with_zeros_left_out_stays_quarter_hour(tmp_path: Path) -> None:
    # Most rows are 30 minutes apart (the zero quarters were not written), yet many are
    # 15 apart: the grid is the finer one they commonly agree on, and every row is on it.
    rows = [
        (ORIGIN + timedelta(minutes=minute), "sales")
        for minute in range(0, 600, 15)
        if minute % 30 == 0 or minute % 150 == 15
    ]
    requirements = read_requirements(write(tmp_path / "req.csv", rows))
    assert schedule_horizon(requirements, START, 1).interval == timedelta(minutes=15)
