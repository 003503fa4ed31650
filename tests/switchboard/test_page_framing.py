"""Who may frame the node's pages (clickjacking): the chat window the configured sites'
origins; every other page (the desktop, the wallboard) and answer nobody, by CSP's
frame-ancestors and by X-Frame-Options for browsers without it."""

from __future__ import annotations

import pytest

from router.desk import ChatSite, DeskConfig
from switchboard.node import Node
from tests.nodes import http_session, running_node

SITE = ChatSite("airline", ("https://www.airline.example",), "a-site-secret")


@pytest.fixture
async def node(redis_url: str):
    async with running_node(redis_url, desk=DeskConfig(sites=(SITE,))) as node:
        yield node


@pytest.mark.parametrize(
    "path", ["/agent", "/wallboard", "/pages/embed.js", "/api/v1/chat/options", "/nowhere"]
)
async def test_no_one_frames_a_page_but_the_chat_window(node: Node, path: str) -> None:
    async with http_session(node) as http, http.get(path) as answer:
        assert answer.headers.get("Content-Security-Policy") == "frame-ancestors 'none'", path
        assert answer.headers.get("X-Frame-Options") == "DENY", path


async def test_the_chat_window_is_framed_by_the_sites_only(node: Node) -> None:
    async with http_session(node) as http, http.get("/chat") as answer:
        assert answer.status == 200
        policy = answer.headers["Content-Security-Policy"]
        assert policy == "frame-ancestors 'self' https://www.airline.example"
        assert "X-Frame-Options" not in answer.headers  # it cannot name the sites
