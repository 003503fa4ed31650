"""Language tags over HTTP: case-insensitive (an upper-case Accept-Language was a 500),
and a customer's script and region kept with their chat (Traditional Chinese)."""

from __future__ import annotations

from pathlib import Path

from router.desk import read_desk
from router.model import Agent, Role
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node

LI = ("li", "li-secret-1")


async def test_an_upper_case_accept_language_negotiates_like_a_lower_case_one(
    redis_url: str,
) -> None:
    async with running_node(redis_url) as node, http_session(node) as http:
        answers = {}
        for header in ("EN", "En-Us", "DE-de", "ES-mx, en;q=0.5", "zh-TW", "zh-Hant-TW"):
            response = await http.get("/api/v1/chat/options", headers={"Accept-Language": header})
            assert response.status == 200, (header, await response.text())
            answers[header] = (await response.json())["language"]
    assert answers == {
        "EN": "en",
        "En-Us": "en",
        "DE-de": "de",
        "ES-mx, en;q=0.5": "es",
        "zh-TW": "zh-TW",
        "zh-Hant-TW": "zh-TW",
    }


async def test_traditional_chinese_pages(redis_url: str) -> None:
    async with running_node(redis_url) as node, http_session(node) as http:
        pages = {}
        for lang in ("zh-TW", "ZH-hk", "zh-Hant", "zh", "EN", "he-IL"):
            response = await http.get("/api/v1/i18n/pages", params={"lang": lang})
            assert response.status == 200, (lang, await response.text())
            pages[lang] = await response.json()
    chosen = {lang: (page["language"], page["locale"]) for lang, page in pages.items()}
    assert chosen == {
        "zh-TW": ("zh-TW", "zh-Hant-TW"),
        "ZH-hk": ("zh-HK", "zh-Hant-HK"),
        "zh-Hant": ("zh-Hant", "zh-Hant"),
        "zh": ("zh", "zh"),
        "EN": ("en", "en"),
        "he-IL": ("he", "he"),
    }
    assert pages["zh-TW"]["strings"]["Choose a topic"] == "選擇主題"
    assert pages["zh-TW"]["strings"]["Bookings and changes"] == "預訂與更改"
    assert pages["ZH-hk"]["strings"]["Choose a topic"] == "選擇主題"
    assert pages["zh"]["strings"]["Choose a topic"] == "选择主题"
    assert pages["he-IL"]["direction"] == "rtl"


async def test_a_chat_keeps_the_customers_tag_and_is_routed_on_its_language(
    redis_url: str,
) -> None:
    """A zh-TW chat reaches Li, who speaks `zh`; the chat remembers zh-TW (so its
    translations are written in Traditional characters) beside its language `zh`."""
    async with (
        running_node(
            redis_url,
            users=[(LI[0], Role.AGENT, LI[1])],
            agents=[Agent("li", "default", {"booking": 4}, ["zh"])],
        ) as node,
        http_session(node) as http,
    ):
        li = await login(http, *LI)
        await http.put("/api/v1/agents/li/state", json={"state": "available"}, headers=li)
        created = await new_chat(http, queue="booking", language="zh-TW")
        assert (created["state"], created["agent_id"]) == ("offered", "li")
        assert (created["language"], created["language_tag"]) == ("zh", "zh-TW")
        seen = await (
            await http.get(f"/api/v1/contacts/{created['contact_id']}", headers=li)
        ).json()
        assert (seen["language"], seen["language_tag"]) == ("zh", "zh-TW")
        assert "languages=zh" in seen["explanation"][-1]
        stored = await node.router.get_contact(created["contact_id"])
        assert (stored.language, stored.language_tag) == ("zh", "zh-TW")
        for asked, kept in (("ZH-hant", ("zh", "zh-Hant")), ("pt_br", ("pt", "pt-BR"))):
            chat = await new_chat(http, queue="general", language=asked)
            assert (chat["language"], chat["language_tag"]) == kept


def test_canned_replies_are_found_whatever_the_case_of_their_language(tmp_path: Path) -> None:
    """The desk shows a queue's canned replies in the agent's writing language, a
    language subtag (`es`): a reply written `ES-mx` is one of them."""
    default = (ROOT / "config" / "default.toml").read_text(encoding="utf-8")
    canned = '[[canned]]\nqueue = "booking"\nlanguage = "ES-mx"\ntitle = "Hola"\ntext = "¡Hola!"\n'
    config = tmp_path / "canned.toml"
    config.write_text(default + "\n" + canned, encoding="utf-8")
    desk = read_desk(load_settings(config).reader, ["booking", "general"])
    assert [(reply.language, reply.title) for reply in desk.canned] == [("es", "Hola")]
