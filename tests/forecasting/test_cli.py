"""The `switchboard` subcommands of the package, run in-process through the real parser."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from forecasting import files, synthetic
from forecasting.model import HistoryRow
from switchboard.cli import main

from .test_bank import HEADER, ROWS


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the real parser with this package's commands only, so that a half-built
    command of another package cannot fail these tests."""
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"forecasting.cli": ("history", "forecast")}
    )


JSON_KEYS = {
    "wape",
    "wape_seasonal_naive",
    "wape_four_week_mean",
    "wape_intraday_4_6h",
    "wape_week_ahead_same_intervals",
    "coverage_80",
    "peak_recall",
    "peak_precision",
    "peak_precision_noise_bound",
    "peak_precision_hindsight_at_0_9",
    "peak_precision_noise_bound_at_0_9",
}


def test_history_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = tmp_path / "calls.tsv"
    calls.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    out = tmp_path / "history.csv"
    code = main(
        [
            "history",
            "import",
            "--format",
            "anonymous-bank",
            str(calls),
            "--interval",
            "60m",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "interval_start,queue,contacts,aht_s"
    assert "1999-02-01T07:00:00+02:00,PS,3,85.5" in lines
    assert "3 rows, 2 queues, 60-minute intervals" in capsys.readouterr().out


def test_forecast_writes_the_contract(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "forecast.csv"
    peaks = tmp_path / "peaks.csv"
    code = main(
        [
            "forecast",
            "--history",
            str(history_csv),
            "--start",
            "2025-03-03T00:00:00+01:00",
            "--horizon",
            "2d",
            "--interval",
            "60m",
            "--out",
            str(out),
            "--peaks",
            "40",
            "--peaks-out",
            str(peaks),
        ]
    )
    assert code == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["interval_start", "queue", "contacts", "aht_s", "low", "high"]
    assert rows[0]["interval_start"].endswith("+01:00")
    assert {r["queue"] for r in rows} == {"baggage", "booking"}
    assert all(float(r["low"]) <= float(r["high"]) for r in rows)
    printed = capsys.readouterr().out
    assert "peak alert 2025-03-03T" in printed and "lead" in printed
    assert peaks.read_text().startswith(
        "interval_start,queue,contacts,threshold,probability,lead_h"
    )


def test_backtest_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    noisy = synthetic.generate(days=49, width_min=60, day_sd=0.04, seed=5)
    path = tmp_path / "history.csv"
    files.write_history(path, noisy.rows)
    png = tmp_path / "week.png"
    code = main(
        [
            "forecast",
            "backtest",
            "--history",
            str(path),
            "--weeks",
            "2",
            "--json",
            "--plot",
            str(png),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    report = json.loads(lines[-1])
    assert set(report) >= JSON_KEYS
    assert report["wape"] < report["wape_seasonal_naive"]
    assert report["wape"] < report["wape_four_week_mean"]
    assert report["wape_intraday_4_6h"] < report["wape_week_ahead_same_intervals"]
    assert 0.65 <= report["coverage_80"] <= 0.92
    assert report["cycles"] == {"booking": [], "baggage": []}  # seven weeks: too short
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(line.startswith("baselines") for line in lines)


def test_a_backtest_refuses_a_bad_history_before_running_any(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The probe: with a good history first and an empty one second, the first backtest
    ran to its end (a minute for 15 months) before the second file was refused."""
    good = tmp_path / "good.csv"
    files.write_history(good, synthetic.generate(days=49, width_min=60, seed=5).rows)
    empty = tmp_path / "empty.csv"
    empty.write_text("interval_start,queue,contacts\n", encoding="utf-8")
    argv = ["forecast", "backtest", "--history", str(good), "--history", str(empty), "--json"]
    assert main(argv) == 2
    printed = capsys.readouterr()
    assert str(empty) in printed.err
    assert printed.out == ""  # no backtest ran


def test_backtest_json_is_strict_json_when_a_figure_cannot_be_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One week of targets scores no intraday day (those need a week-ahead origin a week
    before): the figure is null, not NaN, which strict parsers refuse."""
    path = tmp_path / "history.csv"
    files.write_history(path, synthetic.generate(days=35, width_min=60, seed=5).rows)
    argv = ["forecast", "backtest", "--history", str(path), "--weeks", "1", "--json"]
    assert main(argv) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    report = json.loads(last, parse_constant=lambda name: pytest.fail(f"{name} in {last}"))
    assert report["wape_intraday_4_6h"] is None and report["wape"] > 0


def test_import_takes_only_widths_the_forecaster_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """45 minutes divides a day but is no grid a history is read on (it came back as a
    15-minute grid with two slots in three closed)."""
    calls = tmp_path / "calls.tsv"
    calls.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    out = tmp_path / "history.csv"
    argv = ["history", "import", "--format", "anonymous-bank", str(calls), "--out", str(out)]
    assert main([*argv, "--interval", "45m"]) == 2
    assert "--interval: expected one of 5m, 10m, 15m, 20m, 30m, 60m, found '45m'" in (
        capsys.readouterr().err
    )
    assert not out.exists()
    assert main([*argv, "--interval", "20m"]) == 0


def test_a_forecast_interval_that_divides_no_day_names_widths_it_takes(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error listed 5m, 15m, 30m and 60m only, while 45m, 12h and 1d are taken."""
    out = tmp_path / "f.csv"
    argv = ["forecast", "--history", str(history_csv), "--start", "2025-03-03T00:00:00+01:00"]
    assert main([*argv, "--horizon", "2d", "--out", str(out), "--interval", "7m"]) == 2
    error = capsys.readouterr().err
    assert "--interval: expected whole minutes that divide a day" in error
    assert "45m" in error and "'7m'" in error
    assert not out.exists()


def test_peaks_out_alone_asks_for_peaks(history_csv: Path, tmp_path: Path) -> None:
    peaks = tmp_path / "peaks.csv"
    argv = ["forecast", "--history", str(history_csv), "--start", "2025-03-03T00:00:00+01:00"]
    out = ["--horizon", "2d", "--out", str(tmp_path / "f.csv"), "--peaks-out", str(peaks)]
    assert main([*argv, *out]) == 0
    rows = list(csv.DictReader(peaks.open()))
    assert rows and {row["queue"] for row in rows} <= {"baggage", "booking"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "interval_start,queue,contacts\n2025-03-03 8am,q,1\n",
            "row 2: field interval_start: expected ISO 8601 time with offset",
        ),
        (
            "interval_start,queue,contacts\n2025-03-03T08:00:00Z,q,-1\n",
            "row 2: field contacts: expected a number >= 0",
        ),
        ("interval_start,contacts,weather\n", "row 1: column 'queue': missing"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    code = main(
        [
            "forecast",
            "--history",
            str(path),
            "--start",
            "2025-03-03T00:00:00Z",
            "--horizon",
            "1d",
            "--out",
            str(tmp_path / "f.csv"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err
    assert "Traceback" not in err


def test_bad_flags_are_input_errors(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["forecast", "--history", str(history_csv), "--out", str(tmp_path / "f.csv")]
    assert main([*base, "--start", "tomorrow", "--horizon", "1d"]) == 2
    assert "--start: expected ISO 8601" in capsys.readouterr().err
    assert (
        main([*base, "--start", "2025-03-03T00:00:00+01:00", "--horizon", "1d", "--peaks", "lots"])
        == 2
    )
    assert "--peaks: expected pNN" in capsys.readouterr().err
    assert (
        main(
            [
                *base,
                "--start",
                "2025-03-03T00:00:00+01:00",
                "--horizon",
                "1d",
                "--peaks",
                "--alert-probability",
                "1.5",
            ]
        )
        == 2
    )
    assert "--alert-probability: expected a number in (0, 1]" in capsys.readouterr().err
    assert main([*base, "--horizon", "1d"]) == 2
    assert "--start: required" in capsys.readouterr().err
    # a value that starts with '-' is the option's value, checked by the option
    assert main([*base, "--start", "2025-03-03T00:00:00+01:00", "--horizon", "-1d"]) == 2
    assert "--horizon: expected a duration" in capsys.readouterr().err


def test_forecast_with_events_file(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "start,end,region,queue,kind,factor\n"
        "2025-03-03T10:00:00+01:00,2025-03-03T12:00:00+01:00,north,booking,storm,2\n"
        "2025-03-03T10:00:00+01:00,2025-03-03T12:00:00+01:00,south,,strike,5\n",
        encoding="utf-8",
    )
    plain, stormy = tmp_path / "plain.csv", tmp_path / "stormy.csv"
    base = [
        "forecast",
        "--history",
        str(history_csv),
        "--start",
        "2025-03-03T00:00:00+01:00",
        "--horizon",
        "1d",
    ]
    assert main([*base, "--out", str(plain)]) == 0
    assert main([*base, "--out", str(stormy), "--events", str(events), "--region", "north"]) == 0
    assert "event storm: factor 2.00" in capsys.readouterr().out

    def at(path: Path, queue: str, hour: int) -> float:
        with path.open() as handle:
            return sum(
                float(r["contacts"])
                for r in csv.DictReader(handle)
                if r["queue"] == queue and int(r["interval_start"][11:13]) == hour
            )

    assert at(stormy, "booking", 10) == pytest.approx(2 * at(plain, "booking", 10), rel=0.01)
    # the strike is in another region: nothing changes for baggage
    assert at(stormy, "baggage", 10) == pytest.approx(at(plain, "baggage", 10), rel=0.01)


def test_forecast_says_which_cycles_the_model_took_and_from_when(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The held-out check's command line on a whole export: the forecast is made as of
    --start, says so, and names the calendar cycle each queue's model took."""
    scenario = synthetic.SCENARIOS["bank_biweekly_7m"]
    history = tmp_path / "history.csv"
    files.write_history(history, synthetic.generate_scenario(scenario, seed=3).rows, False)
    out = tmp_path / "forecast.csv"
    start = "2025-10-06T00:00:00-04:00"
    args = ["forecast", "--history", str(history), "--start", start, "--horizon", "5d"]
    assert main([*args, "--interval", "30m", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "history after 2025-10-06 00:00:00 not used" in printed
    choices = [line for line in printed.splitlines() if line.startswith("model choice")]
    assert len(choices) == 2 and all("fortnight" in line for line in choices)
    with out.open() as handle:
        assert {row["interval_start"][:10] for row in csv.DictReader(handle)} == {
            "2025-10-06",
            "2025-10-07",
            "2025-10-08",
            "2025-10-09",
            "2025-10-10",
        }


def test_a_forecast_after_the_clocks_go_back_carries_the_new_offset(tmp_path: Path) -> None:
    # a New York bank, 3 March .. 26 October 2025 (-05:00, then -04:00 from 9 March)
    scenario = replace(synthetic.SCENARIOS["bank_weekdays_7m"], width_min=60)
    history = tmp_path / "history.csv"
    files.write_history(history, synthetic.generate_scenario(scenario, seed=2).rows)
    out = tmp_path / "forecast.csv"
    monday = "2025-11-03T00:00:00-05:00"  # the clocks went back on Sunday 2 November
    argv = ["forecast", "--history", str(history), "--start", monday, "--horizon", "1d"]
    assert main([*argv, "--out", str(out)]) == 0
    with out.open() as handle:
        starts = [row["interval_start"] for row in csv.DictReader(handle)]
    # the center opens at 07:00 on its own clock: before, 07:00-04:00 (06:00 there)
    assert starts[0] == "2025-11-03T07:00:00-05:00"
    assert all(start.endswith("-05:00") for start in starts)


def test_an_export_in_utc_reads_on_the_centers_clock_with_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _bank_rows(2)
    local, utc = tmp_path / "local.csv", tmp_path / "utc.csv"
    files.write_history(local, rows)
    files.write_history(
        utc, [replace(r, interval_start=r.interval_start.astimezone(UTC)) for r in rows]
    )
    monday = ["--start", "2025-10-13T00:00:00-04:00", "--horizon", "5d"]  # Columbus Day
    outs = {name: tmp_path / f"{name}-forecast.csv" for name in ("local", "utc", "utc-plain")}
    assert main(["forecast", "--history", str(local), *monday, "--out", str(outs["local"])]) == 0
    zone = ["--timezone", "America/New_York"]
    assert main(["forecast", "--history", str(utc), *monday, *zone, "--out", str(outs["utc"])]) == 0
    capsys.readouterr()
    # the center's days, weekdays and holidays, as from the export on its own clock
    assert outs["utc"].read_text() == outs["local"].read_text()
    plain = ["forecast", "--history", str(utc), *monday, "--out", str(outs["utc-plain"])]
    assert main(plain) == 0
    out = capsys.readouterr().out
    assert "the center's day runs across midnight" in out and "from 06:00 to 06:00" in out
    # without the zone: its days read from 06:00 UTC, under their dates; Columbus Day closed
    assert "closed 2025-10-13 (holiday" in out
    forecast = list(csv.DictReader(outs["utc-plain"].open()))
    assert forecast and not [r for r in forecast if r["interval_start"].startswith("2025-10-13T1")]


def _forecast_rows(history: Path, start: str, *extra: str) -> list[dict[str, str]]:
    """Five days forecast from `start` through the command line, as rows."""
    out = history.with_name(f"{history.stem}-forecast.csv")
    argv = ["forecast", "--history", str(history), "--start", start, "--horizon", "5d"]
    assert main([*argv, *extra, "--out", str(out)]) == 0
    return list(csv.DictReader(out.open()))


def _assert_same_forecast(
    first: list[dict[str, str]], second: list[dict[str, str]], later: timedelta = timedelta(0)
) -> None:
    """The same rows (queue, contacts, bounds), each `later` in time."""
    assert len(first) == len(second) > 0
    for a, b in zip(first, second, strict=True):
        moved = datetime.fromisoformat(a["interval_start"]) + later
        assert datetime.fromisoformat(b["interval_start"]) == moved
        assert [a[k] for k in ("queue", "contacts", "low", "high")] == [
            b[k] for k in ("queue", "contacts", "low", "high")
        ]


def _bank_rows(seed: int, **changes: Any) -> list[HistoryRow]:
    """The generated bank (New York, weekdays 07:00-21:00, US holidays) at 60 minutes."""
    scenario = replace(synthetic.SCENARIOS["bank_weekdays_7m"], width_min=60, **changes)
    return synthetic.generate_scenario(scenario, seed=seed).rows


def test_a_center_open_past_midnight_forecasts_its_day_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same center four hours later on its own clock (open 11:00-01:00): the same
    forecast, four hours later (the day, its weekday and holidays are not cut at midnight)."""
    rows, later = _bank_rows(2), timedelta(hours=4)
    early, late = tmp_path / "early.csv", tmp_path / "late.csv"
    files.write_history(early, rows)
    files.write_history(late, [replace(r, interval_start=r.interval_start + later) for r in rows])
    first = _forecast_rows(early, "2025-10-13T00:00:00-04:00")
    second = _forecast_rows(late, "2025-10-13T04:00:00-04:00")
    assert "closed 2025-10-13 (holiday" in capsys.readouterr().out
    _assert_same_forecast(first, second, later)


def test_times_without_offsets_read_on_the_timezone_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A spreadsheet's export without offsets reads on `--timezone`'s clock (and `--start`
    without one on the center's): the forecast of the same history written with offsets."""
    rows = _bank_rows(2)
    aware, naive = tmp_path / "aware.csv", tmp_path / "naive.csv"
    files.write_history(aware, rows)
    files.write_history(
        naive, [replace(r, interval_start=r.interval_start.replace(tzinfo=None)) for r in rows]
    )
    with_offsets = _forecast_rows(aware, "2025-10-13T00:00:00-04:00")
    zone = ("--timezone", "America/New_York")
    _assert_same_forecast(with_offsets, _forecast_rows(naive, "2025-10-13T00:00:00", *zone))
    capsys.readouterr()
    argv = ["forecast", "--history", str(naive), "--start", "2025-10-13T00:00:00-04:00"]
    assert main([*argv, "--horizon", "5d", "--out", str(tmp_path / "f.csv")]) == 2
    err = capsys.readouterr().err
    assert "row 2: field interval_start: expected ISO 8601 time with offset" in err
    assert "give --timezone" in err


def test_the_hour_the_clocks_go_back_written_twice_without_offsets_is_added_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A center open round the clock, exported without offsets (a spreadsheet's, a WFM
    tool's), writes 01:00 twice on the first Sunday of November: both rows are read, as
    their two hours would be from offsets (the whole ten-month file was refused as a
    "duplicate interval"); a third is a duplicate, named as such."""
    every_day = {"open_hours": (0.0, 24.0), "open_weekdays": tuple(range(7))}
    rows = _bank_rows(4, first_day=date(2025, 9, 1), days=70, **every_day)
    eastern_standard = timezone(timedelta(hours=-5))
    repeated = [
        replace(row, interval_start=row.interval_start.replace(tzinfo=eastern_standard))
        for row in rows
        if row.interval_start.replace(tzinfo=None) == datetime(2025, 11, 2, 1)
    ]
    assert repeated  # the Sunday's 01:00 (EDT) rows, again at 01:00 EST
    rows = sorted([*rows, *repeated], key=lambda row: row.interval_start.timestamp())
    aware, naive = tmp_path / "aware.csv", tmp_path / "naive.csv"
    files.write_history(aware, rows)
    files.write_history(
        naive, [replace(r, interval_start=r.interval_start.replace(tzinfo=None)) for r in rows]
    )
    zone = ("--timezone", "America/New_York")
    _assert_same_forecast(
        _forecast_rows(aware, "2025-11-10T00:00:00-05:00"),
        _forecast_rows(naive, "2025-11-10T00:00:00", *zone),
    )
    with naive.open("a") as thrice:
        thrice.write(f"2025-11-02T01:00:00,{repeated[0].queue},3,\n")
    capsys.readouterr()
    argv = ["forecast", "--history", str(naive), "--start", "2025-11-10T00:00:00", *zone]
    assert main([*argv, "--horizon", "5d", "--out", str(tmp_path / "f.csv")]) == 2
    assert "duplicate interval" in (err := capsys.readouterr().err)
    assert "written twice at most" in err


def test_an_export_in_utc_across_a_daylight_saving_switch_reads_on_the_centers_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a UTC clock a New York center opens an hour later from the first Sunday of
    November; read there, the Monday after had a week-ahead WAPE of 0.26 instead of 0.053.
    Its hours name the zone: the same forecast as from the local export, written in UTC."""
    rows = _bank_rows(3, first_day=date(2025, 4, 7), days=220)
    local, utc = tmp_path / "local.csv", tmp_path / "utc.csv"
    files.write_history(local, rows)
    files.write_history(
        utc, [replace(r, interval_start=r.interval_start.astimezone(UTC)) for r in rows]
    )
    monday = "2025-11-03T05:00:00+00:00"
    from_local, from_utc = _forecast_rows(local, monday), _forecast_rows(utc, monday)
    out = capsys.readouterr().out
    assert "hours move by an hour on the daylight-saving dates of America/New_York" in out
    assert all(row["interval_start"].endswith("+00:00") for row in from_utc)  # the file's clock
    _assert_same_forecast(from_local, from_utc)


def test_an_export_in_utc_without_offsets_reads_as_one_with_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cloud ACD's `2025-09-08 11:00:00` (UTC, no offset): --timezone America/New_York
    read it as New York's clock (open at noon: WAPE 0.85), and --timezone UTC made the
    center's zone UTC. --history-timezone UTC reads it as a file of Z times; with
    --timezone too, the forecast is written on the center's clock."""
    rows = [
        replace(r, interval_start=r.interval_start.astimezone(UTC))
        for r in _bank_rows(3, first_day=date(2025, 4, 7), days=220)
    ]
    with_z, naive = tmp_path / "z.csv", tmp_path / "naive.csv"
    files.write_history(with_z, rows)
    files.write_history(
        naive, [replace(r, interval_start=r.interval_start.replace(tzinfo=None)) for r in rows]
    )
    monday = "2025-11-03T05:00:00+00:00"
    from_z = _forecast_rows(with_z, monday)
    from_naive = _forecast_rows(naive, monday, "--history-timezone", "UTC")
    assert "hours move by an hour on the daylight-saving dates of America/New_York" in (
        capsys.readouterr().out
    )
    _assert_same_forecast(from_z, from_naive)
    on_center = _forecast_rows(
        naive, monday, "--history-timezone", "UTC", "--timezone", "America/New_York"
    )
    assert on_center[0]["interval_start"] == "2025-11-03T07:00:00-05:00"
    _assert_same_forecast(from_z, on_center)


@pytest.mark.parametrize(
    ("where", "reason"), [("missing/f.csv", "No such file or directory"), (".", "Is a directory")]
)
def test_an_out_that_cannot_be_written_is_one_line_and_status_2(
    history_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    where: str,
    reason: str,
) -> None:
    out = tmp_path if where == "." else tmp_path / where
    args = ["--history", str(history_csv), "--start", "2025-03-03T00:00:00+01:00"]
    code = main(["forecast", *args, "--horizon", "1d", "--interval", "60m", "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err == f"switchboard: error: {out}: cannot write: {reason}\n"
    assert not (tmp_path / "missing").exists()  # no folder is created for it


def test_history_import_to_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = tmp_path / "calls.tsv"
    calls.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    out = tmp_path / "missing" / "history.csv"
    args = ["history", "import", "--format", "anonymous-bank", str(calls), "--out", str(out)]
    assert main([*args, "--interval", "60m"]) == 2
    err = capsys.readouterr().err
    assert err == f"switchboard: error: {out}: cannot write: No such file or directory\n"


def _read_forecast(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("first_day", "start", "switch", "hours", "repeated"),
    [
        # Sydney springs forward 2024-10-06 at 02:00 (+10:00 -> +11:00): 02:xx never is
        (date(2024, 9, 2), "2024-09-30T00:00:00+10:00", "2024-10-06", 23, None),
        # and falls back 2024-04-07 at 03:00 (+11:00 -> +10:00): 02:xx comes twice
        (date(2024, 3, 4), "2024-04-01T00:00:00+11:00", "2024-04-07", 25, "T02:00:00"),
    ],
)
def test_a_forecast_across_a_daylight_saving_switch_writes_each_instant_once(
    tmp_path: Path,
    first_day: date,
    start: str,
    switch: str,
    hours: int,
    repeated: str | None,
) -> None:
    """A center open round the clock: the day the clocks go forward has 23 hourly rows
    (none at a wall time that does not exist), the day they go back 25 (the repeated
    hour at both of its offsets, each with that hour's forecast)."""
    scenario = synthetic.Scenario(
        "sydney",
        days=28,
        width_min=60,
        first_day=first_day,
        zone="Australia/Sydney",
        queues=("q",),
        daily=(2400.0,),
        open_hours=(0.0, 24.0),
        open_weekdays=(0, 1, 2, 3, 4, 5, 6),
    )
    history, out = tmp_path / "history.csv", tmp_path / "forecast.csv"
    files.write_history(history, synthetic.generate_scenario(scenario, seed=4).rows)
    args = ["forecast", "--history", str(history), "--start", start, "--horizon", "14d"]
    assert main([*args, "--timezone", "Australia/Sydney", "--out", str(out)]) == 0
    rows = _read_forecast(out)
    instants = [datetime.fromisoformat(r["interval_start"]) for r in rows]
    assert len(set(instants)) == len(instants)  # no instant twice
    assert instants == sorted(instants)
    # every hour from start to start + 14 days, once: 14 * 24 hours, one less or more
    begin = datetime.fromisoformat(start)
    assert set(instants) == {begin + timedelta(hours=k) for k in range(14 * 24 + hours - 24)}
    day = [r for r in rows if r["interval_start"].startswith(switch)]
    assert len(day) == hours
    if repeated is not None:
        twice = [r for r in day if r["interval_start"][10:19] == repeated]
        assert [r["interval_start"][19:] for r in twice] == ["+11:00", "+10:00"]
        assert twice[0]["contacts"] == twice[1]["contacts"]
        assert float(twice[0]["contacts"]) > 0


def test_an_hourly_history_exported_in_utc_for_india_keeps_its_half_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A +05:30 center's hours start at :30 in UTC: 60-minute intervals from :30, not
    30-minute ones, and the forecast is the local export's, on the UTC clock."""
    scenario = synthetic.Scenario(
        "india",
        days=35,
        width_min=60,
        first_day=date(2024, 6, 3),
        zone="Asia/Kolkata",
        queues=("q",),
        daily=(2000.0,),
        open_hours=(9.0, 18.0),
    )
    rows = synthetic.generate_scenario(scenario, seed=5).rows
    local, utc = tmp_path / "local.csv", tmp_path / "utc.csv"
    files.write_history(local, rows)
    files.write_history(
        utc, [replace(r, interval_start=r.interval_start.astimezone(UTC)) for r in rows]
    )
    out_local, out_utc = tmp_path / "f_local.csv", tmp_path / "f_utc.csv"
    base = ["forecast", "--horizon", "7d", "--interval", "60m"]
    start_local = "2024-07-08T00:00:00+05:30"
    assert (
        main([*base, "--history", str(local), "--start", start_local, "--out", str(out_local)]) == 0
    )
    start_utc = "2024-07-08T00:30:00+00:00"
    assert main([*base, "--history", str(utc), "--start", start_utc, "--out", str(out_utc)]) == 0
    assert "60-minute intervals" in capsys.readouterr().out
    by_local = {
        datetime.fromisoformat(r["interval_start"]): r["contacts"]
        for r in _read_forecast(out_local)
    }
    by_utc = {
        datetime.fromisoformat(r["interval_start"]): r["contacts"] for r in _read_forecast(out_utc)
    }
    assert by_utc == by_local and len(by_utc) == 5 * 9  # weekdays 09:00-18:00
    assert all(r["interval_start"][13:] == ":30:00+00:00" for r in _read_forecast(out_utc))
    # a start off that grid is named with it
    off = [*base, "--history", str(utc), "--start", "2024-07-08T00:00:00+00:00"]
    assert main([*off, "--out", str(tmp_path / "x.csv")]) == 2
    assert "expected a time on the 60-minute grid (intervals start at :30)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("mode", ["forecast", "backtest"])
def test_a_history_without_a_contact_is_one_line_and_status_2(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    zeros = tmp_path / "zeros.csv"
    with history_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with zeros.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "contacts": "0"} for row in rows)
    if mode == "backtest":
        args = ["forecast", "backtest", "--history", str(zeros)]
    else:
        args = ["forecast", "--history", str(zeros), "--start", "2025-03-03T00:00:00+01:00"]
        args += ["--horizon", "1d", "--out", str(tmp_path / "f.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"switchboard: error: {zeros}: no contacts in the history")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_an_event_of_a_queue_the_history_lacks_is_named(
    history_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not dropped while the command prints its factor: a misspelt queue is a bad row (an
    event of another region may name that region's queues)."""
    events = tmp_path / "events.csv"
    events.write_text(
        "start,end,region,queue,kind,factor\n"
        "2025-03-03T10:00:00+01:00,2025-03-03T12:00:00+01:00,south,cargo,promo,2\n"
        "2025-03-03T10:00:00+01:00,2025-03-03T12:00:00+01:00,,Booking,promo,2\n",
        encoding="utf-8",
    )
    args = ["forecast", "--history", str(history_csv), "--start", "2025-03-03T00:00:00+01:00"]
    args += ["--horizon", "1d", "--events", str(events), "--region", "north"]
    out = tmp_path / "forecast.csv"
    assert main([*args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"switchboard: error: {events}: row 3: field queue: unknown queue 'Booking' (the "
        "history's queues: baggage, booking); did you mean 'booking'?\n"
    )
    assert "event promo" not in captured.out and not out.exists()
    events.write_text(events.read_text().replace(",Booking,", ",booking,"), encoding="utf-8")
    assert main([*args, "--out", str(out)]) == 0
    assert "event promo: factor 2.00" in capsys.readouterr().out


def test_a_summers_history_forecast_across_the_switch_says_it_stays_on_its_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A New York history of one offset (-04:00: no switch in it tells the zone) forecast
    into November is written at -04:00, 07:00 EST as 06:00, silently (a planner probe):
    the command names the zones at that offset that switch inside the forecast."""
    history = tmp_path / "summer.csv"
    files.write_history(history, _bank_rows(3, first_day=date(2025, 4, 7), days=200))
    _forecast_rows(history, "2025-10-27T00:00:00-04:00")
    assert "the forecast stays on it" not in capsys.readouterr().out  # ends before the switch
    out = history.with_name("later.csv")
    argv = ["forecast", "--history", str(history), "--start", "2025-10-27T00:00:00-04:00"]
    assert main([*argv, "--horizon", "12d", "--out", str(out)]) == 0
    assert (
        "history: one UTC offset (-04:00) all along, no switch in it to tell the center's "
        "zone: the forecast stays on it; America/New_York, "
    ) in capsys.readouterr().out
    # the clocks go back on Sunday 2025-11-02, between a Friday's history and the
    # Monday's forecast: as much an hour off (a planner probe: said nowhere before)
    friday = tmp_path / "to-friday.csv"
    files.write_history(friday, _bank_rows(3, first_day=date(2025, 4, 7), days=208))
    argv = ["forecast", "--history", str(friday), "--start", "2025-11-03T00:00:00-04:00"]
    assert main([*argv, "--horizon", "5d", "--out", str(out)]) == 0
    assert "change theirs on 2025-11-02, before the forecast ends" in capsys.readouterr().out
