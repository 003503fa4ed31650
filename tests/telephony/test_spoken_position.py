"""Positions and translated prompt texts as the IVR builds them (findings 4 and 5)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from i18n.locale import DEFAULT_CONFIG, enabled_languages
from telephony.model import Prompt
from telephony.prompts import prompt_text
from telephony.style import locale_style
from tests.i18n.espeak import phonemes

# The shipped 20, and Cantonese, which a flow offers beside them (docs/i18n.md).
LANGUAGES = [*enabled_languages(DEFAULT_CONFIG), "yue"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_position_of_thousands_is_one_number(language: str) -> None:
    """babel groups 1234 as "1 234" (fr, U+202F) or "1 234" (ru/pl/pt, U+00A0), which
    espeak-ng reads as two numbers: "one, two hundred thirty-four"."""
    position = locale_style("default", language).number(1234)

    def said(value: str) -> str:
        values = (("position", value),)
        return phonemes(prompt_text(Prompt("queue.position_no_wait", language, values)), language)

    assert said(position) == said("1234"), (language, position)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_opening_time_and_consent_are_in_the_callers_language(language: str) -> None:
    english_consent = prompt_text(Prompt("recording.consent", "en"))
    consent = prompt_text(Prompt("recording.consent", language))
    assert consent and consent != english_consent, language
    eight = locale_style("default", language).clock(
        datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("UTC"))
    )
    values = (("time", eight),)
    opens = prompt_text(Prompt("ivr.opens_at", language, values))
    assert eight in opens and opens != prompt_text(Prompt("ivr.opens_at", "en", values)), language


@pytest.mark.parametrize("language", ["ja", "zh", "yue"])
def test_opening_time_and_consent_are_read_in_their_own_voice(language: str) -> None:
    """No kanji (espeak-ng says "Chinese letter" in English) and no English voice."""
    values = (("time", "8:00"),)
    for prompt in (Prompt("recording.consent", language), Prompt("ivr.opens_at", language, values)):
        assert "(en)" not in phonemes(prompt_text(prompt), language), prompt
