"""A customer language without an emotion list (config/emotion/<language>.toml) is read
for no emotion words: "I am very angry, I want a manager!" in Persian scored 0 while the
node took Persian chats and said nothing. The node now says which of the languages it
speaks (the IVR's, the chat's: every prompts catalog) have no list, at start-up and in
`switchboard voice check`, which checks the file as `serve` does."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from i18n.catalogs import catalog_languages
from router.cases.config import DEFAULT_LISTS, languages_without_lists, read_lexicons
from router.cases.model import EmotionSettings
from switchboard.node import check_configuration
from switchboard.settings import load_settings
from tests.nodes import ROOT

WARNING = "emotion escalation reads no words in"


def _lists(folder: Path, *languages: str) -> Path:
    folder.mkdir()
    for language in languages:
        shutil.copy(DEFAULT_LISTS / f"{language}.toml", folder / f"{language}.toml")
    return folder


def _node_file(tmp_path: Path, emotion: str) -> Path:
    text = (ROOT / "config" / "default.toml").read_text()
    assert text.count("[emotion]\n") == 1
    path = tmp_path / "node.toml"
    path.write_text(text.replace("[emotion]\n", f"[emotion]\n{emotion}\n"))
    return path


def test_the_languages_no_list_reads(tmp_path: Path) -> None:
    lexicons = read_lexicons(_lists(tmp_path / "lists", "en", "zh"), None)
    emotion = EmotionSettings(lexicons=lexicons)
    assert languages_without_lists(emotion, ["en", "zh-TW", "fa", "FA-ir", "pt-BR"]) == [
        "fa",
        "pt",
    ]
    assert languages_without_lists(emotion, ["en", "zh"]) == []
    assert languages_without_lists(None, ["fa"]) == []  # no [emotion]: off, on purpose


def test_the_shipped_lists_read_every_language_the_node_speaks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="switchboard.node"):
        check_configuration(load_settings(ROOT / "config" / "default.toml"))
    assert not [r for r in caplog.records if WARNING in r.getMessage()]


def test_a_language_the_node_speaks_without_a_list_is_named_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lists = _lists(tmp_path / "lists", "en", "zh", "yue")
    path = _node_file(tmp_path, f'lists = "{lists}"')
    with caplog.at_level(logging.WARNING, logger="switchboard.node"):
        check_configuration(load_settings(path))
    said = [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]
    unread = sorted(set(catalog_languages()) - {"en", "zh", "yue"})
    assert said == [
        f"{WARNING} {', '.join(unread)}: no <language>.toml among the [emotion] lists "
        "(or left out of [emotion] languages); only anger emoji count"
    ]


def test_languages_left_out_of_the_emotion_languages_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _node_file(tmp_path, 'languages = ["en", "es"]')
    with caplog.at_level(logging.WARNING, logger="switchboard.node"):
        check_configuration(load_settings(path))
    (said,) = [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]
    assert " ar, de, fr, " in said and " es," not in said and " en," not in said


def test_voice_check_says_it_too(tmp_path: Path) -> None:
    lists = _lists(tmp_path / "lists", *(set(catalog_languages()) - {"he"}))
    path = _node_file(tmp_path, f'lists = "{lists}"')
    text = path.read_text().replace('data_dir = "var/redis"', f'data_dir = "{tmp_path / "r"}"')
    path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "voice", "check", "--config", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert f"{WARNING} he: no <language>.toml" in result.stderr
