"""The advisories' customer texts in the customers' languages, from gettext catalogs.

One catalog per language of the customer pages, domain `advisories`:
i18n/locales/<lang>/LC_MESSAGES/advisories.po (the translators' file) and .mo (what is
read here), msgids the English texts model.py marks with `N_` (docs/i18n.md). Read with
the standard library's gettext, as the prompts are, from the `i18n` package's locales
directory: routing imports none of i18n's code (babel, OpenCC), only its data. A language
whose catalog lacks a text is left out, and its readers get English as the pages'
readers do (`Readers`, "Which language" in docs/advisories.md).
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib.resources import files
from pathlib import Path

from router.advisories.model import FALLBACK_LANGUAGE

DOMAIN = "advisories"


def locales_dir() -> Path:
    """Where the catalogs are shipped: the `i18n` package's `locales` directory."""
    return Path(str(files("i18n").joinpath("locales")))


class TextCatalog:
    """The texts of the `advisories` catalogs in `directory` (default: the shipped ones)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or locales_dir()).resolve()

    def texts(self, msgid: str) -> dict[str, str]:
        """language tag -> `msgid` in that language: English (the msgid itself) first,
        then each language whose catalog translates it, by tag."""
        found = {FALLBACK_LANGUAGE: msgid}
        for tag, translations in _loaded(self.directory).items():
            text = translations.gettext(msgid)
            if tag != FALLBACK_LANGUAGE and text and text != msgid:
                found[tag] = text
        return found


@cache
def _loaded(directory: Path) -> dict[str, gettext.GNUTranslations]:
    """Each language's compiled catalog, read once per process (they ship with it)."""
    loaded = {}
    for path in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
        with path.open("rb") as handle:
            loaded[path.parent.parent.name.replace("_", "-")] = gettext.GNUTranslations(handle)
    return loaded
