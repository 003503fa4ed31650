"""The agent's customer card, as a customer's locale writes it.

A wait past an hour is written in hours and minutes, in the locale's own short units and
list pattern: babel's `format_timedelta` says one unit, so a 90-minute wait read "2 hr"
("2 Std.", "שעתיים"). And a customer's tag that names a script or a country is written as
it says: a zh-TW customer's card was the mainland's (zh_Hans_CN, ¥), because the
profiles' rows are keyed by language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from i18n.catalogs import catalog_languages
from i18n.locale import profile_for, tag_locale
from i18n.service import customer_card

MOMENT = datetime(2026, 3, 2, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "seconds", "written"),
    [
        ("en", 5400, "1 hr, 30 min"),
        ("en", 7200, "2 hr"),
        ("en", 3720, "1 hr, 2 min"),
        ("en", 3599, "1 hr"),  # 59 min 59 s: whole minutes
        ("en", 245, "4 min"),
        ("en", 45, "45 sec"),
        ("de", 5400, "1 Std., 30 Min."),
        ("fr", 5400, "1\u202fh et 30\xa0min"),
        ("es", 5400, "1 h y 30 min"),  # format_list raised KeyError, format_unit "1 horas"
        ("pl", 5400, "1 godz. i 30 min"),
        ("ru", 5400, "1 ч 30 мин"),
        ("ar", 5400, "1 س و30 د"),  # babel's format_list repeated "، و30 د"
        ("he", 5400, "1 שעה, 30 דק׳"),
        ("ja", 5400, "1 時間 30 分"),
        ("ko", 5400, "1시간 30분"),
        ("zh", 5400, "1小时30分钟"),
        ("zh-TW", 5400, "1 小時 30 分鐘"),
    ],
)
def test_a_wait_past_an_hour_is_written_in_hours_and_minutes(
    language: str, seconds: int, written: str
) -> None:
    assert profile_for("nowhere", language).format_duration(seconds) == written


def test_every_shipped_language_writes_an_hour_and_a_half_with_both_units() -> None:
    """Each prompts language (the twenty and Cantonese): two numbers, the hour's never
    rounded up."""
    for language in catalog_languages():
        written = profile_for("nowhere", language).format_duration(5400)
        assert "1" in written and "30" in written and "2" not in written, (language, written)


def test_the_card_says_how_long_the_customer_waited_in_the_agents_language() -> None:
    card = customer_card(profile_for("asia-east", "ja"), "de", MOMENT, 5400)
    assert card["waited"] == "1 Std., 30 Min."
    assert customer_card(profile_for("nowhere", "en"), "en", MOMENT, 5460)["waited"] == (
        "1 hr, 31 min"
    )


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh-TW", "zh_Hant_TW"),
        ("zh-Hant-TW", "zh_Hant_TW"),
        ("ZH_hant_tw", "zh_Hant_TW"),
        ("zh-Hant", "zh_Hant"),  # a script, no country: none guessed
        ("zh-HK", "zh_Hant_HK"),
        ("pt-BR", "pt_BR"),
        ("yue", "yue_Hant_HK"),  # Cantonese, read as Hong Kong's (reading_tag)
        ("yue-CN", "yue_Hans_CN"),
        ("zh", None),  # a bare language: no country guessed
        ("ar", None),
        ("xx-YY", None),
    ],
)
def test_the_locale_a_tag_names(tag: str, locale: str | None) -> None:
    assert tag_locale(tag) == locale


def test_a_taiwanese_customer_is_written_as_taiwan_writes() -> None:
    """asia-east's style (formal, full) with Taiwan's locale, dollar and clock."""
    profile = profile_for("asia-east", "zh-TW")
    assert profile.locale == "zh_Hant_TW"
    assert (profile.settings.currency, profile.settings.timezone) == ("TWD", "Asia/Taipei")
    assert profile.format_money(1234.5) == "$1,234.50"
    assert profile.format_duration(5400) == "1 小時 30 分鐘"  # Traditional: 時, 鐘
    card = customer_card(profile, "en", MOMENT, 5400)
    assert card["language"] == "Chinese (Traditional, Taiwan)"
    assert (card["currency"], card["local_time"]) == ("TWD", "9:30\u202fPM")
    assert customer_card(profile_for("asia-east", "zh-Hant"), "en", MOMENT, 60)["language"] == (
        "Chinese (Traditional)"
    )


def test_a_cantonese_customer_is_written_as_hong_kong_writes() -> None:
    for tag in ("yue", "yue-HK", "YUE-hk"):
        profile = profile_for("asia-east", tag)
        assert profile.locale == "yue_Hant_HK", tag
        assert (profile.settings.currency, profile.settings.timezone) == (
            "HKD",
            "Asia/Hong_Kong",
        )


def test_the_other_lookups_are_unchanged() -> None:
    """A bare language keeps its row; a tag its row agrees with keeps the row; a row for
    the tag itself is the operator's word; a country of many zones keeps the region's."""
    mainland = profile_for("asia-east", "zh")
    assert (mainland.locale, mainland.settings.currency) == ("zh_Hans_CN", "CNY")
    assert profile_for("asia-east", "zh-CN").locale == "zh_Hans_CN"
    assert profile_for("asia-east", "zh-Hans").locale == "zh_Hans_CN"
    german = profile_for("europe-west", "de")
    assert (german.locale, german.settings.currency) == ("de_DE", "EUR")
    assert profile_for("asia-east", "ja").locale == "ja_JP"
    assert profile_for("nowhere", "ko").locale == "ko"
    assert profile_for("nowhere", "ar").locale == "ar"
    brazil = profile_for("america-east", "pt")
    assert (brazil.locale, brazil.settings.currency) == ("pt_BR", "BRL")
    portugal = profile_for("america-east", "pt-PT")  # another country than the row's
    assert (portugal.locale, portugal.settings.currency) == ("pt_PT", "EUR")
    assert portugal.settings.timezone == "America/Sao_Paulo"  # Portugal has three zones
    swiss = profile_for("nowhere", "de-CH")
    assert (swiss.locale, swiss.settings.currency) == ("de_CH", "CHF")


def test_a_row_for_the_tag_itself_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "locales.toml"
    path.write_text(
        '[locales]\nenabled_languages = ["en", "zh"]\n'
        '[[locales.profiles]]\nregion = "*"\nlanguage = "zh"\nlocale = "zh_Hans_CN"\n'
        '[[locales.profiles]]\nregion = "asia-east"\nlanguage = "zh-TW"\n'
        'locale = "zh_Hant_TW"\ncurrency = "USD"\ntimezone = "Asia/Shanghai"\n',
        encoding="utf-8",
    )
    profile = profile_for("asia-east", "zh-TW", config=path)
    assert (profile.locale, profile.settings.currency) == ("zh_Hant_TW", "USD")
    assert profile.settings.timezone == "Asia/Shanghai"
