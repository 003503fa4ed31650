"""The customer 360° panel's contacts in Chromium, at 1280 px in English and in Arabic
(right to left, dates in Arabic digits): every heading and cell is read whole inside the
panel, nothing is drawn over its neighbour (a date over the Channel column) and nothing
is cut at the panel's edge (the "Agent" heading)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from router.desk import ChatSite, DeskConfig, Dispositions
from router.identity import sign
from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, queues_with_wrap_up, running_node
from tests.web.conftest import needs_chromium, screenshot

pytestmark = needs_chromium

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")
DESK = DeskConfig(
    dispositions={"booking": Dispositions(("new_booking", "changed", "info_only"))},
    sites=(SITE,),
)
# The table's cells and headings that show: each with its box against its content's, and
# whether it is inside the panel's scroller; each column's name where the reader sees it
# (its heading, or beside each value when the rows are stacked); what is left to scroll.
MEASURE = """() => {
  const scroller = document.querySelector('#customer-body .scroll');
  const box = scroller.getBoundingClientRect();
  const shows = (cell) => cell.getBoundingClientRect().width > 1 && getComputedStyle(cell).display !== 'none';
  const cells = [...scroller.querySelectorAll('th, td')].filter(shows).map((cell) => {
    const r = cell.getBoundingClientRect();
    return { text: cell.textContent, over: cell.scrollWidth - cell.clientWidth,
             inside: r.left >= box.left - 1 && r.right <= box.right + 1 };
  });
  const headings = [...scroller.querySelectorAll('th')];
  const named = headings.map((th, i) => {
    if (shows(th)) return th.textContent;
    const column = [...scroller.querySelectorAll(`tbody tr td:nth-child(${i + 1})`)].filter(shows);
    const labels = new Set(column.map((td) => getComputedStyle(td, '::before').content.replace(/^"|"$/g, '')));
    return labels.size === 1 && labels.has(th.textContent) ? th.textContent : null;
  });
  return { cells, named, headings: headings.map((th) => th.textContent),
           scroll: scroller.scrollWidth - scroller.clientWidth };
}"""


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        queues=queues_with_wrap_up(0.0),
        desk=DESK,
        users=[("ana", Role.AGENT, "ana-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


def identity() -> str:
    return sign(SITE.secret, {"sub": "c-9", "exp": time.time() + 600, "tier": "gold"})


async def desk_with_history(browser: Browser, node: Node, locale: str, lang: str) -> Page:
    """ana's desk (at 1280 px) holding a chat of c-9, whose earlier chat she wrapped up
    with a code and a note and the customer rated."""
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        earlier = await new_chat(http, queue="booking", identity=identity(), site="airline")
        eid = earlier["contact_id"]
        assert (await http.post(f"/api/v1/contacts/{eid}/accept", headers=ana)).status == 200
        await http.post(f"/api/v1/contacts/{eid}/complete", headers=ana)
        note = {"code": "changed", "note": "moved to the 18:05 to Frankfurt"}
        assert (await http.post(f"/api/v1/contacts/{eid}/wrapup", json=note, headers=ana)).ok
        token = {"X-Customer-Token": earlier["customer_token"]}
        rated = await http.post(f"/api/v1/contacts/{eid}/rating", json={"score": 4}, headers=token)
        assert rated.status == 201
        await http.post("/api/v1/agents/logout", headers=ana)
    context = await browser.new_context(
        locale=locale, timezone_id="UTC", viewport={"width": 1280, "height": 860}
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent?lang={lang}")
    await page.fill("#agent-id", "ana")
    await page.fill("#password", "ana-secret-1")
    await page.click("#sign-in")
    await page.click("#go-available")
    await expect(page.locator("#state")).to_have_attribute("data-state", "available")
    async with http_session(node) as http:
        await new_chat(http, queue="booking", identity=identity(), site="airline")
    await page.locator(".offer .accept").click(timeout=10_000)
    await expect(page.locator("#customer table.history tbody tr")).to_have_count(2)
    return page


@pytest.mark.parametrize("locale,lang", [("en-US", "en"), ("ar-EG", "ar")])
async def test_the_contacts_table_is_read_whole_in_the_panel(
    node: Node, browser: Browser, tmp_path: Any, locale: str, lang: str
) -> None:
    page = await desk_with_history(browser, node, locale, lang)
    found = await page.evaluate(MEASURE)
    await screenshot(page, tmp_path, f"agent-customer-panel-{lang}.png")
    overflowing = [cell for cell in found["cells"] if cell["over"] > 0]
    cut = [cell["text"] for cell in found["cells"] if not cell["inside"]]
    assert overflowing == [], overflowing
    assert cut == [], cut
    assert found["scroll"] <= 0, found
    assert found["named"] == found["headings"], found
    await page.context.close()
