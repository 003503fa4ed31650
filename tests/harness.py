"""Several nodes on loopback as subprocesses sharing one Redis: for tests and benches.

Like aiohttp's test utilities, this ships with the package so that the failover test
and `bench/failover.py` drive the very same set-up.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.embedded import end_with_parent, free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class NodeProcess:
    node_id: str
    region: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no goodbye, the heartbeat just stops."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def launch(self, config: Path, log_level: str = "INFO") -> subprocess.Popen[bytes]:
        """`switchboard serve` of this node on `config`, its output in its log; the
        process, kept in `process` too."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "switchboard.cli",
                    "--log-level",
                    log_level,
                    "serve",
                    "--config",
                    str(config),
                    "--region",
                    self.region,
                    "--node",
                    self.node_id,
                    "--http-port",
                    str(self.port),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=end_with_parent,  # an interrupted run leaves no node behind
            )
        return self.process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class LocalCluster:
    """Nodes of `config` (regions-3 by default) pointed at `redis_url`."""

    redis_url: str
    workdir: Path
    heartbeat_ttl_s: float = 2.0
    config_source: Path = ROOT / "config" / "regions-3.toml"
    # Every region open round the clock: a test about something else must not depend
    # on the hour it runs at (regions-3 closes Europe at 22:00 Paris time).
    always_open: bool = False
    # TOML appended to the configuration (a test's own [auth] or [http] keys).
    extra_toml: str = ""
    log_level: str = "INFO"
    nodes: list[NodeProcess] = field(default_factory=list)

    def config(self) -> Path:
        text = self.config_source.read_text()
        if self.always_open:
            text = re.sub(r'(?m)^open = "[0-9:]+"$', 'open = "00:00"', text)
            text = re.sub(r'(?m)^close = "[0-9:]+"$', 'close = "24:00"', text)
        text = text.replace('data_dir = "var/redis"', f'url = "{self.redis_url}"')
        text = text.replace(
            "[routing]\n", f"[routing]\nheartbeat_ttl_s = {self.heartbeat_ttl_s}\n", 1
        )
        path = self.workdir / "cluster.toml"
        path.write_text(text + self.extra_toml)
        return path

    def start(self, members: list[tuple[str, str]], timeout_s: float = 30.0) -> None:
        config = self.config()
        for node_id, region in members:
            node = NodeProcess(node_id, region, free_port(), self.workdir / f"{node_id}.log")
            node.launch(config, self.log_level)
            self.nodes.append(node)
        deadline = time.monotonic() + timeout_s
        for node in self.nodes:
            while not node.healthy():
                if time.monotonic() > deadline or (
                    node.process and node.process.poll() is not None
                ):
                    self.stop()
                    raise RuntimeError(
                        f"node {node.node_id} did not start: {node.log_path.read_text()}"
                    )
                time.sleep(0.1)

    def node(self, node_id: str) -> NodeProcess:
        return next(node for node in self.nodes if node.node_id == node_id)

    def stop(self) -> None:
        for node in self.nodes:
            with contextlib.suppress(Exception):
                node.stop()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
