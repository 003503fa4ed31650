"""The offer card's "Why you" in Chromium past the region and proficiency steps: an agent
who speaks the customer's language in the customer's region reads "an exact match"
whatever the step allowed (other regions for a long predicted wait, any skill level);
the others read what was widened for them."""

from __future__ import annotations

from playwright.async_api import Browser

from switchboard.node import Node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

LINE = (
    "contact routed: step={step} strategy=longest_idle languages=es|en "
    "regions=default|asia min_proficiency=1 -> bob among 2 candidates [bob,ana]"
)
EXPLAIN = """async ([line, cases]) => {
  const { explain } = await import('/pages/desk-explain.js');
  const out = {};
  for (const [name, [step, speaks, works]] of Object.entries(cases)) {
    out[name] = explain(line.replace('{step}', step), { language: 'es', region: 'default' },
      { languages: speaks, region: works });
  }
  return out;
}"""


async def test_why_you_past_the_proficiency_and_predicted_wait_steps(
    node: Node, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    cases = {
        "proficiency, speaks it at home": ("proficiency", ["en", "es"], "default"),
        "proficiency, does not speak it": ("proficiency", ["en"], "default"),
        "predicted wait, speaks it at home": ("region_ewt", ["es"], "default"),
        "predicted wait, elsewhere": ("region_ewt", ["es"], "asia"),
    }
    said = await page.evaluate(EXPLAIN, [LINE, cases])
    assert said["proficiency, speaks it at home"].startswith(
        "An exact match: you speak Spanish and work in default."
    ), said
    assert "lower skill level" not in said["proficiency, speaks it at home"]
    assert said["proficiency, does not speak it"].startswith(
        "The customer waited long, so a lower skill level was allowed (at least 1)."
    ), said
    assert said["predicted wait, speaks it at home"].startswith("An exact match"), said
    assert said["predicted wait, elsewhere"].startswith(
        "The predicted wait in the customer's region was long, so other regions were allowed."
    ), said
    await page.close()
