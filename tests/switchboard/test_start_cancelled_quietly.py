"""A SIGTERM while the voice front door is still starting (its workers not yet ready)
cancels the start as any other: one log line, exit 0, and no asyncio error with a
traceback about a wait the cancellation left behind."""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from switchboard.embedded import free_port
from tests.nodes import ROOT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pjsua2") is None, reason="the SIP workers need pjsua2"
)


def test_sigterm_while_the_workers_start_logs_no_unretrieved_wait(tmp_path: Path) -> None:
    sip_port = free_port()
    text = (ROOT / "config" / "default.toml").read_text()
    for old, new in (
        ('data_dir = "var/redis"', f'data_dir = "{tmp_path / "redis"}"'),
        ("port = 8080", "port = 0"),  # [http]: any free port
        ("port = 5060 ", f"port = {sip_port} "),
        ('front_door = "kamailio"', 'front_door = "none"'),  # one worker, on the SIP port
        ("worker_port_base = 5100", f"worker_port_base = {free_port()}"),
        ("rtp_port_base = 20000", f"rtp_port_base = {free_port()}"),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    config = tmp_path / "node.toml"
    config.write_text(text)
    stderr = tmp_path / "stderr.log"
    # The SIP port is taken: the worker cannot open it and is restarted, again and again,
    # while the start waits for it to be ready.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken, stderr.open("w") as err:
        taken.bind(("127.0.0.1", sip_port))
        node = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "serve", "--config", str(config)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        try:
            deadline = time.monotonic() + 60
            while "exited with" not in stderr.read_text():
                assert node.poll() is None and time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.05)
            node.send_signal(signal.SIGTERM)
            assert node.wait(60) == 0, stderr.read_text()
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
    log = stderr.read_text()
    assert "node-1: SIGTERM during start-up: start cancelled" in log, log
    assert "never retrieved" not in log and "ERROR asyncio" not in log, log
