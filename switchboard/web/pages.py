"""The agent desktop (/agent), the customer chat window (/chat) and their scripts.

The pages are static files (plain HTML and JS, no build step) that use the HTTP API
like any other client. Their scripts are served from /pages/<file>.js, one small file
per job (static/*.js). The chat window may be framed only by the configured chat
sites' origins (`frame-ancestors`); every other page (the desktop, the wallboard) and
answer by nobody (clickjacking): `deny_framing` gives each answer that does not say who
may frame it `NO_FRAMING`.

Every page (`page_response`) runs only what the node serves: its Content-Security-Policy
allows the node's own scripts (no inline script, no eval), its own connections (HTTP, and
its WebSockets: CSP Level 3's 'self' covers ws: and wss: of the page's host) and, for
style, the node's files and each `<style>` block the page's file holds, by its hash; a
style attribute, an inline event handler or a script injected into the page is
refused. So an injected tag cannot run and read the tokens the desk and the chat keep in
the browser's storage. `Referrer-Policy: no-referrer` keeps a page's URL (the chat's
`?identity=`) from whatever the page loads or links to.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from aiohttp import web

from switchboard.http.api import API
from switchboard.http.base import DESK, error
from switchboard.http.schemas import ChatPageQuery, PageQuery

STATIC = Path(__file__).parent / "static"
NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
# Framed by nobody: CSP's frame-ancestors, and X-Frame-Options for browsers without it.
NO_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}
# A page's <style> blocks, whose hashes its policy allows (the only inline style).
STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


async def deny_framing(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """`on_response_prepare`: an answer without a Content-Security-Policy of its own
    (the pages set theirs, `page_response`; the chat window's names the sites that may
    frame it) may be framed by nobody."""
    if "Content-Security-Policy" not in response.headers:
        response.headers.update(NO_FRAMING)


def content_security_policy(page: Path, ancestors: str) -> str:
    """A page's policy: what the node serves and nothing else (the module's docstring);
    `data:` images for the pages' empty favicon, `blob:` media for a call recording
    the wallboard fetched with its token; framed by `ancestors`."""
    styles = " ".join(_style_hashes(page))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self' {styles}".strip(),
            "img-src 'self' data:",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        )
    )


def _style_hashes(page: Path) -> list[str]:
    """CSP's source of each <style> block of the page's file (`'sha256-…'`, the hash of
    its text as the browser reads it), read at each request like the file it serves."""
    text = page.read_text(encoding="utf-8")
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in STYLE_BLOCK.findall(text)
    ]


def page_response(page: Path, ancestors: str = "'none'") -> web.FileResponse:
    """A page with its hardening headers: its policy (framed by `ancestors`; by nobody,
    also in X-Frame-Options, unless they are named), nosniff, no caching without asking
    and no Referer sent to other sites."""
    headers = {
        **NO_CACHE,
        "Content-Security-Policy": content_security_policy(page, ancestors),
        "Referrer-Policy": "no-referrer",
    }
    if ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"
    return web.FileResponse(page, headers=headers)


def scripts() -> dict[str, Path]:
    """The scripts the pages may load, by file name (nothing outside static/)."""
    return {path.name: path for path in STATIC.glob("*.js")}


@API.route("GET", "/agent", "The agent desktop page", content="text/html", query=PageQuery)
async def agent_page(request: web.Request, query: PageQuery) -> web.FileResponse:
    """The desktop (HTML); it signs in through the agents' login."""
    return page_response(STATIC / "agent.html")


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
    return page_response(STATIC / "chat.html", f"'self' {origins}".strip())


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
