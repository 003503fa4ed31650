"""Planner probe 2, finding 5: a start window that allows no start time, and the hint
"no agent has skill 'billing': did you mean 'billing_en'?" when every agent has it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduler import csvfiles, feasibility
from scheduler.model import QueueRule
from scheduler.patterns import Horizon
from scheduler.rules import load_rules
from switchboard.cli import main
from switchboard.common.errors import ConfigError

from .conftest import RULES_TOML, START, Files, agent, requirements, rules, solve_args

NIGHT_TRY = RULES_TOML.replace('earliest_start = "06:00"', 'earliest_start = "20:00"').replace(
    'latest_start = "14:00"', 'latest_start = "12:00"'
)


def test_a_start_window_that_ends_before_it_begins_is_refused_naming_file_and_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(NIGHT_TRY, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_rules(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: shifts.latest_start: expected a local time at or after")
    assert "earliest_start 20:00" in message and "'12:00'" in message
    assert "past midnight" in message  # what to write instead for night shifts


def test_the_schedule_command_stops_on_it_before_solving(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files.rules.write_text(NIGHT_TRY, encoding="utf-8")
    assert main(solve_args(files, tmp_path, days=1)) == 2
    err = capsys.readouterr().err
    assert f"switchboard: error: {files.rules}: shifts.latest_start: expected" in err
    assert "solving" not in err and "no shift fits" not in err and "did you mean" not in err
    assert not (tmp_path / "schedule.csv").exists()


def test_an_equal_start_window_is_one_start_time(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES_TOML.replace('"14:00"', '"06:00"'), encoding="utf-8")
    loaded = load_rules(path)
    assert loaded.earliest_start == loaded.latest_start


def test_no_misspelling_hint_when_agents_have_the_skill_but_no_shift() -> None:
    # Queue `billing` is served by skill `billing`, which every agent has; the rules also
    # name a queue `billing_en`. No agent can be on shift (no table of shifts), so the
    # count is 0, but the skill is not misspelt.
    team = [agent(f"T{n}", "billing", "en", zone="America/Chicago") for n in range(3)]
    plan_rules = rules(queues={"billing_en": QueueRule("billing_en", "billing", "en")})
    horizon = Horizon.from_date(START, 1, timedelta(minutes=30))
    found = feasibility.unmeetable_requirements(
        team, {a.agent_id: {} for a in team}, {("billing", 18): 3}, plan_rules, horizon
    )
    assert found == [
        "queue billing at 2024-03-04T09:00:00+00:00 needs 3 agents, 0 with that skill are available"
    ]


def test_the_hint_still_names_a_likely_misspelling() -> None:
    team = [agent("T1", "billing", "en")]
    plan_rules = rules(queues={})
    horizon = Horizon.from_date(START, 1, timedelta(minutes=30))
    found = feasibility.unmeetable_requirements(
        team, {"T1": {}}, {("Billing", 18): 1}, plan_rules, horizon
    )
    assert found[0].endswith("(no agent has skill 'Billing': did you mean 'billing'?)")


def test_the_command_gives_no_hint_for_a_skill_the_team_has(
    files: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every agent unavailable on the one day planned, so none can be on shift; the queue
    # is named after its skill and the rules know a queue `sales_de` of the same skill.
    csvfiles.write_requirements(files.requirements, requirements({"sales": (9, 10, 1)}, 1))
    csvfiles.write_agents(files.agents, [agent("B1", "sales", "de;en")])
    files.rules.write_text(
        RULES_TOML + '\n[agents.B1]\nunavailable = ["2024-03-04"]\n', encoding="utf-8"
    )
    assert main(solve_args(files, tmp_path, days=1)) == 2
    err = capsys.readouterr().err
    assert (
        "cannot be met: queue sales at 2024-03-04T09:00:00+00:00 needs 1 agents, "
        "0 with that skill are available"
    ) in err.splitlines()
    assert "did you mean" not in err
