"""What an emotion trigger does to a chat that is not with a person yet, and which
customers the rules open cases for, on the real node and Redis: a ringing chat is moved
to the senior queue like a queued one (its offer revoked), and no rule opens a case for
an anonymous customer (`anon-…`), whose case nobody could ever follow up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from router.identity import ANONYMOUS_PREFIX
from router.model import Presence
from switchboard.node import Node
from tests.cases.conftest import case_config, staff, started
from tests.nodes import customer_writes, http_session, new_chat

UPSET = "I am furious, I want to speak to a manager"


async def contact_of(
    http: aiohttp.ClientSession, contact_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = await http.get(f"/api/v1/contacts/{contact_id}", headers=headers)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def vouched_chat(
    http: aiohttp.ClientSession, admin: dict[str, str], customer: str
) -> dict[str, Any]:
    """A booking chat of a known customer (the back office vouches for who it is)."""
    response = await http.post(
        "/api/v1/contacts",
        json={
            "channel": "chat",
            "queue": "booking",
            "language": "en",
            "customer": {"id": customer},
        },
        headers=admin,
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def test_a_ringing_chat_is_moved_to_the_senior_queue_and_its_offer_revoked(
    case_node: Node,
) -> None:
    """The chat rings at ana (booking) when its customer writes that they are furious: it
    goes to senior at once, where sen is ready, as a queued one would, instead of ringing
    on at ana and coming back to booking's queue if she declines."""
    async with http_session(case_node) as http:
        admin, ana = await staff(http, "adm"), await staff(http, "ana")
        await case_node.router.set_presence("ana", Presence.AVAILABLE)
        await case_node.router.set_presence("sen", Presence.AVAILABLE)
        chat = await new_chat(http, customer="c-emo")
        assert (chat["state"], chat["agent_id"]) == ("offered", "ana")
        await customer_writes(http, chat, UPSET)
        contact = await contact_of(http, chat["contact_id"], admin)
        assert contact["queue"] == "senior", contact
        assert (contact["state"], contact["agent_id"]) == ("offered", "sen"), contact
        assert contact["priority"] == 2
        assert any(
            line.startswith("moved from booking to senior") for line in contact["explanation"]
        )
        found = await (
            await http.get(f"/api/v1/contacts/{chat['contact_id']}/case", headers=admin)
        ).json()
        assert found["triggers"][0]["actions"] == [
            "priority 0 -> 2",
            "moved from booking to senior",
        ]
        # ana's offer is gone: she cannot take it, and it does not come back to booking.
        taken = await http.post(f"/api/v1/contacts/{chat['contact_id']}/accept", headers=ana)
        assert taken.status >= 400
        await case_node.router.set_presence("ana", Presence.NOT_READY)
        after = await contact_of(http, chat["contact_id"], admin)
        assert (after["queue"], after["agent_id"]) == ("senior", "sen")


async def test_no_rule_opens_a_case_for_an_anonymous_customer(
    redis_url: str, tmp_path: Path
) -> None:
    """An anonymous chat (no signed identity: its customer id is its own) that triggers
    the emotion rule is raised and moved, but gets no case, and neither does it by a
    rule for every contact; a customer the back office vouches for gets both."""
    every = '\n[[case_rules]]\nname = "every chat"\non = "contact"\nqueues = ["general"]\n'
    async with (
        started(redis_url, case_config(tmp_path, every)) as node,
        http_session(node) as http,
    ):
        admin = await staff(http, "adm")
        await node.router.set_presence("sen", Presence.AVAILABLE)  # senior is served
        anonymous = await new_chat(http, customer="FF-claimed")  # the claim is not believed
        await customer_writes(http, anonymous, "I am FURIOUS, nobody answers!!!")
        contact = await node.router.get_contact(anonymous["contact_id"])
        assert contact.customer_id.startswith(ANONYMOUS_PREFIX)
        assert (contact.queue, contact.priority) == ("senior", 2)  # still moved and raised
        assert await node.cases.store.case_of_contact(contact.contact_id) is None
        assert await node.cases.store.customer_case_ids(contact.customer_id, 10) == []

        general = await new_chat(http, queue="general", customer="FF-claimed")
        assert await node.cases.store.case_of_contact(general["contact_id"]) is None

        known = await vouched_chat(http, admin, "FF-4001")
        await customer_writes(http, known, "I am FURIOUS, nobody answers!!!")
        case_id = await node.cases.store.case_of_contact(known["contact_id"])
        assert case_id is not None
        case = await node.cases.store.get(case_id)
        assert case is not None and case.subject == "Upset customer"

        listed = await (
            await http.get("/api/v1/cases", params={"status": "open"}, headers=admin)
        ).json()
        assert [c["customer"]["id"] for c in listed["cases"]] == ["FF-4001"]


async def test_words_split_across_two_messages_trigger_once(case_node: Node) -> None:
    """ "我要" then "投诉" (I want / to complain): read together, one trigger, its words
    across both; "你们" (you) after it is not read with "投诉" again."""
    async with http_session(case_node) as http:
        admin = await staff(http, "adm")
        chat = await new_chat(http, language="zh", customer="c-split")
        case_url = f"/api/v1/contacts/{chat['contact_id']}/case"
        await customer_writes(http, chat, "我要")
        await customer_writes(http, chat, "投诉")
        triggers = (await (await http.get(case_url, headers=admin)).json())["triggers"]
        assert [t["words"] for t in triggers] == [["我要 投诉"]]
        await customer_writes(http, chat, "你们")
        again = (await (await http.get(case_url, headers=admin)).json())["triggers"]
        assert len(again) == 1
