"""Who reads which language in a chat, in Chromium: an agent reached through a translation
pair reads the language of that pair (not their first one); a customer whose page names
a region (`?lang=es-MX`, a site's `data-lang`) reads the agent's answers and the center's
notices translated; the agent is told when the customer left; a regional topic text
([chat.topics] `pt-BR`) is read by a browser of that region. Translation by Apertium
(Debian's es<->en, the only pair here: no engine has Japanese)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from i18n.translation import Translator
from router.desk import CannedReply, DeskConfig, read_desk
from router.model import Agent, ContactState, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.i18n.translators import APERTIUM_ONLY
from tests.nodes import ROOT, http_session, login, running_node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

TOPICS = """
[chat.topics.general]
en = "Anything else"
pt = "Outras questões"
pt_BR = "Outras dúvidas"

[chat.topics.baggage]
pt-BR = "Bagagem extraviada"
"""


@pytest.fixture(scope="module")
def translator() -> Iterator[Translator]:
    translator = Translator(settings=APERTIUM_ONLY)
    yield translator
    translator.close()


@pytest.fixture
def desk(tmp_path: Path) -> DeskConfig:
    """Canned replies in English for baggage, and the operator's topic texts as a
    configuration file has them (read as the node reads it)."""
    config = tmp_path / "topics.toml"
    config.write_text((ROOT / "config" / "default.toml").read_text() + TOPICS, encoding="utf-8")
    settings = load_settings(config)
    read = read_desk(settings.reader, [queue.name for queue in settings.queues])
    settings.reader.faults.raise_if_any()
    canned = (CannedReply("baggage", "en", "Greeting", "Hello, I am looking into it now."),)
    return DeskConfig(canned=canned, topics=read.topics)


@pytest.fixture
async def node(redis_url: str, translator: Translator, desk: DeskConfig) -> AsyncIterator[Node]:
    """Baggage chats reach Kenji (Japanese first, then English) only through a translation
    pair (no fallback language); booking chats reach Tom (English) through the fallback
    language at once."""
    changes: dict[str, dict[str, Any]] = {
        "baggage": {"relax_translation_after_s": 0.0, "fallback_languages": ()},
        "booking": {"relax_language_after_s": 0.0, "wrap_up_s": 0.0},
    }
    queues = [
        dataclasses.replace(q, **changes.get(q.name, {}))
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        desk=desk,
        users=[("kenji", Role.AGENT, "kenji-secret-1"), ("tom", Role.AGENT, "tom-secret-1")],
        agents=[
            Agent("kenji", "default", {"baggage": 4}, ["ja", "en"]),
            Agent("tom", "default", {"booking": 4}, ["en"]),
        ],
    ) as node:
        for _ in range(100):  # the pairs are published by a background task at start
            if {"es>en", "en>es"} <= await node.client.smembers(node.store.keys.translation_pairs):
                break
            await asyncio.sleep(0.05)
        yield node


async def at_desk(browser: Browser, node: Node, agent: str) -> Page:
    """The agent's desktop, signed in for chats and available."""
    context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    await page.fill("#agent-id", agent)
    await page.fill("#password", f"{agent}-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_text("Available")
    return page


async def customer_writes(
    browser: Browser, url: str, locale: str, queue: str, text: str, accept_language: str = ""
) -> Page:
    """A customer's chat window, the chat started with its first message."""
    headers = {"Accept-Language": accept_language} if accept_language else {}
    context = await browser.new_context(
        locale=locale, extra_http_headers=headers, viewport={"width": 420, "height": 760}
    )
    page = await context.new_page()
    await page.goto(url)
    await page.select_option("#queue", queue)
    await page.fill("#first-message", text)
    await page.click("#start-chat")
    await expect(page.locator("#messages li.mine")).to_contain_text(text)
    return page


async def test_an_agent_reached_through_translation_reads_the_pairs_language(
    node: Node, browser: Browser
) -> None:
    """Kenji lists Japanese first; routing gave him a Spanish chat through es<->en. His
    desk reads and writes English: the customer's words in English, the English canned
    replies, and his answer reaches the customer in Spanish."""
    base = f"http://127.0.0.1:{node.http_port}"
    agent = await at_desk(browser, node, "kenji")
    customer = await customer_writes(
        browser, f"{base}/chat", "es-ES", "baggage", "Mi maleta no ha llegado."
    )
    offer = agent.locator(".offer")
    await expect(offer.locator(".why")).to_contain_text("translated", timeout=10_000)
    await offer.locator(".accept").click()
    panel = agent.locator(".conversation").first
    await expect(panel.locator(".facts")).to_contain_text("Translated into English for you")
    first = panel.locator(".messages li.theirs").first
    await expect(first.locator(".text")).to_have_text("My case has not arrived.")
    await first.locator(".toggle-original").click()
    await expect(first.locator(".original")).to_have_text("Mi maleta no ha llegado.")
    await panel.locator("select.canned").select_option(label="Greeting")
    await expect(panel.locator("textarea.reply")).to_have_value("Hello, I am looking into it now.")
    await panel.locator("textarea.reply").fill("Your suitcase is in Madrid.")
    await panel.locator("button.send").click()
    reply = customer.locator("#messages li.theirs").last
    await expect(reply.locator(".text")).to_contain_text("Vuestra maleta", timeout=10_000)
    # The customer's next words, live, in English too.
    await customer.fill("#message", "Gracias.")
    await customer.press("#message", "Enter")
    await expect(panel.locator(".messages li.theirs .text").last).to_have_text("Thank you.")
    await customer.context.close()
    await agent.context.close()


async def test_a_customer_page_in_a_regional_language_reads_the_translations(
    node: Node, browser: Browser
) -> None:
    """`/chat?lang=es-MX` (what embed.js makes of `data-lang="es-MX"`): the chat's
    language is `es`, and the page shows Tom's English answer and the center's English
    notice in Spanish, before and after a reload."""
    base = f"http://127.0.0.1:{node.http_port}"
    customer = await customer_writes(
        browser, f"{base}/chat?lang=es-MX", "en-US", "booking", "Mi maleta no ha llegado."
    )
    await expect(customer.locator("html")).to_have_attribute("lang", "es")
    cid = await customer.evaluate(
        "JSON.parse(localStorage.getItem('switchboard-chat:')).contact_id"
    )
    async with http_session(node) as http:
        tom = await login(http, "tom", "tom-secret-1")
        await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)
        for _ in range(100):  # bounded: offered to Tom (through the fallback language)
            if (await node.router.get_contact(cid)).state == ContactState.OFFERED:
                break
            await asyncio.sleep(0.1)
        accepted = await http.post(f"/api/v1/contacts/{cid}/accept", headers=tom)
        assert accepted.status == 200, await accepted.text()
        answer = await http.post(
            f"/api/v1/contacts/{cid}/messages",
            json={"text": "Your suitcase is in Madrid."},
            headers=tom,
        )
        assert answer.status == 201, await answer.text()
    assert (await answer.json())["translations"]["es"].startswith("Vuestra maleta")
    reply = customer.locator("#messages li.theirs").first
    await expect(reply.locator(".text")).to_contain_text("Vuestra maleta", timeout=10_000)
    await node.contacts.tell(await node.router.get_contact(cid), "Your flight is delayed.", "en")
    notice = customer.locator("#messages li.center")
    await expect(notice).to_contain_text("Aviso del centro", timeout=10_000)
    await expect(notice.locator(".text")).not_to_have_text("Your flight is delayed.")
    await expect(notice.locator(".text")).to_contain_text("vuelo")
    await customer.reload()
    await expect(customer.locator("#messages li.theirs .text").first).to_contain_text(
        "Vuestra maleta", timeout=10_000
    )
    await expect(customer.locator("#messages li.center .text")).to_contain_text("vuelo")
    await customer.context.close()


async def test_the_agent_is_told_the_customer_left(node: Node, browser: Browser) -> None:
    """A connected chat whose customer ends it (it ends completed, reason customer_left)
    says so on the desk, also after a reload of the desk; one the agent ends says the
    chat has ended."""
    base = f"http://127.0.0.1:{node.http_port}"
    agent = await at_desk(browser, node, "tom")
    customer = await customer_writes(browser, f"{base}/chat", "en-GB", "booking", "Hello there")
    await agent.locator(".offer .accept").click(timeout=10_000)
    panel = agent.locator(".conversation").first
    await expect(panel.locator(".messages li.theirs")).to_have_count(1)
    await expect(customer.locator("#status")).to_contain_text("tom", timeout=10_000)
    await customer.click("#leave")
    notice = panel.locator(".messages li.notice")
    await expect(notice).to_have_text("The customer left the chat.", timeout=10_000)
    await expect(panel.locator("form.wrap-up")).to_be_visible()
    await agent.reload()  # the ended chat is opened again from the contact
    await expect(notice).to_have_text("The customer left the chat.", timeout=10_000)
    await panel.locator("button.save-wrap-up").click()
    await expect(agent.locator(".conversation")).to_have_count(0)
    await customer.context.close()

    await agent.click("#go-available")
    customer = await customer_writes(browser, f"{base}/chat", "en-GB", "booking", "Hi again")
    await agent.locator(".offer .accept").click(timeout=10_000)
    await expect(panel.locator(".messages li.theirs")).to_have_count(1)
    await panel.locator("button.end-chat").click()
    await expect(panel.locator(".messages li.notice")).to_have_text("The chat has ended.")
    await customer.context.close()
    await agent.context.close()


async def test_a_regional_topic_text_is_read_in_its_region(node: Node, browser: Browser) -> None:
    """[chat.topics] keyed `pt` and `pt_BR` (read as `pt-br`): a browser in Brazilian
    Portuguese reads the Brazilian text, one in Portugal the language's own; a text only
    Brazil has is still Portuguese for Portugal, before the English words."""
    base = f"http://127.0.0.1:{node.http_port}"
    seen = {}
    for locale in ("pt-BR", "pt-PT"):
        context = await browser.new_context(
            locale=locale, extra_http_headers={"Accept-Language": f"{locale},pt;q=0.9"}
        )
        page = await context.new_page()
        await page.goto(f"{base}/chat")
        await expect(page.locator("#queue option[value='general']")).to_have_count(1)
        seen[locale] = {
            queue: await page.locator(f"#queue option[value='{queue}']").inner_text()
            for queue in ("general", "baggage")
        }
        await context.close()
    assert seen["pt-BR"] == {"general": "Outras dúvidas", "baggage": "Bagagem extraviada"}
    assert seen["pt-PT"] == {"general": "Outras questões", "baggage": "Bagagem extraviada"}
