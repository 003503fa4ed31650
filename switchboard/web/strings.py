"""The English text of the pages: the msgids of the `pages` gettext catalogs.

The pages are written in English; every text they show goes through `t("...")` (or is
marked `N_("...")` to be translated later) in the scripts, or sits in a `data-i18n*`
attribute of the HTML. Babel's JavaScript extractor reads the scripts; the standard
library's HTML parser reads the attributes. `python -m switchboard.web.strings` writes
the template (i18n/locales/pages.pot) and brings each pages.po up to date with babel,
keeping its translations.

Two kinds of pages catalog: the desk languages (`DESK_LANGUAGES`, i18n/pages.py, where
the server reads it: the desk is served from them alone) translate every page, the agent
desktop too; every other catalog is the customer's: it translates the text of the chat
page (`customer_messages`: chat.html and the scripts it loads), and whatever else it
lacks reads in English, as any untranslated text does.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_javascript
from babel.messages.pofile import read_po, write_po

from i18n.catalogs import LOCALES_DIR
from i18n.pages import DESK_LANGUAGES, DOMAIN, page_languages

STATIC = Path(__file__).parent / "static"
PAGES = ("agent.html", "chat.html")
CUSTOMER_PAGE = "chat.html"
PROJECT = "switchboard pages"
KEYWORDS = {"t": None, "N_": None}
ATTRIBUTES = ("data-i18n", "data-i18n-label", "data-i18n-placeholder", "data-i18n-title")


# A module's imports of its neighbours: `import { t } from "./i18n.js"`, `import "./x.js"`.
IMPORT = re.compile(r"""\b(?:from|import)\s*["']\./([\w.-]+\.js)["']""")
# A page's own scripts: <script src="/pages/chat-main.js">.
SCRIPT_PREFIX = "/pages/"


class _Attributes(HTMLParser):
    """The data-i18n* texts of a page (with their lines) and the scripts it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[int, str]] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        self.found += [(line, value) for name, value in attrs if name in ATTRIBUTES and value]
        source = dict(attrs).get("src") or ""
        if tag == "script" and source.startswith(SCRIPT_PREFIX):
            self.scripts.append(source.removeprefix(SCRIPT_PREFIX))


def _read_page(static: Path, page: str) -> _Attributes:
    parser = _Attributes()
    parser.feed((static / page).read_text(encoding="utf-8"))
    return parser


def _add_script(found: dict[str, list[str]], script: Path) -> None:
    with script.open("rb") as handle:
        for line, _keyword, message, _comments in extract_javascript(handle, KEYWORDS, [], {}):
            text = message[0] if isinstance(message, tuple) else message
            if isinstance(text, str) and text:
                found[text].append(f"{script.name}:{line}")


def _add_page(found: dict[str, list[str]], page: str, parser: _Attributes) -> None:
    for line, attribute in parser.found:
        found[attribute].append(f"{page}:{line}")


def page_messages(static: Path = STATIC) -> dict[str, list[str]]:
    """Each msgid the pages use, with where (file:line)."""
    found: dict[str, list[str]] = defaultdict(list)
    for script in sorted(static.glob("*.js")):
        _add_script(found, script)
    for page in PAGES:
        _add_page(found, page, _read_page(static, page))
    return dict(found)


def loaded_scripts(page: str, static: Path = STATIC) -> list[str]:
    """The scripts `page` runs: those its <script> tags name and every module they
    import, transitively (sorted names in `static`)."""
    waiting = list(_read_page(static, page).scripts)
    seen: set[str] = set()
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        waiting += IMPORT.findall((static / name).read_text(encoding="utf-8"))
    return sorted(seen)


def customer_messages(static: Path = STATIC) -> dict[str, list[str]]:
    """Each msgid the customer's chat page uses (its attributes and the text of every
    script it loads), with where: what a customer language's catalog translates."""
    found: dict[str, list[str]] = defaultdict(list)
    for name in loaded_scripts(CUSTOMER_PAGE, static):
        _add_script(found, static / name)
    _add_page(found, CUSTOMER_PAGE, _read_page(static, CUSTOMER_PAGE))
    return dict(found)


def template(static: Path = STATIC) -> Catalog:
    catalog = Catalog(project=PROJECT, version="1", domain=DOMAIN)
    for message, places in sorted(page_messages(static).items()):
        locations = [(name, int(line)) for name, line in (p.rsplit(":", 1) for p in places)]
        flags = ("python-brace-format",) if "{" in message else ()
        catalog.add(message, locations=locations, flags=flags)
    return catalog


def update_catalogs(locales_dir: Path = LOCALES_DIR, languages: list[str] | None = None) -> None:
    """Write pages.pot and update each language's pages.po from it (new text empty),
    keeping every translation of a msgid still used. A desk language's catalog lists every
    msgid; any other's the customer page's, and the others it already translates."""
    pot = template()
    customer = set(customer_messages())
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
        if language not in DESK_LANGUAGES:
            for message in [m.id for m in catalog if m.id and not m.string]:
                if message not in customer:
                    del catalog[message]
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, ignore_obsolete=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", help="languages to update (default: all)")
    args = parser.parse_args()
    update_catalogs(languages=args.languages)


if __name__ == "__main__":
    main()
