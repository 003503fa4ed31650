"""Every text the pages show has its entry in each shipped `pages` catalog, with the
same placeholders, and right-to-left languages are told so."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR
from i18n.pages import DOMAIN, page_languages, page_strings
from switchboard.web.strings import page_messages

REQUIRED = {"en", "es", "zh", "ja", "ar", "he"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_the_required_languages_are_shipped() -> None:
    assert set(page_languages()) >= REQUIRED


def test_the_pages_use_their_text_through_the_catalogs() -> None:
    messages = page_messages()
    # A sample from each page and script kind: HTML attributes, t() and N_() calls.
    assert {"Start chat", "Agent desktop", "Why you:", "lunch", "Repeat"} <= set(messages)
    assert len(messages) > 100


@pytest.mark.parametrize("language", sorted(page_languages()))
def test_every_page_text_is_translated(language: str) -> None:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(set(page_messages()) - set(translated))
    assert missing == [], f"{path.name} of {language} lacks {missing}"
    wrong = [
        message
        for message in page_messages()
        if set(PLACEHOLDER.findall(message)) != set(PLACEHOLDER.findall(translated[message]))
    ]
    assert wrong == [], f"{language}: placeholders differ in {wrong}"


def test_the_template_is_up_to_date() -> None:
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("rb") as handle:
        template = {str(m.id) for m in read_po(handle) if m.id}
    assert template == set(page_messages()), "run: python -m switchboard.web.strings"


@pytest.mark.parametrize(
    "asked,language,direction,locale",
    [
        ("ar", "ar", "rtl", "ar"),
        ("he-IL", "he", "rtl", "he"),
        ("es-MX", "es", "ltr", "es"),
        ("zh", "zh", "ltr", "zh"),
        ("sw", "en", "ltr", "en"),
    ],
)
def test_direction_and_locale(asked: str, language: str, direction: str, locale: str) -> None:
    found = page_strings(asked)
    assert (found.language, found.direction, found.locale) == (language, direction, locale)
    assert found.strings["Start chat"] != "Start chat" or language == "en"
