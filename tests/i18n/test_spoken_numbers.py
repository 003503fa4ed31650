"""Every number an IVR prompt says must be heard, in every IVR language (findings 2 and 4).

espeak-ng's Hebrew voice says nothing for digits ("press" with no key, a position with no
number), so numbers are spelled in words before rendering where a voice needs it.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from i18n.locale import DEFAULT_CONFIG, enabled_languages
from i18n.prompts import PromptCatalog, render_prompt
from tests.i18n.espeak import phonemes

LANGUAGES = list(enabled_languages(DEFAULT_CONFIG))


def test_all_twenty_ivr_languages_are_checked() -> None:
    assert len(LANGUAGES) >= 20 and "he" in LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_number_is_never_spoken_as_nothing(language: str) -> None:
    """The check that catches a new language whose voice skips digits."""
    from i18n.prompts import spoken_text

    for number in ("1", "5", "12", "1234"):
        assert phonemes(spoken_text(number, language), language), (language, number)
    assert phonemes(spoken_text("12", language), language) != phonemes(
        spoken_text("1", language), language
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_longer_number_is_longer_audio(tmp_path: Path, language: str) -> None:
    """What the caller hears: position 1234 takes longer to say than position 1 (Hebrew
    used to render both, and 12, as the same 1.35 s)."""
    catalog = PromptCatalog()

    def seconds(key: str, **values: object) -> float:
        path = render_prompt(catalog.text(key, language, **values), language, tmp_path)
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / audio.getframerate()

    one, many = (seconds("queue_position_no_wait", position=p) for p in ("1", "1234"))
    assert many > one + 0.3, (language, one, many)


def test_hebrew_numbers_are_feminine_words() -> None:
    """Counting, keys and minutes (דקה) take the feminine form in Hebrew."""
    from i18n.prompts import spoken_text

    assert spoken_text("הקישו 1.", "he") == "הקישו אחת."
    assert spoken_text("מספרך בתור הוא 12.", "he") == "מספרך בתור הוא שתים עשרה."
    assert spoken_text("כ-5 דקות", "he") == "כ-חמש דקות"
    assert spoken_text("הקישו 1 עד 5.", "he") == "הקישו אחת עד חמש."


def test_hebrew_times_are_hours_and_minutes() -> None:
    from i18n.prompts import spoken_text

    assert spoken_text("בשעה 08:00.", "he") == "בשעה שמונה."
    assert spoken_text("בשעה 8:30.", "he") == "בשעה שמונה ושלושים."


def test_languages_whose_voice_speaks_digits_keep_them() -> None:
    from i18n.prompts import spoken_text

    assert spoken_text("Press 1 to 5.", "en") == "Press 1 to 5."
    assert spoken_text("اضغط 12", "ar") == "اضغط 12"
