"""The text of the pages people use (agent desktop, customer chat, wallboard), from
gettext catalogs like the prompts: i18n/locales/<lang>/LC_MESSAGES/pages.po, whose
msgids are the English text the pages are written in. A page asks for its language's
strings once and falls back to the English msgid for anything untranslated."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR

DOMAIN = "pages"


@dataclass(frozen=True)
class PageStrings:
    language: str
    direction: str  # "ltr" or "rtl"
    locale: str  # the BCP 47 tag dates and numbers are written in (Intl in the browser)
    strings: dict[str, str]


def page_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    return sorted(
        path.parent.parent.name for path in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
    )


@lru_cache(maxsize=64)
def page_strings(language: str, locales_dir: Path = LOCALES_DIR) -> PageStrings:
    """The pages' strings in `language` (its primary subtag when it has no catalog of
    its own, else English)."""
    available = page_languages(locales_dir)
    chosen = next(
        (tag for tag in (language, language.split("-")[0].split("_")[0]) if tag in available),
        "en",
    )
    strings: dict[str, str] = {}
    path = locales_dir / chosen / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=chosen)
        strings = {
            str(message.id): str(message.string)
            for message in catalog
            if message.id and message.string and not message.fuzzy
        }
    try:
        locale = Locale.parse(chosen.replace("-", "_"))
        direction = "rtl" if locale.character_order == "right-to-left" else "ltr"
        tag = str(locale).replace("_", "-")
    except (UnknownLocaleError, ValueError):
        direction, tag = "ltr", "en"
    return PageStrings(chosen, direction, tag, strings)
