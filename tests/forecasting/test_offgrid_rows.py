"""The history's interval width is the one most rows agree on: one row moved off it is
refused, naming it, instead of turning the whole history into a finer grid."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from forecasting import files
from switchboard.cli import main
from switchboard.common.errors import InputError

HEADER = "interval_start,queue,contacts,aht_s\n"
BERLIN = timezone(timedelta(hours=1))
ORIGIN = datetime(2024, 1, 8, 8, tzinfo=BERLIN)  # a Monday


def history_rows(width_min: int, days: int = 10) -> list[tuple[datetime, str]]:
    """(start, queue) of two queues every `width_min` minutes, 08:00-18:00 each weekday."""
    return [
        (ORIGIN + timedelta(days=day, minutes=width_min * i), queue)
        for day in range(days)
        if (ORIGIN + timedelta(days=day)).weekday() < 5
        for i in range(600 // width_min)
        for queue in ("billing", "sales")
    ]


def write(path: Path, rows: list[tuple[datetime, str]]) -> Path:
    path.write_text(
        HEADER + "".join(f"{start.isoformat()},{queue},3,240\n" for start, queue in rows),
        encoding="utf-8",
    )
    return path


def moved(rows: list[tuple[datetime, str]]) -> int:
    """Moves sales' 13:15 row of the third day to 13:20; its index in `rows`."""
    at = rows.index((ORIGIN + timedelta(days=2, hours=5, minutes=15), "sales"))
    rows[at] = (rows[at][0] + timedelta(minutes=5), "sales")
    return at


def test_one_row_off_a_quarter_hour_history_is_refused_naming_it(tmp_path: Path) -> None:
    rows = history_rows(15)
    row = moved(rows) + 2
    path = write(tmp_path / "history.csv", rows)
    with pytest.raises(InputError) as caught:
        files.read_history(path)
    assert str(caught.value) == (
        f"{path}: row {row}: field interval_start: 2024-01-10T13:20:00+01:00 is off the "
        "history's 15-minute grid (starts at :00, :15, :30 or :45; the other rows are on it)"
    )


def test_the_forecast_command_refuses_it_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = history_rows(15)
    row = moved(rows) + 2
    path = write(tmp_path / "history.csv", rows)
    out = tmp_path / "forecast.csv"
    args = ["forecast", "--history", str(path), "--start", "2024-01-22T00:00:00+01:00"]
    assert main([*args, "--horizon", "5d", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"switchboard: error: {path}: row {row}: field interval_start: ")
    assert not out.exists()


@pytest.mark.parametrize("width_min", [15, 5, 60])
def test_a_clean_history_keeps_its_own_width(tmp_path: Path, width_min: int) -> None:
    history = files.read_history(write(tmp_path / "history.csv", history_rows(width_min)))
    assert history.width_min == width_min
    assert history.contacts.sum() == 3 * len(history_rows(width_min))


def test_a_sparse_quarter_hour_history_stays_quarter_hour(tmp_path: Path) -> None:
    # Quiet quarters not written: most rows are 30 minutes apart, many 15.
    rows = [
        (start, queue)
        for start, queue in history_rows(15)
        if start.minute % 30 == 0 or (start.hour * 60 + start.minute) % 150 == 15
    ]
    assert files.read_history(write(tmp_path / "history.csv", rows)).width_min == 15
