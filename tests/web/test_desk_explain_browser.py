"""The offer card's "Why you" in Chromium (the desk's own module): the step routing had
reached says what it allowed, not what this agent needed."""

from __future__ import annotations

from playwright.async_api import Browser

from switchboard.node import Node
from tests.web.conftest import needs_chromium

pytestmark = needs_chromium

LINE = (
    "contact routed: step={step} strategy=longest_idle languages={languages} "
    "regions={regions} -> ana among 2 candidates [ana,bob]"
)


async def test_why_you_says_an_exact_match_when_the_agent_needed_no_relaxation(
    node: Node, browser: Browser
) -> None:
    """An English caller who had waited past the language step, offered to an agent who
    speaks English in the caller's region, read "No agent of the customer's language was
    free, so other languages were allowed"."""
    page = await browser.new_page()
    await page.goto(f"http://127.0.0.1:{node.http_port}/agent")
    cases = {
        "language, speaks it": ("language", "en|es", "default", ["en", "es"], "default"),
        "region, home": ("region", "en", "default|asia", ["en"], "default"),
        "language, does not": ("language", "en|es", "default", ["es"], "default"),
        "region, elsewhere": ("region", "en", "default|asia", ["en"], "asia"),
        "translation, speaks it": ("translation", "en|es", "default|asia", ["en"], "default"),
        "translation, elsewhere": ("translation", "en|es", "default|asia", ["en"], "asia"),
        "translation, does not": ("translation", "en|es", "default|asia", ["es"], "default"),
    }
    said = await page.evaluate(
        """async ([line, cases]) => {
          const { explain } = await import('/pages/desk-explain.js');
          const out = {};
          for (const [name, [step, languages, regions, speaks, works]] of Object.entries(cases)) {
            const decision = line.replace('{step}', step).replace('{languages}', languages)
              .replace('{regions}', regions);
            out[name] = explain(decision, { language: 'en', region: 'default' },
              { languages: speaks, region: works });
          }
          return out;
        }""",
        [LINE, cases],
    )
    assert said["language, speaks it"].startswith("An exact match: you speak English")
    assert said["region, home"].startswith("An exact match: you speak English and work in default")
    assert said["language, does not"].startswith("No agent of the customer's language was free")
    assert said["region, elsewhere"].startswith("The customer waited long, so other regions")
    # The translation step allowed languages a pair reaches; an agent of the customer's
    # own language reads them untranslated, and is not told otherwise.
    assert said["translation, speaks it"].startswith("An exact match: you speak English")
    assert said["translation, elsewhere"].startswith(
        "The customer waited long, so other regions were allowed (default, asia)"
    )
    assert said["translation, does not"].startswith("Nobody free speaks the customer's language")
    await page.close()
