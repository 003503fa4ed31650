from __future__ import annotations

import logging
import shutil
import wave
from pathlib import Path

import pytest

from i18n import catalogs
from i18n.locale import DEFAULT_CONFIG, enabled_languages
from i18n.messages import PROMPTS
from i18n.prompts import DEFAULT_RATE, PromptCatalog, prompt_path, render_prompt
from i18n.service import language_menu
from tests.i18n.espeak import phonemes

IVR_KEYS = {
    "welcome", "choose_language", "choose_reason", "reason_booking", "reason_baggage",
    "reason_emergency", "reason_general", "invalid_choice", "closed", "queued", "queue_position",
    "callback_offer", "callback_confirmed", "connecting", "goodbye", "survey_question",
    "thank_you", "no_input",
}  # fmt: skip


@pytest.fixture
def catalog() -> PromptCatalog:
    return PromptCatalog()


def test_keys_cover_the_ivr(catalog: PromptCatalog):
    assert set(catalog.keys()) >= IVR_KEYS


def test_every_enabled_language_is_complete():
    languages = enabled_languages(DEFAULT_CONFIG)
    assert len(languages) >= 20
    assert catalogs.check_catalogs(languages) == []


def queue(catalog: PromptCatalog, language: str, minutes: int) -> str:
    return catalog.text("queue_position", language, position=3, minutes=minutes)


def test_english_plural(catalog: PromptCatalog):
    assert queue(catalog, "en", 1).endswith("about 1 minute.")
    assert queue(catalog, "en", 4) == "You are number 3 in line. The wait is about 4 minutes."


def test_spanish_one_minute_reads_as_spanish(catalog: PromptCatalog):
    """ "unos" is plural: "de unos 1 minuto" is not Spanish."""
    assert queue(catalog, "es", 1).endswith("La espera es de aproximadamente 1 minuto.")
    assert queue(catalog, "es", 3).endswith("La espera es de unos 3 minutos.")


@pytest.mark.parametrize(
    ("minutes", "word"),
    [(1, "минуту"), (21, "минуту"), (2, "минуты"), (4, "минуты"), (22, "минуты"),
     (5, "минут"), (11, "минут"), (12, "минут"), (25, "минут")],
)  # fmt: skip
def test_russian_three_forms(catalog: PromptCatalog, minutes: int, word: str):
    assert queue(catalog, "ru", minutes).endswith(f" {minutes} {word}.")


@pytest.mark.parametrize(
    ("minutes", "word"),
    [(1, "minutę"), (2, "minuty"), (4, "minuty"), (5, "minut"), (12, "minut"), (22, "minuty")],
)
def test_polish_three_forms(catalog: PromptCatalog, minutes: int, word: str):
    assert queue(catalog, "pl", minutes).endswith(f" {minutes} {word}.")


def test_french_zero_is_singular(catalog: PromptCatalog):
    assert queue(catalog, "fr", 0).endswith("0 minute.")
    assert queue(catalog, "fr", 1).endswith("1 minute.")
    assert queue(catalog, "fr", 2).endswith("2 minutes.")


def test_arabic_six_forms(catalog: PromptCatalog):
    texts = {m: queue(catalog, "ar", m) for m in (0, 1, 2, 5, 11, 100)}
    assert "أقل من دقيقة" in texts[0]
    assert "دقيقة واحدة" in texts[1]
    assert "دقيقتين" in texts[2]
    assert "5 دقائق" in texts[5]
    assert "11 دقيقة" in texts[11]
    assert "100 دقيقة" in texts[100]
    assert all("3" in text for text in texts.values())


def test_languages_without_plural_have_one_form(catalog: PromptCatalog):
    assert queue(catalog, "ja", 1).replace("1", "N") == queue(catalog, "ja", 7).replace("7", "N")
    assert "4分钟" in queue(catalog, "zh", 4)


def test_language_menu_speaks_each_language_in_itself(catalog: PromptCatalog):
    menu = language_menu(catalog, ["de", "en", "ja"])
    assert [entry.digit for entry in menu] == [1, 2, 3]
    assert menu[0].text == "Für Deutsch drücken Sie die 1."
    assert menu[1].text == "For English, press 2."
    assert "3" in menu[2].text and "にほんご" in menu[2].text


def test_region_variant_and_unknown_language_fall_back(catalog: PromptCatalog, caplog):
    assert catalog.text("goodbye", "de-AT") == "Auf Wiederhören."
    with caplog.at_level(logging.WARNING, logger="i18n.prompts"):
        assert catalog.text("goodbye", "sw") == "Goodbye."
        assert catalog.text("goodbye", "sw") == "Goodbye."
    assert len([r for r in caplog.records if "goodbye" in r.getMessage()]) == 1


def test_missing_key_falls_back_to_english_logged_once(tmp_path: Path, caplog):
    locales = tmp_path / "locales"
    shutil.copytree(catalogs.LOCALES_DIR / "de", locales / "de")
    po = catalogs.po_path("de", locales)
    catalog_de = catalogs.read_catalog(po, "de")
    catalog_de.delete("Goodbye.")
    catalogs.write_catalog(catalog_de, po)
    catalogs.compile_catalogs(["de"], locales)

    prompts = PromptCatalog(locales)
    with caplog.at_level(logging.WARNING, logger="i18n.prompts"):
        assert prompts.text("goodbye", "de") == "Goodbye."
        assert prompts.text("goodbye", "de") == "Goodbye."
        assert PromptCatalog(locales).text("goodbye", "de") == "Goodbye."
        assert prompts.text("welcome", "de") == "Willkommen bei Switchboard Airlines."
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "goodbye in de" in warnings[0]
    assert [str(p) for p in catalogs.check_catalogs(["de"], locales)] == ["de: goodbye: missing"]


def test_unknown_key_is_a_programming_error(catalog: PromptCatalog):
    with pytest.raises(KeyError):
        catalog.text("no_such_prompt", "en")


def test_telephony_aliases(catalog: PromptCatalog):
    assert catalog.text("ivr.greeting", "fr") == catalog.text("welcome", "fr")
    assert catalog.text("ivr.reason_option", "es", reason="baggage", digit=2) == (
        "Para equipaje, pulse 2."
    )


def wav_facts(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as handle:
        frames = handle.getnframes()
        return (
            handle.getframerate(),
            handle.getnchannels(),
            handle.getsampwidth(),
            frames / handle.getframerate(),
        )


@pytest.mark.parametrize("language", ["en", "ja", "ar", "zh", "th"])
def test_render_prompt_is_8khz_mono_16bit(tmp_path: Path, catalog: PromptCatalog, language: str):
    text = catalog.text("welcome", language)
    path = render_prompt(text, language, tmp_path)
    rate, channels, width, seconds = wav_facts(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert 0.5 < seconds < 15


def test_render_is_cached_by_content(tmp_path: Path, catalog: PromptCatalog):
    text = catalog.text("connecting", "de")
    first = render_prompt(text, "de", tmp_path)
    stamp = first.stat().st_mtime_ns
    again = render_prompt(text, "de", tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    other = render_prompt(catalog.text("goodbye", "de"), "de", tmp_path)
    assert other != first
    assert prompt_path(text, "de", tmp_path) == first
    assert list(tmp_path.rglob(".render-*")) == []


def test_another_rate_is_another_file_spoken_at_that_speed(tmp_path: Path, catalog: PromptCatalog):
    text = catalog.text("connecting", "en")
    usual = render_prompt(text, "en", tmp_path)
    assert render_prompt(text, "en", tmp_path, DEFAULT_RATE) == usual
    slow = render_prompt(text, "en", tmp_path, 100)
    assert slow == prompt_path(text, "en", tmp_path, 100) != usual
    assert wav_facts(slow)[3] > 1.3 * wav_facts(usual)[3]


def test_every_prompt_source_is_marked_for_extraction():
    template = catalogs.extract_template()
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    sources = {v if isinstance(v, str) else v[0] for v in PROMPTS.values()}
    assert ids == sources


def test_espeak_reads_kanji_as_english_which_is_why_japanese_is_kana():
    assert "(en)" in phonemes("空港", "ja")  # "Chinese letter"
    assert "(en)" not in phonemes("くうこう", "ja")


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_cjk_prompts_are_read_in_their_own_language(catalog: PromptCatalog, language: str):
    """No switch to the English voice anywhere (kanji in Japanese; pinyin read as English
    by the plain "cmn" voice, or a Latin brand name, in Chinese)."""
    # A reason (queue) as an operator of the language names it ("lounge").
    reason = {"ja": "らうんじ", "zh": "贵宾室"}[language]
    for key in catalog:
        text = catalog.text(
            key, language, digit=2, position=3, minutes=4, time="8:00", reason=reason
        )
        assert "(en)" not in phonemes(text, language), (key, text)


def test_reason_menu_follows_verbosity(catalog: PromptCatalog):
    from i18n.locale import profile_for
    from i18n.service import reason_menu

    queues = ["emergency", "booking", "vip_desk", "baggage"]
    short = profile_for("europe-west", "de")
    texts, entries = reason_menu(catalog, "de", queues, short.verbosity)
    assert [(e.digit, e.queue) for e in entries] == [
        (1, "emergency"),
        (2, "booking"),
        (3, "baggage"),
    ]
    assert texts == [e.text for e in entries]
    assert texts[0] == "Für einen Notfall drücken Sie die 1."

    full = profile_for("asia-east", "ja")
    texts, entries = reason_menu(catalog, "ja", queues, full.verbosity)
    assert len(texts) == len(entries) + 2
    assert texts[0] == catalog.text("choose_reason", "ja")
    assert texts[-1] == catalog.text("menu_repeat_hint", "ja")


def test_traditional_chinese_prompt_texts_are_the_simplified_converted() -> None:
    """No Traditional catalog: zh-TW, zh-HK and zh-Hant texts are zh's, converted by
    OpenCC where pages are (i18n/chinese.py); Taiwan's word for a queue is 佇列."""
    from i18n.chinese import to_script

    catalog = PromptCatalog()
    simplified = catalog.text("queue_position", "zh", minutes=3, position=4)
    assert simplified == "您在队列中排第4位。预计等待约3分钟。"
    taiwan = catalog.text("queue_position", "zh-TW", minutes=3, position=4)
    assert taiwan == "您在佇列中排第4位。預計等待約3分鐘。"
    assert catalog.text("queue.position", "ZH-hk", minutes=3, position=4) == (
        "您在隊列中排第4位。預計等待約3分鐘。"
    )
    for key in catalog:
        values = {"digit": "1", "minutes": 2, "position": 1, "time": "8:00", "reason": "贵宾室"}
        zh = catalog.text(key, "zh", **values)
        assert catalog.text(key, "zh-Hant", **values) == to_script(zh, "zh-Hant"), key
    assert catalog.text("goodbye", "zh-CN") == catalog.text("goodbye", "zh")
