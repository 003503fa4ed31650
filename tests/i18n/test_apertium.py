"""Apertium through its long-lived pipelines: real sentences both ways, and the choice of engine.

Needs Debian's `apertium` and `apertium-eng-spa` (scripts/system-deps.sh, run by
`make test`, installs them); without them these tests fail and say so.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from i18n import apertium
from i18n.apertium import ApertiumEngine, ApertiumPipeline, installed_modes, language_code
from i18n.translation import Translator, install_model
from i18n.translation_settings import TranslationSettings, read_translation_settings
from switchboard.common.errors import ConfigError
from tests.i18n.translators import APERTIUM_ONLY


@pytest.fixture(scope="module", autouse=True)
def eng_spa_installed() -> None:
    modes = {mode.name for mode in installed_modes()}
    if not apertium.available() or not {"eng-spa", "spa-eng"} <= modes:
        pytest.fail("Apertium or apertium-eng-spa missing: run `bash scripts/system-deps.sh`")


@pytest.fixture(scope="module")
def engine() -> Iterator[ApertiumEngine]:
    engine = ApertiumEngine()
    yield engine
    engine.close()


def test_codes_are_the_projects():
    assert language_code("spa") == "es" and language_code("eng_US") == "en"
    assert language_code("nob") == "nb" and language_code("ast") == "ast"
    modes = {(mode.name, mode.source, mode.target, mode.package) for mode in installed_modes()}
    assert ("spa-eng", "es", "en", "apertium-eng-spa") in modes
    assert ("eng-spa", "en", "es", "apertium-eng-spa") in modes


@pytest.mark.parametrize(
    ("text", "source", "target", "must_contain"),
    [
        ("Necesito ayuda con mi cuenta.", "es", "en", ["I need help with my account."]),
        ("I need help with my account.", "en", "es", ["Necesito ayuda con mi cuenta."]),
        ("¿Dónde está mi vuelo? Mi maleta está perdida.", "es", "en", ["my flight", "lost"]),
        ("Where is my flight? My bag is lost.", "en", "es", ["mi vuelo", "perdido"]),
        ("Gracias.\nQuiero cambiar mi reserva.", "es", "en", ["Thank you", "\n", "change my"]),
    ],
)
def test_real_sentences_both_ways(engine, text, source, target, must_contain):
    translated = engine.translate(text, source, target)
    for words in must_contain:
        assert words in translated


def test_stream_format_characters_pass_through(engine):
    # Apertium's stream format gives [ ] ^ $ @ < > a meaning; the deformatter escapes them.
    translated = engine.translate("Mi cuenta [42] ^$ <b> @todos", "es", "en")
    assert translated.startswith("My account")
    for piece in ("[42]", "^$", "<b>", "@"):
        assert piece in translated


@pytest.mark.parametrize(
    ("text", "source", "target", "codes"),
    [
        ("Seat 12A is a window seat.", "en", "es", ["12A", "ventana."]),  # was "12Un"
        ("Is seat 12A free? My booking is X7K9PQ.", "en", "es", ["12A", "X7K9PQ"]),
        ("Flight BA2490 leaves from gate B12.", "en", "es", ["BA2490", "B12."]),
        ("Mi asiento es el 12A y el vuelo IB3166.", "es", "en", ["12A", "IB3166"]),
    ],
)
def test_codes_of_letters_and_digits_pass_verbatim(engine, text, source, target, codes):
    """A seat, flight or booking code reached an airline's customer changed: Apertium read
    "12A" as "12" and the article "a" (a desk probe: "Seat 12Un es un escaño")."""
    translated = engine.translate(text, source, target)
    for code in codes:
        assert code in translated, translated
    assert "Un " not in translated


def test_one_pipeline_serves_every_message_and_ends_on_close():
    mode = next(m for m in installed_modes() if m.name == "spa-eng")
    pipeline = ApertiumPipeline(mode)
    texts = [f"Tengo {n} maletas." for n in range(2, 12)]
    # Each answer is its own message's (the number), in order: no answer is shifted.
    assert [pipeline.translate(t) for t in texts] == [f"Have {n} cases." for n in range(2, 12)]
    assert pipeline.starts == 1 and pipeline.running
    pid = pipeline._process[0].pid  # type: ignore[union-attr]
    pipeline.close()
    assert not pipeline.running
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_a_long_message_does_not_block_the_pipeline(engine):
    """600 KB: writing it all before reading hung forever (every pipe of the chain full);
    writing and reading interleave, and only a stall, not a long text, times out."""
    text = "Necesito ayuda con mi cuenta. " * 20_000
    translated = engine.translate(text, "es", "en")
    assert translated.count("I need help with my account.") == 20_000


def test_a_dead_pipeline_is_started_again():
    mode = next(m for m in installed_modes() if m.name == "eng-spa")
    pipeline = ApertiumPipeline(mode)
    assert "cuenta" in pipeline.translate("My account.")
    process = pipeline._process[0]
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert "cuenta" in pipeline.translate("My account.")
    assert pipeline.starts == 2
    pipeline.close()


def test_translator_with_apertium_alone():
    translator = Translator(settings=APERTIUM_ONLY)
    try:
        assert {("es", "en"), ("en", "es")} <= set(translator.pairs())
        result = translator.translate("Necesito ayuda con mi cuenta.", "es-MX", "en")
        assert result.translated and result.engine == "apertium"
        assert result.text == "I need help with my account."
        assert result.original == "Necesito ayuda con mi cuenta."
        assert translator.translate("Necesito ayuda con mi cuenta.", "es", "en").cached
        assert translator.translate("Merhaba", "tr", "en").missing_pair
    finally:
        translator.close()


def test_argos_first_apertium_where_argos_has_no_model(tmp_path: Path, model_files: dict):
    """Default order: an Argos model wins its pair; Apertium fills the pairs it lacks."""
    packages = tmp_path / "packages"
    install_model(model_files[("es", "en")], packages)
    translator = Translator(packages)
    try:
        assert translator.direct()[("es", "en")] == "argos"
        assert translator.direct()[("en", "es")] == "apertium"
        back = translator.translate("I need help with my account.", "en", "es")
        assert back.engine == "apertium" and back.text == "Necesito ayuda con mi cuenta."
        mine = translator.translate("hola mi maleta", "es", "en")
        assert (mine.engine, mine.text) == ("argos", "hello my bag")
    finally:
        translator.close()


def test_a_pair_pinned_to_apertium(tmp_path: Path, model_files: dict):
    packages = tmp_path / "packages"
    install_model(model_files[("es", "en")], packages)
    install_model(model_files[("en", "ja")], packages)
    pinned = TranslationSettings(pairs={("es", "en"): "apertium"})
    translator = Translator(packages, settings=pinned)
    try:
        result = translator.translate("Necesito ayuda con mi cuenta.", "es", "en")
        assert result.engine == "apertium" and result.text == "I need help with my account."
        # es→ja: Apertium to English, then the Argos en→ja model.
        assert translator.route("es", "ja") == [("es", "en", "apertium"), ("en", "ja", "argos")]
        pivot = translator.translate("Necesito ayuda.", "es", "ja")
        # "I need help." from Apertium; the tiny en→ja model knows "help" and copies the rest.
        assert (pivot.engine, pivot.text) == ("apertium+argos", "I need たすけて.")
    finally:
        translator.close()


def test_settings_from_the_i18n_configuration(tmp_path: Path):
    path = tmp_path / "locales.toml"
    path.write_text(
        '[translation]\nengines = ["apertium"]\napertium_dir = "/opt/apertium"\n'
        '[translation.pairs]\n"es-en" = "argos"\n',
        encoding="utf-8",
    )
    settings = read_translation_settings(path)
    assert settings.engines == ("apertium",)
    assert settings.pairs == {("es", "en"): "argos"}
    assert settings.apertium_dir == Path("/opt/apertium")
    repo_settings = read_translation_settings(Path(__file__).parents[2] / "config/locales.toml")
    assert repo_settings.engines == ("argos", "apertium")


def test_configuration_faults_are_all_named(tmp_path: Path):
    path = tmp_path / "locales.toml"
    path.write_text(
        '[translation]\nengines = ["argos", "google"]\n'
        '[translation.pairs]\n"spanish-english" = "apertium"\n"es-en" = "deepl"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        read_translation_settings(path)
    message = str(raised.value)
    assert "translation.engines: expected engines among argos, apertium, found 'google'" in message
    assert "translation.pairs.spanish-english: expected a pair of language codes" in message
    assert "translation.pairs.es-en: expected one of argos, apertium, found 'deepl'" in message
