"""Names one planning file uses and another must know (a probe: `spanish` as a language,
`bagage` as a skill, a queue of language `jp` and leave under an agent id the roster does
not have were all taken without a word): languages babel does not know are refused with
the tag meant, skills no queue needs and rules for agents the roster lacks are warned
about, with the name likely meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler import csvfiles
from scheduler.model import AgentWishes, Rules
from scheduler.names import unknown_agents, unused_skills
from scheduler.rules import load_rules
from switchboard.cli import main
from switchboard.common.errors import ConfigError, InputError

from .conftest import RULES_TOML, agent, rules
from .test_check_horizon import files as check_files


def test_a_language_babel_does_not_know_is_refused_with_the_tag_meant(tmp_path: Path) -> None:
    path = tmp_path / "agents.csv"
    path.write_text(
        "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"
        "x-1,emea,Europe/Madrid,booking,es;en,20,40\n"
        "x-lang,emea,Europe/Madrid,booking,spanish,20,40\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        csvfiles.read_agents(path)
    assert str(raised.value) == (
        f"{path}: row 3: field languages: expected a language tag babel knows, like es or "
        "pt-BR (did you mean 'es'?), found 'spanish'"
    )


def test_a_queue_language_that_is_a_country_is_refused_naming_the_language(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        RULES_TOML + '\n[queues.booking_ja]\nskill = "booking"\nlanguage = "jp"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_rules(path)
    assert str(raised.value) == (
        f"{path}: queues.booking_ja.language: expected a language tag babel knows, like es or "
        "pt-BR (did you mean 'ja'? JP is a country, its language is ja), found 'jp'"
    )
    path.write_text(RULES_TOML + '\n[queues.sales_ch]\nlanguage = "de-CH"\n', encoding="utf-8")
    assert load_rules(path).queues["sales_ch"].language == "de"


def test_a_skill_no_queue_needs_is_named_with_the_one_likely_meant() -> None:
    team = [
        agent("B1", "sales;billing"),
        agent("B2", "salse"),
        *(agent(f"C{n}", "claims;sales") for n in range(7)),
    ]
    assert unused_skills(team, ["sales_de", "sales_en"], rules(), "agents.csv") == [
        "agents.csv: field skills: 'billing' (agent B1) is no queue's skill; no shift is "
        "planned for it",
        "agents.csv: field skills: 'claims' (agents C0, C1, C2, C3, C4 and 2 more) is no "
        "queue's skill; no shift is planned for it",
        "agents.csv: field skills: 'salse' (agent B2) is no queue's skill (did you mean "
        "'sales'?); no shift is planned for it",
    ]


def test_rules_for_an_agent_the_roster_lacks_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    team = [agent("emea-130", "sales"), agent("emea-131", "sales")]
    wishes = load_rules_text(tmp_path, '[agents.emea-13O]\nunavailable = ["2024-03-05"]\n')
    assert unknown_agents(team, wishes, "rules.toml", "agents.csv") == [
        "rules.toml: agents.emea-13O: no agent 'emea-13O' in agents.csv (did you mean "
        "'emea-130'?); its availability and wishes apply to no one"
    ]
    # `schedule check` says so too (a warning: a rules file may outlive an agent who left,
    # or serve a roster of one region).
    args = check_files(tmp_path)
    rules_path = Path(args[args.index("--rules") + 1])
    rules_path.write_text(RULES_TOML + '\n[agents.b2]\nunavailable = ["2024-03-05"]\n')
    assert main(args) == 0
    assert (
        f"warning: {rules_path}: agents.b2: no agent 'b2' in {args[args.index('--agents') + 1]} "
        "(did you mean 'B2'?); its availability and wishes apply to no one"
    ) in capsys.readouterr().err


def load_rules_text(tmp_path: Path, extra: str) -> Rules:
    path = tmp_path / "wishes.toml"
    path.write_text(RULES_TOML + "\n" + extra, encoding="utf-8")
    return load_rules(path)


def test_many_unknown_agents_are_named_in_brief_after_the_first_five() -> None:
    # A rules file of a whole center read with the roster of one region.
    wishes = rules(agents={f"amer-{n:03d}": AgentWishes() for n in range(12)})
    lines = unknown_agents([agent("emea-001", "sales")], wishes, "rules.toml", "agents.csv")
    assert len(lines) == 6 and lines[0].startswith("rules.toml: agents.amer-000: no agent")
    assert lines[-1] == (
        "rules.toml: 7 more [agents.*] sections name no agent in agents.csv (amer-005, "
        "amer-006, amer-007, amer-008, amer-009, ...)"
    )
