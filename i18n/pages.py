"""The text of the pages people use (agent desktop, customer chat, wallboard), from
gettext catalogs like the prompts: i18n/locales/<lang>/LC_MESSAGES/pages.po, whose
msgids are the English text the pages are written in. A page asks for its language's
strings once and falls back to the English msgid for anything untranslated.

Traditional Chinese (`zh-TW`, `zh-HK`, `zh-Hant`) has no catalog of its own: it is
converted from the Simplified one (`zh`) with OpenCC when first asked for (i18n/chinese.py),
so every text added to `zh` reads in Traditional too, and nothing is kept to drift."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR
from i18n.chinese import SIMPLIFIED, TRADITIONAL, to_script, with_traditional
from i18n.language import match_language

DOMAIN = "pages"


@dataclass(frozen=True)
class PageStrings:
    language: str
    direction: str  # "ltr" or "rtl"
    # The catalog's BCP 47 tag (language names are written in it); the browser writes
    # dates and numbers in the viewer's own locale (static/i18n.js formatLocales).
    locale: str
    strings: dict[str, str]


def page_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    return sorted(
        path.parent.parent.name for path in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    )


def served_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """The languages the pages are served in: those with a catalog, and the Traditional
    Chinese forms derived from `zh`'s."""
    return with_traditional(page_languages(locales_dir))


@lru_cache(maxsize=64)
def page_strings(language: str, locales_dir: Path = LOCALES_DIR) -> PageStrings:
    """The pages' strings for a reader of `language` (any BCP 47 tag, in any case): the
    catalog `match_language` picks among `served_languages` (its own, else its language's
    in the same script, else its language's), else English."""
    chosen = match_language(language, served_languages(locales_dir)) or "en"
    strings = _catalog(chosen, locales_dir)
    try:
        locale = Locale.parse(chosen.replace("-", "_"))
        direction = "rtl" if locale.character_order == "right-to-left" else "ltr"
        tag = str(locale).replace("_", "-")
    except (UnknownLocaleError, ValueError):
        direction, tag = "ltr", "en"
    return PageStrings(chosen, direction, tag, strings)


@lru_cache(maxsize=32)
def _catalog(language: str, locales_dir: Path) -> dict[str, str]:
    """msgid → text of a served language; a Traditional form is `zh`'s text converted."""
    if language in TRADITIONAL:
        simplified = _catalog(SIMPLIFIED, locales_dir)
        return {message: to_script(text, language) for message, text in simplified.items()}
    path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }
