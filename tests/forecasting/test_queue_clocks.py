"""A center's queues in several zones, exported in one UTC file: each on its own clock."""

from __future__ import annotations

import csv
import json
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from forecasting import backtest, clocks, files, service
from switchboard.cli import main
from switchboard.common.errors import InputError

WIDTH = timedelta(minutes=30)
FIRST = date(2025, 1, 6)  # a Monday; London springs forward on 2025-03-30
DAYS = 119  # to Monday 2025-05-05: the hours read from the whole file, forecast from MONDAY
MONDAY = "2025-03-31T00:00:00+00:00"  # the day after London springs forward
# queue: (zone, contacts a day, local hour of the morning peak: the middle of a half hour)
REGIONS = {
    "emea_en": ("Europe/London", 3000.0, 9.75),
    "apac_zh": ("Asia/Shanghai", 3000.0, 9.25),
}
WEEKDAY = (1.1, 1.05, 1.0, 1.0, 1.05, 0.8, 0.85)


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"forecasting.cli": ("history", "forecast")}
    )


def _local_shape(hour: np.ndarray, morning: float) -> np.ndarray:
    """A day round the clock: a quiet night, a sharp morning peak, a lower evening one."""

    def bump(at: float, spread: float) -> np.ndarray:
        away = np.minimum(np.abs(hour - at), 24 - np.abs(hour - at))
        return np.asarray(np.exp(-0.5 * (away / spread) ** 2))

    shape = 0.05 + bump(morning, 1.0) + 0.6 * bump(morning + 6.0, 2.0)
    return np.asarray(shape / shape.sum())


def _write(path: Path, regions: dict[str, tuple[str, float, float]]) -> None:
    """Every half hour of `DAYS` days from `FIRST`, each queue's contacts drawn (from its
    own seed: the same in any file) from its local shape and weekday, written in UTC."""
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
    moments = [start + k * WIDTH for k in range(DAYS * 48)]
    counts = {}
    for queue, (zone, per_day, morning) in regions.items():
        rng = np.random.default_rng(zlib.crc32(queue.encode()))
        shape = _local_shape(np.arange(48) / 2 + 0.25, morning)  # a local day's shares
        local = [moment.astimezone(ZoneInfo(zone)) for moment in moments]
        slot = np.array([t.hour * 2 + t.minute // 30 for t in local])
        weekday = np.array([WEEKDAY[t.weekday()] for t in local])
        counts[queue] = rng.poisson(per_day * weekday * shape[slot])
    with path.open("w", encoding="utf-8") as handle:
        handle.write("interval_start,queue,contacts\n")
        for k, moment in enumerate(moments):
            for queue in regions:
                handle.write(f"{moment.isoformat()},{queue},{counts[queue][k]}\n")


def _forecast(history: Path, out: Path, *extra: str) -> tuple[list[dict[str, str]], str]:
    argv = ["forecast", "--history", str(history), "--start", MONDAY, "--horizon", "7d"]
    assert main([*argv, *extra, "--out", str(out)]) == 0
    with out.open(newline="") as handle:
        return list(csv.DictReader(handle)), out.name


def _of(rows: list[dict[str, str]], queue: str) -> list[dict[str, str]]:
    return [row for row in rows if row["queue"] == queue]


def _peak_slot(rows: list[dict[str, str]], day: date) -> int:
    """The UTC half hour (index in the day) of the day's largest forecast."""
    best = max(
        (
            row
            for row in rows
            if datetime.fromisoformat(row["interval_start"]).astimezone(UTC).date() == day
        ),
        key=lambda row: float(row["contacts"]),
    )
    moment = datetime.fromisoformat(best["interval_start"]).astimezone(UTC)
    return moment.hour * 2 + moment.minute // 30


MEXICO = {"americas_es": ("America/Mexico_City", 3000.0, 10.75)}  # no switch since 2022
# the UTC half hour of each queue's morning peak in the week after London's switch
PEAK_SLOT = {"emea_en": 8 * 2 + 1, "apac_zh": 1 * 2, "americas_es": 16 * 2 + 1}


def _center(folder: Path, regions: dict[str, tuple[str, float, float]]) -> Path:
    path = folder / "center_utc.csv"
    _write(path, regions)
    for queue in regions:
        _write(folder / f"{queue}_utc.csv", {queue: regions[queue]})
    return path


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _center(tmp_path_factory.mktemp("clocks"), REGIONS)


@pytest.mark.parametrize(
    "regions",
    [
        # read as one, the center's hours stepped with London's: Shanghai's day moved by an
        # hour at London's switches
        REGIONS,
        # read as one, the center's hours stepped with no zone's: London's day stayed on
        # UTC, an hour off all summer
        {**REGIONS, **MEXICO},
    ],
    ids=["london_shanghai", "three_regions"],
)
def test_each_queue_of_a_utc_export_is_forecast_on_its_own_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], regions: dict[str, tuple[str, float, float]]
) -> None:
    """The week after London's spring switch: its morning peak is at 08:30 UTC (09:30
    BST), not at winter's 09:30 UTC (all its history but a day); Shanghai's and Mexico City's, which do not switch,
    stay where they were."""
    path = _center(tmp_path, regions)
    rows, _ = _forecast(path, tmp_path / "f.csv")
    out = capsys.readouterr().out
    assert "history: queues emea_en: Europe/London found from their hours" in out
    others = ", ".join(sorted(set(regions) - {"emea_en"}))
    assert f"history: queues {others}: no daylight-saving switch in their hours" in out
    tuesday = date(2025, 4, 1)
    for queue in regions:
        assert abs(_peak_slot(_of(rows, queue), tuesday) - PEAK_SLOT[queue]) <= 1, queue
    # London alone on its clock: as from its own file (the queues that share a clock
    # borrow the shape of their center, as before)
    alone, _ = _forecast(tmp_path / "emea_en_utc.csv", tmp_path / "q.csv")
    assert _of(rows, "emea_en") == alone
    times = [datetime.fromisoformat(row["interval_start"]) for row in rows]
    assert times == sorted(times)  # in time order, then by queue, across the clocks
    assert [r["queue"] for r in rows[: len(regions)]] == sorted(regions)


def test_zones_given_per_queue_read_each_queue_on_its_zone(center: Path) -> None:
    given, _ = _forecast(
        center, center.with_name("g.csv"), "--timezone", "emea_en=Europe/London,apac_zh=UTC"
    )
    found, _ = _forecast(center, center.with_name("f.csv"))
    assert {row["interval_start"][-6:] for row in _of(given, "emea_en")} == {"+01:00"}
    assert {row["interval_start"][-6:] for row in _of(given, "apac_zh")} == {"+00:00"}

    def at(rows: list[dict[str, str]]) -> list[tuple[datetime, str, str]]:
        return sorted(
            (datetime.fromisoformat(r["interval_start"]), r["queue"], r["contacts"]) for r in rows
        )

    assert at(given) == at(found)
    # a default for the queues not named: the same
    with_default, _ = _forecast(
        center, center.with_name("d.csv"), "--timezone", "emea_en=europe/london, UTC"
    )
    assert at(with_default) == at(found)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("emea_en=Europe/Londn", "--timezone: queue emea_en: "),
        ("emea=Europe/London", "--timezone: queue 'emea' is not in"),
        ("emea_en=Europe/London,emea_en=UTC", "--timezone: queue 'emea_en' given twice"),
        ("Europe/London,emea_en=UTC,UTC", "expected one zone for the queues not named"),
        ("Europe/London,Asia/Tokyo", "expected one zone for the queues not named"),
        ("=Europe/London", "expected ZONE or QUEUE=ZONE"),
        ("emea_en=", "expected ZONE or QUEUE=ZONE"),
    ],
)
def test_bad_zones_per_queue_are_refused_naming_them(
    center: Path, capsys: pytest.CaptureFixture[str], flag: str, message: str
) -> None:
    argv = ["forecast", "--history", str(center), "--start", MONDAY, "--horizon", "1d"]
    assert main([*argv, "--timezone", flag, "--out", str(center.with_name("x.csv"))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert message in err
    if "Londn" in flag:
        assert "Europe/Londn" in err
    if "emea=" in flag:
        assert "did you mean 'emea_en'?" in err


def test_the_flags_old_form_and_its_new_forms_parse() -> None:
    assert clocks.parse(None) == clocks.Spec()
    assert clocks.parse("europe/london") == clocks.Spec(ZoneInfo("Europe/London"))
    pairs = clocks.parse("emea_en=Europe/London, americas_es=America/Mexico_City,UTC")
    assert pairs.default == ZoneInfo("UTC")
    assert dict(pairs.queues) == {
        "emea_en": ZoneInfo("Europe/London"),
        "americas_es": ZoneInfo("America/Mexico_City"),
    }
    with pytest.raises(InputError, match="--timezone: queue apac_zh: "):
        clocks.parse("apac_zh=Asia/Shanghi")


def test_queues_of_one_zone_read_as_one_history_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two London queues, one of a few dozen contacts a day (too few to name a zone on its
    own): one history on London's clock, the forecast as the single history read gives."""
    path = tmp_path / "london_utc.csv"
    _write(path, {"sales": ("Europe/London", 3000.0, 9.75), "vip": ("Europe/London", 40.0, 11.25)})
    parts = files.read_histories(path, clocks.Spec())
    assert [(group.queues, str(group.zone)) for group, _ in parts] == [
        (("sales", "vip"), "Europe/London")
    ]
    rows, _ = _forecast(path, tmp_path / "f.csv")
    assert "found from their hours" not in capsys.readouterr().out
    history = files.read_history(path)
    start = datetime.fromisoformat(MONDAY)
    local = start.astimezone(history.tz).replace(tzinfo=None)
    before = service.forecast(history, local, timedelta(days=7))
    files.write_forecast(tmp_path / "b.csv", before, history.tz, history.file_clock)
    assert (tmp_path / "f.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert len(rows) == 2 * 7 * 48


def test_events_and_a_start_without_offset_on_several_clocks(
    center: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An event is taken to the clock of the queues it concerns (written in London's time
    or UTC, the same instants); a `--start` without offset is on the file's one clock."""
    plain, _ = _forecast(center, center.with_name("p.csv"))
    events = center.with_name("events.csv")
    events.write_text(
        "start,end,region,queue,kind,factor\n"
        "2025-04-01T09:00:00+01:00,2025-04-01T12:00:00+01:00,,emea_en,closed,\n"
        "2025-04-02T01:00:00Z,2025-04-02T03:00:00Z,,apac_zh,campaign,2\n",
        encoding="utf-8",
    )
    rows, _ = _forecast(center, center.with_name("e.csv"), "--events", str(events))
    for row, before in zip(rows, plain, strict=True):
        moment = datetime.fromisoformat(row["interval_start"]).astimezone(UTC)
        closed = row["queue"] == "emea_en" and (
            datetime(2025, 4, 1, 8, tzinfo=UTC) <= moment < datetime(2025, 4, 1, 11, tzinfo=UTC)
        )
        raised = row["queue"] == "apac_zh" and (
            datetime(2025, 4, 2, 1, tzinfo=UTC) <= moment < datetime(2025, 4, 2, 3, tzinfo=UTC)
        )
        if closed:
            assert float(row["contacts"]) == 0.0
        elif raised:
            assert float(row["contacts"]) == pytest.approx(2 * float(before["contacts"]), 0.01)
        else:
            assert row == before
    capsys.readouterr()
    argv = ["forecast", "--history", str(center), "--start", "2025-03-31T00:00", "--horizon"]
    assert main([*argv, "7d", "--out", str(center.with_name("n.csv"))]) == 0
    assert "read on the history's clock (2025-03-31T00:00:00+00:00" in capsys.readouterr().out
    assert center.with_name("n.csv").read_bytes() == center.with_name("p.csv").read_bytes()
    events.write_text(
        "start,end,region,queue,kind,factor\n"
        "2025-04-01T09:00:00+01:00,2025-04-01T12:00:00+01:00,,emea,closed,\n",
        encoding="utf-8",
    )
    argv = ["forecast", "--history", str(center), "--start", MONDAY, "--horizon", "1d"]
    assert main([*argv, "--events", str(events), "--out", str(center.with_name("x.csv"))]) == 2
    assert "row 2: field queue: unknown queue 'emea'" in capsys.readouterr().err


def test_a_backtest_pools_the_queues_of_every_clock(
    center: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One report per history file, as before, its figures over every queue of every
    clock: here those of each region's own file, pooled."""
    assert main(["forecast", "backtest", "--history", str(center), "--weeks", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    reports = [
        backtest.run(files.read_history(center.with_name(f"{queue}_utc.csv")), weeks=1)
        for queue in REGIONS
    ]
    actual = np.concatenate([report.week.cat("actual") for report in reports])
    forecast = np.concatenate([report.week.cat("forecast") for report in reports])
    assert summary["wape"] == round(backtest.wape(actual, forecast), 4)
    assert summary["intervals"] == actual.size
    assert summary["peaks"] == sum(report.summary()["peaks"] for report in reports)
    assert set(summary["cycles"]) == set(REGIONS)
