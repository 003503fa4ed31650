"""The English text of the pages: the msgids of the `pages` gettext catalogs.

The pages are written in English; every text they show goes through `t("...")` (or is
marked `N_("...")` to be translated later) in the scripts, or sits in a `data-i18n*`
attribute of the HTML. Babel's JavaScript extractor reads the scripts; the standard
library's HTML parser reads the attributes. `python -m switchboard.web.strings` writes
the template (i18n/locales/pages.pot) and brings each pages.po up to date with babel,
keeping its translations.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_javascript
from babel.messages.pofile import read_po, write_po

from i18n.catalogs import LOCALES_DIR
from i18n.pages import DOMAIN, page_languages

STATIC = Path(__file__).parent / "static"
PAGES = ("agent.html", "chat.html")
PROJECT = "switchboard pages"
KEYWORDS = {"t": None, "N_": None}
ATTRIBUTES = ("data-i18n", "data-i18n-label", "data-i18n-placeholder", "data-i18n-title")


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        self.found += [(line, value) for name, value in attrs if name in ATTRIBUTES and value]


def page_messages(static: Path = STATIC) -> dict[str, list[str]]:
    """Each msgid the pages use, with where (file:line)."""
    found: dict[str, list[str]] = defaultdict(list)
    for script in sorted(static.glob("*.js")):
        with script.open("rb") as handle:
            for line, _keyword, message, _comments in extract_javascript(handle, KEYWORDS, [], {}):
                text = message[0] if isinstance(message, tuple) else message
                if isinstance(text, str) and text:
                    found[text].append(f"{script.name}:{line}")
    for page in PAGES:
        parser = _Attributes()
        parser.feed((static / page).read_text(encoding="utf-8"))
        for line, attribute in parser.found:
            found[attribute].append(f"{page}:{line}")
    return dict(found)


def template(static: Path = STATIC) -> Catalog:
    catalog = Catalog(project=PROJECT, version="1", domain=DOMAIN)
    for message, places in sorted(page_messages(static).items()):
        locations = [(name, int(line)) for name, line in (p.rsplit(":", 1) for p in places)]
        flags = ("python-brace-format",) if "{" in message else ()
        catalog.add(message, locations=locations, flags=flags)
    return catalog


def update_catalogs(locales_dir: Path = LOCALES_DIR, languages: list[str] | None = None) -> None:
    """Write pages.pot and update each language's pages.po from it (new text empty)."""
    pot = template()
    with (locales_dir / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, pot, omit_header=False, sort_output=True)
    for language in languages or page_languages(locales_dir):
        path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, project=PROJECT, version="1")
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.fuzzy = False
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, ignore_obsolete=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", help="languages to update (default: all)")
    args = parser.parse_args()
    update_catalogs(languages=args.languages)


if __name__ == "__main__":
    main()
