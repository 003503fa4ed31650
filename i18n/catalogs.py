"""The prompt catalogs on disk, managed with babel: extract, update, compile, check.

One gettext catalog per language: i18n/locales/<lang>/LC_MESSAGES/prompts.po (the
translators' file) and prompts.mo (what gettext loads), plus the template prompts.pot
extracted from i18n/messages.py. Both .po and .mo are shipped; `check` reports a stale .mo.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from i18n.chinese import to_script

PACKAGE_DIR = Path(__file__).resolve().parent
LOCALES_DIR = PACKAGE_DIR / "locales"
DOMAIN = "prompts"
KEYWORDS: dict[str, tuple[int, ...] | None] = {"N_": None, "NP_": (1, 2)}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def po_path(language: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str, locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def catalog_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Languages that have a .po catalog, sorted."""
    if not locales_dir.is_dir():
        return []
    return sorted(p.name for p in locales_dir.iterdir() if po_path(p.name, locales_dir).is_file())


def extract_template(source_dir: Path = PACKAGE_DIR) -> Catalog:
    """The template (POT) from the markers in messages.py, with translator comments."""
    template = Catalog(project="switchboard", version="1", domain=DOMAIN)
    method_map = [("**/messages.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(source_dir), method_map=method_map, keywords=KEYWORDS, comment_tags=("i18n:",)
    ):
        flags = ("python-brace-format",) if _PLACEHOLDER.search(str(message)) else ()
        template.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
            flags=flags,
        )
    return template


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False)


def update_catalogs(
    languages: Iterable[str], locales_dir: Path = LOCALES_DIR, template: Catalog | None = None
) -> list[Path]:
    """Write the template and merge it into each language's .po (new ones start empty)."""
    template = template or extract_template()
    pot = locales_dir / f"{DOMAIN}.pot"
    if pot.is_file():
        # Unchanged sources keep their date, so an update without edits changes no file.
        previous = read_catalog(pot)
        if _signature(previous) == _signature(template):
            template.creation_date = previous.creation_date
    write_catalog(template, pot)
    written = []
    for language in languages:
        path = po_path(language, locales_dir)
        if path.is_file():
            catalog = read_catalog(path, language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="switchboard", version="1")
        catalog.update(template, update_header_comment=False)
        catalog.obsolete.clear()
        write_catalog(catalog, path)
        written.append(path)
    return written


def _signature(catalog: Catalog) -> list[tuple[object, ...]]:
    return [
        (m.id, m.context, tuple(m.locations), tuple(sorted(m.flags)), tuple(m.auto_comments))
        for m in catalog
        if m.id
    ]


def compile_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalogs(languages: Iterable[str], locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile each language's .po into the .mo that gettext loads (unchanged ones kept)."""
    written = []
    for language in languages:
        catalog = read_catalog(po_path(language, locales_dir), language)
        path = mo_path(language, locales_dir)
        data = compile_bytes(catalog)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written


@dataclass(frozen=True)
class Problem:
    """One fault of a catalog, worded for `switchboard prompts check`."""

    language: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.language}: {self.key}: {self.message}"


def _simplified(text: str) -> bool:
    """Whether a Cantonese text has Simplified characters: Hong Kong writes Traditional,
    and the catalog is read as written (no OpenCC conversion, unlike `zh-HK`'s)."""
    return to_script(text, "zh-HK") != text


def _keys_by_msgid() -> dict[str, str]:
    from i18n.messages import PROMPTS

    return {(v if isinstance(v, str) else v[0]): k for k, v in PROMPTS.items()}


def check_catalogs(languages: Sequence[str], locales_dir: Path = LOCALES_DIR) -> list[Problem]:
    """Faults that would make a caller hear English or a broken prompt.

    Missing catalog, untranslated or fuzzy key, a placeholder that the English has and
    the translation lacks (or invents), kanji in Japanese (espeak-ng reads each one as
    "Chinese letter": write kana), Simplified characters in Cantonese (`yue`), and a .mo
    older than its .po.
    """
    from i18n.messages import PLURAL_COUNTS, PROMPTS

    by_msgid = _keys_by_msgid()
    problems: list[Problem] = []
    for language in languages:
        path = po_path(language, locales_dir)
        if not path.is_file():
            problems.append(Problem(language, "*", f"no catalog ({path.name} missing)"))
            continue
        catalog = read_catalog(path, language)
        for key, source in PROMPTS.items():
            msgid = source if isinstance(source, str) else source[0]
            message = catalog.get(msgid)
            if message is None:
                problems.append(Problem(language, key, "missing"))
                continue
            raw = message.string if isinstance(message.string, tuple | list) else [message.string]
            forms = [str(form) for form in raw if form]
            if len(forms) < len(raw) or (
                not isinstance(source, str) and len(forms) < catalog.num_plurals
            ):
                problems.append(Problem(language, key, "not translated"))
                continue
            if message.fuzzy:
                problems.append(Problem(language, key, "marked fuzzy"))
            expected = set(_PLACEHOLDER.findall(msgid))
            for form in forms:
                found = set(_PLACEHOLDER.findall(form))
                # A plural form may spell its count out ("two minutes" in Arabic).
                counted = {PLURAL_COUNTS[key]} if key in PLURAL_COUNTS else set()
                if found - expected:
                    problems.append(
                        Problem(language, key, f"unknown placeholder {sorted(found - expected)}")
                    )
                if (expected - counted) - found:
                    problems.append(
                        Problem(language, key, f"lacks placeholder {sorted(expected - found)}")
                    )
            if language.startswith("ja") and any(_KANJI.search(form) for form in forms):
                problems.append(Problem(language, key, "kanji in Japanese: write it in kana"))
            if language.startswith("yue") and any(_simplified(form) for form in forms):
                problems.append(
                    Problem(language, key, "Simplified characters in Cantonese: write Traditional")
                )
        for message in catalog:
            if message.id and (
                message.id if isinstance(message.id, str) else message.id[0]
            ) not in (by_msgid):
                problems.append(Problem(language, str(message.id)[:40], "not in messages.py"))
        mo = mo_path(language, locales_dir)
        if not mo.is_file() or mo.read_bytes() != compile_bytes(catalog):
            problems.append(Problem(language, "*", f"{mo.name} missing or stale: compile it"))
    return problems
