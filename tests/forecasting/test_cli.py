"""The `switchboard` subcommands of the package, run in-process through the real parser."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from forecasting import files, synthetic
from forecasting.model import HistoryRow
from switchboard.cli import main

from .test_bank import HEADER, ROWS


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the real parser with this package's commands only, so that a half-built
    command of another package cannot fail these tests."""
    monkeypatch.setattr("switchboard.cli.COMMAND_MODULES", ("forecasting.cli",))


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
    assert "peak 2025-03-03T" in printed and "lead" in printed
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
        ("interval_start,queue,contacts,weather\n", "row 1: column 'weather': unknown column"),
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


def _bank_rows(seed: int, **changes: object) -> list[HistoryRow]:
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
