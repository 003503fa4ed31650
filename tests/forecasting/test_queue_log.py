"""`history import --format asterisk-queue-log`, through the real command line."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from switchboard.cli import main

from .records import ZONE, Planted, generate

WIDTH = 30


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real parser with this package's commands only (as in test_cli)."""
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"forecasting.cli": ("history", "forecast")}
    )


def import_log(path: Path, out: Path, *extra: str) -> int:
    """`switchboard history import --format asterisk-queue-log`: its exit status."""
    args = ["--format", "asterisk-queue-log", str(path), *extra, "--out", str(out)]
    return main(["history", "import", *args])


def run_import(path: Path, fmt: str, *extra: str, interval: str = "30m") -> Path:
    out = path.with_name(path.stem + "-history.csv")
    args = ["--format", fmt, str(path), "--interval", interval, *extra, "--out", str(out)]
    code = main(["history", "import", *args])
    assert code == 0
    return out


def history_table(path: Path) -> dict[tuple[str, str], tuple[float, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            (row["interval_start"], row["queue"]): (float(row["contacts"]), row["aht_s"])
            for row in csv.DictReader(handle)
        }


def check_against(table: dict[tuple[str, str], tuple[float, str]], planted: Planted) -> None:
    """Every planted interval with its count and AHT, and nothing else."""
    assert set(table) == set(planted.counts)
    for key, count in planted.counts.items():
        contacts, aht = table[key]
        assert contacts == count, key
        expected = planted.aht(key)
        if expected is None:
            assert aht == "", key
        else:
            assert abs(float(aht) - expected) <= 0.05 + 1e-9, key


def write_log(tmp_path: Path, lines: list[str], name: str = "queue_log") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_counts_and_aht_per_interval_across_a_dst_switch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = generate(date(2026, 10, 24), days=3, width_min=WIDTH)  # Berlin falls back 25th
    out = run_import(
        write_log(tmp_path, planted.lines), "asterisk-queue-log", "--timezone", "Europe/Berlin"
    )
    table = history_table(out)
    check_against(table, planted)
    # the repeated hour of the switch: the same wall-clock interval at two offsets
    assert ("2026-10-25T02:00:00+02:00", "emergency") in table
    assert ("2026-10-25T02:00:00+01:00", "emergency") in table
    printed = capsys.readouterr().out
    calls = sum(planted.counts.values())
    handled = sum(1 for times in planted.talk.values() for t in times if t > 0)
    assert f"{calls} calls, {handled} handled" in printed
    assert f"skipped {planted.orphans} lines: outcome of a call whose ENTERQUEUE" in printed
    assert f"skipped {planted.not_calls} lines: agent and queue events" in printed
    assert f"skipped {planted.unknown['DID']} lines: unknown event 'DID'" in printed
    assert f"{planted.unfinished} calls without an outcome" in printed
    assert f"{planted.old_transfers} TRANSFER lines without a talk time" in printed


def test_utc_is_the_default_zone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planted = generate(date(2026, 3, 2), days=1, width_min=60, seed=3)
    out = run_import(write_log(tmp_path, planted.lines), "asterisk-queue-log", interval="60m")
    starts = {start for start, _ in history_table(out)}
    assert starts and all(start.endswith("+00:00") for start in starts)
    # the same calls as Berlin sees them: the totals are the same, the clock one hour on
    berlin = history_table(
        run_import(
            write_log(tmp_path, planted.lines, "again"),
            "asterisk-queue-log",
            "--timezone",
            "Europe/Berlin",
            interval="60m",
        )
    )
    utc = history_table(out)
    assert sum(c for c, _ in utc.values()) == sum(c for c, _ in berlin.values())
    assert (
        utc[("2026-03-02T11:00:00+00:00", "support")]
        == berlin[("2026-03-02T12:00:00+01:00", "support")]
    )


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    """A queue_log saved by an editor starts with a BOM: read as the file without it."""
    planted = generate(date(2026, 3, 2), days=1, width_min=WIDTH, seed=4)
    marked = tmp_path / "marked_log"
    marked.write_bytes(b"\xef\xbb\xbf" + ("\n".join(planted.lines) + "\n").encode())
    zone = ("--timezone", "Europe/Berlin")
    check_against(history_table(run_import(marked, "asterisk-queue-log", *zone)), planted)


def test_the_help_states_the_timezone_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["history", "import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "asterisk-queue-log UTC" in text
    assert "anonymous-bank Asia/Jerusalem" in text


GOOD = [
    "1772442000|NONE|NONE|NONE|QUEUESTART|",
    "1772442100|1772442100.1|sales|NONE|ENTERQUEUE||0301555|1",
    "1772442110|1772442100.1|sales|PJSIP/201|CONNECT|10|1772442100.2|3",
    "1772442300|1772442100.1|sales|PJSIP/201|COMPLETECALLER|10|190|1",
]


@pytest.mark.parametrize(
    ("row", "line", "message"),
    [
        (
            3,
            "17724421x0|1772442100.1|sales|NONE|ENTERQUEUE||0301555|1",
            "field time: expected a Unix timestamp",
        ),
        (
            3,
            "2026-03-02 09:01:40|1772442100.1|sales|NONE|ENTERQUEUE||0301555|1",
            "field time: expected a Unix timestamp",
        ),
        (
            3,
            "1772442100|1772442100.1|NONE|NONE|ENTERQUEUE||0301555|1",
            "field queuename: expected the queue entered",
        ),
        (3, "1772442100|1772442100.1|sales", "expected at least 5 |-separated fields"),
        (
            4,
            "1772442300|1772442100.1|sales|PJSIP/201|COMPLETEAGENT|10|long|1",
            "field data2 (calltime): expected a number",
        ),
        (
            4,
            "1772442300|1772442100.1|sales|PJSIP/201|TRANSFER|2001|ctx|10|-5|1",
            "field data4 (calltime): expected a number >= 0",
        ),
    ],
)
def test_faults_name_file_row_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: int, line: str, message: str
) -> None:
    path = write_log(tmp_path, [*GOOD[: row - 1], line])
    code = import_log(path, tmp_path / "h.csv")
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: row {row}: {message}" in err
    assert "Traceback" not in err
    assert not (tmp_path / "h.csv").exists()


def test_a_file_without_calls_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_log(tmp_path, ["1772442000|NONE|NONE|NONE|QUEUESTART|"])
    code = import_log(path, tmp_path / "h.csv")
    assert code == 2
    assert "no calls (no ENTERQUEUE line" in capsys.readouterr().err


def test_an_unknown_zone_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_log(tmp_path, GOOD)
    code = import_log(path, tmp_path / "h.csv", "--timezone", "Mars/Olympus")
    assert code == 2
    assert "--timezone: expected an IANA time zone" in capsys.readouterr().err


def test_weeks_of_queue_log_forecast_for_every_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Import three weeks (a DST switch among them), then the real forecaster on the result."""
    planted = generate(date(2026, 10, 12), days=21, width_min=WIDTH, seed=21)
    history = run_import(
        write_log(tmp_path, planted.lines), "asterisk-queue-log", "--timezone", "Europe/Berlin"
    )
    forecast = tmp_path / "forecast.csv"
    code = main(
        [
            "forecast",
            "--history",
            str(history),
            "--start",
            "2026-11-02T00:00:00+01:00",
            "--horizon",
            "7d",
            "--holidays",
            "none",
            "--out",
            str(forecast),
        ]
    )
    assert code == 0
    with forecast.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    queues = {"sales", "support", "emergency"}
    assert {row["queue"] for row in rows} == queues
    for queue in queues:
        predicted = sum(float(r["contacts"]) for r in rows if r["queue"] == queue)
        last_week = sum(
            count
            for (start, q), count in planted.counts.items()
            if q == queue and start >= "2026-10-26"
        )
        # a week like the last one (same seasonality, no trend planted)
        assert 0.7 * last_week <= predicted <= 1.3 * last_week, (queue, predicted, last_week)
        assert all(float(r["aht_s"]) > 0 for r in rows if r["queue"] == queue)
    assert all(r["interval_start"].endswith("+01:00") for r in rows)
    assert ZONE.key == "Europe/Berlin"


def test_a_zone_in_another_letter_case_is_read_as_the_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As the reports read --tz: 'europe/paris' is Europe/Paris; a typo gets the nearest.
    path = write_log(tmp_path, GOOD)
    assert import_log(path, tmp_path / "h.csv", "--timezone", "europe/paris") == 0
    assert import_log(path, tmp_path / "i.csv", "--timezone", "Europe/Pariss") == 2
    assert "did you mean Europe/Paris?" in capsys.readouterr().err
