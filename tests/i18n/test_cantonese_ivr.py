"""Cantonese (`yue`) as an IVR language: Hong Kong and Macau callers hear Cantonese, not
Mandarin, when an operator offers it in an `[[ivr]]` flow.

The catalog is spoken Hong Kong Cantonese in Traditional characters; espeak-ng's `yue`
voice reads the characters and the digits (its `-x` phonemes are Jyutping: 十 is `sap6`).
No pages catalog is needed: the IVR reads only prompts.
"""

from __future__ import annotations

import re
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest

from i18n import catalogs
from i18n.chinese import to_script
from i18n.language import guess_languages_for_number
from i18n.locale import enabled_languages
from i18n.messages import PLURAL_COUNTS, PROMPTS
from i18n.pages import page_languages
from i18n.prompts import PromptCatalog, render_prompt, voice_for
from i18n.service import language_menu
from switchboard.common.configfile import ConfigReader
from telephony.config import read_flows
from telephony.ivr import IvrSession
from telephony.model import Hours, IvrFlow, Play, Prompt, Reason, Route
from telephony.style import locale_style
from tests.i18n.espeak import phonemes

QUEUES = ["booking", "baggage", "emergency", "general"]
# Values a caller may hear: two-digit numbers, so each must be said as 十 (sap6); the
# reopening time as the yue clock says it; a reason (queue) as its operator names it.
VALUES: dict[str, object] = {
    "digit": 10, "position": 12, "minutes": 15, "time": "上午10點", "reason": "貴賓室",
}  # fmt: skip
HONG_KONG, MACAU, BEIJING = "+85221234567", "+85328123456", "+861012345678"


# A syllable as espeak-ng spells it: tone, then a coda m/n/p/t/k (not the onset of the
# next syllable, nor the "ng" coda, which espeak-ng writes before the tone).
_TONE_BEFORE_CODA = re.compile(r"([a-zA-Z]+?)(\d)([mnptk](?![aeiouyg]))?")


def jyutping(text: str) -> list[str]:
    """espeak-ng's `-x` for the yue voice as Jyutping syllables, tone last: it writes
    十 as `s'a6p_|` (stress mark, tone before the coda), Jyutping writes `sap6`."""
    said = phonemes(text, "yue").replace("'", "").replace(",", "").replace("_|", " ")
    return [_TONE_BEFORE_CODA.sub(r"\1\3\2", word) for word in said.split()]


def _text(key: str) -> str:
    return PromptCatalog().text(key, "yue", **VALUES)


def test_the_cantonese_catalog_is_complete_and_compiled() -> None:
    assert "yue" in catalogs.catalog_languages()
    assert catalogs.check_catalogs(["yue"]) == []
    catalog = catalogs.read_catalog(catalogs.po_path("yue"), "yue")
    assert catalog.num_plurals == 1  # Chinese has one form: nplurals=1; plural=0


@pytest.mark.parametrize("key", list(PROMPTS))
def test_every_prompt_is_translated_with_its_placeholders(key: str) -> None:
    catalog = PromptCatalog()
    assert catalog.has(key, "yue"), key
    source = PROMPTS[key]
    english = source if isinstance(source, str) else source[0]
    text = _text(key)
    assert text != english.format(**VALUES)
    for name in set(re.findall(r"\{(\w+)\}", str(english))):
        assert str(VALUES[name]) in text, (key, name, text)


def test_the_catalog_is_hong_kong_cantonese_in_traditional_characters() -> None:
    texts = [_text(key) for key in PROMPTS]
    assert [t for t in texts if to_script(t, "zh-HK") != t] == []  # no Simplified character
    joined = "".join(texts)
    for cantonese in ("請按", "我哋", "嘅", "喺", "而家", "排緊隊", "唔好意思", "多謝"):
        assert cantonese in joined, cantonese
    for mandarin in ("我们", "我們", "的", "您"):  # Mandarin's words, not Cantonese's
        assert mandarin not in joined, mandarin
    assert _text("queue_position").startswith("你而家排緊隊第12位")
    assert "大約" in _text("queue_position") and "15分鐘" in _text("queue_position")


def test_a_simplified_cantonese_catalog_is_a_problem(tmp_path: Path) -> None:
    """`prompts check` catches Simplified characters in Cantonese, as kanji in Japanese."""
    locales = tmp_path / "locales"
    po = catalogs.po_path("yue", locales)
    po.parent.mkdir(parents=True)
    catalog = catalogs.read_catalog(catalogs.po_path("yue"), "yue")
    goodbye = catalog.get("Goodbye.")
    assert goodbye is not None
    goodbye.string = "再见。"  # 见: Simplified
    catalogs.write_catalog(catalog, po)
    catalogs.compile_catalogs(["yue"], locales)
    problems = [str(p) for p in catalogs.check_catalogs(["yue"], locales)]
    assert problems == ["yue: goodbye: Simplified characters in Cantonese: write Traditional"]


def test_the_language_menu_names_cantonese_in_cantonese() -> None:
    menu = language_menu(PromptCatalog(), ["en", "zh", "yue"])
    assert [entry.text for entry in menu] == [
        "For English, press 1.",
        "普通话请按2。",
        "廣東話請按3。",
    ]
    # The IVR's own key name, and a regional tag of the same language.
    assert PromptCatalog().text("ivr.language_option", "yue-HK", digit=3) == "廣東話請按3。"


def test_zh_hk_stays_mandarin_in_traditional_characters() -> None:
    """Only the IVR's language choice changes: `zh-HK` is still zh's text, converted."""
    assert PromptCatalog().text("choose_language", "zh-HK", digit=2) == "普通話請按2。"


def test_the_yue_voice_speaks_cantonese() -> None:
    assert voice_for("yue") == "yue" and voice_for("yue-HK") == "yue"
    assert jyutping("請按") == ["cing2", "on3"]


@pytest.mark.parametrize("key", list(PROMPTS))
def test_every_prompt_renders_and_its_numbers_are_spoken(tmp_path: Path, key: str) -> None:
    text = _text(key)
    assert "(en)" not in phonemes(text, "yue")  # no switch to the English voice
    said = jyutping(text)
    numbers = re.findall(r"\d+", text)
    if numbers and key != "survey_question":  # 10, 12 and 15 each begin with 十
        assert said.count("sap6") == len(numbers), (text, said)
    if key == "survey_question":  # "1 to 5"
        assert "jat1" in said and "ng5" in said, said
    path = render_prompt(text, "yue", tmp_path)
    with wave.open(str(path), "rb") as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() / audio.getframerate() > 0.4


def test_a_position_and_a_time_are_spoken_in_cantonese() -> None:
    """A longer number is more Jyutping; the IVR's clock for yue: the hour with its part
    of the day and 點, the minutes with 分 (babel's written `上午8:30` was read 八 三十)."""
    one = jyutping(PromptCatalog().text("queue_position_no_wait", "yue", position=1))
    many = jyutping(PromptCatalog().text("queue_position_no_wait", "yue", position=1234))
    assert "jat1" in one and "cin1" in many and len(many) >= len(one) + 5, many
    clock = locale_style("default", "yue").clock(datetime(2026, 1, 5, 8, 30, tzinfo=UTC))
    assert clock == "朝早8點30分"
    assert jyutping(clock) == ["ciu4", "zou2", "baat3", "dim2", "saam7sap6", "fan1"]


@pytest.mark.parametrize("number", [HONG_KONG, MACAU, "tel:+852-2123-4567", "85221234567"])
def test_hong_kong_and_macau_guess_cantonese_when_it_is_offered(number: str) -> None:
    assert guess_languages_for_number(number, ["en", "zh", "yue"])[0] == "yue"


def test_with_only_mandarin_offered_hong_kong_stays_mandarin() -> None:
    assert guess_languages_for_number(HONG_KONG, ["en", "zh"]) == ["zh", "en"]
    assert guess_languages_for_number(MACAU, ["zh", "en", "pt"])[0] == "zh"


def test_the_mainland_keeps_mandarin_first_with_cantonese_offered() -> None:
    assert guess_languages_for_number(BEIJING, ["en", "zh", "yue"])[:2] == ["zh", "yue"]


def _flow(tmp_path: Path, languages: str, default: str = "en") -> IvrFlow:
    path = tmp_path / "ivr.toml"
    path.write_text(
        f'[[ivr]]\nnumber = "1"\nlanguages = {languages}\ndefault_language = "{default}"\n'
        'default_queue = "general"\n'
        '[[ivr.reasons]]\ndigit = "1"\nqueue = "booking"\n'
    )
    reader = ConfigReader.open(path)
    (flow,) = read_flows(reader, queues=QUEUES, regions={"default": Hours()})
    reader.faults.raise_if_any()
    return flow


def test_an_ivr_flow_accepts_cantonese_without_a_pages_catalog(tmp_path: Path) -> None:
    assert "yue" not in page_languages()  # the IVR needs prompts only
    flow = _flow(tmp_path, '["en", "zh", "YUE"]', default="Yue")
    assert flow.languages == ("en", "zh", "yue") and flow.default_language == "yue"


def test_cantonese_is_not_in_the_shipped_twenty() -> None:
    """An operator turns it on per flow; the shipped `[locales]` list stays 20."""
    assert "yue" not in enabled_languages()


def test_a_locales_file_may_enable_cantonese(tmp_path: Path) -> None:
    path = tmp_path / "locales.toml"
    path.write_text('[locales]\nenabled_languages = ["en", "zh", "yue"]\n')
    assert enabled_languages(path) == ("en", "zh", "yue")
    assert catalogs.check_catalogs(list(enabled_languages(path))) == []


def test_a_hong_kong_caller_pressing_cantonese_is_a_cantonese_contact(tmp_path: Path) -> None:
    flow = _flow(tmp_path, '["en", "zh", "yue"]')
    flow = IvrFlow(
        number=flow.number,
        region=flow.region,
        languages=flow.languages,
        reasons=(Reason("1", "booking", "booking"),),
        default_queue="general",
    )
    now = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    guessed = guess_languages_for_number(HONG_KONG, flow.languages)
    session = IvrSession(flow, guessed, now)
    assert session.language == "yue"  # the greeting is Cantonese
    played = session.start()[0]
    assert isinstance(played, Play) and played.prompts[0] == Prompt("welcome", "yue")
    assert [p.language for p in played.prompts[1:]] == ["en", "zh", "yue"]
    # A caller from the mainland hears Mandarin first and picks Cantonese by key.
    session = IvrSession(flow, guess_languages_for_number(BEIJING, flow.languages), now)
    assert session.language == "zh"
    session.start()
    session.digit("3")
    (route,) = session.digit("1")
    assert isinstance(route, Route) and (route.language, route.queue) == ("yue", "booking")


def test_plural_prompt_has_one_form() -> None:
    assert PLURAL_COUNTS["queue_position"] == "minutes"
    catalog = PromptCatalog()
    assert catalog.text("queue_position", "yue", position=1, minutes=1) == (
        "你而家排緊隊第1位，大約要等1分鐘。"
    )
