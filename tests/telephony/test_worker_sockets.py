"""A worker listens only where the configuration says: its SIP host. Its wake socket
(what cuts the pj thread's poll short) was an unbound UDP socket, which its first send
bound to 0.0.0.0 on a random port: a port on every interface that an operator's firewall
plan (the SIP host and the configured port ranges) did not list. Read from the worker
process's own sockets in /proc."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import node_uri


def udp_sockets(pid: int) -> list[str]:
    """The local addresses (`ip:port`) of the UDP sockets process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with_inode = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        if with_inode:
            inodes.add(with_inode.group(1))
    found = []
    for line in Path(f"/proc/{pid}/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[9] in inodes:
            address, port = fields[1].split(":")
            ip = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            found.append(f"{ip}:{int(port, 16)}")
    return found


async def test_no_worker_socket_listens_on_every_interface(
    node: Callable[..., Any], parties: Callable[..., Any]
) -> None:
    voice = await node()
    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))  # the worker's commands wake its pj thread
    await caller.wait_for("media", timeout=20)
    assert voice.pool is not None
    (pid,) = voice.pool.pids
    sockets = udp_sockets(pid)
    assert f"127.0.0.1:{voice.sip.port}" in sockets
    assert [address for address in sockets if address.startswith("0.0.0.0:")] == []
