"""The wallboard's recording player in Chromium: a recording played is held in memory
behind a blob: URL, which is let go once another recording or another look-up replaces
it (a wallboard open all day keeps at most the one recording it shows)."""

from __future__ import annotations

import io
import wave

from playwright.async_api import Browser, Route, expect

from switchboard.node import Node
from tests.nodes import http_session, new_chat
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

# Every blob: URL the page makes and lets go, in order (set before its scripts run).
COUNT_BLOBS = """
window.blobs = { made: [], revoked: [] };
const make = URL.createObjectURL, revoke = URL.revokeObjectURL;
URL.createObjectURL = (object) => { const url = make(object); window.blobs.made.push(url); return url; };
URL.revokeObjectURL = (url) => { window.blobs.revoked.push(url); revoke(url); };
"""


def silence_wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 800)
    return out.getvalue()


async def test_a_replaced_recording_lets_go_of_its_memory(node: Node, browser: Browser) -> None:
    async with http_session(node) as http:
        contact_id = (await new_chat(http, queue="booking"))["contact_id"]
    await node.router.note_recording(contact_id, {"file": "call.wav"})
    context = await browser.new_context()
    await context.add_init_script(COUNT_BLOBS)
    page = await context.new_page()
    recording = silence_wav()

    # This node has no voice to have recorded the call: its recording is served here.
    async def serve(route: Route) -> None:
        await route.fulfill(status=200, body=recording, content_type="audio/wav")

    await page.route(f"**/api/v1/contacts/{contact_id}/recording", serve)
    await page.goto(f"http://127.0.0.1:{node.http_port}/wallboard")
    await page.fill("#user", "sup")
    await page.fill("#password", "sup-secret-1")
    await page.click("#sign-in")
    lookup = page.get_by_role("button", name="Look up")

    async def look_up_and_play() -> None:
        await page.fill("#sv-contact", contact_id)
        await lookup.click()
        await expect(page.locator("#sv-found-summary")).to_contain_text("1 recording(s)")
        await page.click("#sv-play")
        await expect(page.locator("#sv-audio")).to_be_visible()

    await look_up_and_play()
    await page.click("#sv-play")  # played again: the first copy goes
    await expect(page.locator("#sv-message")).to_contain_text("playing the recording")
    await page.wait_for_function("window.blobs.made.length === 2")
    await look_up_and_play()  # looked up again: the second goes before the third comes
    await page.wait_for_function("window.blobs.made.length === 3")
    await page.fill("#sv-contact", "no-such-contact")
    await lookup.click()  # another look-up: the third goes too
    await expect(page.locator("#sv-message")).not_to_be_empty()
    blobs = await page.evaluate("window.blobs")
    assert len(blobs["made"]) == 3 and blobs["revoked"] == blobs["made"], blobs
    assert await page.locator("#sv-audio").get_attribute("src") is None
