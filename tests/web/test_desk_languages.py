"""The desk is served wholly in one language: `GET /api/v1/i18n/pages?page=desk` picks
among the desk languages only (`DESK_LANGUAGES`, the catalogs that translate every
page), so a Korean agent reads an English desk, not English with the few words it
shares with the chat page in Korean; the chat page (the default) is served from every
catalog. Over HTTP, on a node on Redis, and in the OpenAPI document."""

from __future__ import annotations

import re

import pytest

from i18n.pages import DESK_LANGUAGES, page_languages, page_strings, served_languages
from switchboard.node import Node
from switchboard.web import strings
from tests.nodes import http_session

HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def test_the_server_keeps_the_desk_languages_and_the_dev_tool_reads_them() -> None:
    assert strings.DESK_LANGUAGES is DESK_LANGUAGES
    desk = served_languages(page="desk")
    assert set(desk) == {*DESK_LANGUAGES, "zh-TW", "zh-HK", "zh-Hant"}
    assert "ko" in served_languages() and "ko" in page_languages()


@pytest.mark.parametrize(
    "asked,language",
    [
        ("ko", "en"),
        ("ko-KR", "en"),
        ("fr-FR", "en"),
        ("de", "en"),
        ("es-MX", "es"),
        ("zh-TW", "zh-TW"),
        ("yue-HK", "zh-HK"),  # Cantonese reads written Chinese: a desk language
        ("he-IL", "he"),
    ],
)
def test_the_desk_is_a_desk_language_s_or_english(asked: str, language: str) -> None:
    assert page_strings(asked, page="desk").language == language


async def test_a_korean_agent_s_desk_is_english_and_a_korean_customer_s_chat_korean(
    node: Node,
) -> None:
    async with http_session(node) as http:
        found = {}
        for query in (
            {"lang": "ko", "page": "desk"},
            {"lang": "ko"},
            {"lang": "ko", "page": "chat"},
        ):
            response = await http.get("/api/v1/i18n/pages", params=query)
            assert response.status == 200, await response.text()
            found[tuple(query.items())] = await response.json()
    desk = found[(("lang", "ko"), ("page", "desk"))]
    assert (desk["language"], desk["locale"], desk["direction"]) == ("en", "en", "ltr")
    assert not [text for text in desk["strings"].values() if HANGUL.search(text)]
    for chat in (found[(("lang", "ko"),)], found[(("lang", "ko"), ("page", "chat"))]):
        assert chat["language"] == "ko"
        assert chat["strings"]["Start chat"] == "채팅 시작"


@pytest.mark.parametrize(
    "lang,language,sample",
    [
        ("zh-TW", "zh-TW", "Agent desktop"),
        ("es-MX", "es", "Agent desktop"),
        ("ar-EG", "ar", "Sign in"),
    ],
)
async def test_a_desk_language_s_agent_reads_the_whole_desk_in_it(
    node: Node, lang: str, language: str, sample: str
) -> None:
    async with http_session(node) as http:
        response = await http.get("/api/v1/i18n/pages", params={"lang": lang, "page": "desk"})
        assert response.status == 200, await response.text()
        desk = await response.json()
    assert desk["language"] == language
    assert desk["strings"][sample] == page_strings(lang).strings[sample] != sample


async def test_an_unknown_page_is_refused_naming_the_field(node: Node) -> None:
    async with http_session(node) as http:
        response = await http.get("/api/v1/i18n/pages", params={"lang": "ko", "page": "board"})
        answer = await response.json()
    assert response.status == 400, answer
    assert answer["field"] == "query.page", answer


async def test_the_page_parameter_is_in_the_openapi_document(node: Node) -> None:
    async with http_session(node) as http:
        document = await (await http.get("/api/v1/openapi.json")).json()
    parameters = document["paths"]["/api/v1/i18n/pages"]["get"]["parameters"]
    (page,) = [p for p in parameters if p["name"] == "page"]
    assert page["in"] == "query" and not page["required"]
    schema = page["schema"]
    assert (sorted(schema["enum"]), schema["default"]) == (["chat", "desk"], "chat")
    assert "desk languages" in schema["description"]
