"""French, Portuguese and Italian customers reach English agents through Spanish.

Debian has no Apertium pair between English and these languages, but it has each of
them with Spanish (`apertium-fr-es`, `apertium-es-pt`, `apertium-spa-ita`), and the
Translator pivots over one language. Needs those pairs and `apertium-eng-spa`
(scripts/system-deps.sh, run by `make run` and `make test`, installs them); without them
these tests fail and say so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from i18n import apertium
from i18n.apertium import installed_modes
from i18n.service import translation_language
from i18n.translation import Translator
from i18n.translation_settings import TranslationSettings
from switchboard.cli import main
from switchboard.node import Node
from tests.i18n.translators import APERTIUM_ONLY
from tests.nodes import http_session, login, new_chat
from tests.translated_chat import TOM, node_with_tom

# mode names of each pair (both directions), as the Debian packages install them
PIVOT_MODES = {"eng-spa", "spa-eng", "fr-es", "es-fr", "es-pt", "pt-es", "spa-ita", "ita-spa"}


@pytest.fixture(scope="module", autouse=True)
def spanish_pairs_installed() -> None:
    modes = {mode.name for mode in installed_modes()}
    if not apertium.available() or not modes >= PIVOT_MODES:
        missing = ", ".join(sorted(PIVOT_MODES - modes)) or "apertium"
        pytest.fail(f"Apertium modes missing ({missing}): run `bash scripts/system-deps.sh`")


@pytest.fixture(scope="module")
def translator() -> Iterator[Translator]:
    translator = Translator(settings=APERTIUM_ONLY)
    yield translator
    translator.close()


@pytest.mark.parametrize("language", ["fr", "pt", "it"])
def test_english_is_reached_through_spanish_both_ways(translator: Translator, language: str):
    pairs = translator.pairs()
    assert (language, "en") in pairs and ("en", language) in pairs
    assert (language, "en") not in translator.direct()  # a pivot, not a pair of its own
    assert translator.route(language, "en") == [
        (language, "es", "apertium"),
        ("es", "en", "apertium"),
    ]
    assert translator.route("en", language) == [
        ("en", "es", "apertium"),
        ("es", language, "apertium"),
    ]
    # the routing's translation step lets an English-only agent take the chat
    assert translation_language(language, ["en"], pairs) == "en"


@pytest.mark.parametrize(
    ("text", "source", "target", "must_contain"),
    [
        # lost baggage
        ("Mon bagage n'est pas arrivé à Madrid.", "fr", "en", ["My luggage has not arrived"]),
        ("A minha bagagem não chegou a Lisboa.", "pt", "en", ["My luggage did not arrive"]),
        ("Il mio bagaglio non è arrivato a Roma.", "it", "en", ["My luggage has not arrived"]),
        # rebooking
        ("O meu voo foi cancelado.", "pt", "en", ["My flight was cancelled"]),
        ("Mon vol a été annulé.", "fr", "en", ["My flight has been"]),
        # seat: the code passes verbatim through both hops
        ("I have changed your seat to 12A.", "en", "fr", ["votre siège", "12A"]),
        ("I have changed your seat to 12A.", "en", "it", ["12A"]),
        # refund
        ("Your refund will arrive in seven days.", "en", "fr", ["Votre remboursement arrivera"]),
        ("Your refund will arrive in seven days.", "en", "pt", ["reembolso chegará em sete"]),
        ("Your refund will arrive in seven days.", "en", "it", ["rimborso arriverà in sette"]),
    ],
)
def test_airline_lines_through_the_pivot(translator, text, source, target, must_contain):
    translation = translator.translate(text, source, target)
    assert (translation.engine, translation.missing_pair, translation.error) == (
        "apertium",
        False,
        None,
    )
    for words in must_contain:
        assert words in translation.text


def test_a_mode_whose_program_is_missing_is_an_error_not_an_empty_message(tmp_path: Path):
    """apertium-spa-ita's it→es mode runs cg-proc, and the package does not depend on
    cg3: without it every Italian message reached the agent as an empty text. Now the
    engine fails and the chat keeps the original, the failure said (`error`)."""
    modes = tmp_path / "modes"
    modes.mkdir()
    real = next(mode for mode in installed_modes() if mode.name == "ita-spa")
    script = real.path.read_text(encoding="utf-8")
    assert "cg-proc " in script  # why system-deps.sh installs cg3
    (modes / "ita-spa.mode").write_text(script.replace("cg-proc ", "cg-proc-gone "), "utf-8")
    translator = Translator(settings=TranslationSettings(("apertium",), apertium_dir=tmp_path))
    try:
        translation = translator.translate("Voglio un rimborso.", "it", "es")
    finally:
        translator.close()
    assert translation.text == "Voglio un rimborso."
    assert translation.error and "gave no text" in translation.error
    assert "cg-proc-gone" in translation.error


def test_the_pivot_is_the_first_language_in_order_when_two_reach(tmp_path: Path):
    """Italian reaches English through Catalan (apertium-eng-cat, apertium-cat-ita) and
    through Spanish: the route takes the pivot whose code sorts first, whatever the
    order the modes were found in, so a node always picks the same one (`ca`)."""
    modes = tmp_path / "modes"
    modes.mkdir()
    for name in ["spa-ita", "ita-spa", "spa-eng", "eng-spa", "ita-cat", "cat-ita"]:
        (modes / f"{name}.mode").write_text("", encoding="utf-8")
    only_spanish = Translator(settings=TranslationSettings(("apertium",), apertium_dir=tmp_path))
    assert only_spanish.route("it", "en") == [("it", "es", "apertium"), ("es", "en", "apertium")]
    for name in ["cat-eng", "eng-cat"]:
        (modes / f"{name}.mode").write_text("", encoding="utf-8")
    both = Translator(settings=TranslationSettings(("apertium",), apertium_dir=tmp_path))
    assert both.route("it", "en") == [("it", "ca", "apertium"), ("ca", "en", "apertium")]
    assert both.route("en", "it") == [("en", "ca", "apertium"), ("ca", "it", "apertium")]
    # French has one way only: Spanish
    assert both.route("en", "es") == [("en", "es", "apertium")]


def test_models_lists_the_pivoted_pairs_and_their_pivot(capsys):
    config = ["--packages-dir", "var/none", "--config", "config/locales.toml"]
    assert main(["i18n", "models", *config, "--json"]) == 0
    pairs = {(p["source"], p["target"]): p for p in json.loads(capsys.readouterr().out)["pairs"]}
    for language in ("fr", "pt", "it"):
        for pair in ((language, "en"), ("en", language)):
            assert pairs[pair]["engine"] == "pivot" and pairs[pair]["through"] == "es"
    assert "through" not in pairs[("es", "en")]
    assert main(["i18n", "models", *config]) == 0
    text = capsys.readouterr().out
    assert "  fr→en  through es\n" in text and "  en→it  through es\n" in text
    assert "(pinned)" not in text  # a pivoted pair was said to be pinned


@pytest.fixture
async def node(redis_url: str, translator: Translator) -> AsyncIterator[Node]:
    async with node_with_tom(redis_url, translator) as node:
        for _ in range(100):
            if {"fr>en", "en>fr"} <= await node.client.smembers(node.store.keys.translation_pairs):
                break
            await asyncio.sleep(0.05)
        yield node


async def test_a_french_chat_reaches_an_english_agent_through_spanish(node: Node) -> None:
    """Tom speaks English only; the customer writes French. The routing's translation
    step offers him the chat (fr↔en exist only through es), he reads her in English and
    she reads his answer in French."""
    async with http_session(node) as http:
        tom = await login(http, *TOM)
        await http.put("/api/v1/agents/tom/state", json={"state": "available"}, headers=tom)
        created = await new_chat(http, queue="baggage", language="fr")
        assert created["state"] == "offered" and created["agent_id"] == "tom"
        contact = f"/api/v1/contacts/{created['contact_id']}"
        seen = await (await http.get(contact, headers=tom)).json()
        assert "step=translation" in seen["explanation"][-1]
        await http.post(f"{contact}/accept", headers=tom)
        customer = {"X-Customer-Token": created["customer_token"]}
        asked = await (
            await http.post(
                f"{contact}/messages",
                json={"text": "Mon bagage n'est pas arrivé à Madrid."},
                headers=customer,
            )
        ).json()
        answered = await (
            await http.post(
                f"{contact}/messages",
                json={"text": "Your refund will arrive in seven days."},
                headers=tom,
            )
        ).json()
    assert asked["text"] == "Mon bagage n'est pas arrivé à Madrid."
    assert asked["translations"] == {"en": "My luggage has not arrived in Madrid."}
    assert answered["translations"] == {"fr": "Votre remboursement arrivera en sept jours."}
    assert asked["missing_translation"] == answered["missing_translation"] == []
