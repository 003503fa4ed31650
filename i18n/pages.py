"""The text of the pages agents and customers use (agent desktop, customer chat), from
gettext catalogs like the prompts: i18n/locales/<lang>/LC_MESSAGES/pages.po, whose
msgids are the English text the pages are written in. A page asks for its language's
strings once and falls back to the English msgid for anything untranslated. The
supervisors' wallboard is not translated: it is English, its times and numbers too.

Traditional Chinese (`zh-TW`, `zh-HK`, `zh-Hant`) has no catalog of its own: it is
converted from the Simplified one (`zh`) with OpenCC when first asked for (i18n/chinese.py),
so every text added to `zh` reads in Traditional too, and nothing is kept to drift.
Cantonese (`yue`) has no catalog either: its readers read written Chinese, in their own
script and region (`reading_tag`), so a Hong Kong Cantonese browser reads `zh-HK`.

Not every catalog translates both pages: the desk languages (`DESK_LANGUAGES`) translate
both, the agent desktop too; every other catalog the customer's chat page only
(switchboard/web/strings.py keeps them so). So the desk asks for its page (`page="desk"`)
and is served from the desk languages alone, wholly in one language: a Korean agent's
desk is English, not English with the few words it shares with the chat page in Korean."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR
from i18n.chinese import SIMPLIFIED, TRADITIONAL, to_script, with_traditional
from i18n.language import SPOKEN_BEFORE_WRITTEN, match_language
from switchboard.common.languages import script_of, subtags

DOMAIN = "pages"
# The languages the agent desktop is written in: their catalogs translate every text of
# the desk and the chat page. The other pages catalogs translate the chat page only.
DESK_LANGUAGES = ("ar", "en", "es", "he", "ja", "zh")
# Which page asks: the customer's chat page (any catalog) or the staff's desk (the desk
# languages only).
Page = Literal["chat", "desk"]


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


def served_languages(locales_dir: Path = LOCALES_DIR, page: Page = "chat") -> list[str]:
    """The languages `page` is served in: those with a catalog (for the desk, a desk
    language's only), and the Traditional Chinese forms derived from `zh`'s."""
    languages = page_languages(locales_dir)
    if page == "desk":
        languages = [language for language in languages if language in DESK_LANGUAGES]
    return with_traditional(languages)


def reading_tag(tag: str) -> str:
    """What a reader of `tag` reads when their language is spoken and written in another
    (`SPOKEN_BEFORE_WRITTEN`: Cantonese in Chinese): the written language in the reader's
    script and region, the region Cantonese's likely one (CLDR: Hong Kong) when the tag
    names neither. `yue` and `yue-HK` read `zh-Hant-HK`, `yue-MO` `zh-Hant-MO`, `yue-CN`
    and `yue-Hans` Simplified (`zh-Hans-CN`, `zh-Hans`); any other tag is itself."""
    language, script, region = subtags(tag)
    written = SPOKEN_BEFORE_WRITTEN.get(language)
    if written is None:
        return tag
    if not script and not region:
        region = str(get_global("likely_subtags").get(language, "")).split("_")[-1]
    return "-".join(part for part in (written, script_of(tag), region) if part)


@lru_cache(maxsize=64)
def page_strings(
    language: str, locales_dir: Path = LOCALES_DIR, *, page: Page = "chat"
) -> PageStrings:
    """`page`'s strings for a reader of `language` (any BCP 47 tag, in any case): the
    catalog `match_language` picks among `served_languages` (its own, else its language's
    in the same script, else its language's), else that of the language it is written in
    (`reading_tag`: Cantonese reads Chinese), else English. The desk's are a desk
    language's (`es-MX` Spanish, `zh-TW` Traditional) or English (`ko`)."""
    served = served_languages(locales_dir, page)
    chosen = match_language(language, served) or match_language(reading_tag(language), served)
    chosen = chosen or "en"
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
