from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from i18n.locale import DEFAULT_CONFIG, enabled_languages, profile_for
from i18n.model import Formality, Verbosity
from switchboard.common.errors import ConfigError

MOMENT = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)


def test_shipped_config_enables_twenty_languages():
    languages = enabled_languages(DEFAULT_CONFIG)
    assert len(languages) >= 20
    assert {"en", "es", "ja", "ar", "he", "zh", "th"} <= set(languages)


def test_region_and_language_row():
    profile = profile_for("europe-west", "de")
    assert profile.locale == "de_DE"
    assert profile.formality is Formality.FORMAL
    assert profile.verbosity is Verbosity.SHORT
    assert profile.format_number(1234567.891) == "1.234.567,891"
    assert profile.format_money(1234.5) == "1.234,50\xa0€"
    assert profile.format_time(MOMENT) == "14:30"  # Berlin, winter time


def test_region_style_with_language_locale():
    # America-east has no row for French: its style (informal, USD, New York) with fr.
    profile = profile_for("america-east", "fr")
    assert profile.formality is Formality.INFORMAL
    assert profile.greeting_key == "welcome_informal"
    assert profile.format_money(12.5) == "12,50\xa0$US"
    assert profile.format_time(MOMENT) == "08:30"


def test_language_row_anywhere_and_defaults():
    assert profile_for("nowhere", "pt").locale == "pt_PT"
    default = profile_for("nowhere", "ru")
    assert default.settings.currency == "USD"
    assert default.verbosity is Verbosity.FULL
    assert default.greeting_key == "welcome"


def test_a_language_without_a_row_keeps_its_own_locale():
    """No country is guessed from a language (CLDR would make every `ar` Egyptian)."""
    assert profile_for("nowhere", "ko").locale == "ko"
    assert profile_for("nowhere", "de-CH").locale == "de_CH"
    assert profile_for("nowhere", "xx").locale == "en"


def test_money_without_minor_unit():
    assert profile_for("asia-east", "ja").format_money(1234.4) == "￥1,234"


@pytest.mark.parametrize(
    ("language", "seconds", "spoken", "written"),
    [
        ("en", 245, "4 minutes", "4 min"),
        ("en", 30, "1 minute", "30 sec"),
        ("de", 5400, "1 Stunde und 30 Minuten", "1 Std., 30 Min."),
        ("ru", 120, "2 минуты", "2 мин"),
        ("ru", 300, "5 минут", "5 мин"),
        ("pl", 180, "3 minuty", "3 min"),
        ("ar", 120, "دقيقتان", "2 د"),
    ],
)
def test_durations_spoken_and_written(language: str, seconds: int, spoken: str, written: str):
    profile = profile_for("nowhere", language)
    assert profile.format_duration(seconds, spoken=True) == spoken
    assert profile.format_duration(seconds) == written


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        profile_for("nowhere", "en").format_time(datetime(2026, 1, 1, 12, 0))


def test_config_faults_name_file_and_key(tmp_path: Path):
    path = tmp_path / "locales.toml"
    path.write_text(
        '[locales]\nenabled_languages = ["en"]\n'
        '[[locales.profiles]]\nregion = "x"\nlanguage = "de"\nlocale = "zz_QQ"\n'
        'formality = "casual"\ntimezone = "Mars/Olympus"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as error:
        profile_for("x", "de", config=path)
    lines = str(error.value).splitlines()
    assert any("locales.profiles[0].locale" in line and "zz_QQ" in line for line in lines)
    assert any("locales.profiles[0].formality" in line for line in lines)
    assert any("locales.profiles[0].timezone" in line for line in lines)
    assert all(str(path) in line for line in lines)


def test_customer_card_in_the_agents_language():
    from i18n.service import customer_card

    card = customer_card(profile_for("asia-east", "ja"), "de", MOMENT, 245)
    assert card["language"] == "Japanisch (Japan)"
    assert card["local_time"] == "22:30"  # Tokyo time, written the German way
    assert card["waited"] == "4 Min."
    assert (card["formality"], card["currency"]) == ("formal", "JPY")


def test_a_row_is_found_whatever_the_case_of_its_tag(tmp_path: Path):
    """BCP 47 tags are case-insensitive: a row written `PT-br` is the `pt-BR` asked for."""
    path = tmp_path / "locales.toml"
    path.write_text(
        '[locales]\nenabled_languages = ["en", "pt"]\n'
        '[[locales.profiles]]\nregion = "*"\nlanguage = "PT-br"\nlocale = "pt_BR"\n'
        'currency = "BRL"\ntimezone = "America/Sao_Paulo"\n',
        encoding="utf-8",
    )
    profile = profile_for("nowhere", "pt-BR", config=path)
    assert (profile.locale, profile.settings.currency) == ("pt_BR", "BRL")
    assert profile_for("nowhere", "PT_br", config=path).settings.currency == "BRL"
