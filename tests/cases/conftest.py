"""A node with cases configured (a Paris office with French holidays), a clock the test
drives, and the steps the case suites share."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from router.model import Agent, Role
from switchboard.node import Node
from tests.nodes import ROOT, running_node

PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "a-long-password"
USERS = [
    ("ana", Role.AGENT),
    ("bob", Role.AGENT),
    ("sup", Role.SUPERVISOR),  # booking's supervisor (scope set below)
    ("sup2", Role.SUPERVISOR),  # general's
    ("pia", Role.PLANNER),
    ("adm", Role.ADMIN),
]
SCOPES = {"sup": {"queues": ("booking",)}, "sup2": {"queues": ("general",)}}

QUEUES = """
[[queues]]
name = "booking"
skill = "booking"
wrap_up_s = 0
relax_language_after_s = 600
relax_region_after_s = 600
relax_proficiency_after_s = 600

[[queues]]
name = "general"
skill = "general"
wrap_up_s = 0

[[queues]]
name = "senior"
skill = "senior"
wrap_up_s = 0
"""

CASES = """
[cases]
prefer_owner = "2m"
close_after = "72h"
timer_tick = "1s"

[[sla_policies]]
name = "standard"
first_response = "4h"
next_response = "1h"
resolution = "24h"
warn_at = 0.5
escalation = { raise_priority = 2, move_to = "general", notify = true }

[[case_rules]]
name = "upset customer"
on = "emotion"
subject = "Upset customer"

[emotion]
lists = "LISTS"
always = ["en"]
threshold = -0.6
raise_priority = 2
move_to = "senior"
"""


def case_config(tmp_path: Path, extra: str = "", *, holidays: str = "FR") -> Path:
    text = f"""
[node]
id = "node-1"
region = "paris"

[redis]
data_dir = "var/redis"

[[regions]]
name = "paris"
timezone = "Europe/Paris"
open = "09:00"
close = "18:00"
holidays = "{holidays}"
{QUEUES}
{CASES.replace("LISTS", str(ROOT / "config" / "emotion"))}
{extra}
"""
    path = tmp_path / "cases.toml"
    path.write_text(text)
    return path


def paris_ms(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp() * 1000)


class Clock:
    """The cases' clock, set by the test (ms since the epoch)."""

    def __init__(self, at_ms: int) -> None:
        self.at_ms = at_ms

    def __call__(self) -> int:
        return self.at_ms

    def set(self, at_ms: int) -> None:
        self.at_ms = at_ms


@pytest.fixture
async def case_node(redis_url: str, tmp_path: Path) -> AsyncIterator[Node]:
    async with started(redis_url, case_config(tmp_path)) as node:
        yield node


def started(redis_url: str, config: Path, **changes: Any) -> Any:
    return _Started(redis_url, config, changes)


class _Started:
    def __init__(self, redis_url: str, config: Path, changes: dict[str, Any]) -> None:
        self.context = running_node(
            redis_url,
            config,
            agents=[
                Agent("ana", "paris", {"booking": 4, "general": 3}, ["en", "es", "zh"]),
                Agent("bob", "paris", {"booking": 3, "general": 3}, ["en", "es", "zh"]),
                Agent("sen", "paris", {"senior": 5}, ["en", "es", "zh"]),
            ],
            **changes,
        )

    async def __aenter__(self) -> Node:
        node = await self.context.__aenter__()
        for user_id, role in USERS:
            await node.sessions.save_user(user_id, role, PASSWORD, **SCOPES.get(user_id, {}))
        return node

    async def __aexit__(self, *failure: Any) -> None:
        await self.context.__aexit__(*failure)


async def staff(http: aiohttp.ClientSession, user: str) -> dict[str, str]:
    response = await http.post(
        "/api/v1/agents/login", json={"agent_id": user, "password": PASSWORD}
    )
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def events_for(
    socket: aiohttp.ClientWebSocketResponse, seconds: float, kind: str | None = None
) -> list[dict[str, Any]]:
    """What a WebSocket receives within `seconds` (of one type, when given)."""
    found = []
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        try:
            message = await socket.receive_json(timeout=left)
        except (TimeoutError, TypeError):
            break
        if kind is None or message.get("type") == kind:
            found.append(message)
    return found


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """A loopback HTTP server (any free port) for `app`: its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def receiving(
    path: str, handle: Callable[[web.Request], Awaitable[web.Response]]
) -> AsyncIterator[str]:
    """A loopback HTTP server taking POSTs at `path` (a webhook's receiver): its URL."""
    app = web.Application()
    app.router.add_post(path, handle)
    async with serving(app) as base:
        yield f"{base}{path}"


def webhook_config(tmp_path: Path, name: str, url: str, secret: str, settings: str) -> Path:
    """`case_config` with one `[[webhooks]]` to `url`, its secret in a file, and the
    other `settings` lines (events, backoff...)."""
    secret_file = tmp_path / f"{name}-secret"
    secret_file.write_text(secret + "\n")
    hook = f'[[webhooks]]\nname = "{name}"\nurl = "{url}"\nsecret_file = "{secret_file}"\n'
    return case_config(tmp_path, f"\n{hook}{settings}")
