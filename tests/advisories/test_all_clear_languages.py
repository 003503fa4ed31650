"""The default all clear in each passenger's language: ended without a text (or with
texts of some languages only), an advisory's passengers read `ALL_CLEAR_TEXT` from the
`advisories` gettext catalog of the language they were warned in, by the warning's rule
(Traditional Chinese by SMS and in the chat for a zh-TW passenger), the title as the
supervisor wrote it; a language no catalog has reads English and is counted. And the
catalogs: one per language of the customer pages, complete, compiled."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from i18n.catalogs import LOCALES_DIR, compile_bytes, read_catalog
from i18n.chinese import to_script
from i18n.pages import page_languages
from router.advisories.catalog import DOMAIN
from router.advisories.model import AdvisoryRequest, Fallback
from router.model import Contact
from switchboard.node import Node
from tests.advisories.conftest import SUPERVISOR, chat_of, outbox_events, transcript
from tests.nodes import http_session

ENDED = "customer.advisory_ended"
TITLE = "MAD 马德里暴风雨"  # Simplified: a zh-TW reader gets it as written, not converted
WARNINGS = {
    "en": "Storm at MAD: your flight is delayed.",
    "es": "Tormenta en MAD: su vuelo se retrasa.",
    "zh": "马德里暴风雨：您的航班延误。",
    "ar": "عاصفة في مدريد: تأخرت رحلتك.",
}
# The catalogs' texts with the title in; Taiwan's characters for the template only.
SPANISH = f"Actualización: el aviso «{TITLE}» se ha retirado; ya no está vigente."
ARABIC = f"تحديث: سُحب الإشعار «{TITLE}»، ولم يعد ساريًا."
TAIWAN = f"更新：通知“{TITLE}”已撤銷，不再適用。"
ENGLISH = f'Update: the notice "{TITLE}" has been withdrawn; it no longer applies.'
PASSENGERS = {"c-tw": "zh-TW", "c-es": "es-MX", "c-ar": "ar", "c-sw": "sw"}


async def warned(node: Node) -> tuple[str, Contact, str]:
    """An advisory of the passengers above (each known by an ended chat in their tag;
    c-tw's chat still live, so told); c-tw's chat and its customer token."""
    live: tuple[Contact, str] | None = None
    for customer, tag in PASSENGERS.items():
        contact, token = await chat_of(node, customer, tag)
        if customer == "c-tw":
            live = (contact, token)
        else:
            await node.router.abandon(contact.contact_id)
    assert live is not None
    until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    request = AdvisoryRequest(
        queue="booking",
        title=TITLE,
        customers=tuple(PASSENGERS),
        messages=WARNINGS,
        until_ms=int(until.timestamp() * 1000),
    )
    declared = await node.advisories.declare(SUPERVISOR, request)
    assert (declared.warned, declared.in_chat) == (4, 1)
    return declared.advisory.advisory_id, *live


async def cleared(node: Node) -> dict[str, tuple[str, str | None, str]]:
    """Each passenger's all clear: (language, customer_language, text)."""
    events = [e["data"] for e in await outbox_events(node, ENDED)]
    assert len(events) == len(PASSENGERS)
    return {d["customer"]: (d["language"], d["customer_language"], d["text"]) for d in events}


async def test_without_a_text_each_passenger_reads_the_all_clear_in_their_language(
    node: Node,
) -> None:
    advisory_id, chat, token = await warned(node)
    ended = await node.advisories.end(SUPERVISOR, advisory_id)
    assert await cleared(node) == {
        "c-tw": ("zh-TW", "zh-TW", TAIWAN),
        "c-es": ("es", "es-MX", SPANISH),
        "c-ar": ("ar", "ar", ARABIC),
        "c-sw": ("en", "sw", ENGLISH),  # no Swahili catalog: English, as the pages
    }
    # Counted as the warning's fallbacks are; kept with the advisory.
    assert ended.cleared_fallbacks == {"sw": Fallback("en", 1)}
    stored = await node.advisories.get(SUPERVISOR, advisory_id)
    assert stored.cleared_fallbacks == {"sw": Fallback("en", 1)}
    assert stored.cleared_messages["es"] == SPANISH
    assert stored.cleared_messages["en"] == ENGLISH
    assert len(stored.cleared_messages) == len(page_languages())
    # The live chat told reads the same all clear, in its script, after the warning.
    assert ended.cleared_in_chat == 1
    async with http_session(node) as http:
        messages = await transcript(http, chat.contact_id, token)
    notices = [m for m in messages if m["sender"] == "center"]
    assert [(m.get("translations") or {}).get("zh") or m["text"] for m in notices] == [
        to_script(WARNINGS["zh"], "zh-TW"),
        TAIWAN,
    ]


async def test_texts_given_win_for_their_languages_and_the_catalog_covers_the_rest(
    node: Node,
) -> None:
    advisory_id, _, _ = await warned(node)
    given = {"en": "All clear: IB3170 leaves on time."}
    ended = await node.advisories.end(SUPERVISOR, advisory_id, given)
    assert await cleared(node) == {
        "c-tw": ("zh-TW", "zh-TW", TAIWAN),
        "c-es": ("es", "es-MX", SPANISH),
        "c-ar": ("ar", "ar", ARABIC),
        "c-sw": ("en", "sw", given["en"]),
    }
    assert ended.cleared_messages["en"] == given["en"]
    assert ended.cleared_fallbacks == {"sw": Fallback("en", 1)}


async def test_a_language_given_in_one_region_wins_for_all_its_readers(node: Node) -> None:
    advisory_id, _, _ = await warned(node)
    given = {"es-ES": "Fin del aviso: IB3170 sale a su hora.", "zh-TW": "警報解除。"}
    ended = await node.advisories.end(SUPERVISOR, advisory_id, given)
    sent = await cleared(node)
    assert sent["c-es"] == ("es-ES", "es-MX", given["es-ES"])  # not the catalog's `es`
    assert sent["c-tw"] == ("zh-TW", "zh-TW", given["zh-TW"])
    assert sent["c-ar"] == ("ar", "ar", ARABIC)
    assert "es" not in ended.cleared_messages and "zh" not in ended.cleared_messages


# -- the catalogs ----------------------------------------------------------------------------

MODEL = Path(__file__).resolve().parents[2] / "router" / "advisories" / "model.py"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def marked() -> list[str]:
    """The texts model.py marks for the catalogs (`N_`), as babel extracts them."""
    found = extract_from_file("python", str(MODEL), keywords={"N_": None})
    return [str(message) for _, message, _, _ in found]


def test_the_template_holds_every_marked_text() -> None:
    template = read_catalog(LOCALES_DIR / f"{DOMAIN}.pot")
    assert sorted(m.id for m in template if m.id) == sorted(marked()) != []


@pytest.mark.parametrize("language", page_languages())
def test_every_customer_language_translates_them_compiled(language: str) -> None:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    catalog = read_catalog(path, language)
    for msgid in marked():
        message = catalog.get(msgid)
        assert message is not None and message.string and not message.fuzzy, msgid
        assert _PLACEHOLDER.findall(str(message.string)) == ["title"], message.string
    assert path.with_suffix(".mo").read_bytes() == compile_bytes(catalog), "compile it"
