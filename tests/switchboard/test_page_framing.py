"""Who may frame the node's pages (clickjacking): the chat window the configured sites'
origins; every other page (the desktop, the wallboard) and answer nobody, by CSP's
frame-ancestors and by X-Frame-Options for browsers without it. And every page's other
hardening headers: a policy of the node's own scripts, styles and connections, nosniff,
no Referer (tests/web/test_content_security_browser.py runs the pages under it)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from router.desk import ChatSite, DeskConfig
from switchboard.node import Node
from tests.nodes import http_session, running_node

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")


@pytest.fixture
async def node(redis_url: str):
    async with running_node(redis_url, desk=DeskConfig(sites=(SITE,))) as node:
        yield node


PAGES = ["/agent", "/chat", "/wallboard"]
# What every page's policy holds besides who may frame it.
DIRECTIVES = {
    "default-src 'self'",
    "script-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
}


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";")}


@pytest.mark.parametrize("path", ["/pages/embed.js", "/api/v1/chat/options", "/nowhere"])
async def test_no_one_frames_an_answer(node: Node, path: str) -> None:
    async with http_session(node) as http, http.get(path) as answer:
        assert answer.headers.get("Content-Security-Policy") == "frame-ancestors 'none'", path
        assert answer.headers.get("X-Frame-Options") == "DENY", path


@pytest.mark.parametrize("path", ["/agent", "/wallboard"])
async def test_no_one_frames_a_page_but_the_chat_window(node: Node, path: str) -> None:
    async with http_session(node) as http, http.get(path) as answer:
        assert directives(answer.headers["Content-Security-Policy"])["frame-ancestors"] == (
            "frame-ancestors 'none'"
        )
        assert answer.headers.get("X-Frame-Options") == "DENY", path


async def test_the_chat_window_is_framed_by_the_sites_only(node: Node) -> None:
    async with http_session(node) as http, http.get("/chat") as answer:
        assert answer.status == 200
        policy = directives(answer.headers["Content-Security-Policy"])
        assert policy["frame-ancestors"] == "frame-ancestors 'self' https://www.airline.example"
        assert "X-Frame-Options" not in answer.headers  # it cannot name the sites


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_runs_only_what_the_node_serves(node: Node, path: str) -> None:
    async with http_session(node) as http, http.get(path) as answer:
        page = await answer.text()
        policy = directives(answer.headers["Content-Security-Policy"])
        assert set(policy.values()) >= DIRECTIVES, policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    # the page's own <style> blocks by their hashes; no inline script or style attribute
    styles = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles
    )
    assert styles and policy["style-src"] == f"style-src 'self' {hashes}"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
    assert not re.search(r"\sstyle=|\son[a-z]+=", page), path
