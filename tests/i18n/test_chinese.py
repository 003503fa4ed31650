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

from i18n.chinese import (
    TRADITIONAL,
    for_reader,
    opencc_config,
    to_script,
    to_simplified,
    traditional_form,
    with_traditional,
)
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
            for text, who in (
                ("谢谢 帮助", customer),
                ("謝謝 幫助", customer),  # as a Taiwanese customer writes it: Traditional
                ("thanks, where is my bag?", tom),
            ):
                posted = await http.post(messages, json={"text": text}, headers=who)
                assert posted.status == 201, await posted.text()
            read = (await (await http.get(messages, headers=customer)).json())["messages"]
    question, traditional, answer = read
    assert question["language"] == "zh" and question["translations"] == {"en": "thanks help"}
    assert traditional["text"] == "謝謝 幫助"  # kept as written
    assert traditional["translations"] == {"en": "thanks help"}
    assert answer["language"] == "en"
    assert answer["translations"] == {"zh": "謝謝, 哪裡 是 我的 行李?"}


# --- Traditional in: a customer's own Traditional text, to the engines and to agents -------


@pytest.mark.parametrize(
    ("text", "tag", "simplified"),
    [
        # Taiwan's words become the mainland's (tw2sp, the inverse of s2twp).
        ("計程車到機場要多久？", "zh-TW", "出租车到机场要多久？"),
        ("我的行李遺失了，裡面有筆記型電腦", "zh-TW", "我的行李遗失了，里面有笔记本电脑"),
        ("我的行李在哪裏？", "zh-HK", "我的行李在哪里？"),  # hk2s
        ("謝謝你的幫助", "zh-Hant", "谢谢你的帮助"),  # t2s
        ("謝謝你的幫助", "zh-MO", "谢谢你的帮助"),
        ("谢谢你的帮助", "zh-TW", "谢谢你的帮助"),  # typed in Simplified anyway: unchanged
        ("謝謝你的幫助", "zh", "謝謝你的幫助"),  # a Simplified writer's text is left alone
        ("謝謝", "ja", "謝謝"),
    ],
)
def test_a_traditional_writers_text_is_simplified_by_their_tag(
    text: str, tag: str, simplified: str
) -> None:
    assert to_simplified(text, tag) == simplified


@pytest.mark.parametrize(
    ("text", "writer", "reader", "read"),
    [
        ("谢谢，您的行李在哪里？", "zh", "zh-TW", "謝謝，您的行李在哪裡？"),  # s2twp
        ("软件在里面", "zh", "zh-HK", "軟件在裏面"),  # s2hk
        ("软件在里面", "zh-CN", "zh-Hant", "軟件在裏面"),  # s2t
        ("計程車在哪裡？", "zh-TW", "zh", "出租车在哪里？"),  # tw2sp
        ("計程車在哪裡？", "zh-TW", "zh-Hans", "出租车在哪里？"),
        ("的士在哪裏？", "zh-HK", "zh-CN", "的士在哪里？"),  # hk2s
        # Between two Traditional forms nothing is converted: each reads the other.
        ("計程車在哪裡？", "zh-TW", "zh-HK", "計程車在哪裡？"),
        ("谢谢", "zh", "zh-CN", "谢谢"),
        ("thanks", "en", "zh-TW", "thanks"),
    ],
)
def test_chinese_is_rewritten_for_its_readers_script(
    text: str, writer: str, reader: str, read: str
) -> None:
    assert for_reader(text, writer, reader) == read


# A handful of real things a customer in Taiwan writes to an airline, word-segmented for
# the dictionary model (the tiny model maps whole space-separated pieces; a real Argos
# model segments by itself), and the Simplified vocabulary an engine's Chinese knows.
TAIWAN_SENTENCES = {
    "我的 行李 在 哪裡 ?": "my bag at where ?",
    "謝謝 你的 幫助": "thanks your help",
    "我的 航班 今天 取消 了 嗎 ?": "my flight today cancelled PERF Q ?",
    "我的 行李 遺失 了 , 裡面 有 筆記型電腦": "my bag lost PERF , inside has laptop",
    "計程車 到 機場 要 多久 ?": "taxi to airport takes howlong ?",
}
SIMPLIFIED_WORDS = {
    "我的": "my", "行李": "bag", "在": "at", "哪里": "where", "谢谢": "thanks",
    "你的": "your", "帮助": "help", "航班": "flight", "今天": "today", "取消": "cancelled",
    "了": "PERF", "吗": "Q", "遗失": "lost", "里面": "inside", "有": "has",
    "笔记本电脑": "laptop", "出租车": "taxi", "到": "to", "机场": "airport", "要": "takes",
    "多久": "howlong",
}  # fmt: skip


@pytest.fixture(scope="module")
def taiwan_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zh→en model whose Chinese is Simplified, as Argos's (and Apertium's) is."""
    models = tmp_path_factory.mktemp("zh-en-models")
    packages = tmp_path_factory.mktemp("zh-en-packages")
    words = list(SIMPLIFIED_WORDS)
    english = [SIMPLIFIED_WORDS[word] for word in words]
    model = build_tiny_package(models, "zh", "en", words, english, seed=23, spare_pieces=100)
    install_model(model, packages)
    return packages


def test_a_taiwanese_customers_traditional_reaches_the_engine_simplified(
    taiwan_packages: Path,
) -> None:
    """Every sentence comes out fully translated once the engine is given Simplified; as
    written (Traditional) the engine leaves the words it does not know in Chinese."""
    translator = Translator(taiwan_packages, settings=ARGOS_ONLY)
    for sentence, english in TAIWAN_SENTENCES.items():
        found = translator.translate(sentence, "zh-TW", "en")
        assert (found.text, found.original, found.source) == (english, sentence, "zh"), sentence
    # The cache keeps what the engine was given: the same words typed in Simplified hit it.
    again = translator.translate("我的 行李 在 哪里 ?", "zh", "en")
    assert again.cached and again.text == "my bag at where ?"
    hong_kong = translator.translate("我的 行李 在 哪裏 ?", "zh-HK", "en")
    assert hong_kong.cached and hong_kong.text == "my bag at where ?"


def test_same_language_chinese_is_converted_by_the_translator_without_an_engine(
    taiwan_packages: Path,
) -> None:
    translator = Translator(taiwan_packages, settings=ARGOS_ONLY)
    out = translator.translate("谢谢，您的行李在哪里？", "zh", "zh-TW")
    assert (out.text, out.original, out.engine) == (
        "謝謝，您的行李在哪裡？",
        "谢谢，您的行李在哪里？",
        "opencc",
    )
    assert not (out.missing_pair or out.error)
    back = translator.translate("計程車在哪裡？", "zh-TW", "zh")
    assert (back.text, back.engine) == ("出租车在哪里？", "opencc")
    same = translator.translate("hola", "es-MX", "es")
    assert (same.text, same.engine) == ("hola", "")


async def test_a_chinese_agent_and_a_taiwanese_customer_each_read_their_own_script(
    redis_url: str, tmp_path: Path
) -> None:
    """Li (`zh`, Simplified as the roster keeps her language) takes a zh-TW chat: no
    translation between zh and zh, but each side reads the other in its own script,
    converted by OpenCC, the original kept; no engine is needed (none is installed)."""
    translator = Translator(tmp_path / "no-models", settings=ARGOS_ONLY)
    async with (
        running_node(
            redis_url,
            translator=translator,
            users=[("li", Role.AGENT, "li-secret-1")],
            agents=[Agent("li", "default", {"baggage": 4}, ["zh"])],
        ) as node,
        http_session(node) as http,
    ):
        created = await new_chat(http, queue="baggage", language="zh-TW")
        contact_id = created["contact_id"]
        messages = f"/api/v1/contacts/{contact_id}/messages"
        customer = {"X-Customer-Token": created["customer_token"]}
        # Written while the chat waited for an agent: converted once Li reads it.
        waiting = await http.post(messages, json={"text": "計程車在哪裡？"}, headers=customer)
        assert waiting.status == 201, await waiting.text()
        li = await login(http, "li", "li-secret-1")
        await http.put("/api/v1/agents/li/state", json={"state": "available"}, headers=li)
        for _ in range(100):
            contact = await (await http.get(f"/api/v1/contacts/{contact_id}", headers=li)).json()
            if contact.get("agent_id") == "li":
                break
            await asyncio.sleep(0.05)
        await http.post(f"/api/v1/contacts/{contact_id}/accept", headers=li)
        for text, who in (
            ("我的行李遺失了，裡面有筆記型電腦", customer),
            ("谢谢，您的行李在哪里？软件", li),
        ):
            posted = await http.post(messages, json={"text": text}, headers=who)
            assert posted.status == 201, await posted.text()
        seen_by_li = (await (await http.get(messages, headers=li)).json())["messages"]
        seen_by_customer = (await (await http.get(messages, headers=customer)).json())["messages"]
    waited, lost, answer = seen_by_li
    assert (waited["text"], waited["language"]) == ("計程車在哪裡？", "zh")
    assert waited["translations"] == {"zh": "出租车在哪里？"}
    assert lost["text"] == "我的行李遺失了，裡面有筆記型電腦"
    assert lost["translations"] == {"zh": "我的行李遗失了，里面有笔记本电脑"}
    assert answer["text"] == "谢谢，您的行李在哪里？软件"
    assert answer["translations"] == {"zh": "謝謝，您的行李在哪裡？軟體"}
    assert not any(m["missing_translation"] for m in seen_by_li)
    assert seen_by_customer[-1]["translations"] == {"zh": "謝謝，您的行李在哪裡？軟體"}
