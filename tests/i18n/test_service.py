"""A chat between an agent and a customer who share no language, translated both ways."""

from __future__ import annotations

from pathlib import Path

from i18n.service import chat_line, shared_language, translation_language
from tests.i18n.translators import argos_translator as Translator


def test_chat_without_shared_language_is_translated_both_ways(packages_dir: Path):
    translator = Translator(packages_dir)
    customer, agent = ["es"], ["en", "ja"]
    assert shared_language(customer, agent) is None

    asked = "hola mi maleta está perdida"
    to_agent = chat_line(translator, asked, "es", agent)
    assert to_agent.translated and to_agent.reader_language == "en"
    assert to_agent.original == asked and to_agent.text == "hello my bag is lost"

    answer = "thanks, help today"
    to_customer = chat_line(translator, answer, "en", customer)
    assert to_customer.translated and to_customer.reader_language == "es"
    assert to_customer.original == answer and to_customer.text == "gracias, ayuda hoy"
    assert to_customer.as_dict()["original"] == answer

    # The same message again comes from the cache.
    assert translator.translate(asked, "es", "en").cached


def test_shared_language_needs_no_translation(packages_dir: Path):
    line = chat_line(Translator(packages_dir), "hello", "en", ["de", "en"])
    assert (line.text, line.translated, line.missing_pair) == ("hello", False, False)


def test_missing_pair_shows_the_original_and_says_so(packages_dir: Path):
    line = chat_line(Translator(packages_dir), "merhaba", "tr", ["en"])
    assert line.text == "merhaba" and line.missing_pair and not line.translated


def test_translation_routing_step():
    pairs = [("es", "en"), ("en", "es"), ("en", "ja")]
    assert translation_language("es", ["ja", "en"], pairs) == "en"
    assert translation_language("es-MX", ["de"], pairs) is None
    assert translation_language("ja", ["en"], pairs) is None  # only one direction
    assert translation_language("de", ["fr", "de-AT"], pairs) == "de"
