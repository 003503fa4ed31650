"""baresip as a softphone for tests: a second, independent SIP stack registering with an
account and answering calls by itself (`answermode=auto`), with sine/file audio only.

`BaresipPhone.start(account, tmp_dir)` writes a config and an accounts file into its own
directory and runs `baresip -f DIR`; its log lines are kept, and `wait_for(text)` waits
for one that holds `text`. With `control=True` it listens for commands (its `ctrl_tcp`
module): `command("transfer", URI)` is the user's blind transfer (REFER). `close()` ends
it (by its PID)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
from collections.abc import Sequence
from pathlib import Path

from telephony.softphones import SipAccount

from .conftest import free_udp_port, port_free, rtp_block

MODULES = Path("/usr/lib/baresip/modules")


def sip_port() -> int:
    """baresip 1.0 listens on UDP and TCP at its port and TLS at the next one (none can
    be turned off): a port with all three free."""
    for _ in range(50):
        port = free_udp_port()
        if port < 65000 and all(port_free(socket.SOCK_STREAM, p) for p in (port, port + 1)):
            return port
    raise RuntimeError("no free port for baresip")


def available(*codecs: str) -> bool:
    """baresip is installed with its G.711 module and each of `codecs` (module names)."""
    modules = ("g711", *codecs)
    return shutil.which("baresip") is not None and all(
        (MODULES / f"{module}.so").exists() for module in modules
    )


class BaresipPhone:
    def __init__(self, process: asyncio.subprocess.Process, port: int, control: int = 0) -> None:
        self.process = process
        self.port = port
        self.control = control  # the ctrl_tcp port, 0: none
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(
        cls,
        account: SipAccount,
        directory: Path,
        password: str = "",
        transport: str = "udp",
        control: bool = False,
        codecs: Sequence[str] = ("g711",),
    ) -> BaresipPhone:
        """Register `account` over `transport` ("udp" or "tcp": the account's
        `;transport=` parameter, which baresip uses for every request it sends);
        `control`: take commands (`command`); `codecs`: the codec modules it loads, all
        it offers and accepts (`("g722",)`: a phone set to G.722 alone)."""
        directory.mkdir(parents=True, exist_ok=True)
        port = sip_port()
        rtp = rtp_block()
        control_port = free_udp_port() if control else 0
        while control_port and not port_free(socket.SOCK_STREAM, control_port):
            control_port = free_udp_port()
        controls = (
            ["module_app ctrl_tcp.so", f"ctrl_tcp_listen 127.0.0.1:{control_port}"]
            if control
            else []
        )
        (directory / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{port}",
                    f"rtp_ports {rtp}-{rtp + 39}",
                    # A tone as the agent's voice (ausine works in 48 kHz stereo only); no
                    # player: baresip 1.0 has no null one, and a call goes on without.
                    "audio_source ausine,1000",
                    "ausrc_srate 48000",
                    "ausrc_channels 2",
                    f"module_path {MODULES}",
                    *(f"module {codec}.so" for codec in codecs),
                    "module ausine.so",
                    "module aufile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    *controls,
                    "",
                ]
            )
        )
        (directory / "accounts").write_text(
            f"<sip:{account.user}@{account.server};transport={transport}>"
            f";auth_pass={password or account.password}"
            ";answermode=auto;regint=300\n"
        )
        (directory / "contacts").write_text("")
        process = await asyncio.create_subprocess_exec(
            "baresip",
            "-f",
            str(directory),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process, port, control_port)

    async def command(
        self, command: str, params: str = "", timeout: float = 10
    ) -> dict[str, object]:
        """One command as its user would give it (`transfer`, `hangup`...), over ctrl_tcp
        (a JSON netstring each way); baresip's answer."""
        request = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        for _ in range(50):  # the module listens once baresip has started
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.control)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"baresip takes no commands on {self.control}")
        try:
            writer.write(str(len(request)).encode() + b":" + request + b",")
            await writer.drain()
            while True:  # events may come first; the answer says "response"
                length = await asyncio.wait_for(reader.readuntil(b":"), timeout)
                body = await reader.readexactly(int(length[:-1]) + 1)
                answer: dict[str, object] = json.loads(body[:-1])
                if answer.get("response"):
                    return answer
        finally:
            writer.close()

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line.decode(errors="replace").rstrip())
            self._changed.set()

    async def wait_for(self, text: str, timeout: float = 15) -> str:
        async def find() -> str:
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError(f"baresip never said {text!r}: {self.lines[-20:]}") from None

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
