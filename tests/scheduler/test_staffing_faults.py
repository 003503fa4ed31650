"""`staffing` on the forecasts an integrator's probe fed it (its finding 1): 10¹² contacts,
an AHT of 10⁹ s or an events factor's overflow (1.8e301 contacts) kept Erlang C searching
for hours without a word. Each is now refused naming file, row and field, and no row can
make the search run unbounded: Erlang C carries Erlang B from one head count to the next,
refuses more than `MAX_AGENTS`, and Erlang A spends at most a budget per interval. The
hours of an agents file are bounded by the week's (its finding 7)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.service import MAX_AGENTS
from scheduler.staffing import BeyondReach, agents_needed, erlang_a, service_level_c
from switchboard.cli import main
from switchboard.common.errors import InputError

HEADER = "interval_start,queue,contacts,aht_s,low,high\n"
FIRST = "2024-02-05T08:00:00+00:00,booking,20,200,10,30\n"


@pytest.fixture(autouse=True)
def only_this_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real parser with the scheduler's commands only."""
    monkeypatch.setattr(
        "switchboard.cli.COMMAND_MODULES", {"scheduler.cli": ("staffing", "schedule")}
    )


def staffing(tmp_path: Path, second: str, *extra: str) -> int:
    path = tmp_path / "forecast.csv"
    path.write_text(HEADER + FIRST + second, encoding="utf-8")
    out = tmp_path / "req.csv"
    args = ["staffing", "--forecast", str(path), "--service-level", "0.8"]
    return main([*args, "--answer-within", "20s", "--out", str(out), *extra])


@pytest.mark.timeout(120)  # the search ran for hours on these: a guard, not a measure
@pytest.mark.parametrize(
    ("row", "field", "expected"),
    [
        ("1e12,200", "contacts", "<= 1,000,000,000 contacts per interval"),
        ("inf,200", "contacts", "<= 1,000,000,000 contacts per interval"),
        ("1.7981e301,200", "contacts", "<= 1,000,000,000 contacts per interval"),
        ("20,1e9", "aht_s", "<= 86,400 seconds (a day)"),
        ("20,nan", "aht_s", "<= 86,400 seconds (a day)"),
    ],
)
def test_absurd_values_are_refused_naming_row_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, field: str, expected: str
) -> None:
    assert staffing(tmp_path, f"2024-02-05T08:30:00+00:00,booking,{row},10,inf\n") == 2
    err = capsys.readouterr().err
    assert f"forecast.csv: row 3: field {field}: expected a number >= 0 and {expected}" in err
    assert not (tmp_path / "req.csv").exists()


@pytest.mark.timeout(120)
def test_a_row_needing_more_than_a_million_agents_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """10⁷ contacts of 200 s in half an hour are a million agents busy at once: within the
    file's bounds, beyond what staffing computes."""
    assert staffing(tmp_path, "2024-02-05T08:30:00+00:00,booking,1e7,200,1,2\n") == 2
    err = capsys.readouterr().err
    assert "forecast.csv: row 3: fields contacts and aht_s: 1e+07 contacts of 200 s in 30m" in err
    assert f"more than {MAX_AGENTS:,} agents" in err


@pytest.mark.timeout(120)
def test_an_erlang_a_search_beyond_its_budget_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An answer time of a day under Erlang A is millions of uniformization steps for a
    queue of 40 agents (20 contacts a half hour: a few agents, it is computed)."""
    busy = "2024-02-05T08:00:00+00:00,booking,300,240,280,320\n"
    path = tmp_path / "forecast.csv"
    path.write_text(HEADER + busy + busy.replace("08:00", "08:30"), encoding="utf-8")
    args = ["staffing", "--forecast", str(path), "--service-level", "0.8", "--patience", "30s"]
    assert main([*args, "--answer-within", "86400s", "--out", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert "forecast.csv: row 2: fields contacts and aht_s:" in err
    assert "Erlang A needs more than" in err and "Erlang C (no patience)" in err
    # Erlang C takes the same answer time
    assert main([*args[:-2], "--answer-within", "86400s", "--out", str(tmp_path / "r.csv")]) == 0


def test_an_assumed_handle_time_beyond_a_day_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert staffing(tmp_path, "2024-02-05T08:30:00+00:00,booking,20,,1,2\n", "--aht", "90000") == 2
    assert "--aht: expected at most 86400 seconds (a day), found '90000'" in (
        capsys.readouterr().err
    )


def _walk(contacts: float, aht: float, interval: float, level: float, target: float) -> int:
    """Erlang C's answer as the search found it before: every head count recomputed."""
    load = contacts / interval * aht
    servers = max(1, math.floor(load) + 1)
    while service_level_c(servers, load, aht, target) < level:
        servers += 1
    return servers


@pytest.mark.parametrize(
    ("contacts", "aht", "level", "target"),
    [(100, 180, 0.8, 20), (3, 600, 0.9, 10), (2500, 240, 0.95, 15), (40, 300, 1.0, 20)],
)
def test_erlang_c_carried_from_count_to_count_finds_what_the_walk_found(
    contacts: float, aht: float, level: float, target: float
) -> None:
    assert agents_needed(contacts, aht, 1800, level, target) == _walk(
        contacts, aht, 1800, level, target
    )


@pytest.mark.parametrize(
    ("contacts", "aht", "patience"), [(100, 180, 60), (300, 240, 30), (900, 300, 600), (5, 200, 5)]
)
def test_erlang_a_by_halving_finds_the_fewest_agents(
    contacts: float, aht: float, patience: float
) -> None:
    """The answer meets the target and one agent fewer does not (both figures are monotone
    in the head count, so this is the fewest)."""
    rate = contacts / 1800

    def meets(servers: int) -> bool:
        figures = erlang_a(servers, rate, aht, patience, 20)
        return figures.service_level >= 0.8 and figures.occupancy <= 0.9

    needed = agents_needed(contacts, aht, 1800, 0.8, 20, 0.9, patience)
    assert meets(needed) and (needed == 1 or not meets(needed - 1))


def test_the_limit_is_refused_before_any_work() -> None:
    with pytest.raises(BeyondReach, match="more than 1,000 agents"):
        agents_needed(1e12, 200, 1800, 0.8, 20, limit=1000)
    with pytest.raises(BeyondReach, match="more than 1,000 agents"):
        agents_needed(20, 200, 1800, 0.8, 20, max_occupancy=1e-6, limit=1000)


@pytest.mark.parametrize("hours", ["400", "1e308", "168.5"])
def test_weekly_hours_beyond_a_week_are_refused(tmp_path: Path, hours: str) -> None:
    path = tmp_path / "agents.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(csvfiles.AGENT_COLUMNS)
        writer.writerow(["ana", "default", "UTC", "booking", "en", "20", hours])
    with pytest.raises(InputError, match=r"row 2: field max_hours: expected a number >= 0 and"):
        csvfiles.read_agents(path)
    path.write_text(path.read_text().replace(hours, "168"), encoding="utf-8")
    [agent] = csvfiles.read_agents(path)
    assert agent.max_hours == 168
