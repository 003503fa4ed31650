"""Every prompt a caller can hear is a catalog entry, and a flow language's gaps are faults.

Localisation findings F2 and F3: the recording consent, "we open again at …" and the reason
template were Python dicts in telephony/prompts.py, so a new language spoke them in English
while `switchboard prompts check` said "complete"; and a phone-menu language
(`[[ivr]] languages`) with untranslated prompts passed `switchboard voice check` and started.
The CLI runs are an operator's: the real `switchboard`, on files in tmp_path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from i18n import catalogs
from i18n.prompts import PromptCatalog
from telephony.model import Prompt
from telephony.prompts import prompt_text
from tests.nodes import ROOT

# The catalog keys of the three texts, and the telephony names the IVR asks them by.
MOVED = {"recording_consent": "recording.consent", "opens_at": "ivr.opens_at"}
REASON_TEMPLATE = "reason_option"
SHIPPED = catalogs.catalog_languages()


def test_every_shipped_language_has_a_catalog() -> None:
    """The 20 enabled languages and Cantonese (docs/i18n.md)."""
    assert len(SHIPPED) == 21 and "yue" in SHIPPED


@pytest.mark.parametrize("language", SHIPPED)
def test_the_three_texts_are_translated_in_every_catalog(language: str) -> None:
    keys = {*MOVED, REASON_TEMPLATE}
    problems = [p for p in catalogs.check_catalogs([language]) if p.key in keys]
    assert problems == []
    catalog = PromptCatalog()
    for key in keys:
        assert catalog.has(key, language), (language, key)


@pytest.mark.parametrize("language", [code for code in SHIPPED if code != "en"])
def test_the_ivr_says_them_from_the_catalog(language: str) -> None:
    catalog = PromptCatalog()
    for key, said_as in MOVED.items():
        values = (("time", "8:00"),) if key == "opens_at" else ()
        text = prompt_text(Prompt(said_as, language, values))
        assert text == catalog.text(key, language, **dict(values)), (language, key)
        assert text != prompt_text(Prompt(said_as, "en", values)), (language, key)
    # A reason named other than booking/baggage/emergency/general: the catalog's template.
    named = (("digit", "3"), ("reason", "lounge"))
    option = prompt_text(Prompt("ivr.reason_option", language, named))
    assert option == catalog.text(REASON_TEMPLATE, language, reason="lounge", digit="3")
    assert "lounge" in option and "3" in option and option != "For lounge, press 3.", language


def test_a_reason_in_japanese_is_said_in_kana() -> None:
    """Once English outside en/fr/de/es (the template was a dict of four)."""
    values = (("digit", "3"), ("reason", "lounge"))
    assert prompt_text(Prompt("ivr.reason_option", "ja", values)) == (
        "lounge わ 3 を おして ください。"
    )


def switchboard(
    *args: str, cwd: Path, code: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI; `code`, a folder with a copy of the i18n package, is imported first."""
    path = f"{code}:{ROOT}" if code else str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"},
    )


def test_prompts_check_names_a_catalog_without_the_consent(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(catalogs.LOCALES_DIR / "fr", locales / "fr")
    po = catalogs.po_path("fr", locales)
    french = catalogs.read_catalog(po, "fr")
    french.delete("This call is recorded for quality and training.")
    catalogs.write_catalog(french, po)
    catalogs.compile_catalogs(["fr"], locales)
    args = ("prompts", "check", "--catalogs", str(locales), "--languages", "fr")
    result = switchboard(*args, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["fr: recording_consent: missing"]


@pytest.fixture
def persian_in_progress(tmp_path: Path) -> Path:
    """A copy of the i18n package (and the locales file it reads) with a Persian catalog
    made as docs/i18n.md says, every prompt translated but `queued` and `no_input`
    (blank) and `goodbye` (fuzzy). Returns the folder to import the copy from."""
    code = tmp_path / "code"
    shutil.copytree(ROOT / "i18n", code / "i18n", ignore=shutil.ignore_patterns("__pycache__"))
    (code / "config").mkdir()
    shutil.copy(ROOT / "config" / "locales.toml", code / "config" / "locales.toml")
    locales = code / "i18n" / "locales"
    catalogs.update_catalogs(["fa"], locales)
    po = catalogs.po_path("fa", locales)
    persian = catalogs.read_catalog(po, "fa")
    blank = {"Please hold, an agent will be with you shortly.", "We did not hear a choice."}
    for message in persian:
        if not message.id or message.id in blank:
            continue
        if isinstance(message.id, str):
            message.string = f"[fa] {message.id}"
        else:
            message.string = tuple(f"[fa] {message.id[1]}" for _ in range(persian.num_plurals))
        if message.id == "Goodbye.":
            message.flags.add("fuzzy")
    catalogs.write_catalog(persian, po)
    catalogs.compile_catalogs(["fa"], locales)
    return code


def node_file(tmp_path: Path, languages: str) -> Path:
    text = (ROOT / "config" / "default.toml").read_text()
    text = text.replace('data_dir = "var/redis"', f'data_dir = "{tmp_path / "redis"}"')
    flow = 'languages = ["en", "fr", "de"]'
    assert flow in text
    path = tmp_path / "node.toml"
    path.write_text(text.replace(flow, f"languages = {languages}", 1))
    return path


def test_voice_check_and_start_refuse_a_flow_language_with_untranslated_prompts(
    tmp_path: Path, persian_in_progress: Path
) -> None:
    path = node_file(tmp_path, '["en", "fa"]')
    fault = (
        f"{path}: ivr[0].languages: expected languages whose prompts are all translated"
        " (translate the rest, then `switchboard prompts compile`; `switchboard prompts check"
        " --languages fa` lists them), found 'fa, with 3 prompts untranslated or broken:"
        " queued (not translated), goodbye (marked fuzzy), no_input (not translated)'"
    )
    for command in (("voice", "check"), ("serve", "--no-voice")):
        result = switchboard(
            *command, "--config", str(path), cwd=tmp_path, code=persian_in_progress
        )
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().removeprefix("switchboard: error: ").splitlines()
        assert fault in lines, result.stderr
    assert not (tmp_path / "redis").exists()  # nothing started


def test_a_flow_language_with_every_prompt_passes(tmp_path: Path) -> None:
    path = node_file(tmp_path, '["en", "yue", "ja"]')
    result = switchboard("voice", "check", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "languages en/yue/ja" in result.stdout


def test_prompts_check_covers_the_flow_languages_of_a_node_file(
    tmp_path: Path, persian_in_progress: Path
) -> None:
    """`fa` is in no `enabled_languages`, only in the flow: the locales file alone passes."""
    alone = switchboard("prompts", "check", cwd=tmp_path, code=persian_in_progress)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert alone.stdout.strip() == "prompt catalogs complete: 20 languages"
    path = node_file(tmp_path, '["en", "fa"]')
    result = switchboard(
        "prompts", "check", "--config", str(path), cwd=tmp_path, code=persian_in_progress
    )
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "fa: queued: not translated" in lines and "fa: no_input: not translated" in lines
    assert "fa: goodbye: marked fuzzy" in lines
    assert "in 21 languages" in result.stderr
