"""The desk's conversation tabs for a keyboard-only agent, in Chromium: the WAI-ARIA tabs
pattern (one tab in the Tab order, the arrow keys, Home and End move, select and focus,
mirrored right to left) and tabs that say whose conversation each is."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from switchboard.node import Node
from tests.nodes import http_session, login, new_chat
from tests.web.conftest import (
    available_at_desk,
    needs_chromium,
    screenshot,
    serious_violations,
)

pytestmark = needs_chromium


async def state(page: Page) -> dict[str, object]:
    """The tabs as the page has them: ids in order, which is selected, focused, shown,
    and which of them the Tab key can reach."""
    return dict(
        await page.evaluate(
            """() => {
              const tabs = [...document.querySelectorAll('#tabs [role=tab]')];
              const shown = [...document.querySelectorAll('#panels [role=tabpanel]')]
                .filter((panel) => !panel.hidden);
              return {
                ids: tabs.map((tab) => tab.id),
                selected: tabs.filter((tab) => tab.getAttribute('aria-selected') === 'true')
                  .map((tab) => tab.id),
                focused: document.activeElement.id,
                inTabOrder: tabs.filter((tab) => tab.tabIndex === 0).map((tab) => tab.id),
                shown: shown.map((panel) => panel.id),
                controls: tabs.map((tab) => tab.getAttribute('aria-controls')),
                labelledBy: [...document.querySelectorAll('#panels [role=tabpanel]')]
                  .map((panel) => panel.getAttribute('aria-labelledby')),
              };
            }"""
        )
    )


async def expect_selected(page: Page, index: int) -> None:
    """Tab `index` is selected, focused, the only one in the Tab order; its panel alone
    is shown."""
    found = await state(page)
    ids = list(found["ids"])  # type: ignore[call-overload]
    tab = ids[index]
    assert found["selected"] == [tab], found
    assert found["focused"] == tab, found
    assert found["inTabOrder"] == [tab], found
    assert found["shown"] == [found["controls"][index]], found  # type: ignore[index]


async def test_tabs_by_keyboard_and_whose_they_are(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    page = await available_at_desk(browser, node, viewport={"width": 1400, "height": 950})
    async with http_session(node) as http:
        # Two anonymous customers writing in English, and one a back office vouches for.
        chats = [await new_chat(http, queue="booking") for _ in range(2)]
        sup = await login(http, "sup", "sup-secret-1")
        signed = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "en",
                "customer": {"id": "c-4711"},
            },
            headers=sup,
        )
        assert signed.status == 201, await signed.text()
        chats.append(dict(await signed.json()))
        cids = [chat["contact_id"] for chat in chats]
        for cid in cids:
            await page.locator(f".offer[data-contact='{cid}'] .accept").click(timeout=10_000)
            await expect(page.locator(f"#tab-{cid}")).to_have_count(1)

    tabs = [page.locator(f"#tab-{cid}") for cid in cids]
    found = await state(page)
    assert found["ids"] == [f"tab-{cid}" for cid in cids]
    assert found["controls"] == [f"panel-{cid}" for cid in cids]
    assert found["labelledBy"] == [f"tab-{cid}" for cid in cids]
    # The first stays in view; only it is in the Tab order from the start.
    assert found["selected"] == [f"tab-{cids[0]}"]
    assert found["inTabOrder"] == [f"tab-{cids[0]}"]

    # Whose each tab is: the signed-in customer's id; the anonymous ones by language and
    # start time, and (as those read the same) a short contact id.
    await expect(tabs[2].locator(".tab-who")).to_have_text("c-4711")
    for i in (0, 1):
        await expect(tabs[i].locator(".tab-who")).to_have_text(
            re.compile(rf"^English, since \d{{1,2}}:\d\d.* · #{cids[i][:6]}$")
        )
    labels = [await tab.inner_text() for tab in tabs]
    assert len(set(labels)) == 3, labels
    assert all(label.startswith("Chat · Bookings and changes") for label in labels), labels

    # The keys: right, right, right (wrapping), left (wrapping), End, Home.
    await tabs[0].focus()
    await expect_selected(page, 0)
    for key, index in [
        ("ArrowRight", 1),
        ("ArrowRight", 2),
        ("ArrowRight", 0),
        ("ArrowLeft", 2),
        ("ArrowLeft", 1),
        ("Home", 0),
        ("End", 2),
    ]:
        await page.keyboard.press(key)
        await expect_selected(page, index)
    # The customer beside it follows the tab in view.
    await expect(page.locator("#customer-body .customer-id")).to_have_text("c-4711")

    # Tab leaves the tabs for the panel in view; Shift+Tab comes back to the selected tab.
    await page.keyboard.press("Tab")
    inside = await page.evaluate(
        "(id) => document.getElementById(id).contains(document.activeElement)", f"panel-{cids[2]}"
    )
    assert inside
    await page.keyboard.press("Shift+Tab")
    await expect_selected(page, 2)

    # Nothing but the one tab is in the Tab order: walking the page never meets another.
    met = set()
    for _ in range(60):
        await page.keyboard.press("Tab")
        met.add(
            await page.evaluate(
                "document.activeElement.getAttribute('role') === 'tab' ? document.activeElement.id : ''"
            )
        )
    assert met - {""} == {f"tab-{cids[2]}"}, met
    assert await serious_violations(page) == []
    await screenshot(page, tmp_path, "desk-tabs.png")

    # Ending the conversation in view from the keyboard: after its wrap-up the keyboard is
    # on the tab now in view.
    await tabs[2].focus()
    panel = page.locator(f"#panel-{cids[2]}")
    await panel.locator("button.end-chat").focus()
    await page.keyboard.press("Enter")
    await expect(panel.locator("form.wrap-up")).to_be_visible(timeout=10_000)
    await panel.locator("button.save-wrap-up").focus()
    await page.keyboard.press("Enter")
    await expect(panel).to_have_count(0, timeout=10_000)
    await expect_selected(page, 0)
    await page.keyboard.press("End")
    await expect_selected(page, 1)

    # Right to left (Hebrew): the arrows are mirrored, the labels translated.
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent?lang=he")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("#tabs [role=tab]")).to_have_count(2, timeout=10_000)
    await expect(page.locator("#tabs [role=tab] .tab-who").first).to_contain_text("מאז")
    order = list((await state(page))["ids"])  # type: ignore[call-overload]
    await page.locator(f"#{order[0]}").click()
    await expect_selected(page, 0)
    await page.keyboard.press("ArrowLeft")
    await expect_selected(page, 1)
    await page.keyboard.press("ArrowRight")
    await expect_selected(page, 0)
    await screenshot(page, tmp_path, "desk-tabs-rtl.png")
    await page.context.close()
