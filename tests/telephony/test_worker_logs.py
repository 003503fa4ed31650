"""A worker process logs as the node does: the format it is given (JSON: nothing but
JSON objects, pjlib's start-up lines muted), phone numbers masked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

from .conftest import NODE_CONFIG, free_sip_port, rtp_block


async def test_a_worker_logs_json_lines_with_phone_numbers_masked(
    tmp_path: Path, prompt_cache: Path
) -> None:
    config = tmp_path / "node.toml"
    port = free_sip_port()  # the worker is the node's SIP port: UDP and TCP
    config.write_text(
        NODE_CONFIG.format(port=port, rtp_port_base=rtp_block(), cache=prompt_cache, outside_uri="")
    )
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "telephony.worker", "--config", str(config)),
        *("--sip-port", str(port), "--rtp-port", str(rtp_block())),
        *("--calls", "4", "--rtp-ports", "40", "--log-format", "json"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 30)
        assert json.loads(ready)["ready"] is True
        # A line the worker cannot read is logged with what it was: a caller's number here.
        process.stdin.write(b"call from +34 600 123 456 failed\n")
        process.stdin.write(b'{"stop": true}\n')
        await process.stdin.drain()
        _, errors = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            with contextlib.suppress(Exception):
                await process.wait()
    # every line a JSON object: pjlib's start-up lines too are gone (six plain lines)
    records = [json.loads(line) for line in errors.decode().splitlines() if line]
    (unreadable,) = [r for r in records if "unreadable line" in r["message"]]
    assert unreadable["level"] == "WARNING" and unreadable["logger"] == "telephony.worker"
    assert "600" not in unreadable["message"] and "56" in unreadable["message"]
