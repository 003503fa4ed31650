"""The pjsua2 adapter: one SIP endpoint driven from one dedicated thread.

pjsua2 aborts the process when it is called from a thread it does not know, and a
`Call` whose last reference is dropped at the wrong moment hangs up or loses its
callbacks. So every pj object is created, used and destroyed in the single "pj
thread" started here; asyncio code talks to it through `PjEngine.run` (a command
queue drained between `libHandleEvents` polls) and hears back through plain dict
events posted with `loop.call_soon_threadsafe`. Legs, players and recorders are
named by integers of our own, never by pj objects or pjsua call ids (those are
reused). See docs/telephony.md for the measured facts behind each setting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import queue
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

log = logging.getLogger(__name__)

Event = dict[str, Any]
_USER_PART = re.compile(r"sips?:([^@;>]+)@")


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (`"A" <sip:+331@h>` -> `+331`); empty when it has none."""
    match = _USER_PART.search(uri)
    return match.group(1) if match else ""


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how one endpoint listens; each process needs its own SIP and RTP ports."""

    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_port: int = 20000
    rtp_port_range: int = 100
    max_calls: int = 4
    # Inbound calls beyond this many live inbound legs get 503 + Retry-After at once.
    max_inbound: int = 2
    # Call slots kept free per admitted caller (its agent leg); 0 for a plain answerer.
    reserve_per_inbound: int = 1
    # Dialled numbers answered; None = every number. Others get 404 before any answer.
    numbers: tuple[str, ...] | None = None
    auto_answer: bool = True
    poll_ms: int = 100
    retry_after_s: int = 5
    log_level: int = 0
    user: str = "switchboard"


def _describe(error: Exception) -> str:
    """pjsua2 errors carry their text in `info()`; others in str()."""
    info = getattr(error, "info", None)
    detail = info() if callable(info) else str(error)
    return f"{type(error).__name__}: {detail}"


class _Leg(pj.Call):
    """One call leg; lives in the engine's table until its DISCONNECTED callback."""

    def __init__(self, engine: PjEngine, leg_id: int, inbound: bool, call_id: int) -> None:
        if call_id == pj.PJSUA_INVALID_ID:
            super().__init__(engine._account)
        else:
            super().__init__(engine._account, call_id)
        self.engine = engine
        self.leg_id = leg_id
        self.inbound = inbound
        self.audio: pj.AudioMedia | None = None
        self.sinks: set[int] = set()

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        try:
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
                self.engine._emit({"type": "answered", "leg": self.leg_id})
            elif info.state == pj.PJSIP_INV_STATE_EARLY:
                self.engine._emit({"type": "ringing", "leg": self.leg_id})
            elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.audio = None
                self.engine._forget_leg(self)
                self.engine._emit(
                    {
                        "type": "hangup",
                        "leg": self.leg_id,
                        "code": int(info.lastStatusCode),
                        "reason": str(info.lastReason),
                        "inbound": self.inbound,
                        "connected_s": float(info.connectDuration.sec),
                    }
                )
        except Exception:
            log.exception("onCallState failed")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        try:
            info = self.getInfo()
            for media in info.media:
                if (
                    media.type == pj.PJMEDIA_TYPE_AUDIO
                    and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                ):
                    first = self.audio is None
                    self.audio = self.getAudioMedia(media.index)
                    self.engine._reconnect(self)
                    if first:
                        self.engine._emit({"type": "media", "leg": self.leg_id})
                    return
        except Exception:
            log.exception("onCallMediaState failed")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        try:
            self.engine._emit(
                {"type": "dtmf", "leg": self.leg_id, "digit": str(prm.digit), "method": prm.method}
            )
        except Exception:
            log.exception("onDtmfDigit failed")

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        try:
            # We carry out the transfer ourselves (the router decides who takes the call):
            # refuse pjsua's own new INVITE and report the target instead.
            target = str(prm.dstUri)
            prm.statusCode = 603
            self.engine._emit({"type": "refer", "leg": self.leg_id, "target": target})
        except Exception:
            log.exception("onCallTransferRequest failed")


class _Player(pj.AudioMediaPlayer):
    """A prompt player; its end-of-file arrives on the clock thread, so only post an event."""

    def __init__(self, engine: PjEngine, player_id: int, leg_id: int) -> None:
        super().__init__()
        self.engine = engine
        self.player_id = player_id
        self.leg_id = leg_id

    def onEof2(self) -> None:
        try:
            self.engine._emit({"type": "played", "player": self.player_id, "leg": self.leg_id})
        except Exception:
            log.exception("onEof2 failed")


class _Account(pj.Account):
    def __init__(self, engine: PjEngine) -> None:
        super().__init__()
        self.engine = engine

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        try:
            self.engine._incoming(prm.callId)
        except Exception:
            log.exception("onIncomingCall failed")


class PjEngine:
    """One pjsua2 endpoint in its own thread, commanded from asyncio."""

    def __init__(
        self,
        config: EndpointConfig,
        on_event: Callable[[Event], None],
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self._on_event = on_event
        self._loop = loop
        self._commands: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], Any]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._wake_socket: socket.socket | None = None
        self._wake_pending = False
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._start_error: BaseException | None = None
        self._ids = itertools.count(1)
        # pj-thread-only state below.
        self._ep: pj.Endpoint | None = None
        self._account: _Account | None = None
        self._legs: dict[int, _Leg] = {}
        self._players: dict[int, _Player] = {}
        self._recorders: dict[int, pj.AudioMediaRecorder] = {}
        self._music: pj.AudioMediaPlayer | None = None
        self._music_path = ""
        self._links: set[tuple[int, int]] = set()  # (source leg, sink leg) audio flows
        self._music_legs: set[int] = set()
        self.inbound_count = 0
        self.leg_count = 0

    # ------------------------------------------------------------------ asyncio side
    async def start(self) -> None:
        """Start the pj thread and wait until the endpoint listens."""
        self._loop = self._loop or asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._main, name="pj", daemon=True)
        self._thread.start()
        await asyncio.get_running_loop().run_in_executor(None, self._ready.wait)
        if self._start_error is not None:
            raise self._start_error
        self._wake_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._wake_socket.setblocking(False)

    async def stop(self) -> None:
        """Hang up every call, destroy the library in its thread, join the thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._wake_pending = False
        self._wake()
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 10)
        self._thread = None
        if self._wake_socket is not None:
            self._wake_socket.close()
            self._wake_socket = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` in the pj thread and return its result (or raise its error)."""
        assert self._loop is not None
        future: asyncio.Future[Any] = self._loop.create_future()
        self._commands.put((fn, args, future))
        self._wake()
        return await future

    def _wake(self) -> None:
        """Cut the pj thread's `libHandleEvents` wait short with a SIP keep-alive (CRLF).

        pjsip ignores a CRLF datagram, but it ends the poll at once; so commands run
        within a millisecond while an idle worker only polls every `poll_ms`.
        """
        if self._wake_pending or self._wake_socket is None:
            return
        self._wake_pending = True
        with contextlib.suppress(OSError):
            self._wake_socket.sendto(b"\r\n\r\n", (self.config.sip_host, self.config.sip_port))

    # Commands (each runs in the pj thread through `run`).
    async def answer(self, leg: int, code: int = 200) -> None:
        await self.run(self._answer, leg, code)

    async def hangup(self, leg: int, code: int = 603) -> None:
        await self.run(self._hangup, leg, code)

    async def call(self, uri: str, headers: dict[str, str] | None = None) -> int:
        return int(await self.run(self._make_call, uri, headers or {}))

    async def play(self, leg: int, paths: list[str]) -> int:
        """Play WAV files once to a leg (the music is paused meanwhile); event `played` at end."""
        return int(await self.run(self._play, leg, paths))

    async def stop_play(self, player: int) -> None:
        await self.run(self._stop_play, player)

    async def music(self, leg: int, on: bool) -> None:
        await self.run(self._set_music, leg, on)

    async def set_music_file(self, path: str) -> None:
        await self.run(self._set_music_file, path)

    async def bridge(self, a: int, b: int) -> None:
        """Audio both ways between two legs (music stops for both)."""
        await self.run(self._bridge, a, b)

    async def record(self, leg: int, path: str) -> int:
        return int(await self.run(self._record, leg, path))

    async def loop_file(self, leg: int, path: str) -> int:
        """Play a WAV in a loop to a leg (a softphone's tone in tests)."""
        return int(await self.run(self._loop_file, leg, path))

    async def dial_dtmf(self, leg: int, digits: str) -> None:
        await self.run(self._dial_dtmf, leg, digits)

    async def transfer(self, leg: int, target: str) -> None:
        """Send REFER (blind transfer) on a leg."""
        await self.run(self._transfer, leg, target)

    # ------------------------------------------------------------------ pj thread
    def _emit(self, event: Event) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._on_event, event)

    def _main(self) -> None:
        try:
            self._create()
        except BaseException as error:
            self._start_error = error
            self._ready.set()
            self._destroy()
            return
        self._ready.set()
        ep = self._ep
        assert ep is not None
        poll = self.config.poll_ms
        while not self._stopping.is_set():
            try:
                ep.libHandleEvents(poll)
            except Exception:
                log.exception("libHandleEvents failed")
            self._drain()
        self._shutdown()

    def _drain(self) -> None:
        self._wake_pending = False
        while True:
            try:
                fn, args, future = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                result = fn(*args)
            except Exception as error:
                self._settle(future, None, RuntimeError(_describe(error)))
            else:
                self._settle(future, result, None)

    def _settle(self, future: Any, result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle)

    def _create(self) -> None:
        cfg = self.config
        ep = pj.Endpoint()
        self._ep = ep
        ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = True
        ep_cfg.uaConfig.maxCalls = cfg.max_calls
        ep_cfg.uaConfig.userAgent = "switchboard"
        ep_cfg.logConfig.level = cfg.log_level
        ep_cfg.logConfig.consoleLevel = cfg.log_level
        ep_cfg.medConfig.clockRate = 8000
        ep_cfg.medConfig.sndClockRate = 8000
        ep_cfg.medConfig.sndAutoCloseTime = -1
        ep_cfg.medConfig.noVad = True
        # RTP keeps pjsua's own media thread and ioqueue: moving it onto the SIP
        # ioqueue (hasIoqueue = False) halved an idle worker's CPU (0.70 -> 0.30 %
        # of a core) but a second leg's media was then sometimes never bridged
        # (callback and transfer tests failed in 2 of 2 runs of the file).
        ep_cfg.medConfig.threadCnt = 1
        ep.libInit(ep_cfg)
        transport = pj.TransportConfig()
        transport.port = cfg.sip_port
        transport.boundAddress = cfg.sip_host
        transport.publicAddress = cfg.sip_host
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            name = codec.codecId.split("/")[0].upper()
            priority = {"PCMU": 255, "PCMA": 254}.get(name, 0)
            ep.codecSetPriority(codec.codecId, priority)
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = f"sip:{cfg.user}@{cfg.sip_host}:{cfg.sip_port}"
        acc_cfg.mediaConfig.transportConfig.port = cfg.rtp_port
        acc_cfg.mediaConfig.transportConfig.portRange = cfg.rtp_port_range
        acc_cfg.mediaConfig.transportConfig.boundAddress = cfg.sip_host
        self._account = _Account(self)
        self._account.create(acc_cfg, True)

    def _shutdown(self) -> None:
        ep = self._ep
        if ep is None:
            return
        try:
            ep.hangupAllCalls()
            deadline = time.monotonic() + 1.0
            while self._legs and time.monotonic() < deadline:
                ep.libHandleEvents(20)
        except Exception:
            log.exception("hangup at shutdown failed")
        self._destroy()
        self._fail_pending()

    def _destroy(self) -> None:
        self._legs.clear()
        self._players.clear()
        self._recorders.clear()
        self._music = None
        if self._account is not None:
            with contextlib.suppress(Exception):
                self._account.shutdown()
        self._account = None
        if self._ep is not None:
            with contextlib.suppress(Exception):
                self._ep.libDestroy()
        self._ep = None

    def _fail_pending(self) -> None:
        while True:
            try:
                _, _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            self._settle(future, None, RuntimeError("endpoint stopped"))

    def _incoming(self, call_id: int) -> None:
        cfg = self.config
        leg = _Leg(self, next(self._ids), True, call_id)
        info = leg.getInfo()
        # A caller is admitted only while a slot stays free for its agent leg.
        needed = 1 + cfg.reserve_per_inbound
        full = self.inbound_count >= cfg.max_inbound or self.leg_count + needed > cfg.max_calls
        unknown = cfg.numbers is not None and uri_user(str(info.localUri)) not in cfg.numbers
        if full or unknown or self._stopping.is_set():
            prm = pj.CallOpParam()
            prm.statusCode = 404 if unknown else 503
            prm.reason = "Not Found" if unknown else "Service Unavailable"
            if not unknown:
                header = pj.SipHeader()
                header.hName = "Retry-After"
                header.hValue = str(cfg.retry_after_s)
                prm.txOption.headers.append(header)
            # Keep the leg until its DISCONNECTED callback (dropping it sooner breaks pj).
            self._legs[leg.leg_id] = leg
            leg.answer(prm)
            self._emit({"type": "rejected", "leg": leg.leg_id, "code": prm.statusCode})
            return
        self._legs[leg.leg_id] = leg
        self.inbound_count += 1
        self.leg_count += 1
        leg.counted = True  # type: ignore[attr-defined]
        self._emit(
            {
                "type": "incoming",
                "leg": leg.leg_id,
                "from": str(info.remoteUri),
                "contact": str(info.remoteContact),
                "to": str(info.localUri),
                "from_user": uri_user(str(info.remoteUri)),
                "to_user": uri_user(str(info.localUri)),
            }
        )
        if cfg.auto_answer:
            prm = pj.CallOpParam()
            prm.statusCode = 200
            leg.answer(prm)

    def _forget_leg(self, leg: _Leg) -> None:
        self._legs.pop(leg.leg_id, None)
        if getattr(leg, "counted", False):
            leg.counted = False  # type: ignore[attr-defined]
            self.leg_count -= 1
            if leg.inbound:
                self.inbound_count -= 1
        self._music_legs.discard(leg.leg_id)
        self._links = {link for link in self._links if leg.leg_id not in link}
        for player_id in [p for p, player in self._players.items() if player.leg_id == leg.leg_id]:
            self._players.pop(player_id, None)

    def _leg(self, leg_id: int) -> _Leg:
        leg = self._legs.get(leg_id)
        if leg is None:
            raise KeyError(f"no leg {leg_id}")
        return leg

    def _answer(self, leg_id: int, code: int) -> None:
        prm = pj.CallOpParam()
        prm.statusCode = code
        self._leg(leg_id).answer(prm)

    def _hangup(self, leg_id: int, code: int) -> None:
        leg = self._legs.get(leg_id)
        if leg is None:
            return
        prm = pj.CallOpParam()
        prm.statusCode = code
        with contextlib.suppress(Exception):
            leg.hangup(prm)

    def _make_call(self, uri: str, headers: dict[str, str]) -> int:
        if self.leg_count >= self.config.max_calls:
            raise RuntimeError("no call slot left in this worker")
        leg = _Leg(self, next(self._ids), False, pj.PJSUA_INVALID_ID)
        prm = pj.CallOpParam(True)
        for name, value in headers.items():
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        leg.makeCall(uri, prm)
        self._legs[leg.leg_id] = leg
        self.leg_count += 1
        leg.counted = True  # type: ignore[attr-defined]
        return leg.leg_id

    def _reconnect(self, leg: _Leg) -> None:
        """Re-apply the audio flows of a leg after its media (re)starts."""
        if leg.audio is None:
            return
        for source, sink in self._links:
            if leg.leg_id in (source, sink):
                self._transmit(source, sink, True)
        if leg.leg_id in self._music_legs and self._music is not None:
            self._music.startTransmit(leg.audio)

    def _transmit(self, source: int, sink: int, on: bool) -> None:
        a, b = self._legs.get(source), self._legs.get(sink)
        if a is None or b is None or a.audio is None or b.audio is None:
            return
        if on:
            a.audio.startTransmit(b.audio)
        else:
            a.audio.stopTransmit(b.audio)

    def _set_music_file(self, path: str) -> None:
        self._music_path = path

    def _set_music(self, leg_id: int, on: bool) -> None:
        leg = self._leg(leg_id)
        if on:
            if self._music is None:
                if not self._music_path:
                    return
                self._music = pj.AudioMediaPlayer()
                self._music.createPlayer(self._music_path, 0)
            self._music_legs.add(leg_id)
            if leg.audio is not None:
                self._music.startTransmit(leg.audio)
        else:
            self._music_legs.discard(leg_id)
            if self._music is not None and leg.audio is not None:
                self._music.stopTransmit(leg.audio)

    def _play(self, leg_id: int, paths: list[str]) -> int:
        leg = self._leg(leg_id)
        player = _Player(self, next(self._ids), leg_id)
        if len(paths) == 1:
            player.createPlayer(paths[0], pj.PJMEDIA_FILE_NO_LOOP)
        else:
            names = pj.StringVector()
            for path in paths:
                names.append(path)
            player.createPlaylist(names, "prompt", pj.PJMEDIA_FILE_NO_LOOP)
        self._players[player.player_id] = player
        if self._music is not None and leg.audio is not None and leg_id in self._music_legs:
            self._music.stopTransmit(leg.audio)
        if leg.audio is not None:
            player.startTransmit(leg.audio)
        return player.player_id

    def _stop_play(self, player_id: int) -> None:
        player = self._players.pop(player_id, None)
        if player is None:
            return
        leg = self._legs.get(player.leg_id)
        if leg is not None and leg.audio is not None:
            with contextlib.suppress(Exception):
                player.stopTransmit(leg.audio)
            if leg.leg_id in self._music_legs and self._music is not None:
                self._music.startTransmit(leg.audio)

    def _bridge(self, a: int, b: int) -> None:
        for leg_id in (a, b):
            self._set_music(leg_id, False)
        self._links.add((a, b))
        self._links.add((b, a))
        self._transmit(a, b, True)
        self._transmit(b, a, True)

    def _record(self, leg_id: int, path: str) -> int:
        leg = self._leg(leg_id)
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(path)
        if leg.audio is None:
            raise RuntimeError("leg has no active media yet")
        leg.audio.startTransmit(recorder)
        recorder_id = next(self._ids)
        self._recorders[recorder_id] = recorder
        return recorder_id

    def _loop_file(self, leg_id: int, path: str) -> int:
        leg = self._leg(leg_id)
        player = _Player(self, next(self._ids), leg_id)
        player.createPlayer(path, 0)
        if leg.audio is None:
            raise RuntimeError("leg has no active media yet")
        player.startTransmit(leg.audio)
        self._players[player.player_id] = player
        return player.player_id

    def _dial_dtmf(self, leg_id: int, digits: str) -> None:
        self._leg(leg_id).dialDtmf(digits)

    def _transfer(self, leg_id: int, target: str) -> None:
        self._leg(leg_id).xfer(target, pj.CallOpParam(True))
