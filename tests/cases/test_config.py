"""The case sections of a node's file: read with the shared reader, every fault at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.cases.model import RuleTrigger
from switchboard.common.errors import ConfigError
from switchboard.node import check_configuration
from switchboard.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def settings_with(tmp_path: Path, extra: str, base: str = "default.toml") -> Settings:
    text = (ROOT / "config" / base).read_text() + "\n" + extra
    path = tmp_path / "node.toml"
    path.write_text(text)
    return load_settings(path, defer_faults=True)


def test_the_shipped_files_read_cleanly() -> None:
    cases = check_configuration(load_settings(ROOT / "config" / "default.toml")).cases
    assert [policy.name for policy in cases.policies] == ["emergency", "gold", "standard"]
    assert cases.policy_for("emergency", "standard").around_the_clock  # type: ignore[union-attr]
    assert cases.policy_for("booking", "gold").name == "gold"  # type: ignore[union-attr]
    assert cases.policy_for("booking", "standard").name == "standard"  # type: ignore[union-attr]
    assert cases.emotion is not None and len(cases.emotion.lexicons) == 21  # 20 and yue
    assert cases.emotion.move_to == "senior"
    assert [rule.on for rule in cases.rules] == [RuleTrigger.EMOTION]
    three = check_configuration(load_settings(ROOT / "config" / "regions-3.toml")).cases
    assert {name: cal.spec for name, cal in three.calendars.items()} == {
        "asia-east": "CN",
        "europe-west": "FR",
        "america-east": "US-NY",
    }


def test_every_fault_of_the_case_sections_is_reported_at_once(tmp_path: Path) -> None:
    secret = tmp_path / "short-secret"
    secret.write_text("short")
    settings = settings_with(
        tmp_path,
        f"""
[[sla_policies]]
name = "broken"
queues = ["nowhere"]
first_response = "15"
hours = "office"
escalation = {{ move_to = "nowhere", raise_priority = 12 }}

[[sla_policies]]
name = "empty"

[[case_rules]]
name = "odd"
on = "moon"
within = "soon"

[[webhooks]]
name = "crm"
url = "ftp://crm.example"
secret_file = "{secret}"
events = ["billing.*"]
retries = 3
""",
    )
    with pytest.raises(ConfigError) as failure:
        check_configuration(settings)
    text = str(failure.value)
    for expected in (
        "sla_policies[3].queues: expected names of [[queues]]",
        "sla_policies[3].first_response: expected a duration like 20s, 30m",
        "sla_policies[3].hours: expected one of business, around_the_clock",
        "sla_policies[3].escalation.move_to: expected the name of a [[queues]]",
        "sla_policies[3].escalation.raise_priority: expected an integer >= 0 and <= 9",
        "sla_policies[4].first_response: expected at least one of first_response",
        "case_rules[1].on: expected one of contact, repeat_contact, emotion",
        "case_rules[1].within: expected a duration",
        "webhooks[0].url: expected an http:// or https:// URL",
        "webhooks[0].secret_file: expected a secret of 16 characters or more",
        "webhooks[0].events: expected patterns like case.*",
        "webhooks[0].retries: unknown key",
    ):
        assert expected in text, (expected, text)


def test_a_region_calendar_that_does_not_exist_is_a_fault(tmp_path: Path) -> None:
    text = (
        (ROOT / "config" / "regions-3.toml")
        .read_text()
        .replace('holidays = "FR"', 'holidays = "XX"')
    )
    path = tmp_path / "node.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as failure:
        check_configuration(load_settings(path, defer_faults=True))
    assert "regions[1].holidays: expected a country code such as FR or US-NY" in str(failure.value)


def test_a_missing_emotion_folder_is_a_fault(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, "")
    text = settings.path.read_text().replace(
        "[emotion]\n", f'[emotion]\nlists = "{tmp_path / "none"}"\n'
    )
    settings.path.write_text(text)
    with pytest.raises(ConfigError) as failure:
        check_configuration(load_settings(settings.path, defer_faults=True))
    assert "emotion lists: expected a folder of <language>.toml files" in str(failure.value)
