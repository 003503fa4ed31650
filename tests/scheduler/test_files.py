"""CSV and rules readers: good files load, bad ones fail in one line naming the fault."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scheduler.csvfiles import (
    read_agents,
    read_forecast,
    read_requirements,
    read_schedule,
    write_schedule,
)
from scheduler.rules import check_grid, load_rules
from switchboard.common.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_agents_skills_drop_proficiency(tmp_path: Path) -> None:
    path = write(
        tmp_path / "agents.csv",
        "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"
        "A1,emea,Europe/Berlin,booking:4;baggage:2,de;en,20,40\n",
    )
    [agent] = read_agents(path)
    assert agent.skills == {"booking", "baggage"}
    assert agent.languages == {"de", "en"}


def test_agents_languages_are_read_by_their_subtag(tmp_path: Path) -> None:
    """`ES` and `de-CH` in a roster are es and de: routing matches them so, and a queue's
    `language = "es"` rule must find those agents."""
    path = write(
        tmp_path / "agents.csv",
        "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"
        "A1,emea,Europe/Madrid,office,ES;de-CH,20,40\n",
    )
    [agent] = read_agents(path)
    assert agent.languages == {"es", "de"}


def test_a_spreadsheet_export_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "agents.csv"
    path.write_bytes(
        b"\xef\xbb\xbfagent_id,region,timezone,skills,languages,min_hours,max_hours\r\n"
        b"A1,emea,Europe/Berlin,booking:4,de,20,40\r\n"
    )
    [agent] = read_agents(path)
    assert agent.agent_id == "A1" and agent.skills == {"booking"}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("A1,emea,Mars/Base,sales,en,0,40", "row 2: field timezone: expected an IANA time zone"),
        ("A1,emea,UTC,sales,en,zero,40", "row 2: field min_hours: expected a number"),
        ("A1,emea,UTC,sales,en,40,20", "row 2: field max_hours: expected at least min_hours"),
        ("A1,emea,UTC,,en,0,40", "row 2: field skills: expected a value"),
        # the roster's id rule: an id goes into URLs (/api/v1/agents/sl/ash is no agent)
        ("sl/ash,emea,UTC,sales,en,0,40", "row 2: field agent_id: expected an id of printable"),
    ],
)
def test_bad_agent_rows(tmp_path: Path, row: str, message: str) -> None:
    path = write(
        tmp_path / "agents.csv",
        f"agent_id,region,timezone,skills,languages,min_hours,max_hours\n{row}\n",
    )
    with pytest.raises(InputError) as caught:
        read_agents(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_requirement_time_needs_an_offset(tmp_path: Path) -> None:
    path = write(
        tmp_path / "req.csv",
        "interval_start,queue,required\n"
        "2024-03-04T08:00:00+00:00,sales,2\n"
        "2024-03-04T08:30:00,sales,2\n",
    )
    with pytest.raises(InputError, match="row 3: field interval_start: expected ISO 8601"):
        read_requirements(path)


def test_missing_columns_and_files(tmp_path: Path) -> None:
    path = write(tmp_path / "forecast.csv", "interval_start,queue\n")
    with pytest.raises(InputError, match="missing contacts,aht_s"):
        read_forecast(path)
    with pytest.raises(InputError, match="no such file"):
        read_schedule(tmp_path / "absent.csv")


def test_schedule_end_after_start(tmp_path: Path) -> None:
    path = write(
        tmp_path / "schedule.csv",
        "agent_id,start,end,activity\n"
        "A1,2024-03-04T09:00:00+00:00,2024-03-04T08:00:00+00:00,sales\n",
    )
    with pytest.raises(InputError, match="row 2: field end: expected a time after start"):
        read_schedule(path)


def test_example_rules_load() -> None:
    from datetime import timedelta

    path = ROOT / "config" / "rules-example.toml"
    rules = load_rules(path)
    assert rules.queue_rule("billing_de").language == "de"
    assert rules.wishes("A001").prefer == "early"
    # A paid break in every shift, an unpaid lunch and a second paid break from 8 h on.
    kinds = [(b.activity, b.paid, b.min_shift, b.earliest_after_start) for b in rules.breaks]
    assert kinds == [
        ("break", True, timedelta(0), timedelta(hours=1, minutes=30)),
        ("lunch", False, timedelta(hours=8), timedelta(hours=3)),
        ("break", True, timedelta(hours=8), timedelta(hours=6)),
    ]
    check_grid(rules, timedelta(minutes=15), str(path))  # a quarter-hour file fits
    with pytest.raises(ConfigError, match=r"breaks\[0\]\.length"):
        check_grid(rules, timedelta(minutes=30), str(path))


def test_bad_rules_list_every_fault(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rules.toml",
        '[shifts]\nlengths = ["8 hours"]\nmax_consecutive_days = 0\n[[breaks]]\nactivity = "nap"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    text = str(caught.value)
    assert "shifts.lengths" in text
    assert "shifts.max_consecutive_days: expected an integer >= 1, found 0" in text
    assert "breaks[0].activity: expected one of break, lunch" in text


def test_lengths_must_fit_the_interval(tmp_path: Path) -> None:
    from datetime import timedelta

    path = write(tmp_path / "rules.toml", '[shifts]\nlengths = ["8h15m"]\n')
    with pytest.raises(ConfigError, match="multiple of the 0:30:00 interval"):
        check_grid(load_rules(path), timedelta(minutes=30), str(path))


REQUIREMENTS_HEADER = "interval_start,queue,required\n"
AGENTS_HEADER = "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"


def test_a_row_with_a_field_too_many_or_too_few_is_refused(tmp_path: Path) -> None:
    # A stray comma would shift every field after it: refused, not read as something else.
    path = write(
        tmp_path / "req.csv",
        REQUIREMENTS_HEADER
        + "2024-03-04T08:00:00+00:00,sales,2\n"
        + "2024-03-04T08:30:00+00:00,sales,2,7\n",
    )
    with pytest.raises(InputError) as caught:
        read_requirements(path)
    assert str(caught.value) == (
        f"{path}: row 3: expected 3 fields (interval_start,queue,required), found 4"
    )
    path = write(tmp_path / "agents.csv", AGENTS_HEADER + ",,,,,,,B1\n")
    with pytest.raises(InputError, match=r"row 2: expected 7 fields .*, found 8"):
        read_agents(path)
    path = write(tmp_path / "req.csv", REQUIREMENTS_HEADER + "2024-03-04T08:00:00+00:00,sales\n")
    with pytest.raises(InputError, match=r"row 2: expected 3 fields .*, found 2"):
        read_requirements(path)


def test_a_second_row_for_an_interval_and_queue_is_refused(tmp_path: Path) -> None:
    # 10:00+01:00 is 09:00 UTC: the same interval however its offset is written.
    path = write(
        tmp_path / "req.csv",
        REQUIREMENTS_HEADER
        + "2024-03-04T09:00:00+00:00,sales,2\n"
        + "2024-03-04T09:00:00+00:00,billing,1\n"
        + "\n"
        + "2024-03-04T10:00:00+01:00,sales,3\n",
    )
    with pytest.raises(InputError) as caught:
        read_requirements(path)
    assert str(caught.value) == (
        f"{path}: row 5: field interval_start: duplicate interval for queue 'sales' "
        "(first at row 2)"
    )


def test_a_row_off_the_files_grid_is_refused(tmp_path: Path) -> None:
    # Half-hourly rows and one at :45: no interval of the schedule would hold it.
    path = write(
        tmp_path / "req.csv",
        REQUIREMENTS_HEADER
        + "2024-03-04T08:00:00+00:00,sales,2\n"
        + "2024-03-04T08:30:00+00:00,sales,2\n"
        + "2024-03-04T09:00:00+00:00,sales,2\n"
        + "2024-03-04T10:45:00+01:00,sales,2\n",
    )
    with pytest.raises(InputError) as caught:
        read_requirements(path)
    assert str(caught.value) == (
        f"{path}: row 5: field interval_start: 2024-03-04T09:45:00+00:00 is off the file's "
        "grid of 30-minute intervals from 2024-03-04T08:00:00+00:00 (row 2)"
    )
    # A grid at a half-hour phase is one grid.
    write(path, REQUIREMENTS_HEADER + "2024-03-04T08:30:00+00:00,q,1\n2024-03-04T09:30Z,q,1\n")
    assert len(read_requirements(path)) == 2


def test_row_numbers_count_blank_lines_as_a_spreadsheet_does(tmp_path: Path) -> None:
    row = "A1,emea,UTC,sales,en,0,40\n"
    path = write(tmp_path / "agents.csv", AGENTS_HEADER + row + "\n" + row)
    with pytest.raises(InputError, match="row 4: field agent_id: expected a unique id"):
        read_agents(path)


def test_a_folder_or_a_file_not_in_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_requirements(tmp_path)
    assert str(caught.value) == f"{tmp_path}: cannot read: Is a directory"
    path = tmp_path / "req.csv"
    good = "".join(f"2024-03-04T{h:02}:00:00+00:00,sales,1\n" for h in range(20))
    # Latin-1 "é" on row 22: the reader decodes a block at a time (it fails on the header
    # here), the message names the row of the byte all the same.
    path.write_bytes(
        (REQUIREMENTS_HEADER + good).encode() + b"2024-03-05T00:00:00+00:00,sal\xe9s,1\n"
    )
    with pytest.raises(InputError) as caught:
        read_requirements(path)
    assert str(caught.value) == f"{path}: row 22: not UTF-8 text (save it as UTF-8)"
    path.write_bytes(b"interval_start,queue,requir\xe9d\n")
    with pytest.raises(InputError, match="row 1: not UTF-8 text"):
        read_requirements(path)


def test_writers_create_no_folder_and_leave_no_partial_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "schedule.csv"
    with pytest.raises(InputError) as caught:
        write_schedule(missing, [])
    assert str(caught.value) == (
        f"{missing}: cannot write: no folder {str(missing.parent)!r} (it is not created)"
    )
    assert not missing.parent.exists()
    with pytest.raises(InputError, match="cannot write: it is a folder, expected a file name"):
        write_schedule(tmp_path, [])
    write_schedule(tmp_path / "schedule.csv", [])
    assert [p.name for p in tmp_path.iterdir()] == ["schedule.csv"]
    assert read_schedule(tmp_path / "schedule.csv") == []


def test_a_rules_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read: Is a directory"):
        load_rules(tmp_path)
    path = tmp_path / "rules.toml"
    path.write_bytes(b'[queues.sales]\nskill = "sal\xe9s"\n')
    with pytest.raises(ConfigError, match=re.escape(f"{path}: not UTF-8 text")):
        load_rules(path)


def test_headers_in_any_case_and_order_with_spaces_and_extra_columns(tmp_path: Path) -> None:
    """A spreadsheet's `Agent_ID, Region ,...,Team`: the same agents as the contract's
    header (it was "missing agent_id,region,..." for columns that were all there)."""
    plain = write(
        tmp_path / "agents.csv", AGENTS_HEADER + "A1,emea,Europe/Berlin,sales;billing,de,20,40\n"
    )
    mixed = write(
        tmp_path / "Agents.csv",
        "Team,Max_Hours,Agent_ID, Region ,TimeZone,SKILLS,Languages,Min_Hours\n"
        'T1,40,A1,emea,Europe/Berlin,"sales;billing",de,20\n',
    )
    assert read_agents(mixed) == read_agents(plain)
    requirements = write(
        tmp_path / "req.csv", "Interval_Start,Queue,Required\n2024-03-04T08:00:00+00:00,sales,2\n"
    )
    [row] = read_requirements(requirements)
    assert (row.queue, row.required) == ("sales", 2)
    schedule = write(
        tmp_path / "schedule.csv",
        "AGENT_ID,Activity,Start,End\nA1,sales,2024-03-04T08:00:00+00:00,2024-03-04T09:00Z\n",
    )
    [segment] = read_schedule(schedule)
    assert (segment.agent_id, segment.activity) == ("A1", "sales")


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_separated_files(tmp_path: Path, separator: str) -> None:
    plain = write(
        tmp_path / "agents.csv", AGENTS_HEADER + "A1,emea,Europe/Berlin,sales;billing,de,20,40\n"
    )
    fields = ["A1", "emea", "Europe/Berlin", '"sales;billing"', "de", "20", "40"]
    other = write(
        tmp_path / "other.csv",
        separator.join(AGENTS_HEADER.strip().split(",")) + "\n" + separator.join(fields) + "\n",
    )
    assert read_agents(other) == read_agents(plain)
    requirements = write(
        tmp_path / "req.csv",
        f"Interval_Start{separator}Queue{separator}Required\n"
        f"2024-03-04T08:00:00+00:00{separator}sales{separator}2.5\n",
    )
    assert [r.required for r in read_requirements(requirements)] == [2.5]


def test_a_field_holding_the_separator_unquoted_names_row_and_separator(tmp_path: Path) -> None:
    path = write(
        tmp_path / "agents.csv",
        "Agent_ID;Region;TimeZone;Skills;Languages;Min_Hours;Max_Hours\n"
        "A1;emea;Europe/Berlin;claims;policy;en;30;40\n",
    )
    with pytest.raises(InputError) as caught:
        read_agents(path)
    assert str(caught.value) == (
        f"{path}: row 2: expected 7 fields "
        "(agent_id,region,timezone,skills,languages,min_hours,max_hours), found 8; fields are "
        "separated by ';' here, so a field holding ';' needs quotes"
    )


def test_a_missing_column_is_named_with_what_the_header_has(tmp_path: Path) -> None:
    path = write(tmp_path / "req.csv", "Interval_Start;Queue;Needed\n")
    with pytest.raises(InputError) as caught:
        read_requirements(path)
    assert str(caught.value) == (
        f"{path}: row 1: header: expected columns interval_start,queue,required, missing "
        "required (found interval_start,queue,needed; names in any case and order, separated "
        "by commas, semicolons, tabs or pipes)"
    )


def test_a_column_twice_in_another_case_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "req.csv",
        "interval_start,queue,required,Queue\n2024-03-04T08:00:00+00:00,sales,2,billing\n",
    )
    with pytest.raises(InputError, match=r"req.csv: row 1: column 'queue': appears twice$"):
        read_requirements(path)


def test_row_and_field_are_named_in_a_file_with_another_header(tmp_path: Path) -> None:
    path = write(
        tmp_path / "agents.csv",
        "Max_Hours|Min_Hours|Agent_ID|Region|TimeZone|Skills|Languages\n"
        "40|20|A1|emea|Europe/Berlin|sales|de\n"
        "40|zero|A2|emea|Europe/Berlin|sales|de\n",
    )
    with pytest.raises(InputError) as caught:
        read_agents(path)
    assert str(caught.value) == (f"{path}: row 3: field min_hours: expected a number, found 'zero'")
