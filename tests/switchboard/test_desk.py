"""The desktop's and the chat window's API on a running node: who the customer is (a
signed identity or nobody), the tier's priority, wrap-up codes, the customer's history,
cross-origin access and the public request budget."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from router.desk import ChatSite, DeskConfig, Dispositions, read_desk
from router.identity import sign
from router.model import Agent, Channel, ContactState, NewContact, Role
from switchboard.common.clock import now_ms
from switchboard.common.errors import ConfigError
from switchboard.node import Node
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, new_chat, running_node

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")
DESK = DeskConfig(
    dispositions={"booking": Dispositions(("new_booking", "changed", "info_only"), required=True)},
    tier_priority={"gold": 3},
    sites=(SITE,),
    public_requests_per_minute=600,
)


def identity(customer: str, **extra: object) -> str:
    return sign(SITE.secret, {"sub": customer, "exp": time.time() + 600, **extra})


@pytest.fixture
async def node(redis_url: str):
    async with running_node(
        redis_url,
        users=[("ana", Role.AGENT, "ana-secret-1"), ("sup", Role.SUPERVISOR, "sup-secret-1")],
        agents=[Agent("ana", "default", {"booking": 4, "general": 3}, ["en"])],
        desk=DESK,
    ) as node:
        yield node


async def test_an_unsigned_chat_is_anonymous_and_gets_no_privilege(node: Node) -> None:
    async with http_session(node) as http:
        answer = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "en",
                "customer": {"id": "vip-42", "tier": "platinum"},
            },
        )
        assert answer.status == 201
        body = await answer.json()
        contact = await node.router.get_contact(body["contact_id"])
    assert contact.customer_id.startswith("anon-") and not contact.verified
    assert (contact.customer_tier, contact.priority) == ("standard", 0)


async def test_a_signed_gold_customer_is_known_and_goes_ahead(node: Node) -> None:
    async with http_session(node) as http:
        plain = await new_chat(http, queue="booking")
        gold = await new_chat(
            http, queue="booking", identity=identity("c-7", tier="gold"), site="airline"
        )
        by_origin = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "en",
                "identity": identity("c-8"),
            },
            headers={"Origin": "https://www.airline.example"},
        )
        assert by_origin.status == 201
    contact = await node.router.get_contact(gold["contact_id"])
    assert (contact.customer_id, contact.customer_tier, contact.priority, contact.verified) == (
        "c-7",
        "gold",
        3,
        True,
    )
    waiting = [cid for cid, _ in await node.router.store.waiting("booking")]
    assert waiting.index(gold["contact_id"]) < waiting.index(plain["contact_id"])


@pytest.mark.parametrize(
    "token,expected",
    [
        (sign("not-the-secret", {"sub": "c", "exp": 2**31}), "a bad signature"),
        (sign(SITE.secret, {"sub": "c", "exp": 1}), "expired"),
        ("not-a-token", None),
    ],
)
async def test_a_forged_or_expired_identity_is_refused(
    node: Node, token: str, expected: str | None
) -> None:
    async with http_session(node) as http:
        answer = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "en",
                "identity": token,
                "site": "airline",
            },
        )
        assert answer.status == 400
        body = await answer.json()
    assert body["field"] == "$.identity" and body["found"] == expected
    assert await node.router.store.waiting("booking") == []  # nothing was created


@pytest.mark.parametrize(
    "claims,field,found",
    [
        ({"sub": "c", "exp": "soon"}, "$.identity.exp", "soon"),
        ({"sub": "c", "exp": [1]}, "$.identity.exp", None),
        ({"sub": "c", "exp": None}, "$.identity.exp", None),
        ({"sub": "c", "exp": "nan"}, "$.identity.exp", "nan"),
        ({"sub": "c", "exp": float("nan")}, "$.identity.exp", None),  # JSON's NaN
        ({"sub": "c", "exp": float("inf")}, "$.identity.exp", None),  # never expires
        ({"sub": "c"}, "$.identity.exp", None),
        ({"sub": "", "exp": 2**31}, "$.identity.sub", ""),
        ({"sub": "a b", "exp": 2**31}, "$.identity.sub", "a b"),
        ({"sub": "anon-1234", "exp": 2**31}, "$.identity.sub", "anon-1234"),
        ({"sub": "c", "exp": 2**31, "tier": ["gold"]}, "$.identity.tier", None),
        ({"sub": "c", "exp": 2**31, "region": "mars"}, "$.identity.region", "mars"),
        ({"sub": "c", "exp": 2**31, "region": 7}, "$.identity.region", 7),
    ],
)
async def test_a_signed_identity_with_a_bad_claim_is_refused_naming_it(
    node: Node, claims: dict[str, object], field: str, found: object
) -> None:
    """Correctly signed, but a claim breaks the API's rules: 400 naming the claim, and no
    chat is created (before, a text exp was a plain 500, "nan" never expired, an empty
    sub made an empty customer, a list tier was stored as text, an unknown region
    placed the chat in a region that does not exist)."""
    async with http_session(node) as http:
        answer = await http.post(
            "/api/v1/contacts",
            json={
                "channel": "chat",
                "queue": "booking",
                "language": "en",
                "identity": sign(SITE.secret, claims),
                "site": "airline",
            },
        )
        assert answer.status == 400, await answer.text()
        body = await answer.json()
    assert (body["field"], body["found"]) == (field, found)
    assert await node.router.store.waiting("booking") == []  # nothing was created


async def test_a_signed_home_region_of_the_deployment_is_where_the_chat_starts(
    node: Node,
) -> None:
    async with http_session(node) as http:
        chat = await new_chat(
            http,
            queue="booking",
            identity=identity("c-11", region="default", name="Ana", iat=1),  # iat: ignored
            site="airline",
        )
    contact = await node.router.get_contact(chat["contact_id"])
    assert (contact.customer_id, contact.region, contact.verified) == ("c-11", "default", True)


async def test_a_required_wrap_up_code_comes_before_the_next_contact(node: Node) -> None:
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        chat = await new_chat(http, queue="booking", identity=identity("c-1"), site="airline")
        cid = chat["contact_id"]
        await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)
        early = await http.post(
            f"/api/v1/contacts/{cid}/wrapup", json={"code": "changed"}, headers=ana
        )
        assert early.status == 409  # still connected
        await http.post(f"/api/v1/contacts/{cid}/complete", headers=ana)
        refused = await http.put(
            "/api/v1/agents/ana/state", json={"state": "available"}, headers=ana
        )
        assert refused.status == 409 and cid in (await refused.json())["message"]
        wrong = await http.post(
            f"/api/v1/contacts/{cid}/wrapup", json={"code": "sold"}, headers=ana
        )
        assert wrong.status == 400 and (await wrong.json())["field"] == "$.code"
        done = await http.post(
            f"/api/v1/contacts/{cid}/wrapup",
            json={"code": "changed", "note": "moved to the 18:05"},
            headers=ana,
        )
        assert done.status == 200
        back = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        assert back.status == 200
        bad_reason = await http.put(
            "/api/v1/agents/ana/state", json={"state": "not_ready", "reason": "nap"}, headers=ana
        )
        assert bad_reason.status == 400
        # What an offer's end left her with (a phone unreachable) she may set back.
        kept = await http.put(
            "/api/v1/agents/ana/state",
            json={"state": "not_ready", "reason": "phone unreachable"},
            headers=ana,
        )
        assert kept.status == 200 and (await kept.json())["reason"] == "phone unreachable"
    inputs = await node.reports.inputs(0)
    assert inputs.wrap_ups[cid] == {
        "code": "changed",
        "note": "moved to the 18:05",
        "agent_id": "ana",
    }


async def test_an_agent_owing_a_required_code_is_offered_nothing_until_she_gives_it(
    redis_url: str,
) -> None:
    """ana stays Available through her chat; booking requires a code. Her wrap-up time
    over (none here), she still owes it: she stays in wrap-up, the next chat waits;
    once she gives the code she is offered it at once."""
    settings = load_settings(ROOT / "config" / "default.toml")
    queues = [
        dataclasses.replace(q, wrap_up_s=0) if q.name == "booking" else q for q in settings.queues
    ]
    async with (
        running_node(
            redis_url,
            users=[("ana", Role.AGENT, "ana-secret-1")],
            agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
            desk=DESK,
            queues=queues,
        ) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        first = (await new_chat(http))["contact_id"]
        await http.post(f"/api/v1/contacts/{first}/accept", headers=ana)
        await http.post(f"/api/v1/contacts/{first}/complete", headers=ana)
        await node.router.tick(at_ms=now_ms() + 60_000)  # any wrap-up timer is over
        owing = await (await http.get("/api/v1/agents/ana", headers=ana)).json()
        assert (owing["state"], owing["presence"]) == ("wrap_up", "available")
        assert owing["wrap_up_code_owed"] is True
        second = (await new_chat(http))["contact_id"]
        assert (await node.router.get_contact(second)).state == ContactState.QUEUED
        done = await http.post(
            f"/api/v1/contacts/{first}/wrapup", json={"code": "changed"}, headers=ana
        )
        assert done.status == 200
        offered = await node.router.get_contact(second)
        assert (offered.state, offered.agent_id) == (ContactState.OFFERED, "ana")
        agent = await (await http.get("/api/v1/agents/ana", headers=ana)).json()
        assert agent["wrap_up_code_owed"] is False and agent["state"] == "reserved"


async def test_the_customer_history_lists_every_channel_and_marks_repeats(node: Node) -> None:
    router = node.router
    voice = await router.create_contact(
        NewContact(Channel.VOICE, "general", "en", customer_id="c-9")
    )
    await router.fail(voice.contact_id, "caller_hangup")
    async with http_session(node) as http:
        ana = await login(http, "ana", "ana-secret-1")
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        chat = await new_chat(http, queue="booking", identity=identity("c-9"), site="airline")
        other = await new_chat(http, queue="baggage", identity=identity("c-10"), site="airline")
        cid = chat["contact_id"]
        seen = await (await http.get(f"/api/v1/contacts/{cid}/customer", headers=ana)).json()
        not_hers = await http.get(f"/api/v1/contacts/{other['contact_id']}/customer", headers=ana)
        assert not_hers.status == 403  # offered to nobody yet: no relationship
        sup = await login(http, "sup", "sup-secret-1")
        assert (await http.get(f"/api/v1/contacts/{cid}/customer", headers=sup)).status == 200
    assert seen["customer"]["id"] == "c-9" and seen["customer"]["verified"] is True
    assert [(c["channel"], c["queue"]) for c in seen["contacts"]] == [
        ("chat", "booking"),
        ("voice", "general"),
    ]
    assert [c["repeat"] for c in seen["contacts"]] == [True, False]
    audit = [(e.actor, e.action) for e in await node.reports.audit_log()]
    # The history shows contacts the reader was no party to: every read is audited.
    assert ("sup", "contact.history") in audit and ("ana", "contact.history") in audit


async def test_cross_origin_for_the_sites_and_a_budget_per_address(redis_url: str) -> None:
    tight = DeskConfig(sites=(SITE,), public_requests_per_minute=5)
    async with running_node(redis_url, desk=tight) as node, http_session(node) as http:
        preflight = await http.options(
            "/api/v1/contacts",
            headers={
                "Origin": "https://www.airline.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert preflight.status == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.airline.example"
        stranger = await http.get(
            "/api/v1/chat/options", headers={"Origin": "https://evil.example"}
        )
        assert "Access-Control-Allow-Origin" not in stranger.headers
        codes = []
        for _ in range(8):
            answer = await http.post(
                "/api/v1/contacts", json={"channel": "chat", "queue": "booking", "language": "en"}
            )
            codes.append(answer.status)
        assert codes.count(429) >= 2 and set(codes) <= {201, 429}
        # Staff are not counted against the public budget.
        await asyncio.sleep(0)
        assert (await http.get("/healthz")).status == 200


async def test_pages_and_options_for_the_chat_window(node: Node) -> None:
    async with http_session(node) as http:
        options = await (
            await http.get(
                "/api/v1/chat/options",
                params={"site": "airline"},
                headers={"Accept-Language": "es-ES,en;q=0.5"},
            )
        ).json()
        strings = await (await http.get("/api/v1/i18n/pages", params={"lang": "es"})).json()
        unknown = await http.get("/api/v1/chat/options", params={"site": "nowhere"})
        assert unknown.status == 400 and (await unknown.json())["field"] == "query.site"
    assert options["language"] == "es" and "booking" in options["queues"]
    assert strings["language"] in ("es", "en") and strings["direction"] == "ltr"


async def test_the_chat_window_hears_its_place_typing_and_leaves_after_a_grace(
    redis_url: str,
) -> None:
    quick = DeskConfig(sites=(SITE,), abandon_grace_s=1.0, public_requests_per_minute=600)
    users = [("ana", Role.AGENT, "ana-secret-1")]
    agents = [Agent("ana", "default", {"booking": 4}, ["en"])]
    async with (
        running_node(redis_url, users=users, agents=agents, desk=quick) as node,
        http_session(node) as http,
    ):
        waiting = await new_chat(http, queue="booking")
        customer = {"X-Customer-Token": waiting["customer_token"]}
        cid = waiting["contact_id"]
        window = await http.ws_connect(f"/api/v1/contacts/{cid}/events", headers=customer)
        assert (await asyncio.wait_for(window.receive_json(), 10))["type"] == "ready"
        place = await asyncio.wait_for(window.receive_json(), 10)
        assert place["type"] == "position" and place["position"] == 1
        # The page reloads: the window goes and comes back within the grace period.
        await window.close()
        window = await http.ws_connect(f"/api/v1/contacts/{cid}/events", headers=customer)
        await asyncio.sleep(1.5)
        assert (await node.router.get_contact(cid)).state.value == "queued"

        ana = await login(http, "ana", "ana-secret-1")
        desk = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        await http.post(f"/api/v1/contacts/{cid}/accept", headers=ana)
        await window.send_json({"type": "typing"})
        for _ in range(10):  # bounded: skip the offer and state events
            event = await asyncio.wait_for(desk.receive_json(), 5)
            if event["type"] == "typing":
                break
        assert event == {"type": "typing", "contact_id": cid, "agent_id": "ana", "by": "customer"}
        await desk.send_json({"type": "typing", "contact_id": cid})
        for _ in range(10):
            event = await asyncio.wait_for(window.receive_json(), 5)
            if event["type"] == "typing":
                break
        assert event["by"] == "ana"
        # The customer closes the page for good: after the grace the chat has ended.
        await window.close()
        for _ in range(40):
            if (await node.router.get_contact(cid)).is_terminal:
                break
            await asyncio.sleep(0.1)
        ended = await node.router.get_contact(cid)
        assert (ended.outcome, ended.reason) == ("completed", "customer_left")
        await desk.close()


@pytest.mark.parametrize("shown", [False, True])
async def test_a_callers_number_is_masked_for_staff_unless_shown(
    redis_url: str, shown: bool
) -> None:
    desk = DeskConfig(show_caller_number=shown)
    users = [("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with running_node(redis_url, users=users, desk=desk) as node, http_session(node) as http:
        call = await node.router.create_contact(
            NewContact(Channel.VOICE, "booking", "en", customer_id="+34612345678")
        )
        sup = await login(http, "sup", "sup-secret-1")
        seen = await (await http.get(f"/api/v1/contacts/{call.contact_id}", headers=sup)).json()
        history = await (
            await http.get(f"/api/v1/contacts/{call.contact_id}/customer", headers=sup)
        ).json()
    expected = "+34612345678" if shown else "•" * 10 + "78"
    assert seen["customer"]["id"] == expected
    assert (
        history["customer"]["id"] == expected
        and history["contacts"][0]["customer"]["id"] == expected
    )


@pytest.mark.parametrize("shown", [False, True])
async def test_a_callback_offer_masks_the_number_it_dials_unless_shown(
    redis_url: str, shown: bool
) -> None:
    """The agent's offer of a callback names the address it dials: the customer's number
    as much as their id is, and masked the same (it went out in clear)."""
    desk = DeskConfig(show_caller_number=shown)
    users = [("ana", Role.AGENT, "ana-secret-1")]
    agents = [Agent("ana", "default", {"booking": 4}, ["en"])]
    async with (
        running_node(redis_url, users=users, agents=agents, desk=desk) as node,
        http_session(node) as http,
    ):
        ana = await login(http, "ana", "ana-secret-1")
        events = await http.ws_connect("/api/v1/agents/ana/events", headers=ana)
        assert (await asyncio.wait_for(events.receive_json(), 5))["type"] == "ready"
        call = await node.router.create_contact(
            NewContact(Channel.VOICE, "booking", "en", customer_id="+34612345678")
        )
        await node.router.request_callback(call.contact_id, "sip:+34612345678@trunk.example")
        made = await http.put("/api/v1/agents/ana/state", json={"state": "available"}, headers=ana)
        assert made.status == 200, await made.text()
        while (offer := await asyncio.wait_for(events.receive_json(), 5))["type"] != "offer":
            pass
        await events.close()
    number = "+34612345678" if shown else "•" * 10 + "78"
    assert (offer["customer_id"], offer["callback_uri"]) == (
        number,
        f"sip:{number}@trunk.example",
    )


async def test_the_chat_offers_the_configured_topics_not_the_escalation_queue(
    redis_url: str,
) -> None:
    """The shipped configuration's `[chat] hidden_queues`: `senior`, where upset customers
    are moved, is no topic a customer picks (a supervisor may still start a chat there)."""
    users = [("sup", Role.SUPERVISOR, "sup-secret-1")]
    async with running_node(redis_url, users=users) as node, http_session(node) as http:
        options = await (await http.get("/api/v1/chat/options")).json()
        assert sorted(options["queues"]) == ["baggage", "booking", "emergency", "general"]
        body = {"channel": "chat", "queue": "senior", "language": "en"}
        refused = await http.post("/api/v1/contacts", json=body)
        assert refused.status == 400 and (await refused.json())["field"] == "$.queue"
        sup = await login(http, "sup", "sup-secret-1")
        started = await http.post("/api/v1/contacts", json=body, headers=sup)
        assert started.status == 201
        contact = await node.router.get_contact((await started.json())["contact_id"])
        assert contact.queue == "senior" and contact.state.value in ("queued", "offered")


async def test_the_chat_options_carry_the_operators_topic_texts(
    redis_url: str, tmp_path: Path
) -> None:
    """`[chat.topics.QUEUE]`: what a customer reads for a queue, per language (the keys
    lower-cased, as the page looks them up); a queue the node does not have is a fault."""
    default = (ROOT / "config" / "default.toml").read_text(encoding="utf-8")
    topics = '[chat.topics.general]\nen = "Something else"\npt-BR = " Outros assuntos "\n'
    config = tmp_path / "topics.toml"
    config.write_text(default + "\n" + topics, encoding="utf-8")
    desk = read_desk(load_settings(config).reader, ["booking", "general"])
    assert desk.topics == {"general": {"en": "Something else", "pt-br": "Outros assuntos"}}
    async with running_node(redis_url, desk=desk) as node, http_session(node) as http:
        options = await (await http.get("/api/v1/chat/options")).json()
        assert options["topics"] == {
            "general": {"en": "Something else", "pt-br": "Outros assuntos"}
        }
    config.write_text(default + '\n[chat.topics.lounge]\nen = "Lounges"\n', encoding="utf-8")
    reader = load_settings(config).reader
    read_desk(reader, ["booking", "general"])
    with pytest.raises(ConfigError, match=r"chat\.topics\.lounge"):
        reader.faults.raise_if_any()
