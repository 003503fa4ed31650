"""The embedded Redis comes back on the port it had: nodes sharing it (several on one
host, the README's three regions) keep its URL and reconnect by themselves when the node
that runs it restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import redis

from switchboard.embedded import (
    EmbeddedRedis,
    adopt_orphan,
    running_embedded_url,
    stop_server,
)


def test_a_restarted_embedded_server_takes_its_port_again(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "redis", die_with_parent=True)
    with first:
        redis.Redis(port=first.port).set("kept", "yes")
    second = EmbeddedRedis(tmp_path / "redis", die_with_parent=True)
    with second:
        assert second.port == first.port
        assert redis.Redis(port=second.port).get("kept") == b"yes"  # AOF kept it too


def test_a_port_taken_meanwhile_is_not_reused(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path / "redis", die_with_parent=True)
    with first:
        pass
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", first.port))
        squatter.listen()
        second = EmbeddedRedis(tmp_path / "redis", die_with_parent=True)
        with second:
            assert second.port != first.port
            assert redis.Redis(port=second.port).ping()


def test_another_nodes_connection_still_closing_does_not_move_the_port(tmp_path: Path) -> None:
    """Another node's connection to the server that stopped stays half-closed on the
    server's side (FIN-WAIT-2, up to a minute) while that node has not closed its own:
    a plain bind failed, the server came back on a new port and the other node, which
    keeps the old URL, stayed cut off (a probe: 503 for over two minutes)."""
    first = EmbeddedRedis(tmp_path / "redis", die_with_parent=True)
    other = redis.Redis(port=first.port)
    with first:
        other.ping()  # the other node's connection, which it does not close
    second = EmbeddedRedis(tmp_path / "redis", die_with_parent=True)
    with second:
        assert second.port == first.port
        assert other.ping()  # it reconnects by itself
    other.close()


def test_a_server_whose_node_was_killed_is_stopped_by_the_node_that_takes_it_up(
    tmp_path: Path,
) -> None:
    """A node SIGKILLed leaves its embedded server running (the other nodes keep their
    store), but no node ever stopped it: it outlived every later clean stop (an ops
    probe). The node that finds it without its owner stops it at its own stop."""
    data_dir = tmp_path / "redis"
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    server: int | None = None
    try:
        assert starter.stdout is not None and starter.stdout.readline().strip() == "ready"
        server = int((data_dir / "valkey.pid").read_text())
        assert adopt_orphan(data_dir) is None  # its node lives: not ours to stop
        starter.kill()
        starter.wait()
        assert running_embedded_url(data_dir) is not None  # it outlived its node
        assert adopt_orphan(data_dir) == server
        stop_server(server, data_dir)
        assert running_embedded_url(data_dir) is None
        assert not runs(server)
    finally:
        starter.kill()
        if server is not None and runs(server):
            os.kill(server, signal.SIGKILL)  # started (through the starter) by this test


def runs(pid: int) -> bool:
    """Whether `pid` runs: an orphan ended may stay a zombie until its new parent reaps it."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


# A node's start of its embedded server, in a process of its own the test can kill.
STARTER = """
import sys, time
from pathlib import Path
from switchboard.embedded import EmbeddedRedis
EmbeddedRedis(Path(sys.argv[1])).start()
print("ready", flush=True)
time.sleep(60)
"""
