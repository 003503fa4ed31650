from __future__ import annotations

import shutil
from pathlib import Path

from i18n import catalogs
from i18n.messages import PROMPTS
from i18n.prompts import PromptCatalog


def copy_catalogs(tmp_path: Path, languages: list[str]) -> Path:
    locales = tmp_path / "locales"
    for language in languages:
        shutil.copytree(catalogs.LOCALES_DIR / language, locales / language)
    return locales


def test_update_adds_new_languages_empty_and_check_says_so(tmp_path: Path):
    locales = copy_catalogs(tmp_path, ["es"])
    catalogs.update_catalogs(["es", "sw"], locales)
    assert (locales / "prompts.pot").is_file()
    # Spanish keeps its translations through the update; Swahili starts empty.
    catalogs.compile_catalogs(["es", "sw"], locales)
    assert catalogs.check_catalogs(["es"], locales) == []
    problems = catalogs.check_catalogs(["sw"], locales)
    assert {p.message for p in problems} == {"not translated"}
    assert len(problems) == len(PromptCatalog().keys())


def test_check_finds_broken_placeholders_kanji_and_stale_mo(tmp_path: Path):
    locales = copy_catalogs(tmp_path, ["fr", "ja"])
    fr_po = catalogs.po_path("fr", locales)
    fr = catalogs.read_catalog(fr_po, "fr")
    fr["For baggage, press {digit}."].string = "Pour les bagages, tapez {chiffre}."
    catalogs.write_catalog(fr, fr_po)
    ja_po = catalogs.po_path("ja", locales)
    ja = catalogs.read_catalog(ja_po, "ja")
    ja["Goodbye."].string = "失礼いたします。"
    catalogs.write_catalog(ja, ja_po)

    found = {str(p) for p in catalogs.check_catalogs(["fr", "ja", "xx"], locales)}
    assert "fr: reason_baggage: unknown placeholder ['chiffre']" in found
    assert "fr: reason_baggage: lacks placeholder ['digit']" in found
    assert "ja: goodbye: kanji in Japanese: write it in kana" in found
    assert "fr: *: prompts.mo missing or stale: compile it" in found
    assert "xx: *: no catalog (prompts.po missing)" in found


def test_catalog_reads_po_when_mo_is_missing(tmp_path: Path):
    locales = copy_catalogs(tmp_path, ["it"])
    catalogs.mo_path("it", locales).unlink()
    assert PromptCatalog(locales).text("goodbye", "it") == "Arrivederci."


def test_queued_prompt_is_translated_in_every_catalog_language():
    # The IVR plays `ivr.queued` ("Please hold, ...") to every caller it queues.
    prompts = PromptCatalog()
    english = PROMPTS["queued"]
    assert prompts.text("ivr.queued", "en") == english
    languages = [code for code in catalogs.catalog_languages() if code != "en"]
    assert len(languages) >= 19
    untranslated = [
        code
        for code in languages
        if not prompts.has("ivr.queued", code) or prompts.text("ivr.queued", code) == english
    ]
    assert untranslated == []


def test_shipped_mo_files_match_their_po():
    languages = catalogs.catalog_languages()
    assert len(languages) >= 20
    stale = [p for p in catalogs.check_catalogs(languages) if "stale" in p.message]
    assert stale == []


def test_extract_and_update_without_edits_change_no_file(tmp_path: Path):
    locales = tmp_path / "locales"
    shutil.copytree(catalogs.LOCALES_DIR, locales)
    before = {p: p.read_bytes() for p in locales.rglob("*") if p.is_file()}
    languages = catalogs.catalog_languages(locales)
    catalogs.update_catalogs(languages, locales)
    catalogs.compile_catalogs(languages, locales)
    after = {p: p.read_bytes() for p in locales.rglob("*") if p.is_file()}
    assert after == before
