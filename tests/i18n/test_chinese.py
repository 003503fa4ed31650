"""Traditional Chinese for Taiwan, Hong Kong and Macau: the pages and the chat's
translations converted from Simplified with OpenCC, never a catalog of their own."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from i18n.chinese import TRADITIONAL, opencc_config, to_script, traditional_form, with_traditional
from i18n.pages import DOMAIN, page_languages, page_strings, served_languages
from i18n.translation import Translator, install_model
from router.model import Agent, Role
from switchboard.settings import load_settings
from tests.i18n.tiny_model import WORDS, build_tiny_package
from tests.i18n.translators import ARGOS_ONLY
from tests.nodes import ROOT, http_session, login, new_chat, running_node

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize(
    ("tag", "form", "config"),
    [
        ("zh-TW", "zh-TW", "s2twp"),
        ("ZH-tw", "zh-TW", "s2twp"),
        ("zh-Hant-TW", "zh-TW", "s2twp"),
        ("zh-HK", "zh-HK", "s2hk"),
        ("zh-Hant-HK", "zh-HK", "s2hk"),
        ("zh-Hant", "zh-Hant", "s2t"),
        ("zh-MO", "zh-Hant", "s2t"),
        ("zh", None, None),
        ("zh-CN", None, None),
        ("zh-SG", None, None),
        ("zh-Hans-HK", None, None),
        ("ja", None, None),
        ("en-TW", None, None),
    ],
)
def test_which_readers_get_traditional(tag: str, form: str | None, config: str | None) -> None:
    assert traditional_form(tag) == form
    assert opencc_config(tag) == config


def test_conversion_follows_the_region() -> None:
    # Taiwan's words (s2twp), Hong Kong's variant characters (s2hk), OpenCC's standard.
    assert to_script("选择主题 软件 里面", "zh-TW") == "選擇主題 軟體 裡面"
    assert to_script("选择主题 软件 里面", "zh-HK") == "選擇主題 軟件 裏面"
    assert to_script("选择主题 软件 里面", "zh-Hant") == "選擇主題 軟件 裏面"
    assert to_script("选择主题", "zh") == "选择主题"
    assert to_script("选择主题", "zh-CN") == "选择主题"
    assert to_script("Choose {count}", "zh-TW") == "Choose {count}"


def test_traditional_forms_are_offered_only_beside_simplified() -> None:
    assert with_traditional(["en", "zh"]) == ["en", "zh", "zh-Hant", "zh-TW", "zh-HK"]
    assert with_traditional(["en", "ja"]) == ["en", "ja"]


def test_no_traditional_catalog_is_shipped() -> None:
    """The forms are derived at run time: a converted copy in the tree would drift."""
    assert not set(TRADITIONAL) & set(page_languages())
    assert set(TRADITIONAL) <= set(served_languages())


@pytest.mark.parametrize(
    ("asked", "language", "locale"),
    [
        ("zh-TW", "zh-TW", "zh-Hant-TW"),
        ("zh-Hant-TW", "zh-TW", "zh-Hant-TW"),
        ("ZH-TW", "zh-TW", "zh-Hant-TW"),
        ("zh-HK", "zh-HK", "zh-Hant-HK"),
        ("zh-Hant", "zh-Hant", "zh-Hant"),
        ("zh-MO", "zh-Hant", "zh-Hant"),
    ],
)
def test_traditional_pages_are_the_simplified_converted(
    asked: str, language: str, locale: str
) -> None:
    found = page_strings(asked)
    simplified = page_strings("zh").strings
    assert (found.language, found.direction, found.locale) == (language, "ltr", locale)
    assert found.strings.keys() == simplified.keys()
    assert found.strings["Choose a topic"] == "選擇主題" != simplified["Choose a topic"]
    config = TRADITIONAL[language]
    for message, text in simplified.items():
        assert found.strings[message] == to_script(text, language), (config, message)
        assert PLACEHOLDER.findall(found.strings[message]) == PLACEHOLDER.findall(text)


def test_a_text_added_to_the_simplified_catalog_reads_in_traditional(tmp_path: Path) -> None:
    """What a translator adds to zh's pages.po is in the Traditional pages too."""
    catalog = Catalog(locale="zh", domain=DOMAIN)
    catalog.add("Your bag is on its way", "您的行李正在运送途中")
    catalog.add("Untranslated", "")
    path = tmp_path / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    taiwan = page_strings("zh-TW", tmp_path)
    assert taiwan.strings == {"Your bag is on its way": "您的行李正在運送途中"}
    assert page_strings("zh-HK", tmp_path).language == "zh-HK"
    assert page_strings("en", tmp_path).language == "en"  # no catalog: the English msgids


# The tiny Argos model's Chinese: the English list word for word, in Simplified characters
# (what Argos's Chinese models write); 哪里, 谢谢 and 帮助 differ in Traditional.
CHINESE = ["你好", "我的", "行李", "是", "丢失", "哪里", "航班", "谢谢", "帮助", "今天"]


@pytest.fixture(scope="module")
def chinese_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("zh-models")
    packages = tmp_path_factory.mktemp("zh-packages")
    install_model(build_tiny_package(models, "en", "zh", WORDS["en"], CHINESE, seed=21), packages)
    install_model(build_tiny_package(models, "zh", "en", CHINESE, WORDS["en"], seed=22), packages)
    return packages


def test_machine_translation_into_chinese_is_written_in_the_readers_script(
    chinese_packages: Path,
) -> None:
    translator = Translator(chinese_packages, settings=ARGOS_ONLY)
    simplified = translator.translate("thanks, where is my bag? help", "en", "zh")
    assert simplified.text == "谢谢, 哪里 是 我的 行李? 帮助" and simplified.engine == "argos"
    taiwan = translator.translate("thanks, where is my bag? help", "en", "zh-TW")
    assert taiwan.cached and taiwan.text == "謝謝, 哪裡 是 我的 行李? 幫助"
    assert taiwan.target == "zh"
    hong_kong = translator.translate("where is my bag", "en", "zh-HK")
    assert not hong_kong.cached and hong_kong.text == "哪裏 是 我的 行李"
    assert translator.translate("where is my bag", "en", "zh").text == "哪里 是 我的 行李"
    assert translator.translate("thanks", "en", "zh-Hans-HK").text == "谢谢"


async def test_a_taiwanese_customer_reads_the_agents_answers_in_traditional(
    redis_url: str, chinese_packages: Path
) -> None:
    """Tom speaks only English; the routing's translation step gives him a zh-TW chat
    through the en<->zh models, whose Chinese is Simplified: the customer reads his
    answers in Taiwan's Traditional characters, keyed by the chat's language `zh`."""
    translator = Translator(chinese_packages, settings=ARGOS_ONLY)
    queues = [
        dataclasses.replace(q, relax_translation_after_s=0.0, fallback_languages=())
        if q.name == "baggage"
        else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        users=[("tom", Role.AGENT, "tom-secret-1")],
        agents=[Agent("tom", "default", {"baggage": 4}, ["en"])],
    ) as node:
        for _ in range(100):
            if {"en>zh", "zh>en"} <= await node.client.smembers(node.store.keys.translation_pairs):
                break
            await asyncio.sleep(0.05)
        async with http_session(node) as http:
            tom = await login(http, "tom", "tom-secret-1")
            await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)
            created = await new_chat(http, queue="baggage", language="zh-TW")
            assert (created["state"], created["agent_id"]) == ("offered", "tom")
            assert created["language_tag"] == "zh-TW"
            contact_id = created["contact_id"]
            await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=tom)
            messages = f"/api/v1/contacts/{contact_id}/messages"
            customer = {"X-Customer-Token": created["customer_token"]}
            for text, who in (("谢谢 帮助", customer), ("thanks, where is my bag?", tom)):
                posted = await http.post(messages, json={"text": text}, headers=who)
                assert posted.status == 201, await posted.text()
            read = (await (await http.get(messages, headers=customer)).json())["messages"]
    question, answer = read
    assert question["language"] == "zh" and question["translations"] == {"en": "thanks help"}
    assert answer["language"] == "en"
    assert answer["translations"] == {"zh": "謝謝, 哪裡 是 我的 行李?"}
