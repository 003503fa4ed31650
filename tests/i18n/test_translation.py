"""Translation through tiny Argos models built on the fly and installed with the real API.

These translators use Argos alone (`ARGOS_ONLY`), so that the Apertium pairs a machine
may have installed do not change what the tests see; tests/i18n/test_apertium.py covers
Apertium and the choice between the two.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from i18n.translation import check_model_file, install_model, installed_models
from switchboard.common.errors import InputError
from tests.i18n.tiny_model import WORDS
from tests.i18n.translators import argos_translator as Translator


def test_installed_models_are_listed(packages_dir: Path):
    pairs = {(m.source, m.target) for m in installed_models(packages_dir)}
    assert pairs == {("es", "en"), ("en", "es"), ("en", "ja")}
    assert {m.sentence_splitter for m in installed_models(packages_dir)} == {"minisbd"}


def test_pairs_include_pivots(packages_dir: Path):
    translator = Translator(packages_dir)
    pairs = translator.pairs()
    assert ("es", "ja") in pairs  # es→en→ja
    assert ("ja", "en") not in pairs
    assert translator.can_translate("es-MX", "ja")
    assert translator.can_translate("ja", "ja")
    assert not translator.can_translate("ja", "es")


def test_translates_word_for_word_keeping_the_original(packages_dir: Path):
    translator = Translator(packages_dir)
    text = "hola mi maleta está perdida. dónde está mi vuelo?"
    result = translator.translate(text, "es", "en")
    assert result.translated and not result.missing_pair and result.engine == "argos"
    assert result.original == text and (result.source, result.target) == ("es", "en")
    # Two sentences (MiniSBD), each through SentencePiece and CTranslate2, joined again.
    assert result.text == "hello my bag is lost. where is my flight?"
    # Words outside the model's vocabulary are copied, as names should be.
    assert translator.translate("gracias Ana, hoy!", "es", "en").text == "thanks Ana, today!"


def test_pivot_translation_reaches_japanese(packages_dir: Path):
    translator = Translator(packages_dir)
    assert translator.route("es", "ja") == [("es", "en", "argos"), ("en", "ja", "argos")]
    result = translator.translate("hola gracias", "es", "ja")
    assert result.translated and result.text == "こんにちは ありがとう"


def test_cache_hits_and_lru_eviction(packages_dir: Path):
    translator = Translator(packages_dir, cache_size=2)
    first = translator.translate("hello my bag", "en", "es")
    again = translator.translate("hello my bag", "en", "es")
    assert not first.cached and again.cached and again.text == first.text == "hola mi maleta"
    assert (translator.hits, translator.misses) == (1, 1)
    translator.translate("thanks", "en", "es")
    translator.translate("help", "en", "es")
    assert not translator.translate("hello my bag", "en", "es").cached  # evicted


def test_missing_pair_is_reported_never_raised(packages_dir: Path):
    result = Translator(packages_dir).translate("merhaba", "tr", "en")
    assert result.missing_pair and not result.translated
    assert result.text == result.original == "merhaba"


def test_same_language_and_empty_text_pass_through(packages_dir: Path):
    translator = Translator(packages_dir)
    assert translator.translate("hola", "es", "es-MX").text == "hola"
    assert translator.translate("  ", "es", "en").text == "  "
    assert translator.misses == 0


def test_empty_directory_has_no_pairs(tmp_path: Path):
    translator = Translator(tmp_path / "none")
    assert translator.pairs() == []
    assert translator.translate("hello", "en", "es").missing_pair


async def test_translate_async(packages_dir: Path):
    result = await Translator(packages_dir).translate_async(
        "hello, where is my flight?", "en", "es"
    )
    assert result.translated and result.text == "hola, dónde está mi vuelo?"


def test_install_reports_unusable_files(tmp_path: Path, model_files: dict):
    with pytest.raises(InputError, match="no such file"):
        install_model(tmp_path / "absent.argosmodel", tmp_path / "pk")
    text = tmp_path / "notes.argosmodel"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not an Argos model"):
        install_model(text, tmp_path / "pk")

    # A package without a sentence splitter would try to download one at run time.
    source = model_files[("en", "es")]
    stripped = tmp_path / "stripped.argosmodel"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(stripped, "w") as dst:
        for item in src.infolist():
            if "/minisbd/" not in item.filename:
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(InputError, match=r"no MiniSBD sentence splitter \(minisbd/\*\.onnx\):"):
        check_model_file(stripped)
    # One with stanza's splitter only needs stanza and torch, which are not installed.
    stanza = tmp_path / "stanza.argosmodel"
    with zipfile.ZipFile(stripped) as src, zipfile.ZipFile(stanza, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("translate-en_es/stanza/en/tokenize/combined.pt", b"")
    with pytest.raises(InputError, match=r"it has stanza/, which needs torch"):
        install_model(stanza, tmp_path / "pk")

    broken = tmp_path / "broken.argosmodel"
    with zipfile.ZipFile(broken, "w") as dst:
        dst.writestr("translate-x/metadata.json", json.dumps({"from_code": "en"}))
    with pytest.raises(InputError, match="field to_code"):
        install_model(broken, tmp_path / "pk")
    assert not (tmp_path / "pk").exists() or not any((tmp_path / "pk").iterdir())


def test_two_translators_do_not_mix_directories(tmp_path: Path, model_files: dict):
    only = tmp_path / "only-es-en"
    install_model(model_files[("es", "en")], only)
    assert Translator(only).pairs() == [("es", "en")]
    assert Translator(only).translate("hola", "es", "en").text == "hello"
    assert Translator(only).translate("hello", "en", "es").missing_pair


async def test_concurrent_translations_match_sequential(packages_dir: Path):
    import asyncio

    texts = [f"hello my bag {word}" for word in WORDS["en"]]
    sequential = [Translator(packages_dir).translate(t, "en", "es").text for t in texts]
    assert sequential == [f"hola mi maleta {word}" for word in WORDS["es"]]
    shared = Translator(packages_dir)
    together = await asyncio.gather(*(shared.translate_async(t, "en", "es") for t in texts))
    assert [r.text for r in together] == sequential


def test_an_installed_model_without_minisbd_is_listed_but_not_used(
    tmp_path: Path, packages_dir: Path
):
    """A package installed by argostranslate 1.11 may carry stanza/ only: never used."""
    import shutil

    old = tmp_path / "packages"
    shutil.copytree(
        next(m.path for m in installed_models(packages_dir) if m.source == "es"), old / "es_en"
    )
    shutil.rmtree(old / "es_en" / "minisbd")
    (old / "es_en" / "stanza").mkdir()
    assert [(m.source, m.sentence_splitter) for m in installed_models(old)] == [("es", "stanza")]
    translator = Translator(old)
    assert translator.pairs() == []
    assert translator.translate("hola", "es", "en").missing_pair


def test_without_the_argos_extra_no_pair_is_claimed_and_install_says_why(
    packages_dir: Path, model_files: dict, monkeypatch: pytest.MonkeyPatch
):
    """The Argos engine is optional (`switchboard[argos]`): missing, its installed models
    are not offered as pairs, and installing one names the extra to install."""
    import i18n.argos

    assert Translator(packages_dir).pairs()
    monkeypatch.setattr(i18n.argos, "available", lambda: False)
    assert Translator(packages_dir).pairs() == []
    any_model = next(iter(model_files.values()))
    with pytest.raises(InputError, match=r"switchboard\[argos\]"):
        install_model(any_model, packages_dir)
