"""No credential reaches the log: not the Redis password of `[redis] url`, not a token in
a request's query, however its name is spelled on the wire. And `[redis] appendfsync`,
the embedded server's fsync policy, is checked like every key."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from switchboard.common.errors import ConfigError
from switchboard.http.app import AccessLogger, redact
from switchboard.node import Node
from switchboard.redisconn import without_credentials
from switchboard.settings import load_settings


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("redis://:s3cretPass@10.0.0.5:6379/0", "redis://***@10.0.0.5:6379/0"),
        ("rediss://switchboard:s3cretPass@redis.example:6380", "rediss://***@redis.example:6380"),
        ("redis://:p@ss/w@rd@10.0.0.5:6379/0", "redis://***@10.0.0.5:6379/0"),
        (
            "redis+sentinel://:s3cretPass@s1:26379,s2:26379/mymaster/0",
            "redis+sentinel://***@s1:26379,s2:26379/mymaster/0",
        ),
        ("redis+cluster://user:s3cretPass@host:7000", "redis+cluster://***@host:7000"),
        (
            "redis://10.0.0.5:6379/0?password=s3cretPass&socket_timeout=2",
            "redis://10.0.0.5:6379/0?password=***&socket_timeout=2",
        ),
        ("redis://10.0.0.5/0?pass%77ord=s3cretPass", "redis://10.0.0.5/0?password=***"),
        ("redis://10.0.0.5:6379/0", "redis://10.0.0.5:6379/0"),
        (
            "redis+sentinel://s1:26379,s2:26379/mymaster/0",
            "redis+sentinel://s1:26379,s2:26379/mymaster/0",
        ),
    ],
)
def test_a_redis_url_is_logged_without_its_credentials(url: str, logged: str) -> None:
    assert without_credentials(url) == logged


def test_the_node_logs_the_redis_it_uses_without_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "redis://:s3cretPass@10.0.0.5:6379/0"
    node: Any = SimpleNamespace(settings=SimpleNamespace(redis=SimpleNamespace(url=url)))
    with caplog.at_level(logging.INFO, logger="switchboard.node"):
        assert asyncio.run(Node._redis_url(node)) == url  # connects with it, all the same
    assert "using Redis at redis://***@10.0.0.5:6379/0" in caplog.text
    assert "s3cretPass" not in caplog.text


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/v1/agents?token=SECRET", "/api/v1/agents?token=[redacted]"),
        ("/api/v1/agents?%74oken=SECRET", "/api/v1/agents?token=[redacted]"),
        ("/api/v1/agents?%74%6F%6B%65%6E=SECRET&x=1", "/api/v1/agents?token=[redacted]&x=1"),
        (
            "/api/v1/contacts/c1?customer%5Ftoken=SECRET&from=%2B34600",
            "/api/v1/contacts/c1?customer_token=[redacted]&from=+34600",
        ),
        ("/chat?identity=SECRET", "/chat?identity=[redacted]"),
        ("/a?token=SECRET;x=1", "/a?token=[redacted]"),  # `;` is no separator here
        ("/a?token=A&token=B", "/a?token=[redacted]&token=[redacted]"),
        ("/a?%2574oken=SECRET&TOKEN=SECRET", "/a?%74oken=[redacted]&TOKEN=[redacted]"),
        ("/a/b%20c?tokens=1&q=%25", "/a/b c?tokens=1&q=%"),
        ("/api/v1/queues", "/api/v1/queues"),
    ],
)
def test_a_request_target_is_logged_decoded_and_without_secrets(target: str, logged: str) -> None:
    assert redact(target) == logged


def test_the_access_log_hides_a_token_whose_name_is_percent_encoded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.access")
    request = make_mocked_request("GET", "/api/v1/agents?%74oken=SECRET&state=ready")
    assert request.query["token"] == "SECRET"  # what the handlers read: a token
    with caplog.at_level(logging.INFO, logger="tests.access"):
        AccessLogger(logger, "").log(request, web.Response(status=200), 0.0042)
    (line,) = [record.getMessage() for record in caplog.records]
    assert "SECRET" not in line
    assert line.endswith('"GET /api/v1/agents?token=[redacted]&state=ready" 200 4.2ms'), line


CONFIG = """
[node]
id = "n1"
region = "eu"

[redis]
{redis}

[[regions]]
name = "eu"
timezone = "Europe/Paris"

[[queues]]
name = "general"
"""


def test_appendfsync_defaults_to_everysec_and_takes_always(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(CONFIG.format(redis=""))
    assert load_settings(path).redis.appendfsync == "everysec"
    path.write_text(CONFIG.format(redis='appendfsync = "always"'))
    assert load_settings(path).redis.appendfsync == "always"


def test_an_unknown_appendfsync_is_a_fault_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(CONFIG.format(redis='appendfsync = "sometimes"'))
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert "redis.appendfsync: expected one of everysec, always, no" in str(raised.value)
