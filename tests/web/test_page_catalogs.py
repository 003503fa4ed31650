"""Every text the pages show has its entry in each shipped `pages` catalog, with the
same placeholders, and right-to-left languages are told so.

Two kinds of catalog (switchboard/web/strings.py): the desk languages translate every
page; every other prompts language translates the customer's chat page (the text of
chat.html and of the scripts it loads), so customers read /chat in their own language
while the agent desktop stays in the desk languages. Cantonese reads written Chinese."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from i18n.catalogs import LOCALES_DIR, catalog_languages
from i18n.pages import DOMAIN, page_languages, page_strings, reading_tag, served_languages
from switchboard.web.strings import (
    DESK_LANGUAGES,
    customer_messages,
    loaded_scripts,
    page_messages,
    update_catalogs,
)
from tests.nodes import http_session, running_node

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Customers of every prompts language read the chat page in it: Cantonese (`yue`) in
# written Chinese (`zh`'s catalog, converted to Traditional), every other in its own.
WRITTEN_IN_ANOTHER = {"yue": "zh"}


def _translated(language: str, locales_dir: Path = LOCALES_DIR) -> dict[str, str]:
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def _wrong_placeholders(messages: set[str], translated: dict[str, str]) -> list[str]:
    return [
        message
        for message in sorted(messages)
        if set(PLACEHOLDER.findall(message)) != set(PLACEHOLDER.findall(translated[message]))
    ]


def test_the_desk_languages_are_the_six_and_shipped() -> None:
    assert set(DESK_LANGUAGES) == {"en", "es", "zh", "ja", "ar", "he"}
    assert set(page_languages()) >= set(DESK_LANGUAGES)


def test_every_prompts_language_has_the_customer_page_in_its_written_language() -> None:
    """The IVR's languages are the product's; a customer of any of them chats in it."""
    without = sorted(set(catalog_languages()) - set(page_languages()))
    assert without == sorted(WRITTEN_IN_ANOTHER), f"no pages catalog for {without}"
    for spoken, written in WRITTEN_IN_ANOTHER.items():
        assert page_strings(spoken).language.split("-")[0] == written


def test_the_pages_use_their_text_through_the_catalogs() -> None:
    messages = page_messages()
    # A sample from each page and script kind: HTML attributes, t() and N_() calls.
    assert {"Start chat", "Agent desktop", "Why you:", "lunch", "Repeat"} <= set(messages)
    assert len(messages) > 100


def test_the_customer_page_is_chat_html_and_the_scripts_it_loads() -> None:
    scripts = loaded_scripts("chat.html")
    assert {"chat-main.js", "chat-view.js", "i18n.js", "api.js", "message-text.js"} <= set(scripts)
    assert not [name for name in scripts if name.startswith(("desk-", "wallboard"))], scripts
    customer = customer_messages()
    assert set(customer) < set(page_messages())
    # The page's attributes, its scripts' t() calls, the queue words and the wait.
    assert {
        "Start chat",
        "Chat with us",
        "You are number {position} in line. Estimated wait: {wait}.",
        "about {minutes} min",
        "Bookings and changes",
        "Your message is too long: {count} characters, at most {max}. Please shorten it.",
    } <= set(customer)
    assert not {"Agent desktop", "Why you:", "lunch", "Repeat"} & set(customer)


@pytest.mark.parametrize("language", DESK_LANGUAGES)
def test_a_desk_language_translates_every_page_text(language: str) -> None:
    translated = _translated(language)
    missing = sorted(set(page_messages()) - set(translated))
    assert missing == [], f"pages.po of {language} lacks {missing}"
    wrong = _wrong_placeholders(set(page_messages()), translated)
    assert wrong == [], f"{language}: placeholders differ in {wrong}"


@pytest.mark.parametrize("language", sorted(page_languages()))
def test_every_language_translates_the_customer_page(language: str) -> None:
    translated = _translated(language)
    missing = sorted(set(customer_messages()) - set(translated))
    assert missing == [], f"pages.po of {language} lacks {missing}"
    wrong = _wrong_placeholders(set(customer_messages()), translated)
    assert wrong == [], f"{language}: placeholders differ in {wrong}"
    if language != "en":  # a word may be the same (fr "Conversation"), the page not
        same = [m for m in customer_messages() if translated[m] == m]
        assert len(same) < 5, f"{language}: still English: {same}"


def test_the_template_is_up_to_date() -> None:
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("rb") as handle:
        template = {str(m.id) for m in read_po(handle) if m.id}
    assert template == set(page_messages()), "run: python -m switchboard.web.strings"


def _copy_catalogs(tmp_path: Path) -> Path:
    for language in page_languages():
        target = tmp_path / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", target)
    return tmp_path


def _ids(language: str, locales_dir: Path) -> set[str]:
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        return {str(m.id) for m in read_po(handle, locale=language) if m.id}


def test_updating_the_catalogs_keeps_the_customer_catalogs_as_they_are(
    tmp_path: Path,
) -> None:
    """`python -m switchboard.web.strings` keeps every translation; a customer language's
    catalog lists the customer page's text (and whatever else it translates), not the
    desk's 150 other texts to fill."""
    locales = _copy_catalogs(tmp_path)
    path = locales / "de" / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        german = read_po(handle, locale="de", domain=DOMAIN)
    german.add("Agent desktop", "Agentenarbeitsplatz")  # a desk text a translator added
    with path.open("wb") as handle:
        write_po(handle, german, sort_output=True)
    before = {language: _translated(language, locales) for language in page_languages()}

    update_catalogs(locales)

    assert {language: _translated(language, locales) for language in page_languages()} == before
    assert before["de"]["Agent desktop"] == "Agentenarbeitsplatz"
    for language in page_languages():
        expected = set(page_messages()) if language in DESK_LANGUAGES else set(customer_messages())
        assert _ids(language, locales) - set(before[language]) <= expected, language
        assert _ids(language, locales) >= expected, language


@pytest.mark.parametrize(
    "asked,language,direction,locale",
    [
        ("ar", "ar", "rtl", "ar"),
        ("he-IL", "he", "rtl", "he"),
        ("es-MX", "es", "ltr", "es"),
        ("zh", "zh", "ltr", "zh"),
        ("ko-KR", "ko", "ltr", "ko"),
        ("pt-BR", "pt", "ltr", "pt"),
        ("fr-CA", "fr", "ltr", "fr"),
        ("hi", "hi", "ltr", "hi"),
        ("th-TH", "th", "ltr", "th"),
        ("yue", "zh-HK", "ltr", "zh-Hant-HK"),
        ("yue-HK", "zh-HK", "ltr", "zh-Hant-HK"),
        ("YUE_hk", "zh-HK", "ltr", "zh-Hant-HK"),
        ("yue-MO", "zh-Hant", "ltr", "zh-Hant"),
        ("yue-CN", "zh", "ltr", "zh"),
        ("sw", "en", "ltr", "en"),
    ],
)
def test_direction_and_locale(asked: str, language: str, direction: str, locale: str) -> None:
    found = page_strings(asked)
    assert (found.language, found.direction, found.locale) == (language, direction, locale)
    assert found.strings["Start chat"] != "Start chat" or language == "en"


def test_a_customer_language_falls_back_to_english_for_the_desk_only() -> None:
    korean = page_strings("ko").strings
    assert korean["Start chat"] == "채팅 시작"
    assert "Agent desktop" not in korean  # the desk reads "Agent desktop", in English
    assert {"ko", "fr", "de", "pt"} <= set(served_languages())


@pytest.mark.parametrize(
    "tag,reads",
    [
        ("yue", "zh-Hant-HK"),
        ("yue-HK", "zh-Hant-HK"),
        ("yue-Hant", "zh-Hant"),
        ("yue-Hans", "zh-Hans"),
        ("yue-CN", "zh-Hans-CN"),
        ("ko", "ko"),
        ("zh-TW", "zh-TW"),
    ],
)
def test_cantonese_reads_written_chinese_in_its_script(tag: str, reads: str) -> None:
    assert reading_tag(tag) == reads


async def test_a_korean_and_a_cantonese_browser_over_http(redis_url: str) -> None:
    """What the chat page asks: the language its Accept-Language negotiates (the chat's),
    then that language's text."""
    async with running_node(redis_url) as node, http_session(node) as http:
        found = {}
        for header in ("ko-KR,ko;q=0.9,en;q=0.5", "yue-HK", "fr-FR"):
            options = await http.get("/api/v1/chat/options", headers={"Accept-Language": header})
            assert options.status == 200, await options.text()
            language = (await options.json())["language"]
            response = await http.get("/api/v1/i18n/pages", params={"lang": language})
            assert response.status == 200, await response.text()
            page = await response.json()
            found[header] = (language, page["language"], page["strings"]["Start chat"])
    assert found == {
        "ko-KR,ko;q=0.9,en;q=0.5": ("ko", "ko", "채팅 시작"),
        "yue-HK": ("yue", "zh-HK", "開始聊天"),
        "fr-FR": ("fr", "fr", "Démarrer le chat"),
    }
