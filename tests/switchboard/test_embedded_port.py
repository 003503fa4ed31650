"""The embedded Redis comes back on the port it had: nodes sharing it (several on one
host, the README's three regions) keep its URL and reconnect by themselves when the node
that runs it restarts."""

from __future__ import annotations

import socket
from pathlib import Path

import redis

from switchboard.embedded import EmbeddedRedis


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
