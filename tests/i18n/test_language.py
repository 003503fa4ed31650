from __future__ import annotations

import pytest
from babel.core import negotiate_locale

from i18n.language import (
    guess_languages_for_number,
    match_language,
    negotiate_chat_language,
    parse_accept_language,
    territory_for_number,
)

SUPPORTED = ["en", "es", "pt", "fr", "de", "it", "nl", "ru", "ar", "he",
             "hi", "zh", "ja", "ko", "th", "vi", "id", "ms", "tr", "pl"]  # fmt: skip


@pytest.mark.parametrize(
    ("number", "territory", "first"),
    [
        ("+41 44 668 18 00", "CH", "de"),
        ("+33 1 42 68 53 00", "FR", "fr"),
        ("+5511987654321", "BR", "pt"),
        ("+81 3 1234 5678", "JP", "ja"),
        ("+1 212 555 1234", "US", "en"),
        ("+52 55 1234 5678", "MX", "es"),
        ("+971 4 123 4567", "AE", "ar"),
        ("tel:+66-2-123-4567", "TH", "th"),
    ],
)
def test_number_gives_the_languages_of_its_territory(number: str, territory: str, first: str):
    assert territory_for_number(number) == territory
    languages = guess_languages_for_number(number, SUPPORTED)
    assert languages[0] == first
    assert set(languages) <= set(SUPPORTED)
    assert "en" in languages


def test_switzerland_lists_its_languages_most_spoken_first():
    languages = guess_languages_for_number("+41446681800", SUPPORTED)
    assert languages.index("de") < languages.index("fr") < languages.index("it")


def test_restricted_to_supported_with_english_last_resort():
    # Ukraine: Ukrainian is not served, Russian is; English closes the list.
    assert guess_languages_for_number("+380441234567", ["en", "ru"]) == ["ru", "en"]
    assert guess_languages_for_number("+380441234567", ["fr", "en"]) == ["en"]
    # Unknown calling code or garbage: English alone, never an error.
    assert guess_languages_for_number("+999 123", SUPPORTED) == ["en"]
    assert guess_languages_for_number("anonymous", SUPPORTED) == ["en"]
    assert guess_languages_for_number("+81312345678", ["de", "fr"]) == []


def test_number_without_plus_is_read_as_international():
    assert guess_languages_for_number("4930123456", SUPPORTED)[0] == "de"


def test_accept_language_order_and_quality():
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5, xx;q=0"
    assert parse_accept_language(header) == ["fr-CH", "fr", "en", "de", "*"]


def test_babel_pitfalls_are_real():
    """The two cases the fallback exists for: babel alone finds nothing."""
    assert negotiate_locale(["pt"], ["en", "pt_BR"]) is None  # pt is aliased to pt_PT
    assert negotiate_locale(["es_ES"], ["en", "es_MX"]) is None


@pytest.mark.parametrize(
    ("header", "supported", "expected"),
    [
        ("pt", ["en", "pt_BR"], "pt_BR"),
        ("es-ES", ["en", "es-MX"], "es-MX"),
        ("es-ES, en;q=0.5", ["en", "es-MX"], "es-MX"),  # the customer's order wins
        ("de-AT, de;q=0.9", SUPPORTED, "de"),
        ("zh-Hant-TW", SUPPORTED, "zh"),
        ("en-US", ["en_US", "en_GB"], "en_US"),  # strict match first
        ("en-GB", ["en_US", "en_GB"], "en_GB"),
        ("sv, nb;q=0.8", SUPPORTED, "en"),  # nothing matches: default
        ("", SUPPORTED, "en"),
        (None, SUPPORTED, "en"),
        ("*", SUPPORTED, "en"),
        ("ja;q=0.2, ko;q=0.9", SUPPORTED, "ko"),
        ("not a header;;;", SUPPORTED, "en"),
        ("iw-IL, en;q=0.5", ["en", "he"], "he"),  # Hebrew's retired code, still sent
        ("in", ["en", "id"], "id"),
    ],
)
def test_negotiate_chat_language(header: str | None, supported: list[str], expected: str):
    assert negotiate_chat_language(header, supported) == expected


def test_negotiate_default_is_configurable():
    assert negotiate_chat_language("xx", ["en", "de"], default="de") == "de"


def test_negotiation_ignores_case() -> None:
    """Tags are case-insensitive (BCP 47): babel answered the client's spelling (`EN`, `DE`
    for `DE-de`), which is no entry of `supported`: a ValueError, and the chat page's 500."""
    cases = [
        ("EN", SUPPORTED, "en"),
        ("En-Us", SUPPORTED, "en"),
        ("DE-de", SUPPORTED, "de"),
        ("DE-de", ["en", "de_DE"], "de_DE"),
        ("ZH-hk, en;q=0.5", SUPPORTED, "zh"),
        ("EN-gb", ["en_US", "en_GB"], "en_GB"),
        ("PT", ["en", "pt_BR"], "pt_BR"),
    ]
    found = [(header, negotiate_chat_language(header, supported)) for header, supported, _ in cases]
    assert found == [(header, expected) for header, _, expected in cases]


def test_negotiation_keeps_the_chinese_script() -> None:
    """Against the Traditional forms the pages offer, a Traditional reader gets one (babel
    dropped `zh-Hant-TW` to `zh` before it looked at the script) and a Simplified one `zh`."""
    offered = [*SUPPORTED, "zh-Hant", "zh-TW", "zh-HK"]
    cases = {
        "zh-TW": "zh-TW",
        "zh-Hant-TW": "zh-TW",
        "zh-tw,zh;q=0.9": "zh-TW",
        "zh-HK": "zh-HK",
        "zh-Hant": "zh-Hant",
        "zh-MO": "zh-Hant",  # Traditional, no form of its own
        "zh-Hans-HK": "zh",  # Simplified asked for by name
        "zh-CN": "zh",
        "zh-SG": "zh",
        "zh": "zh",
    }
    assert {header: negotiate_chat_language(header, offered) for header in cases} == cases


def test_match_language_best_first() -> None:
    assert match_language("pt-PT", ["pt-BR", "pt", "pt-PT"]) == "pt-PT"
    assert match_language("pt-AO", ["pt-BR", "pt", "pt-PT"]) == "pt"  # no region first
    assert match_language("pt-AO", ["pt-BR", "pt-PT"]) == "pt-BR"  # else the first listed
    assert match_language("zh-TW", ["en", "zh"]) == "zh"  # the language in another script
    assert match_language("sr-Latn", ["sr", "sr-Latn-ME"]) == "sr-Latn-ME"  # script first
    assert match_language("x-klingon", SUPPORTED) is None


def test_match_language_strict_is_the_same_tag_in_any_spelling() -> None:
    assert match_language("DE", ["en", "de"], loose=False) == "de"
    assert match_language("zh_hant_tw", ["zh", "zh-TW"], loose=False) == "zh-TW"
    assert match_language("iw", ["en", "he"], loose=False) == "he"
    assert match_language("de-AT", ["en", "de"], loose=False) is None
