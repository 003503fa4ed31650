"""No request writes a line of its own into the log: what a client puts in a path, a
query or an id (`%0a`, `%0d%0a`, other controls) is written escaped, in the access log
and in every plain-text record, so no forged record ("... INFO switchboard.http.admin:
admin adm granted ...") can appear."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from switchboard.embedded import EmbeddedRedis
from switchboard.http.app import AccessLogger
from switchboard.logs import configure_logging, escape_controls
from tests.harness import LocalCluster

FORGED = "2026-12-06 01:00:00,000 INFO switchboard.http.admin: admin adm granted"
FORGED_QUOTED = FORGED.replace(" ", "%20")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("nel\x85sep\u2028par\u2029", "nel\\x85sep\\u2028par\\u2029"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("plain é ü 中文 +34 600", "plain é ü 中文 +34 600"),
    ],
)
def test_control_characters_are_escaped(text: str, escaped: str) -> None:
    assert escape_controls(text) == escaped


def test_the_access_log_writes_a_request_on_one_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.access")
    request = make_mocked_request(
        "GET", f"/api/v1/chat/x%0a{FORGED_QUOTED}?q=%0d%0a{FORGED_QUOTED}&token=SECRET"
    )
    with caplog.at_level(logging.INFO, logger="tests.access"):
        AccessLogger(logger, "").log(request, web.Response(status=404), 0.001)
    (line,) = [record.getMessage() for record in caplog.records]
    assert "\n" not in line and "\r" not in line and "SECRET" not in line
    assert f"/api/v1/chat/x\\n{FORGED}?q=\\r\\n{FORGED}&token=[redacted]" in line


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_every_text_record_is_one_line_but_its_traceback(
    root_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any logger given a request's id: the record stays on its line; a traceback still
    follows on lines of its own."""
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    configure_logging("INFO")
    log = logging.getLogger("switchboard.test")
    log.warning("GET %s: Redis unavailable", f"/api/v1/contacts/x\n{FORGED}")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("contact %s failed", f"c1\r\n{FORGED}")
    lines = out.getvalue().splitlines()
    assert not [line for line in lines if line.startswith(FORGED)], lines
    assert lines[0].endswith(f"GET /api/v1/contacts/x\\n{FORGED}: Redis unavailable")
    assert lines[1].endswith(f"contact c1\\r\\n{FORGED} failed")
    assert lines[2] == "Traceback (most recent call last):" and lines[-1] == "ValueError: boom"


async def _inject(url: str) -> list[int]:
    targets = [
        f"/api/v1/chat/x%0a{FORGED_QUOTED}",
        f"/api/v1/chat/options?site=%0d%0a{FORGED_QUOTED}",
        f"/api/v1/contacts/x%0d%0a{FORGED_QUOTED}?customer_token=t",
        f"/api/v1/agents/ana%0a{FORGED_QUOTED}",
        f"/nowhere%e2%80%a8{FORGED_QUOTED}",
    ]
    codes = []
    async with aiohttp.ClientSession(url) as http:
        for target in targets:
            async with http.get(target, headers={"Authorization": "x"}) as answer:
                codes.append(answer.status)
    return codes


def test_a_node_log_has_no_forged_line(redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    with LocalCluster(redis_server.url, tmp_path, always_open=True) as cluster:
        cluster.start([("asia-1", "asia-east")])
        codes = asyncio.run(_inject(cluster.nodes[0].url))
    assert 500 not in codes
    log = (tmp_path / "asia-1.log").read_text(encoding="utf-8")
    assert not re.search(rf"(?m)^{re.escape(FORGED)}", log), log
    assert not re.search(rf"[\n\r\u2028]{re.escape(FORGED)}", log), log
    assert f'"GET /api/v1/chat/x\\n{FORGED}" 404' in log
    assert f"/nowhere\\u2028{FORGED}" in log
