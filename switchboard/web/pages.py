"""The agent desktop (/agent), the customer chat window (/chat) and their scripts.

The pages are static files (plain HTML and JS, no build step) that use the HTTP API
like any other client. Their scripts are served from /pages/<file>.js, one small file
per job (static/*.js). The chat window may be framed only by the configured chat
sites' origins (`frame-ancestors`); every other page (the desktop, the wallboard) and
answer by nobody (clickjacking): `deny_framing` gives each answer that does not say who
may frame it `NO_FRAMING`.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from switchboard.http.api import API
from switchboard.http.base import DESK, error
from switchboard.http.schemas import ChatPageQuery, PageQuery

STATIC = Path(__file__).parent / "static"
NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
# Framed by nobody: CSP's frame-ancestors, and X-Frame-Options for browsers without it.
NO_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


async def deny_framing(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """`on_response_prepare`: an answer without a Content-Security-Policy of its own
    (only the chat window sets one, naming the sites that may frame it) may be framed by
    nobody."""
    if "Content-Security-Policy" not in response.headers:
        response.headers.update(NO_FRAMING)


def scripts() -> dict[str, Path]:
    """The scripts the pages may load, by file name (nothing outside static/)."""
    return {path.name: path for path in STATIC.glob("*.js")}


@API.route("GET", "/agent", "The agent desktop page", content="text/html", query=PageQuery)
async def agent_page(request: web.Request, query: PageQuery) -> web.FileResponse:
    """The desktop (HTML); it signs in through the agents' login."""
    return web.FileResponse(STATIC / "agent.html", headers={**NO_CACHE, **NO_FRAMING})


@API.route(
    "GET",
    "/chat",
    "The customer chat window (embeddable)",
    content="text/html",
    query=ChatPageQuery,
)
async def chat_page(request: web.Request, query: ChatPageQuery) -> web.FileResponse:
    """The chat window; pages of the configured sites may frame it."""
    origins = " ".join(sorted(request.app[DESK].origins))
    ancestors = f"frame-ancestors 'self' {origins}".strip()
    headers = {**NO_CACHE, "Content-Security-Policy": ancestors}
    return web.FileResponse(STATIC / "chat.html", headers=headers)


@API.route(
    "GET",
    "/pages/{script}",
    "A script of the pages (plain JavaScript, no build step); /pages/embed.js frames the chat",
    content="text/javascript",
    responses={200: "the script", 404: ""},
)
async def page_script(request: web.Request) -> web.StreamResponse:
    name = request.match_info["script"]
    path = scripts().get(name)
    if path is None:
        return error(404, "not_found", f"no such script: {name}")
    headers = {**NO_CACHE, "Content-Type": "text/javascript; charset=utf-8"}
    return web.FileResponse(path, headers=headers)
