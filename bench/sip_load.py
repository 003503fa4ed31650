"""SIP load on one node: calls per second stepped up, then concurrent calls held, with
the 256-call pjsua2 build and, in the same run, the 4-call PyPI wheel for comparison.

Starts everything on this box: an embedded Redis, a Router, the voice front door
(Kamailio + N worker processes), and drives it with sipp:
  1. `--concurrent` calls (capped at capacity) held for `--hold-s` seconds with RTP
     both ways (sipp streams G.711 to the node, the node plays prompts and music back);
     RSS (node + workers + Kamailio) sampled half-way;
  2. calls per second (answer, 1 s of prompt, hang-up), stepped up until the first
     failure; `max_cps_zero_failures` is the last step with none; RSS again after;
  3. the same two phases with the PyPI `pjsua2-python` wheel (4 calls per process),
     installed in a temporary virtual environment whose Python the workers run
     (`--pypi-workers`, `--pypi-rates`; `--pypi-workers 0` skips it);
  4. the same CPS stepping against one bare pjsua2 auto-answer process (`bare_cps`).
Prints figures as it goes; the last line is one JSON object.

    .venv/bin/python bench/sip_load.py --step-s 10 --hold-s 20 --concurrent 100 --pypi-workers 20
    # the issue's targets (300 calls/s for 60 s, 300 held 60 s, RSS <= 1 GB), as run for
    # docs/telephony.md:
    .venv/bin/python bench/sip_load.py --rates 100,200,300 --step-s 60 --concurrent 300 \
        --hold-s 60 --pypi-workers 150 --pypi-rates 100,150,175 --bare-rates 50,100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+3314000[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:bench@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=bench 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      [routes]
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+3314000[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:bench@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  {media}
  <pause milliseconds="{hold_ms}"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      [routes]
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+3314000[call_number]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:bench@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"""

CONFIG = """
[node]
id = "bench"
region = "default"

[[regions]]
name = "default"
timezone = "UTC"

[[queues]]
name = "general"
skill = "general"

[sip]
host = "127.0.0.1"
port = {port}
front_door = "kamailio"
workers = {workers}
worker_port_base = {worker_port_base}
calls_per_worker = {calls}
rtp_port_base = 20000
prompt_cache_dir = "{cache}"

[[ivr]]
number = "*"
region = "default"
languages = ["en"]
default_queue = "general"
digit_timeout_s = 3
max_tries = 2
announce_every_s = 20

[[ivr.reasons]]
digit = "1"
name = "general"
queue = "general"
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return round(total_kb / 1024, 1)


def pss_mb(pids: list[int]) -> float:
    """Proportional set size: shared pages (pjsua2, Python) split between processes."""
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
    return round(total_kb / 1024, 1)


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    found.append(int(entry.name))
    return found


def write_scenario(directory: Path, name: str, hold_ms: int, media: bool) -> Path:
    stream = ""
    if media:
        raw = directory / "speech.ulaw"
        if not raw.exists():
            subprocess.run(
                [
                    *("sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(raw)),
                    *("synth", "2", "sine", "300-900", "vol", "0.3"),
                ],
                check=True,
            )
        stream = f'<nop><action><exec rtp_stream="{raw},-1,0"/></action></nop>'
    path = directory / f"{name}.xml"
    path.write_text(SCENARIO.format(name=name, hold_ms=hold_ms, media=stream))
    return path


def run_sipp(
    target: str, scenario: Path, rate: float, calls: int, workdir: Path, limit: int | None = None
) -> dict[str, int]:
    """One sipp run; returns successful and failed call counts from its statistics."""
    stamp = time.monotonic_ns()
    stat = workdir / f"stat-{stamp}.csv"
    errors = workdir / f"errors-{stamp}.log"
    command = [
        "sipp",
        target,
        "-sf",
        str(scenario),
        "-s",
        "1000",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(free_port() // 2 * 2),
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-nostdin",
        "-recv_timeout",
        "15000",
        "-timeout",
        str(int(calls / max(rate, 0.1)) + 120) + "s",
        "-trace_stat",
        "-stf",
        str(stat),
        "-fd",
        "1",
        "-trace_err",
        "-error_file",
        str(errors),
    ]
    if limit is not None:
        command += ["-l", str(limit)]
    subprocess.run(command, cwd=workdir, capture_output=True, check=False)
    success = failed = 0
    if stat.exists():
        lines = stat.read_text().splitlines()
        if len(lines) >= 2:
            header = lines[0].split(";")
            last = lines[-1].split(";")
            row = dict(zip(header, last, strict=False))
            success = int(row.get("SuccessfulCall(C)", 0) or 0)
            failed = int(row.get("FailedCall(C)", 0) or 0)
    failed += max(0, calls - success - failed)  # never finished counts as failed
    result = {"success": success, "failed": failed}
    if failed and errors.exists():
        text = errors.read_text(errors="replace")
        result["errors_503"] = text.count("SIP/2.0 503")
        result["errors_timeout"] = text.lower().count("timeout")
    return result


def step_cps(
    target: str, scenario: Path, rates: list[int], step_s: float, workdir: Path, label: str
) -> tuple[int, int]:
    """Highest rate with zero failures, and the failures seen at the first failing step."""
    best = 0
    for rate in rates:
        calls = max(1, int(rate * step_s))
        result = run_sipp(target, scenario, rate, calls, workdir)
        print(f"{label}: {rate:4d} calls/s x {step_s:.0f}s -> {result}", flush=True)
        if result["failed"]:
            return best, result["failed"]
        best = rate
        time.sleep(1.5)  # let the last calls end before the next step
    return best, 0


def bare_endpoint(port: int) -> None:
    """`--bare PORT`: one pjsua2 endpoint answering everything (up to its build's limit)."""
    from telephony.capacity import built_max_calls
    from telephony.endpoint import EndpointConfig, PjEngine

    calls = built_max_calls()

    async def main() -> None:
        engine = PjEngine(
            EndpointConfig(
                sip_port=port,
                rtp_port=50000,
                rtp_port_range=2 * calls + 8,
                max_calls=calls,
                max_inbound=calls,
                reserve_per_inbound=0,
                auto_answer=True,
            ),
            lambda event: None,
        )
        await engine.start()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await engine.stop()

    asyncio.run(main())


async def node_run(
    args: argparse.Namespace, workdir: Path, *, label: str, python: str, calls: int, workers: int
) -> dict[str, Any]:
    from switchboard.embedded import EmbeddedRedis

    server = EmbeddedRedis(workdir / f"redis-{label}", die_with_parent=True)
    server.start()
    try:
        return await node_measure(
            args, workdir, server.url, label=label, python=python, calls=calls, workers=workers
        )
    finally:
        server.stop()


async def node_measure(
    args: argparse.Namespace,
    workdir: Path,
    redis_url: str,
    *,
    label: str,
    python: str,
    calls: int,
    workers: int,
) -> dict[str, Any]:
    """Router, event hub and voice front door on `redis_url`; stopped whatever happens."""
    import redis.asyncio as aioredis

    from router.events import EventHub
    from router.service import Router
    from router.store import RoutingStore
    from switchboard.settings import load_settings
    from telephony.service import VoiceFrontDoor

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    port = free_port()
    base = 20000 + (os.getpid() % 50) * 200
    config = workdir / f"bench-{label}.toml"
    config.write_text(
        CONFIG.format(
            port=port,
            workers=workers,
            calls=calls,
            worker_port_base=base,
            cache=workdir / "prompts",
        )
    )
    settings = load_settings(config)
    router = Router(RoutingStore(client), settings.queues, node_id="bench")
    await router.publish_configuration(["default"])
    hub = EventHub(router.store)
    await hub.start()
    voice = VoiceFrontDoor(settings, router, hub, workdir=workdir / f"voice-{label}", python=python)
    target = f"127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    try:
        started = time.monotonic()
        await voice.start()
        print(
            f"{label}: {workers} workers x {voice.sip.calls_per_worker} calls up in "
            f"{time.monotonic() - started:.1f}s, capacity {voice.capacity} callers",
            flush=True,
        )
        await asyncio.sleep(args.settle_s)  # measure the steady state, not the start-up burst
        assert voice.pool is not None
        pids = voice.pool.pids
        door = voice.front_door
        if door is not None and door.process is not None:
            pids += [door.process.pid, *children_of(door.process.pid)]
        kamailio = pids[len(voice.pool.pids) :]
        everything = [os.getpid(), *pids]
        # The held calls first: a worker keeps the memory of its busiest moment (about
        # 0.7 MB per call it held at once), so the CPS steps' peak would otherwise be
        # counted against the held calls; it is reported after them (rss_mb_after_cps).
        concurrent = min(args.concurrent, voice.capacity)
        held = write_scenario(workdir, "held", int(args.hold_s * 1000), media=True)
        rss_box: dict[str, float] = {}

        def rss_parts() -> dict[str, float]:
            return {
                "node": rss_mb([os.getpid()]),
                "workers": rss_mb(voice.pool.pids if voice.pool else []),
                "kamailio": rss_mb(kamailio),
            }

        def sample_rss() -> None:
            time.sleep(concurrent / args.ramp_cps + args.hold_s / 2)
            rss_box["rss"] = rss_mb(everything)
            rss_box["pss"] = pss_mb(everything)
            print(f"{label}: RSS MB while holding: {rss_parts()}", flush=True)

        sampler = loop.run_in_executor(None, sample_rss)
        hold = await loop.run_in_executor(
            None, run_sipp, target, held, args.ramp_cps, concurrent, workdir, concurrent
        )
        await sampler
        print(f"{label}: {concurrent} calls held {args.hold_s:.0f}s -> {hold}", flush=True)
        await asyncio.sleep(3)
        short = write_scenario(workdir, "short", 1000, media=False)
        rates = [int(r) for r in (args.rates if label == "dense" else args.pypi_rates).split(",")]
        max_cps, cps_failures = await loop.run_in_executor(
            None, step_cps, target, short, rates, args.step_s, workdir, label
        )
        after_cps = rss_mb(everything)
        print(f"{label}: RSS MB after the CPS steps: {after_cps} {rss_parts()}", flush=True)
        rss = rss_box.get("rss", 0.0)
        return {
            "max_cps_zero_failures": max_cps,
            "cps_failures_at_first_failing_step": cps_failures,
            "concurrent_held": hold["success"],
            "failures": hold["failed"],
            "workers": workers,
            "calls_per_worker": voice.sip.calls_per_worker,
            "capacity": voice.capacity,
            "rss_mb": rss,
            "pss_mb": rss_box.get("pss", 0.0),
            "rss_mb_per_call": round(rss / hold["success"], 2) if hold["success"] else None,
            "rss_mb_after_cps": after_cps,
        }
    finally:
        await voice.stop()
        await hub.stop()
        await client.aclose()


def pypi_python(workdir: Path) -> tuple[str, int]:
    """A virtual environment with the PyPI wheel (pinned in pyproject.toml) in front of this
    one's packages: its Python runs the comparison's workers. Returns (python, its limit)."""
    import re
    import sysconfig

    pin = re.search(r'"(pjsua2-python==[^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin is not None, "pyproject.toml pins no pjsua2-python"
    venv = workdir / "pypi-venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site_dir = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site_dir, pin[1]],
        check=True,
    )
    # This environment's packages (and the editable project) after the PyPI pjsua2.
    ours = sysconfig.get_paths()["purelib"]
    Path(site_dir, "switchboard-bench.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    probe = "from telephony.capacity import built_max_calls; print(built_max_calls())"
    limit = subprocess.run(
        [python, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return python, int(limit)


def bare_run(args: argparse.Namespace, workdir: Path) -> int:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--bare", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        while "ready" not in (process.stdout.readline() or "ready"):
            pass
        short = write_scenario(workdir, "short", 1000, media=False)
        rates = [int(r) for r in args.bare_rates.split(",")]
        best, _ = step_cps(f"127.0.0.1:{port}", short, rates, args.step_s, workdir, "bare")
        return best
    finally:
        with contextlib.suppress(Exception):
            assert process.stdin is not None
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers", type=int, default=0, help="0: enough for the load, at least one per core"
    )
    parser.add_argument("--rates", default="50,100,200,300")
    parser.add_argument("--pypi-workers", type=int, default=40, help="0 skips the comparison")
    parser.add_argument("--pypi-rates", default="25,50,100")
    parser.add_argument("--bare-rates", default="25,50,100")
    parser.add_argument("--step-s", type=float, default=10.0)
    parser.add_argument("--concurrent", type=int, default=300)
    parser.add_argument("--hold-s", type=float, default=60.0)
    parser.add_argument("--ramp-cps", type=float, default=40.0)
    parser.add_argument("--settle-s", type=float, default=10.0)
    parser.add_argument("--bare", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_endpoint(args.bare)
        return 0
    for tool in ("sipp", "kamailio", "sox", "espeak-ng"):
        if shutil.which(tool) is None:
            print(f"sip_load: {tool} is missing (make system-deps)", file=sys.stderr)
            return 2
    from telephony.capacity import built_max_calls

    calls = built_max_calls()
    callers = max(1, calls // 2)
    # Enough callers for the held calls and for the CPS steps' 1-second calls, which last
    # about 1.5 s from INVITE to BYE's answer under load.
    peak = max(args.concurrent, 1.5 * max(int(r) for r in args.rates.split(",")))
    workers = args.workers or max(os.cpu_count() or 1, math.ceil(peak / callers))
    with tempfile.TemporaryDirectory(prefix="sip-load-") as tmp:
        workdir = Path(tmp)
        result = asyncio.run(
            node_run(args, workdir, label="dense", python=sys.executable, calls=0, workers=workers)
        )
        if args.pypi_workers:
            python, limit = pypi_python(workdir)
            result["pypi"] = asyncio.run(
                node_run(
                    args,
                    workdir,
                    label="pypi",
                    python=python,
                    calls=limit,
                    workers=args.pypi_workers,
                )
            )
        result["bare_cps"] = bare_run(args, workdir) if args.bare_rates else None
    bare = result["bare_cps"]
    result["cps_per_bare_process"] = (
        round(result["max_cps_zero_failures"] / bare, 1) if bare else None
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
