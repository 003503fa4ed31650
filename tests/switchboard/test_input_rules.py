"""Input rules an API probe found loose, over HTTP on a running node and on the rules
themselves (switchboard/common/ids.py, switchboard/http/base.py):

- ids refuse Unicode's format characters (zero-width, bidi marks and overrides): an
  agent or user made of them is blank or reversed wherever it is shown; a name must
  hold a letter or digit (`..`, `-`); chat text keeps its right-to-left marks;
- a JSON body giving a key twice is 400 naming the key, whatever its Content-Type;
- validation messages in the API's words, on well-formed paths; a 413 names the limit;
  a report period past the calendar's end says so;
- an incident id survives the log's phone-number masking.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from pydantic import TypeAdapter, ValidationError
from yarl import URL

from router.model import Agent, Role
from router.reports.privacy import mask_phone_numbers
from router.roster import read_roster
from switchboard.common.errors import InputError
from switchboard.common.ids import ID_PATTERN, NAME_PATTERN, Id, Name, first_fault
from switchboard.http import base
from switchboard.http.advisories import NewAdvisory
from switchboard.http.api import API
from switchboard.http.app import FEATURES
from switchboard.http.openapi import document
from switchboard.node import Node
from tests.nodes import http_session, login, new_chat, running_node

PASSWORD = "a-long-password"
AGENT = {"region": "default", "skills": {"booking": 3}, "languages": ["en"]}
# Zero-width space, LRM, RLM, an RTL override inside a name, an isolate, a BOM, a soft
# hyphen, a tag character (invisible "ASCII smuggling"), a C1 control.
INVISIBLE_IDS = (
    "\u200b",
    "\u200e",
    "\u200f",
    "a\u202eb",
    "\u2066ana\u2069",
    "\ufeffana",
    "an\u00ada",
    "ana\U000e0041",
    "ana\x85",
)


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url,
        users=[("adm", Role.ADMIN, PASSWORD), ("sup", Role.SUPERVISOR, PASSWORD)],
        agents=[Agent("ana", "default", {"booking": 4}, ["en"])],
    ) as node:
        yield node


@pytest.fixture
async def http(node: Node) -> AsyncIterator[aiohttp.ClientSession]:
    async with http_session(node) as session:
        yield session


async def refusal(response: aiohttp.ClientResponse) -> dict[str, Any]:
    assert response.status == 400, await response.text()
    body: dict[str, Any] = await response.json()
    assert "should" not in body["message"] and "pattern" not in body["message"], body
    return body


# -- ids and names ---------------------------------------------------------------------------


@pytest.mark.parametrize("agent_id", INVISIBLE_IDS)
async def test_an_agent_id_of_format_characters_is_refused_naming_the_path(
    http: aiohttp.ClientSession, agent_id: str
) -> None:
    admin = await login(http, "adm", PASSWORD)
    answer = await http.put(
        f"/api/v1/admin/agents/{quote(agent_id, safe='')}", json=AGENT, headers=admin
    )
    body = await refusal(answer)
    assert body["field"] == "path.agent"
    assert "invisible formatting characters" in body["expected"]


async def test_a_user_id_of_format_characters_is_refused_and_a_plain_one_is_not(
    http: aiohttp.ClientSession,
) -> None:
    admin = await login(http, "adm", PASSWORD)
    user = {"role": "agent", "password": "pw-secret-12"}
    hidden = await http.put("/api/v1/admin/users/ad%E2%80%8Bmin", json=user, headers=admin)
    assert (await refusal(hidden))["field"] == "path.user"
    plain = await http.put("/api/v1/admin/users/carl-2", json=user, headers=admin)
    assert plain.status == 200, await plain.text()
    # An id in a body (a login, a transfer) is held to the same rule.
    login_answer = await http.post(
        "/api/v1/agents/login", json={"agent_id": "a\u202eb", "password": PASSWORD}
    )
    assert (await refusal(login_answer))["field"] == "$.agent_id"


@pytest.mark.parametrize("queue", ["-", "_", "...", "%2E%2E"])
async def test_a_queue_name_of_punctuation_alone_is_refused(
    http: aiohttp.ClientSession, queue: str
) -> None:
    admin = await login(http, "adm", PASSWORD)
    # Sent as it is: a client would make `..` a step up.
    path = URL(f"/api/v1/admin/queues/{queue}", encoded=True)
    answer = await http.put(path, json={"skill": "booking"}, headers=admin)
    body = await refusal(answer)
    assert body["field"] == "path.queue"
    assert body["expected"] == "a name of letters, digits, _ . - (at least one letter or digit)"


async def test_chat_text_keeps_its_right_to_left_marks(http: aiohttp.ClientSession) -> None:
    """Ids are refused format characters; what a customer writes is not (RTL scripts)."""
    chat = await new_chat(http)
    sent = await http.post(
        f"/api/v1/contacts/{chat['contact_id']}/messages",
        json={"text": "\u200fשלום \u202bעולם\u202c ok"},
        headers={"X-Customer-Token": chat["customer_token"]},
    )
    assert sent.status == 201, await sent.text()


def test_every_control_and_format_character_is_refused_in_an_id() -> None:
    """The rule's ranges cover every Cc and Cf character this Python knows, both as the
    API reads ids (pydantic) and as the roster import does (`ID_PATTERN`)."""
    ids = TypeAdapter(Id)
    pattern = re.compile(ID_PATTERN)
    hidden = [
        chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) in ("Cc", "Cf")
    ]
    assert len(hidden) > 200
    for character in hidden:
        assert not pattern.match(f"a{character}b"), hex(ord(character))
        with pytest.raises(ValidationError):
            ids.validate_python(f"a{character}b")
    for fine in ("ana", "Zoë", "李娜", "ana.b@example.com", "x" * 128, "عائشة"):
        assert ids.validate_python(fine) == fine and pattern.match(fine)


def test_names_need_a_letter_or_digit_in_the_api_and_the_roster() -> None:
    names = TypeAdapter(Name)
    pattern = re.compile(NAME_PATTERN)
    for odd in (".", "..", "-", "_", "._-"):
        assert not pattern.match(odd)
        with pytest.raises(ValidationError):
            names.validate_python(odd)
    for fine in ("booking", "a", "7", ".hidden", "-x", "asia-east", "x" * 64):
        assert names.validate_python(fine) == fine and pattern.match(fine)
    assert not pattern.match("x" * 65)


def test_the_roster_refuses_an_agent_id_with_a_zero_width_space() -> None:
    text = "agent_id,region,skills,languages\nan\u200ba,default,booking:3,en\n"
    with pytest.raises(InputError, match="row 2: field agent_id"):
        read_roster(text, "agents.csv", ["default"])


# -- bodies ----------------------------------------------------------------------------------


async def test_a_key_given_twice_in_a_body_is_refused_naming_it(
    http: aiohttp.ClientSession,
) -> None:
    twice = await http.post(
        "/api/v1/contacts",
        data='{"channel":"chat","queue":"booking","queue":"baggage","language":"en"}',
        headers={"Content-Type": "application/json"},
    )
    body = await refusal(twice)
    assert body["field"] == "$.queue" and body["expected"] == "the key once"
    nested = await http.post(
        "/api/v1/contacts",
        data='{"channel":"chat","queue":"booking","language":"en",'
        '"customer":{"id":"c-1","tier":"gold","id":"c-2"}}',
    )
    assert (await refusal(nested))["field"] == "$.customer.id"


async def test_a_body_is_read_as_json_whatever_its_content_type(
    http: aiohttp.ClientSession,
) -> None:
    """As the README's `curl -d` examples send it (docs/security.md, "Input")."""
    created = await http.post(
        "/api/v1/contacts",
        data='{"channel":"chat","queue":"booking","language":"en"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert created.status == 201, await created.text()


def test_a_key_given_twice_deep_in_a_list_is_named_with_its_path() -> None:
    with pytest.raises(base.DuplicateKey) as twice:
        base.parse_json('{"a": [1, {"b": 2}, {"es-MX": {"c": 1, "c": 2}}]}')
    assert twice.value.loc == ("a", 2, "es-MX", "c")
    assert base.parse_json('{"a": {"b": 1}, "c": {"b": 2}}') == {"a": {"b": 1}, "c": {"b": 2}}


# -- messages --------------------------------------------------------------------------------


def fault(data: dict[str, Any]) -> tuple[str, str]:
    advisory = {
        "queue": "booking",
        "title": "Storm",
        "customers": ["c-1"],
        "messages": {"en": "Flights are late"},
        "until": "2030-01-01T00:00:00+00:00",
    }
    with pytest.raises(ValidationError) as failure:
        NewAdvisory.model_validate(advisory | data)
    found = first_fault(failure.value, "$")
    return found.path, found.expected


def test_a_mapping_key_at_fault_is_named_on_a_well_formed_path() -> None:
    assert fault({"messages": {"": "x"}}) == (
        '$.messages[""] (key)',
        "a language tag like en or pt-BR",
    )
    assert fault({"messages": {"xx-notalang": "x"}}) == (
        '$.messages["xx-notalang"] (key)',
        "a language tag babel knows, like es or pt-BR",
    )
    assert fault({"messages": {"pt-BR": " "}})[0] == '$.messages["pt-BR"]'


def test_a_time_without_its_offset_is_asked_for_in_the_apis_words() -> None:
    assert fault({"until": "2030-01-01T00:00:00"}) == (
        "$.until",
        "a time with its UTC offset, like 2026-12-07T09:00:00+01:00",
    )
    assert fault({"until": "soon"})[1] != "a valid datetime"


async def test_a_queue_of_format_characters_in_a_body_is_refused_in_plain_words(
    http: aiohttp.ClientSession,
) -> None:
    answer = await http.post(
        "/api/v1/contacts", json={"channel": "chat", "queue": "book\u202eing", "language": "en"}
    )
    body = await refusal(answer)
    assert body["field"] == "$.queue" and "letters, digits" in body["expected"]
    missing = await http.post("/api/v1/contacts", json={"channel": "chat", "language": "en"})
    assert (await refusal(missing))["expected"] == "this field (it is required)"


def test_every_pattern_of_the_api_has_words() -> None:
    """Every pattern of a body, query or path name the OpenAPI document shows says in
    words what it asks for, so no client reads a regular expression in a 400."""
    assert FEATURES
    from switchboard.common.ids import pattern_words

    patterns: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document(API.operations)["components"]["schemas"])
    assert len(patterns) >= 8
    unsaid = [pattern for pattern in patterns if pattern_words(pattern).startswith("text matching")]
    assert not unsaid


async def test_a_body_too_large_is_answered_with_the_limit(http: aiohttp.ClientSession) -> None:
    answer = await http.post("/api/v1/contacts", data=b'{"x": "' + b"a" * 300_000 + b'"}')
    assert answer.status == 413
    body = await answer.json()
    assert body["error"] == "too_large" and "256 KiB" in body["message"], body


async def test_a_period_past_the_calendars_end_says_so(http: aiohttp.ClientSession) -> None:
    sup = await login(http, "sup", PASSWORD)
    answer = await http.get("/api/v1/reports/sla?from=0001-01-01&to=9999-12-31", headers=sup)
    body = await refusal(answer)
    assert body["field"] == "query.to" and "9999-12-31" in body["expected"]
    assert "a date like" not in body["expected"]
    fine = await http.get("/api/v1/reports/sla?from=0001-01-01&to=9999-12-30", headers=sup)
    assert fine.status == 200, await fine.text()


# -- incidents -------------------------------------------------------------------------------


def test_an_incident_id_of_digits_alone_is_not_masked_as_a_phone_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`0` and 11 digits read as a national phone number; the log masked such an id
    while the client got it whole. Forced here, since 1 in 3,200 random ids is one."""
    monkeypatch.setattr(base.secrets, "token_hex", lambda _n: "012345678901")
    incident = base.incident_id()
    assert "012345678901" in incident
    line = f"GET /api/v1/queues/booking failed (incident {incident})"
    assert mask_phone_numbers(line) == line
    assert mask_phone_numbers("incident 012345678901") != "incident 012345678901"
