"""A misspelled key of the locale profiles (`verbosty`) is a fault with the nearest known
key, not a silent default: for `prompts check`, and for a node whose IVR speaks by them
(its report names the locales file's faults with its own)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from i18n import locale
from i18n.locale import enabled_languages, profile_for

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "config" / "locales.toml").read_text()


def misspelled(tmp_path: Path) -> Path:
    """The shipped file with a profile's `verbosity` written `verbosty`."""
    assert 'verbosity = "short"' in SHIPPED
    path = tmp_path / "locales.toml"
    path.write_text(SHIPPED.replace('verbosity = "short"', 'verbosty = "short"', 1))
    return path


def test_prompts_check_reports_a_misspelled_key(tmp_path: Path) -> None:
    path = misspelled(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "prompts", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout
    assert result.stderr == (
        f"switchboard: error: {path}: locales.profiles[0].verbosty: unknown key "
        "(did you mean locales.profiles[0].verbosity?)\n"
    )
    assert "complete" not in result.stdout


def test_the_shipped_file_and_its_translation_section_pass() -> None:
    assert len(enabled_languages(ROOT / "config" / "locales.toml")) == 20


def test_a_default_language_not_enabled_is_a_fault(tmp_path: Path) -> None:
    from switchboard.common.errors import ConfigError

    path = tmp_path / "locales.toml"
    path.write_text(SHIPPED.replace('default_language = "en"', 'default_language = "xx"', 1))
    with pytest.raises(ConfigError, match=r"locales.default_language: expected one of enabled"):
        enabled_languages(path)


def test_locales_folded_into_another_file_leave_its_sections_alone(tmp_path: Path) -> None:
    """As docs/i18n.md has it: `[locales]` may live in the node's own file."""
    node = (ROOT / "config" / "default.toml").read_text()
    path = tmp_path / "node.toml"
    path.write_text(node + SHIPPED[SHIPPED.index("[locales]") :])
    assert profile_for("europe-west", "de", config=path).locale == "de_DE"


def test_a_node_with_ivr_flows_reports_the_locales_faults_with_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from switchboard.cli import main

    locales = misspelled(tmp_path)
    monkeypatch.setattr(locale, "DEFAULT_CONFIG", locales)  # what the IVR's workers read
    node = (ROOT / "config" / "default.toml").read_text()
    config = tmp_path / "node.toml"
    config.write_text(node.replace("[routing]\n", "[routing]\nmax_chat = 3\n", 1))
    assert main(["voice", "check", "--config", str(config)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"switchboard: error: {locales}: locales.profiles[0].verbosty: unknown key "
        "(did you mean locales.profiles[0].verbosity?)",
        f"{config}: routing.max_chat: unknown key (did you mean routing.max_chats?)",
    ]
