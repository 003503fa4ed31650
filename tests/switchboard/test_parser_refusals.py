"""A request aiohttp's parser refuses (a request line or a header over the limit, too
many headers, a request that is not HTTP) is answered in the JSON error shape, naming
what was wrong and the limit and echoing nothing of the request, and is logged as one
WARNING line without the credentials it carried: no traceback, no token in the clear.
A real node process, real sockets, raw bytes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from switchboard.embedded import EmbeddedRedis
from tests.harness import LocalCluster, NodeProcess

CUSTOMER_SECRET = "SECRET-CUSTOMER-TOKEN-123"
STAFF_SECRET = "SECRET-STAFF-TOKEN-456"
PAD = "a" * 9000


@pytest.fixture(scope="module")
def node(
    redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeProcess]:
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    with LocalCluster(redis_server.url, tmp_path_factory.mktemp("refusals")) as cluster:
        cluster.start([("asia-1", "asia-east")])
        yield cluster.nodes[0]


async def _exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `raw` on a new connection; the status, headers and body of the answer (the
    node closes the connection after such an answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, body


def _logged_through(node: NodeProcess) -> str:
    """The node's log through the access line of a request sent now: whatever was logged
    for the requests before it is in."""
    marker = f"/mark-{time.monotonic_ns()}"
    request = f"GET {marker} HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n"
    asyncio.run(_exchange(node.port, request.encode()))
    deadline = time.monotonic() + 10
    while marker not in (text := node.log_path.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    return text[: text.index("\n", text.index(marker)) + 1]


CASES = [
    pytest.param(
        f"GET /api/v1/contacts/x/events?customer_token={CUSTOMER_SECRET}&pad={PAD} HTTP/1.1\r\n"
        "Host: node\r\n\r\n",
        414,
        "uri_too_long",
        "the request line is longer than the limit of 8190 bytes",
        "it began /api/v1/contacts/x/events?customer_token=[redacted]&pad=aaa",
        id="request-line",
    ),
    pytest.param(
        f"GET /api/v1/queues HTTP/1.1\r\nHost: node\r\n"
        f"Authorization: Bearer {STAFF_SECRET}{PAD}\r\n\r\n",
        431,
        "header_fields_too_large",
        "a header is longer than the limit of 8190 bytes",
        "",
        id="authorization-header",
    ),
    pytest.param(
        f"GET /api/v1/queues HTTP/1.1\r\nHost: node\r\nX-{PAD}: {STAFF_SECRET}\r\n\r\n",
        431,
        "header_fields_too_large",
        "a header is longer than the limit of 8190 bytes",
        "",
        id="header-name",
    ),
    pytest.param(
        "GET /api/v1/queues HTTP/1.1\r\nHost: node\r\n"
        + "".join(f"X-{n}: {STAFF_SECRET}\r\n" for n in range(200))
        + "\r\n",
        431,
        "header_fields_too_large",
        "the request has more headers than the limit of 128",
        "",
        id="too-many-headers",
    ),
    pytest.param(
        f"GET /api/v1/agents?token={STAFF_SECRET} HTTP/1.1 and more\r\nHost: node\r\n\r\n",
        400,
        "bad_request",
        "the request line is not valid HTTP/1.1",
        "",
        id="malformed-request-line",
    ),
    pytest.param(
        f"G(T /api/v1/agents?token={STAFF_SECRET} HTTP/1.1\r\nHost: node\r\n\r\n",
        400,
        "bad_request",
        "the request line is not valid HTTP/1.1",
        "",
        id="malformed-method",
    ),
    pytest.param(
        f"GET /api/v1/queues HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer {STAFF_SECRET}\x00\r\n\r\n",
        400,
        "bad_request",
        "the request is not valid HTTP/1.1",
        "",
        id="control-in-header",
    ),
]


@pytest.mark.parametrize(("raw", "status", "code", "message", "logged"), CASES)
def test_a_request_the_parser_refuses_is_answered_in_json_and_logged_on_one_line(
    node: NodeProcess, raw: str, status: int, code: str, message: str, logged: str
) -> None:
    before = _logged_through(node)
    answer_status, headers, body = asyncio.run(_exchange(node.port, raw.encode("latin-1")))
    after = _logged_through(node)

    assert answer_status == status
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"error": code, "message": message}
    assert b"SECRET" not in body and b"aaaa" not in body

    lines = after.removeprefix(before).splitlines()[:-1]  # but the next request's
    assert len(lines) == 1, lines  # one record, no traceback, no access line besides
    (line,) = lines
    assert " WARNING switchboard.http.runner: 127.0.0.1: refused before routing" in line
    assert f"({status}): {message}" in line
    assert logged in line
    assert "SECRET" not in line


def test_a_client_that_hangs_up_mid_body_is_no_incident(node: NodeProcess) -> None:
    """A customer's phone losing its signal while sending: counted 499, one INFO line,
    no ERROR, no traceback, no 500 in the metrics."""

    async def hang_up() -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", node.port)
        writer.write(
            b"POST /api/v1/contacts HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"channel":'
        )
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()

    asyncio.run(hang_up())
    deadline = time.monotonic() + 10
    while "the client left before its request was read" not in node.log_path.read_text("utf-8"):
        assert time.monotonic() < deadline, node.log_path.read_text("utf-8")[-2000:]
        time.sleep(0.05)
    logged = _logged_through(node)
    assert "POST /api/v1/contacts failed" not in logged and "Traceback" not in logged
    status, _, body = asyncio.run(
        _exchange(node.port, b"GET /metrics HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n")
    )
    metrics = body.decode()
    assert status == 200
    assert 'route="/api/v1/contacts",status="499"' in metrics
    assert 'route="/api/v1/contacts",status="500"' not in metrics


@pytest.mark.parametrize(
    "header",
    [b"Authorization: Bearer \x80\xff", b"X-Customer-Token: \xc3\x28"],
)
def test_a_token_of_bytes_beyond_ascii_is_unauthorized_not_an_incident(
    node: NodeProcess, header: bytes
) -> None:
    """No token of ours holds such bytes: 401, as for any unknown token (a fuzzer's
    header once made a Redis key of them, a 500)."""
    raw = b"GET /api/v1/contacts/c-1 HTTP/1.1\r\nHost: node\r\n%s\r\nConnection: close\r\n\r\n"
    status, _, body = asyncio.run(_exchange(node.port, raw % header))
    assert status == 401, body
    assert json.loads(body)["error"] == "unauthorized"
