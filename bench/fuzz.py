"""A node probed as an attacker would, for longer than the test suite does.

1. Schemathesis generates requests from the node's own OpenAPI document (anonymous and
   as an admin) — `--examples` per operation — and every answer is checked: no 5xx,
   statuses and error bodies as documented.
2. The hostile bodies once found to give 500s (deep nesting, lone surrogates, huge
   fields, CRLF in SIP URIs, NaN periods).
3. Malformed SIP datagrams to the node's SIP port; after each one the node must still
   answer HTTP and a well-formed OPTIONS.
4. Login latency at the configured password cost (scrypt 2^17 by default).

    .venv/bin/python bench/fuzz.py [--examples 100] [--no-sip]

Prints what it found; the last line is JSON with `requests`, `server_errors`,
`crashes`, `sip_cases`, `sip_survived`, `login_ms_p50`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from _common import print_json_line
from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import schemathesis
from schemathesis.core.result import Err

from router.model import Role
from router.sessions import SessionPolicy, Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.embedded import EmbeddedRedis, free_port
from switchboard.http.api import API
from switchboard.http.app import FEATURES
from switchboard.http.openapi import document
from tests.harness import LocalCluster

assert FEATURES
SKIPPED = {("GET", "/api/v1/wallboard/events"), ("POST", "/api/v1/agents/logout")}


def fuzz_http(url: str, admin: dict[str, str], examples: int) -> tuple[int, list[str]]:
    schema = schemathesis.openapi.from_dict(document(API.operations))
    sent = 0
    errors: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the node's own document does not parse: nothing to fuzz
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def probe(case: schemathesis.Case) -> None:
            nonlocal sent
            for headers in ({}, admin):
                response = case.call(base_url=url, headers=headers, timeout=10)
                sent += 1
                if response.status_code >= 500:
                    errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        probe()
    return sent, errors


HOSTILE = [
    ("/api/v1/contacts", "[" * 200_000 + "]" * 200_000),
    ("/api/v1/agents/login", '{"agent_id":"\\ud800","password":"x"}'),
    (
        "/api/v1/contacts",
        '{"channel":"chat","queue":"booking","language":"\\udfff","customer":{"id":"c"}}',
    ),
    ("/api/v1/contacts", '{"channel":"chat","queue":"booking","language":"' + "x" * 300_000 + '"}'),
    ("/api/v1/agents/login", '{"agent_id":"a","password":"p","sip_uri":"sip:a@b\\r\\nVia: evil"}'),
    ("/api/v1/agents/login", '{"agent_id":"a","password":"p","channels":{"chat":1e999}}'),
    ("/api/v1/contacts", "\xff\xfe\x00garbage"),
    ("/api/v1/contacts", '{"channel":"chat","queue":"booking","language":"en","identity":"x.y"}'),
]


def hostile(url: str, admin: dict[str, str]) -> tuple[int, list[str]]:
    errors = []
    for path, body in HOSTILE:
        data = body.encode("utf-8", "surrogatepass")
        answer = requests.post(
            f"{url}{path}", data=data, headers={"Content-Type": "application/json"}, timeout=10
        )
        if answer.status_code >= 500:
            errors.append(f"POST {path}: {answer.status_code}")
    for every in ("nan", "inf", "-1", "1e308"):
        answer = requests.get(
            f"{url}/api/v1/wallboard/events", params={"every": every}, headers=admin, timeout=10
        )
        if answer.status_code >= 500:
            errors.append(f"wallboard every={every}: {answer.status_code}")
    return len(HOSTILE) + 4, errors


def sip_cases(port: int) -> list[bytes]:
    def request(extra: str = "", length: str | None = None, body: str = "") -> bytes:
        call = uuid.uuid4().hex
        head = (
            f"INVITE sip:1000@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{call[:8]}\r\n"
            f"From: <sip:fuzz@127.0.0.1>;tag={call[:6]}\r\nTo: <sip:1000@127.0.0.1>\r\n"
            f"Call-ID: {call}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}"
            f"Content-Length: {length if length is not None else len(body)}\r\n\r\n{body}"
        )
        return head.encode()

    return [
        b"\x00" * 64,
        bytes(range(256)) * 4,
        b"INVITE",
        b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n\r\n",
        request(length="99999", body="v=0\r\n"),
        request(length="-5"),
        request(extra="X-Big: " + "A" * 60_000 + "\r\n"),
        request(extra="".join(f"X-H{i}: {i}\r\n" for i in range(2000))),
        request(extra="Contact: <sip:fuzz@127.0.0.1\r\n"),
        request(body="v=0\r\no=- 0 0 IN IP4 999.999.999.999\r\nm=audio 99999 RTP/AVP 0 8\r\n"),
        "INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: ∑∑∑\r\nCSeq: ∞ INVITE\r\n\r\n".encode(),
        b"\r\n" * 5000,
        b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n",
    ]


def sip_alive(port: int) -> bool:
    """A well-formed OPTIONS gets an answer."""
    call = uuid.uuid4().hex
    options = (
        f"OPTIONS sip:1000@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{{p}};branch=z9hG4bK{call[:8]}\r\n"
        f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: {call}\r\n"
        f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        probe.settimeout(3)
        own = probe.getsockname()[1]
        probe.sendto(options.replace("{p}", str(own)).encode(), ("127.0.0.1", port))
        try:
            return probe.recv(65536).startswith(b"SIP/2.0")
        except TimeoutError:
            return False


def fuzz_sip(url: str, port: int) -> tuple[int, int]:
    survived = 0
    cases = sip_cases(port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for case in cases:
            with contextlib.suppress(OSError):  # too large for a datagram: fine
                sender.sendto(case[:65_000], ("127.0.0.1", port))
            time.sleep(0.2)
            healthy = requests.get(f"{url}/healthz", timeout=5).status_code == 200
            survived += healthy and sip_alive(port)
    return len(cases), survived


def voice_config(workdir: Path, sip_port: int) -> Path:
    """config/default.toml with its SIP on free ports: one worker answering directly."""
    import re

    text = (ROOT / "config" / "default.toml").read_text()
    for key, value in (
        ("port", str(sip_port)),
        ("front_door", '"none"'),
        ("workers", "1"),
        ("worker_port_base", str(free_port())),
        ("rtp_port_base", str(40_000 + free_port() % 20_000)),
    ):
        text = re.sub(
            rf"(?m)^(\[sip\][^\[]*?^){key} = [^\n#]*", rf"\g<1>{key} = {value} ", text, count=1
        )
    path = workdir / "voice.toml"
    path.write_text(text)
    return path


async def seed(url: str, cost: int) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url, decode_responses=True)
    sessions = Sessions(UserStore(client), RoutingStore(client), SessionPolicy(scrypt_log2_n=cost))
    await sessions.save_user("adm", Role.ADMIN, "admin-secret-1")
    await client.aclose()


def login_ms(url: str, rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        requests.post(
            f"{url}/api/v1/agents/login",
            json={"agent_id": "adm", "password": "admin-secret-1"},
            timeout=30,
        )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument("--no-sip", action="store_true", help="skip the malformed SIP set")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedRedis(Path(tmp) / "redis", die_with_parent=True) as redis_server,
    ):
        asyncio.run(seed(redis_server.url, 17))
        sip_port = free_port()
        source, member = ROOT / "config" / "regions-3.toml", ("asia-1", "asia-east")
        if not args.no_sip:
            source, member = voice_config(Path(tmp), sip_port), ("node-1", "default")
        cluster = LocalCluster(
            redis_server.url,
            Path(tmp),
            always_open=True,
            config_source=source,
            extra_toml="\n[chat]\npublic_requests_per_minute = 1000000\n",
        )
        with cluster:
            cluster.start([member], timeout_s=90)
            url = cluster.nodes[0].url
            admin_token = requests.post(
                f"{url}/api/v1/agents/login",
                json={"agent_id": "adm", "password": "admin-secret-1"},
                timeout=30,
            ).json()["token"]
            admin = {"Authorization": f"Bearer {admin_token}"}
            login = login_ms(url)
            print(f"login at scrypt 2^17: {login:.0f} ms (median of 7)")
            sent, errors = fuzz_http(url, admin, args.examples)
            print(f"schemathesis: {sent} requests, {len(errors)} server errors")
            more, hostile_errors = hostile(url, admin)
            print(f"hostile bodies: {more} requests, {len(hostile_errors)} server errors")
            errors += hostile_errors
            for line in errors[:20]:
                print("  ", line)
            cases, survived = (0, 0) if args.no_sip else fuzz_sip(url, sip_port)
            if cases:
                print(f"malformed SIP: {survived} of {cases} datagrams survived")
            crashed = (
                cluster.nodes[0].process is not None and cluster.nodes[0].process.poll() is not None
            )
    print_json_line(
        {
            "requests": sent + more,
            "server_errors": len(errors),
            "crashes": int(crashed),
            "sip_cases": cases,
            "sip_survived": survived,
            "login_ms_p50": round(login, 1),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
