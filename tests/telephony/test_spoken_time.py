"""The reopening time as callers hear it (IVR probe 3, finding 1): espeak-ng is given the
time as the language says it ("8 in the morning", "8 Uhr", "8じ", "오전 여덟 시"), never the
written "8:00 AM" / "08:00", which it read digit by digit ("eight zero zero A M", "ba ling
ling", Korean "A M 팔 영 영")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from i18n.locale import DEFAULT_CONFIG, enabled_languages
from i18n.prompts import spoken_text
from telephony.model import Prompt
from telephony.prompts import prompt_text
from telephony.style import locale_style, no_style, spoken_time
from tests.i18n.espeak import phonemes

LANGUAGES = [*enabled_languages(DEFAULT_CONFIG), "yue"]
EIGHT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
EIGHT_THIRTY = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
# What the IVR says for 08:00 and 08:30 (region "default": each language's own locale).
SAID = {
    "en": ("8 in the morning", "8 30 in the morning"),
    "es": ("8 de la mañana", "8 30 de la mañana"),
    "pt": ("8 da manhã", "8 30 da manhã"),
    "fr": ("8 heures", "8 heures 30"),
    "de": ("8 Uhr", "8 Uhr 30"),
    "it": ("8 di mattina", "8 30 di mattina"),
    "nl": ("8 ’s ochtends", "8 30 ’s ochtends"),
    "ru": ("8 утра", "8 30 утра"),
    "ar": ("8 صباحًا", "8 30 صباحًا"),
    "he": ("8 בבוקר", "8 30 בבוקר"),
    "hi": ("सुबह 8", "सुबह 8 30"),
    "zh": ("8点", "8点30分"),
    "ja": ("8じ", "8じ30ぷん"),
    "ko": ("오전 여덟 시", "오전 여덟 시 30분"),
    "th": ("8 ในตอนเช้า", "8 30 ในตอนเช้า"),
    "vi": ("8 giờ", "8 giờ 30"),
    "id": ("8 pagi", "8 30 pagi"),
    "ms": ("8 pagi", "8 30 pagi"),
    "tr": ("sabah 8", "sabah 8 30"),
    "pl": ("8 rano", "8 30 rano"),
    "yue": ("朝早8點", "朝早8點30分"),
}
# The same times in words: espeak-ng must read ours exactly as it reads these.
IN_WORDS = {
    "en": ("eight in the morning", "eight thirty in the morning"),
    "es": ("ocho de la mañana", "ocho treinta de la mañana"),
    "fr": ("huit heures", "huit heures trente"),
    "hi": ("सुबह आठ", "सुबह आठ तीस"),
    "vi": ("tám giờ", "tám giờ ba mươi"),
    "zh": ("八点", None),
    "ko": ("오전 여덟 시", None),
    "yue": ("朝早八點", None),
    "it": ("otto di mattina", None),
    "id": ("delapan pagi", None),
}


def opens_at(language: str, time: str) -> str:
    """The closed message's last sentence as espeak-ng is given it."""
    return spoken_text(prompt_text(Prompt("ivr.opens_at", language, (("time", time),))), language)


def test_every_ivr_language_is_checked() -> None:
    assert set(SAID) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_says_the_hour_its_own_way(language: str) -> None:
    style = locale_style("default", language)
    assert (style.clock(EIGHT), style.clock(EIGHT_THIRTY)) == SAID[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_engine_is_given_no_clock_digits_nor_english_letters(language: str) -> None:
    style = locale_style("default", language)
    for hour, minute in ((8, 0), (8, 30), (20, 0), (12, 0), (20, 5)):
        text = opens_at(language, style.clock(datetime(2026, 1, 5, hour, minute, tzinfo=UTC)))
        assert not re.search(r"\d[:.]\d", text), text  # "8:00", "08.00"
        assert minute or not re.search(r"(?<!\d)0\d", text), text  # "08", "00"
        assert not re.search(r"\b[AaPp]\.? ?[Mm]\b", text), text  # "AM", "am", "p. m."
        assert "(en)" not in phonemes(text, language), text  # no English voice ("A M")


@pytest.mark.parametrize("language", list(IN_WORDS))
def test_the_voice_reads_the_time_as_those_words(language: str) -> None:
    style = locale_style("default", language)
    for moment, words in zip((EIGHT, EIGHT_THIRTY), IN_WORDS[language], strict=True):
        if words is not None:
            ours = phonemes(opens_at(language, style.clock(moment)), language)
            assert ours == phonemes(opens_at(language, words), language), (language, moment)


def test_the_time_is_the_centres_own_and_the_regions_locale_decides() -> None:
    paris = datetime(2026, 1, 5, 7, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert spoken_time(paris, "de_DE") == "8 Uhr"
    assert spoken_time(paris.replace(hour=20, minute=5), "de_DE") == "20 Uhr 5"
    assert spoken_time(paris.replace(hour=20, minute=5), "en_US") == "8 05 in the evening"
    assert spoken_time(paris.replace(hour=1), "fr_FR") == "1 heure"
    assert spoken_time(paris.replace(hour=12), "en_US") == "12 noon"
    # Spanish in a US region writes "8:00 a. m.", British English "08:00": both said so.
    assert locale_style("america-east", "es").clock(paris) == "8 de la mañana"
    assert locale_style("europe-west", "en").clock(EIGHT) == "8 in the morning"


def test_plain_styles_say_times_in_words_too() -> None:
    assert no_style("default", "fr").clock(EIGHT) == "8 heures"
    assert no_style("default", "ko").clock(EIGHT) == "오전 여덟 시"
