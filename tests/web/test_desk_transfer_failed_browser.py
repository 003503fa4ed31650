"""The desktop in Chromium when a blind transfer of the agent's to an outside number is
not taken (busy, declined, unreachable, nobody answered): telephony notes it `requeued`
and the caller waits in the queue again (tests/telephony/test_transfer.py). The call
left the agent (a transfer from the desk closed its panel, one from the softphone did
not); the desk says what became of it, in their language, and closes the call."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from router.model import Channel, NewContact
from switchboard.node import Node
from tests.web.conftest import needs_chromium, screenshot, taking_calls

pytestmark = needs_chromium


@pytest.fixture
def node(calls_node: Node) -> Node:
    """ana takes calls here (tests/web/conftest.py `calls_node`)."""
    return calls_node


async def transferred_out_busy(node: Node, page: Page) -> str:
    """A call ana took and transferred to +4930123456, whose line was busy: what the
    worker tells the router (the transfer noted `requeued`, the caller back in the
    queue)."""
    call = await node.router.create_contact(
        NewContact(Channel.VOICE, "booking", "en", customer_id="+34600123456", verified=True)
    )
    card = page.locator(f".offer[data-contact='{call.contact_id}']")
    await expect(card.locator(".ring-left")).to_be_visible(timeout=10_000)
    await node.router.accept(call.contact_id, "ana")
    # She talks to the caller first: the call's panel is up before she transfers.
    await expect(page.locator(f"#panel-{call.contact_id}")).to_be_visible(timeout=10_000)
    await node.router.note_transfer(
        call.contact_id,
        {
            "at_ms": 0,
            "mode": "blind",
            "by": "desktop",
            "from_agent": "ana",
            "to": "sip:+4930123456@127.0.0.1:5070;user=phone",
            "outcome": "requeued",
            "reason": "busy",
        },
    )
    await node.router.transfer(call.contact_id, "ana")
    return call.contact_id


async def test_a_failed_transfer_out_tells_the_agent_where_the_caller_is(
    node: Node, browser: Browser, tmp_path: Path
) -> None:
    page = await taking_calls(browser, node)
    cid = await transferred_out_busy(node, page)
    await expect(page.locator("#notice")).to_have_text(
        "Transfer to +4930123456 failed (the line was busy): the caller is back in queue "
        "Bookings and changes."
    )
    # A transfer from the softphone (REFER) left the call's panel up: it is closed.
    await expect(page.locator(f"#panel-{cid}")).to_have_count(0)
    assert (await node.router.get_contact(cid)).state.value in ("queued", "offered")
    await screenshot(page, tmp_path, "desk-transfer-failed.png")
    await page.context.close()


async def test_the_failed_transfer_notice_is_in_the_agent_s_language(
    node: Node, browser: Browser
) -> None:
    page = await taking_calls(browser, node, lang="es")
    await transferred_out_busy(node, page)
    await expect(page.locator("#notice")).to_have_text(
        "La transferencia a +4930123456 falló (la línea estaba ocupada): "
        "quien llama vuelve a estar en la cola Reservas y cambios."
    )
    await page.context.close()
