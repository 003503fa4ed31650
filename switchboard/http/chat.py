"""What the customer's chat window reads before it starts: the queues it may offer, the
language to speak, and the text of the pages."""

from __future__ import annotations

from aiohttp import web

from i18n.catalogs import catalog_languages
from i18n.chinese import with_traditional
from i18n.language import negotiate_chat_language
from i18n.pages import page_strings
from router.errors import InvalidInput
from switchboard.http.api import API
from switchboard.http.base import DESK, ROUTER
from switchboard.http.schemas import ChatOptionsQuery, PagesQuery


@API.route(
    "GET",
    "/api/v1/chat/options",
    "The chat window's choices: queues offered (the site's, else all but [chat] "
    "hidden_queues), their [chat.topics] texts per language, the languages, and "
    "the one negotiated from Accept-Language",
    query=ChatOptionsQuery,
    responses={200: "options", 400: "an unknown site"},
)
async def chat_options(request: web.Request, query: ChatOptionsQuery) -> web.Response:
    desk = request.app[DESK]
    site = desk.site(query.site) if query.site else None
    if query.site and site is None:  # as starting a chat there would be refused
        names = ", ".join(s.name for s in desk.sites) or "none configured"
        raise InvalidInput("query.site", f"one of {names}", query.site)
    queues = list(desk.chat_topics(site, list(request.app[ROUTER].queues)))
    # Traditional Chinese (zh-TW, zh-HK, zh-Hant) is its own choice: its pages are zh's
    # converted, and so are the translations a chat in it gets (i18n/chinese.py).
    languages = with_traditional(catalog_languages())
    language = negotiate_chat_language(request.headers.get("Accept-Language"), languages)
    topics = {queue: desk.topics[queue] for queue in queues if queue in desk.topics}
    return web.json_response(
        {"queues": queues, "topics": topics, "languages": languages, "language": language}
    )


@API.route(
    "GET",
    "/api/v1/i18n/pages",
    "The pages' text in a language (gettext catalogs), its direction and locale tag; "
    "the desk's (page=desk) only in a language that translates all of it",
    query=PagesQuery,
    responses={200: "strings"},
)
async def pages(request: web.Request, query: PagesQuery) -> web.Response:
    found = page_strings(query.lang, page=query.page)
    return web.json_response(
        {
            "language": found.language,
            "direction": found.direction,
            "locale": found.locale,
            "strings": found.strings,
        }
    )
