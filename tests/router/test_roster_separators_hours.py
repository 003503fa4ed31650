"""The agents CSV as an integrator's probe wrote it (its findings 5 and 7): a file a
European spreadsheet separates by `;` was "header: missing column(s) agent_id, region,
skills, languages" (the scheduler read it), and `max_hours` 400 or 1e308 was imported.
The roster finds the separator as the scheduler does (`split_header`), and holds weekly
hours to a week's 168, as the scheduler now does too."""

from __future__ import annotations

import pytest

from router.roster import roster_rows
from switchboard.common.errors import InputError

COLUMNS = ["agent_id", "region", "timezone", "skills", "languages", "min_hours", "max_hours"]


def rows(separator: str, *lines: list[str]) -> str:
    return "\n".join(separator.join(line) for line in (COLUMNS, *lines)) + "\n"


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_a_file_separated_otherwise_imports_as_a_comma_one(separator: str) -> None:
    text = rows(separator, ["ana", "default", "UTC", "booking:4", "en", "20", "40"])
    [(where, agent)] = roster_rows(text, "agents.csv", ["default"])
    assert where == "agents.csv: row 2"
    assert (agent.agent_id, agent.skills, agent.languages) == ("ana", {"booking": 4}, ["en"])


def test_skills_in_a_semicolon_file_are_quoted_as_a_spreadsheet_writes_them() -> None:
    text = rows(";", ["ana", "default", "UTC", '"booking:4;baggage:2"', '"en;es"', "20", "40"])
    [(_, agent)] = roster_rows(text, "agents.csv", ["default"])
    assert agent.skills == {"booking": 4, "baggage": 2} and agent.languages == ["en", "es"]
    unquoted = rows(";", ["ana", "default", "UTC", "booking:4;baggage:2", "en", "20", "40"])
    with pytest.raises(InputError, match="separated by ';' here, so a field holding ';' needs"):
        roster_rows(unquoted, "agents.csv", ["default"])


def test_a_row_split_by_another_separator_than_the_header_names_both() -> None:
    text = ",".join(COLUMNS) + "\nana;default;UTC;booking:4;en;20;40\n"
    with pytest.raises(InputError) as refused:
        roster_rows(text, "agents.csv", ["default"])
    assert "agents.csv: row 2: expected 7 fields" in str(refused.value)
    assert "separated by ';', the header's by ','" in str(refused.value)


def test_a_header_no_separator_splits_names_what_it_found() -> None:
    with pytest.raises(InputError, match=r"missing column\(s\) agent_id.*\(found agent_id_region;"):
        roster_rows("agent id region\nana default\n", "agents.csv", ["default"])


@pytest.mark.parametrize("hours", ["400", "1e308", "168.5"])
def test_weekly_hours_beyond_a_week_are_refused(hours: str) -> None:
    text = rows(",", ["ana", "default", "UTC", "booking", "en", "20", hours])
    with pytest.raises(InputError) as refused:
        roster_rows(text, "agents.csv", ["default"])
    assert str(refused.value) == (
        "agents.csv: row 2: field max_hours: expected a number >= 0 and <= 168 (the hours of "
        f"a week), found {hours!r}"
    )
    [(_, agent)] = roster_rows(text.replace(hours, "168"), "agents.csv", ["default"])
    assert agent.agent_id == "ana"
