"""The agent desktop and the customer chat window end to end, in two browser contexts.

A customer opens /chat in Spanish and waits; Tom, whose only language is English, signs
in on /agent and accepts; their messages cross translated by Apertium (es<->en); the
customer's page reloads mid-chat and the chat goes on; Tom wraps up with a code; the
customer rates; `switchboard report` then counts the code and the rating. Then a case
solved after such a chat: the customer's page, still open (and already rated), asks
whether the problem is solved, and each answer reopens or closes the case.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from i18n.translation import Translator
from router.desk import CannedReply, DeskConfig, Dispositions
from router.model import Agent, ContactState, Role
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.i18n.translators import APERTIUM_ONLY
from tests.nodes import ROOT, http_session, login, running_node
from tests.web.conftest import needs_chromium, screenshot, serious_violations

pytestmark = needs_chromium

CODES = ("bag_located", "claim_opened", "info_only")
DESK = DeskConfig(
    dispositions={"baggage": Dispositions(CODES, required=True)},
    canned=(CannedReply("baggage", "en", "Greeting", "Hello, I am looking into it now."),),
    topics={"general": {"es": "Otras consultas", "en": "Something else"}},
)


@pytest.fixture(scope="module")
def translator() -> Iterator[Translator]:
    translator = Translator(settings=APERTIUM_ONLY)
    yield translator
    translator.close()


@pytest.fixture
async def node(redis_url: str, translator: Translator) -> AsyncIterator[Node]:
    queues = [
        dataclasses.replace(q, relax_translation_after_s=0.0, wrap_up_s=30.0)
        if q.name == "baggage"
        else q
        for q in load_settings(ROOT / "config" / "default.toml").queues
    ]
    async with running_node(
        redis_url,
        translator=translator,
        queues=queues,
        desk=DESK,
        users=[("tom", Role.AGENT, "tom-secret-1")],
        agents=[Agent("tom", "default", {"baggage": 4}, ["en"])],
    ) as node:
        for _ in range(100):  # the pairs are published by a background task at start
            pairs = {
                p if isinstance(p, str) else p.decode()
                for p in await node.client.smembers("sb:{rt}:translation_pairs")
            }
            if {"es>en", "en>es"} <= pairs:
                break
            await asyncio.sleep(0.05)
        yield node


async def sign_in(page: Page, base: str, agent: str, password: str) -> None:
    await page.goto(f"{base}/agent")
    await page.fill("#agent-id", agent)
    await page.fill("#password", password)
    await page.fill("#chat-capacity", "2")
    await page.click("#sign-in")
    await expect(page.locator("#workspace")).to_be_visible()


async def test_spanish_customer_and_english_agent(
    node: Node, browser: Browser, redis_url: str, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{node.http_port}"
    customer_side = await browser.new_context(
        locale="es-ES", viewport={"width": 420, "height": 760}
    )
    agent_side = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
    customer, agent = await customer_side.new_page(), await agent_side.new_page()

    # The customer: Spanish from the browser, a topic from the list, bad input first.
    await customer.goto(f"{base}/chat")
    await expect(customer.locator("html")).to_have_attribute("lang", "es")
    await expect(customer.locator("#start-chat")).to_have_text("Iniciar chat")
    # topics in the customer's words and language, not the queues' names
    await expect(customer.locator("#queue option[value='baggage']")).to_have_text("Equipaje")
    # the operator's own words for a queue ([chat.topics]) before the shipped ones
    await expect(customer.locator("#queue option[value='general']")).to_have_text("Otras consultas")
    await customer.select_option("#queue", "baggage")
    await customer.click("#start-chat")
    await expect(customer.locator("#start-error")).to_contain_text("Escriba un mensaje")
    too_long = "a" * 10_000
    await customer.fill("#first-message", too_long)
    await customer.click("#start-chat")
    await expect(customer.locator("#start-error")).to_contain_text("10.000")
    assert await customer.input_value("#first-message") == too_long  # nothing lost
    await customer.fill("#first-message", "Mi maleta no ha llegado.")
    await customer.click("#start-chat")
    await expect(customer.locator("#messages li.mine")).to_contain_text("Mi maleta no ha llegado.")
    await expect(customer.locator("#status")).to_contain_text("número 1", timeout=10_000)

    # The agent signs in, becomes available and gets the offer.
    await sign_in(agent, base, "tom", "tom-secret-1")
    await agent.click("#go-available")
    offer = agent.locator(".offer")
    await expect(offer).to_contain_text("Baggage", timeout=10_000)
    await expect(offer).to_contain_text("Spanish")
    await expect(offer.locator(".why")).to_contain_text("translated")
    await expect(offer.locator(".ring-left")).to_contain_text("s left")
    await offer.locator(".accept").click()

    # The customer's message in English, its original one click away.
    panel = agent.locator(".conversation").first
    first = panel.locator(".messages li.theirs").first
    await expect(first.locator(".text")).to_have_text("My case has not arrived.")
    await first.locator(".toggle-original").click()
    await expect(first.locator(".original")).to_have_text("Mi maleta no ha llegado.")
    await expect(customer.locator("#status")).to_contain_text("tom")

    # A reply with nothing to read (the Braille blank, a zero-width space) is refused on
    # the desk as the customer's page refuses it, before it is sent.
    await panel.locator("textarea.reply").fill("\u2800\u200b")
    await panel.locator("button.send").click()
    await expect(panel.get_by_text("Your message has nothing to read")).to_be_visible()
    await expect(panel.locator(".messages li.mine")).to_have_count(0)
    await expect(panel.locator("textarea.reply")).to_have_value("\u2800\u200b")

    # Canned reply in English, translated for the customer.
    await panel.locator("select.canned").select_option(label="Greeting")
    await expect(panel.locator("textarea.reply")).to_have_value("Hello, I am looking into it now.")
    await panel.locator("textarea.reply").fill("Your suitcase is in Madrid.")
    await panel.locator("button.send").click()
    reply = customer.locator("#messages li.theirs").last
    await expect(reply).to_contain_text("Madrid", timeout=10_000)
    await expect(reply).to_contain_text("Vuestra maleta")
    # The customer saw it: the agent's message shows as read.
    await expect(panel.locator(".messages li.mine .delivery").last).to_have_text("Read")

    # The customer's page reloads mid-chat: the same chat, its messages, and it goes on.
    await customer.reload()
    await expect(customer.locator("#messages li:not(.notice)")).to_have_count(2, timeout=10_000)
    await expect(customer.locator("#messages li.notice")).to_have_text(["tom se ha unido al chat."])
    await expect(customer.locator("#status")).to_contain_text("tom")
    await customer.fill("#message", "¡Gracias!")
    await customer.press("#message", "Enter")
    await expect(panel.locator(".messages li.theirs")).to_have_count(2, timeout=10_000)
    await screenshot(customer, tmp_path, "chat.png")
    await screenshot(agent, tmp_path, "agent-desktop.png")

    # A notice of the center's own (an advisory's) reaches the open chat, marked as such
    # on both pages.
    (contact_id,) = await node.router.store.live_contacts()
    chat = await node.router.get_contact(contact_id)
    await node.contacts.tell(chat, "Tormenta en MAD: vuelos con retraso.", "es")
    notice = customer.locator("#messages li.center")
    await expect(notice).to_contain_text("Aviso del centro", timeout=10_000)
    await expect(notice).to_contain_text("Tormenta en MAD")
    await expect(panel.locator(".messages li.center")).to_contain_text("Notice from the center")

    # The 360° panel shows this chat; the agent ends it and wraps up with a code.
    await expect(agent.locator("#customer table.history tbody tr")).to_have_count(1)
    await panel.locator("button.end-chat").click()
    wrap = panel.locator("form.wrap-up")
    await expect(wrap).to_be_visible()
    await expect(agent.locator("#state")).to_have_text("Wrap-up")
    await expect(agent.locator("#wrap-up-left")).to_contain_text("left")
    await wrap.locator("button.save-wrap-up").click()
    await expect(wrap.locator(".error")).to_contain_text("choose a code")
    await wrap.locator("select.wrap-up-code").select_option("bag_located")
    await wrap.locator("textarea.wrap-up-note").fill("Bag on the next flight.")
    await wrap.locator("button.save-wrap-up").click()
    await expect(agent.locator(".conversation")).to_have_count(0)

    # The customer rates the finished chat.
    await expect(customer.locator("#rating")).to_be_visible(timeout=10_000)
    await customer.click("#send-rating")
    await expect(customer.locator("#rating-error")).not_to_be_empty()
    await customer.locator("#stars label").nth(3).click()
    await customer.click("#send-rating")
    await expect(customer.locator("#thanks")).to_be_visible()

    await customer_side.close()
    await agent_side.close()

    # The day's report counts the code and the rating.
    rows = report(redis_url, tmp_path)
    total = rows["all"]
    assert total["wrap_up_bag_located"] == "1"
    assert total["ratings"] == "1" and total["average_rating"] == "4"


async def test_a_case_solved_after_the_chat_asks_the_customer_on_the_open_page(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{node.http_port}"
    context = await browser.new_context(locale="es-ES", viewport={"width": 420, "height": 760})
    customer = await context.new_page()
    async with http_session(node) as http:
        tom = await login(http, "tom", "tom-secret-1")
        await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)

        # A Spanish chat that Tom takes, opens a case on, and ends.
        await customer.goto(f"{base}/chat")
        await customer.select_option("#queue", "baggage")
        await customer.fill("#first-message", "Mi maleta no ha llegado.")
        await customer.click("#start-chat")
        await expect(customer.locator("#messages li.mine")).to_have_count(1)
        saved = "JSON.parse(localStorage.getItem('switchboard-chat:')).contact_id"
        cid = await customer.evaluate(saved)
        for _ in range(100):  # bounded: offered to Tom (through a translation pair)
            if (await node.router.get_contact(cid)).state == ContactState.OFFERED:
                break
            await asyncio.sleep(0.1)
        accepted = await http.post(f"/api/v1/contacts/{cid}/accept", headers=tom)
        assert accepted.status == 200, await accepted.text()
        opened = await http.post(
            f"/api/v1/contacts/{cid}/case", json={"subject": "Lost bag"}, headers=tom
        )
        assert opened.status == 201, await opened.text()
        case_url = f"/api/v1/cases/{(await opened.json())['case_id']}"
        await http.post(f"/api/v1/contacts/{cid}/complete", headers=tom)

        # The customer rates: the chat is forgotten by the browser, the page stays open.
        await expect(customer.locator("#rating")).to_be_visible(timeout=10_000)
        await customer.locator("#stars label").nth(4).click()
        await customer.click("#send-rating")
        await expect(customer.locator("#thanks")).to_be_visible()
        assert await customer.evaluate("localStorage.getItem('switchboard-chat:')") is None
        followup = customer.locator("#followup")
        await expect(followup).to_be_hidden()

        async def solve() -> None:
            solved = await http.patch(case_url, json={"status": "solved"}, headers=tom)
            assert solved.status == 200, await solved.text()
            assert (await solved.json())["status"] == "solved"

        async def status() -> str:
            return str((await (await http.get(case_url, headers=tom)).json())["status"])

        # Solved after the chat: the page asks, in Spanish.
        await solve()
        await expect(followup).to_be_visible(timeout=10_000)
        await expect(followup.locator("legend")).to_have_text("¿Se ha resuelto su problema?")
        await expect(customer.locator("#messages li.notice").last).to_have_text(
            "Su solicitud se ha marcado como resuelta."
        )
        assert await serious_violations(customer) == []
        await screenshot(customer, tmp_path, "chat-followup.png")

        # Not solved: the case is open again.
        await followup.get_by_role("button", name="No, todavía necesito ayuda").click()
        await expect(customer.locator("#followup-done")).to_contain_text("vuelve a estar abierta")
        await expect(followup).to_be_hidden()
        assert await status() == "open"

        # Solved again, and this time it is: closed.
        await solve()
        await expect(followup).to_be_visible(timeout=10_000)
        await expect(customer.locator("#followup-done")).to_be_empty()
        await followup.get_by_role("button", name="Sí, está resuelto").click()
        await expect(customer.locator("#followup-done")).to_contain_text("está cerrada")
        assert await status() == "closed"
    await context.close()


def report(redis_url: str, tmp_path: Path) -> dict[str, dict[str, str]]:
    config_text = (ROOT / "config" / "default.toml").read_text()
    config_text = config_text.replace('data_dir = "var/redis"', f'url = "{redis_url}"')
    config = tmp_path / "node.toml"
    config.write_text(config_text)
    out = tmp_path / "report.csv"
    now = dt.datetime.now(dt.UTC).date()
    today, yesterday = now.isoformat(), (now - dt.timedelta(days=1)).isoformat()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "report",
            "--from",
            yesterday,
            "--to",
            today,
            "--by",
            "queue",
            "--config",
            str(config),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {row["queue"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
