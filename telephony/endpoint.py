"""The pjsua2 adapter: one SIP endpoint driven from one dedicated thread.

pjsua2 aborts the process when it is called from a thread it does not know, and a
`Call` whose last reference is dropped at the wrong moment hangs up or loses its
callbacks. So every pj object is created, used and destroyed in the single "pj
thread" started here; asyncio code talks to it through `PjEngine.run` (a command
queue drained between `libHandleEvents` polls) and hears back through plain dict
events, handed to the event loop in one batch per poll (one `call_soon_threadsafe`
for all that a poll produced: at 300 calls/s a wake-up per event cost more CPU than the
events themselves, measured). Legs, players and recorders are
named by integers of our own, never by pj objects or pjsua call ids (those are
reused). See docs/telephony.md for the measured facts behind each setting.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

from telephony.callerid import Network, asserted_user, sender, trusted

log = logging.getLogger(__name__)

Event = dict[str, Any]
_USER_PART = re.compile(r"sips?:([^@;>]+)@")
_HOST_PORT = re.compile(r"sips?:(?:[^@;>]+@)?([^:;>]+)(?::(\d+))?")
# The codecs offered and accepted, first preferred (pjsua's priority; 0 turns one off).
# G.711 first: the bridge runs at 8 kHz, where it needs no resampling. G.722 last, for
# the phone set to it alone (refused with 488 before); the 256-call build answers in this
# order whatever the offer's (scripts/build-pjsua2.sh), so a phone offering G.722 first
# and G.711 too is answered in G.711.
CODEC_PRIORITIES = {"PCMU": 255, "PCMA": 254, "G722": 128}
# The account names of Switchboard's own endpoints (`switchboard`, `switchboard-w3`). An
# INVITE from one of them is the loop a REFER to one of our own names makes (see
# `_Leg.onCallTransferRequest`): it never reaches the IVR. The loop of a REFER this
# endpoint took (the same Call-ID as its call to the Refer-To) is held unanswered until
# the transfer is decided (event `loop`); any other is answered at once.
OWN_USER = re.compile(r"switchboard(-w\d+)?")
# How long a loop call answered at once is kept at most before it is hung up from here.
LOOP_CALL_S = 5.0
# How long a held loop waits for its verdict at most: then it is refused (480), or hung
# up when it was answered meanwhile.
LOOP_WAIT_S = 20.0
# The key a SIP INFO's `application/dtmf-relay` body names: `Signal=5`, `Signal= *`
# (no header line reads so: the whole request may be searched).
_INFO_SIGNAL = re.compile(r"^\s*signal\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)
# An `application/dtmf` INFO (Asterisk's `dtmfmode=shortinfo`, some gateways): the body
# is the key alone. `c:` is the header's compact form.
_SHORT_INFO = re.compile(
    r"^(?:content-type|c)\s*:\s*application/dtmf\s*(?:;[^\r\n]*)?\r?$", re.IGNORECASE | re.MULTILINE
)
# RFC 4733 event numbers, as some PBXs write the key (Asterisk: `Signal=10` for '*');
# 16, a hook flash, and anything past it are no key.
_EVENT_KEYS = "0123456789*#ABCD"
# The clock telephone-event must run at to go with the answer's audio (RFC 4733 2.1):
# every codec the node answers with (CODEC_PRIORITIES) has an 8000 Hz RTP clock, G.722's
# too (RFC 3551). An offer with telephone-event at other clocks alone (48000, beside Opus)
# is answered without it, and the caller's RFC 4733 keys are never heard.
ANSWER_EVENT_CLOCK = "8000"
_EVENT_CLOCK = re.compile(r"^a=rtpmap:\s*\d+\s+telephone-event/(\d+)", re.IGNORECASE | re.MULTILINE)


class EngineError(RuntimeError):
    """pjsua2 refused a command (the message says why); the other calls go on."""


def unheard_event_clocks(message: str) -> list[str]:
    """The clocks of the telephone-event an INVITE's offer names, when none is the one
    the answer can carry (ANSWER_EVENT_CLOCK): its RFC 4733 keys will not be heard. []
    for an offer with telephone-event at that clock, without any, or no offer at all (a
    late offer: the ACK's is not read)."""
    parts = message.replace("\r\n", "\n").split("\n\n", 1)
    clocks = set(_EVENT_CLOCK.findall(parts[1])) if len(parts) == 2 else set()
    return [] if ANSWER_EVENT_CLOCK in clocks else sorted(clocks)


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (`"A" <sip:+331@h>` -> `+331`); empty when it has none."""
    match = _USER_PART.search(uri)
    return match.group(1) if match else ""


def info_key(message: str) -> str | None:
    """The key a SIP INFO request names: a dtmf-relay body's `Signal=`, its event number
    read as one (`Signal=10` is '*'), or an `application/dtmf` body's bare key; None when
    it names none, such as a hook flash (`Signal=16`)."""
    head, _, body = message.replace("\r\n", "\n").partition("\n\n")
    if _SHORT_INFO.search(head):
        signal = body.strip().upper()
    else:
        match = _INFO_SIGNAL.search(body)
        if match is None:
            return None
        signal = match.group(1).upper()
    if signal.isdecimal():
        event = int(signal)
        return _EVENT_KEYS[event] if event < len(_EVENT_KEYS) else None
    return signal if len(signal) == 1 and signal in _EVENT_KEYS else None


def uri_address(uri: str) -> str:
    """Where a SIP URI points, as it is written: `host:port`, or the host alone when it
    names no port (`sip:q@H:5080` -> `h:5080`, `sip:q@H` -> `h`); host names are not case
    sensitive (lower case here). Which port a URI without one means is for the reader to
    say (telephony.calls.transfer.node_names)."""
    match = _HOST_PORT.search(uri)
    if match is None:
        return ""
    host = match.group(1).lower()
    return f"{host}:{match.group(2)}" if match.group(2) else host


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how one endpoint listens; each process needs its own SIP and RTP ports."""

    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    # SIP over TCP on `sip_port` too: for the one worker that is the node's SIP port itself
    # (no front door), and for test phones; workers behind Kamailio take UDP only.
    tcp: bool = False
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
    # The account's user part; Switchboard's own endpoints match OWN_USER.
    user: str = "switchboard"
    # Answer at once the calls from our own endpoints (a REFER's loop, see OWN_USER);
    # False for a phone that only stands in for a person (tests).
    answer_loops: bool = True
    # Headers on every call this endpoint places (a worker marks its calls to people, so
    # that the front door looks up a registered softphone; see telephony/frontdoor.py).
    dial_headers: tuple[tuple[str, str], ...] = ()
    # A softphone's account (tests stand in for staff with it): REGISTER at `registrar`
    # ("sip:host:port") as `user`@`domain` with digest `password`; event `registration`.
    registrar: str = ""
    domain: str = ""
    password: str = ""
    register_s: int = 300
    # A Contact for every request and answer instead of pjsua's own: tests stand in with
    # it for a phone behind NAT naming an address nobody can reach.
    contact: str = ""
    # `[sip] trusted_peers`: the senders whose P-Asserted-Identity names the caller (none:
    # anyone's); `front_door`: Kamailio's `ip:port` when this endpoint is behind it (an
    # INVITE from there names its sender, telephony.callerid.sender).
    trusted_peers: tuple[Network, ...] = ()
    front_door: str = ""


@contextlib.contextmanager
def _muted_console() -> Iterator[None]:
    """File descriptors 1 and 2 to /dev/null for a moment (pjlib's default log writer
    prints to the console directly)."""
    saved = [os.dup(fd) for fd in (1, 2)]
    try:
        with open(os.devnull, "wb") as sink:
            for fd in (1, 2):
                os.dup2(sink.fileno(), fd)
        yield
    finally:
        for fd, kept in zip((1, 2), saved, strict=True):
            os.dup2(kept, fd)
            os.close(kept)


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
        self.held_by_peer = False  # the other end put this leg on hold (its phone's Hold)
        self.holding_inactive = False  # this end holds the leg with a=inactive
        self.media_up = False  # audio has flowed both ways (event `media`)

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
        """Audio started or restarted (a re-INVITE), or the peer held or resumed the call:
        events `media` (the first time audio flows both ways: for a call that begins on
        hold, as a transferred held caller's may, at its resume), `held` and `resumed`. A
        peer holds by offering sendonly (pjsua's Hold key: the media is REMOTE_HOLD here)
        or inactive (the media stays ACTIVE with no direction)."""
        try:
            info = self.getInfo()
            for media in info.media:
                if media.type != pj.PJMEDIA_TYPE_AUDIO:
                    continue
                inactive = media.dir == pj.PJMEDIA_DIR_NONE and not self.holding_inactive
                if media.status == pj.PJSUA_CALL_MEDIA_ACTIVE and not inactive:
                    first, self.media_up = not self.media_up, True
                    self.audio = self.getAudioMedia(media.index)
                    self.engine._reconnect(self)
                    if first:
                        self.engine._emit({"type": "media", "leg": self.leg_id})
                    self._held(False)
                    return
                if media.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD or inactive:
                    # The re-INVITE gave the stream a new conference port.
                    self.audio = self.getAudioMedia(media.index)
                    self.engine._reconnect(self)
                    self._held(True)
                    return
        except Exception:
            log.exception("onCallMediaState failed")

    def _held(self, held: bool) -> None:
        if held != self.held_by_peer:
            self.held_by_peer = held
            self.engine._emit({"type": "held" if held else "resumed", "leg": self.leg_id})

    def onCallTsxState(self, prm: pj.OnCallTsxStateParam) -> None:
        """An incoming SIP INFO: the key its body names is heard here, not in pjsua's
        digit callback, which reads only the first character after `Signal=` (an event
        number, 10 for '*' or 16 for a hook flash, would be the key '1') and never sees
        the INFOs it answers with an error (`application/dtmf`: 500; `signal=`: 400)."""
        try:
            state = prm.e.body.tsxState
            tsx = state.tsx
            if (
                tsx.method == "INFO"
                and tsx.role == pj.PJSIP_ROLE_UAS
                and tsx.state == pj.PJSIP_TSX_STATE_TRYING
                and state.type == pj.PJSIP_EVENT_RX_MSG
            ):
                key = info_key(str(state.src.rdata.wholeMsg))
                if key is not None:
                    self._heard(key, pj.PJSUA_DTMF_METHOD_SIP_INFO)
        except Exception:
            log.exception("onCallTsxState failed")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        try:
            if prm.method != pj.PJSUA_DTMF_METHOD_SIP_INFO:  # heard in onCallTsxState
                self._heard(str(prm.digit), prm.method)
        except Exception:
            log.exception("onDtmfDigit failed")

    def _heard(self, digit: str, method: int) -> None:
        self.engine._emit({"type": "dtmf", "leg": self.leg_id, "digit": digit, "method": method})

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        """A REFER: accepted with 202. pjsua then always places a call to the Refer-To URI
        and reports that call's progress to the transferor in NOTIFYs, its final answer
        in the last one (the phone keeps its call unless that says 2xx); that call becomes
        our leg `child`. The asyncio side decides what it is: the outside party itself,
        or, for one of our own names (a queue, an agent), a loop back to this endpoint
        (event `loop`), held unanswered while the router is asked and then answered with
        the verdict: 200 (done), or a refusal (404, 480, 603) the phone hears."""
        try:
            target = str(prm.dstUri)
            child = self.engine._new_leg()
            if child is None:
                prm.statusCode = 480  # no call slot left for the transfer
                return
            prm.newCall = child
            prm.statusCode = 202
            self.engine._refer_children.add(child.leg_id)
            self.engine._emit(
                {"type": "refer", "leg": self.leg_id, "target": target, "child": child.leg_id}
            )
        except Exception:
            log.exception("onCallTransferRequest failed")

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        """The transferor's side: the NOTIFYs about the call the REFER asked for."""
        try:
            self.engine._emit(
                {
                    "type": "transfer_status",
                    "leg": self.leg_id,
                    "code": int(prm.statusCode),
                    "reason": str(prm.reason),
                    "final": bool(prm.finalNotify),
                }
            )
        except Exception:
            log.exception("onCallTransferStatus failed")


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

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        try:
            info = self.getInfo()
            self.engine._emit(
                {
                    "type": "registration",
                    "code": int(prm.code),
                    "reason": str(prm.reason),
                    "active": bool(info.regIsActive),
                }
            )
        except Exception:
            log.exception("onRegState failed")

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        try:
            self.engine._incoming(prm.callId, str(prm.rdata.wholeMsg), str(prm.rdata.srcAddress))
        except Exception:
            log.exception("onIncomingCall failed")


class PjEngine:
    """One pjsua2 endpoint in its own thread, commanded from asyncio.

    Audio is a set of links between ports (legs, recorders), each (source, sink) one
    `startTransmit` on the conference bridge; a leg's links are applied again whenever
    its media (re)starts, so a link may be asked for before the media is up.
    """

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
        self._leg_players: dict[int, set[int]] = collections.defaultdict(set)
        self._recorders: dict[int, pj.AudioMediaRecorder] = {}
        self._muted: set[int] = set()  # recorders whose recording is paused
        self._silence: pj.ToneGenerator | None = None  # what a paused recorder takes
        self._music: pj.AudioMediaPlayer | None = None
        self._music_path = ""
        # (source port, sink port) audio flows, and each port's flows (a hang-up drops
        # its own without scanning every call's).
        self._links: set[tuple[int, int]] = set()
        self._port_links: dict[int, set[tuple[int, int]]] = collections.defaultdict(set)
        # What the pj thread has for the event loop, delivered once per poll.
        self._outbox: collections.deque[Callable[[], None]] = collections.deque()
        self._pj_thread_id = 0
        self._music_legs: set[int] = set()
        # The legs pjsua placed for a REFER (their loop back here is held, see _incoming).
        self._refer_children: set[int] = set()
        self._timers: list[tuple[float, Callable[[], None]]] = []
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
        # Bound to loopback: unbound, its first send bound it to 0.0.0.0 on a random
        # port, a socket on every interface outside the configured ones.
        self._wake_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._wake_socket.bind(("127.0.0.1", 0))
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
        """Run `fn(*args)` in the pj thread and return its result; pjsua2's refusals are
        raised as EngineError."""
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
        with contextlib.suppress(OSError):  # a full socket buffer: the poll ends anyway
            self._wake_socket.sendto(b"\r\n\r\n", (self.config.sip_host, self.config.sip_port))

    # Commands (each runs in the pj thread through `run`). A command on a leg that has
    # already gone does nothing: a hang-up races every other command.
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

    async def link(self, source: int, sink: int) -> None:
        """Audio one way, from a leg to a leg or recorder."""
        await self.run(self._link, source, sink, True)

    async def unlink(self, source: int, sink: int) -> None:
        await self.run(self._link, source, sink, False)

    async def bridge(self, a: int, b: int) -> None:
        """Audio both ways between two legs (music stops for both)."""
        await self.run(self._bridge, a, b)

    async def unbridge(self, a: int, b: int) -> None:
        await self.run(self._unbridge, a, b)

    async def record(self, path: str, *sources: int) -> int:
        """A WAV file (8 kHz, 16-bit mono) of what the sources send, mixed; raises
        EngineError when the file cannot be created."""
        return int(await self.run(self._record, path, sources))

    async def stop_record(self, recorder: int) -> None:
        """Close a recording (pjmedia writes the WAV header as it closes)."""
        await self.run(self._stop_record, recorder)

    async def mute_record(self, recorder: int, muted: bool) -> None:
        """Silence a recording (the file goes on, as silence) or let it take the call
        again. The mute is the recorder's own: a source linked to it meanwhile (a
        transfer's next agent, a leg whose media restarted) is kept silent too, and is
        heard once it is unmuted."""
        await self.run(self._mute_record, recorder, muted)

    async def loop_file(self, leg: int, path: str) -> int:
        """Play a WAV in a loop to a leg (the ringing tone of a callback; a softphone's
        tone in tests) until `stop_play` or the leg's end."""
        return int(await self.run(self._loop_file, leg, path))

    async def dial_dtmf(self, leg: int, digits: str, method: str = "rfc2833") -> None:
        """Send digits, as RFC 2833 events or as SIP INFO requests."""
        await self.run(self._dial_dtmf, leg, digits, method)

    async def transfer(self, leg: int, target: str) -> None:
        """Send REFER (blind transfer) on a leg."""
        await self.run(self._transfer, leg, target)

    async def hold_music(self, listener: int, held: int, on: bool, private: bool = False) -> None:
        """While leg `held` holds the call, `listener` hears the music instead of it (with
        `private`, `held` no longer hears `listener` either: a hold from the desktop, the
        phone still up); off: the two are bridged again. One command, so a quick hold and
        resume end as the last of them says."""
        await self.run(self._hold_music, listener, held, on, private)

    async def hold(self, leg: int, on: bool, inactive: bool = False) -> None:
        """Put a leg on hold (a re-INVITE offering sendonly, or with `inactive` no media
        either way, as some phones do), or take it off hold, as a phone's Hold key does;
        the other end sees `held` and `resumed`."""
        await self.run(self._hold, leg, on, inactive)

    # ------------------------------------------------------------------ pj thread
    def _emit(self, event: Event) -> None:
        self._post(lambda: self._on_event(event))

    def _post(self, fn: Callable[[], None]) -> None:
        """Hand `fn` to the event loop: batched when in the pj thread (flushed after the
        poll), at once from another thread (a player's end comes from the media clock)."""
        if threading.get_ident() == self._pj_thread_id:
            self._outbox.append(fn)
            return
        self._call_soon([fn])

    def _flush(self) -> None:
        if self._outbox:
            batch = list(self._outbox)
            self._outbox.clear()
            self._call_soon(batch)

    def _call_soon(self, batch: list[Callable[[], None]]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_deliver, batch)

    def _main(self) -> None:
        self._pj_thread_id = threading.get_ident()
        try:
            self._create()
        except BaseException as error:
            self._start_error = _readable(error, self.config)
            # Destroyed before the failure is told: a next endpoint created meanwhile in
            # this process (a test's) met this one's libDestroy and pjlib aborted.
            self._destroy()
            self._ready.set()
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
            self._run_timers()
            self._flush()
        self._shutdown()
        self._flush()

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
                self._settle(future, None, EngineError(_describe(error)))
            else:
                self._settle(future, result, None)

    def _later(self, delay_s: float, fn: Callable[[], None]) -> None:
        self._timers.append((time.monotonic() + delay_s, fn))

    def _run_timers(self) -> None:
        if not self._timers:
            return
        now = time.monotonic()
        due = [fn for at, fn in self._timers if at <= now]
        self._timers = [(at, fn) for at, fn in self._timers if at > now]
        for fn in due:
            try:
                fn()
            except Exception:
                log.exception("timer failed")

    def _settle(self, future: Any, result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        self._post(settle)

    def _create(self) -> None:
        cfg = self.config
        ep = pj.Endpoint()
        self._ep = ep
        # pjlib prints its start-up lines before any log level applies (libInit's): six
        # plain lines in a JSON log per worker start, muted unless a log level is asked
        with contextlib.nullcontext() if cfg.log_level else _muted_console():
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
        if cfg.tcp:
            ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, transport)
        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            name = codec.codecId.split("/")[0].upper()
            ep.codecSetPriority(codec.codecId, CODEC_PRIORITIES.get(name, 0))
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = f"sip:{cfg.user}@{cfg.sip_host}:{cfg.sip_port}"
        if cfg.registrar:
            acc_cfg.idUri = f"sip:{cfg.user}@{cfg.domain or cfg.sip_host}"
            acc_cfg.regConfig.registrarUri = cfg.registrar
            acc_cfg.regConfig.timeoutSec = cfg.register_s
            acc_cfg.regConfig.retryIntervalSec = 0  # a refusal stays one (tests see it)
            acc_cfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", "*", cfg.user, 0, cfg.password)
            )
        if cfg.contact:
            acc_cfg.sipConfig.contactForced = cfg.contact
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
        # Every pj object goes before libDestroy: one destroyed later aborts the process.
        self._timers.clear()
        self._legs.clear()
        self._players.clear()
        self._recorders.clear()
        self._muted.clear()
        self._silence = None
        self._music = None
        if self._account is not None:
            try:
                self._account.shutdown()
            except Exception:
                log.exception("account shutdown failed")
        self._account = None
        if self._ep is not None:
            try:
                self._ep.libDestroy()
            except Exception:
                log.exception("libDestroy failed")
        self._ep = None

    def _fail_pending(self) -> None:
        while True:
            try:
                _, _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            self._settle(future, None, EngineError("endpoint stopped"))

    def _new_leg(self, inbound: bool = False, call_id: int = pj.PJSUA_INVALID_ID) -> _Leg | None:
        """A leg in our table, counted against max_calls; None when no slot is left."""
        if self.leg_count >= self.config.max_calls:
            return None
        leg = _Leg(self, next(self._ids), inbound, call_id)
        self._legs[leg.leg_id] = leg
        self.leg_count += 1
        leg.counted = True  # type: ignore[attr-defined]
        return leg

    def _incoming(self, call_id: int, invite: str, source: str = "") -> None:
        cfg = self.config
        leg = _Leg(self, next(self._ids), True, call_id)
        info = leg.getInfo()
        own = OWN_USER.fullmatch(uri_user(str(info.remoteUri)))
        if own and cfg.answer_loops and not self._stopping.is_set():
            child = self._refer_child(str(info.callIdString))
            if child is None:
                self._answer_loop(leg)
            else:
                self._hold_loop(leg, child)
            return
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
        unheard = unheard_event_clocks(invite)
        if unheard:
            log.warning(
                "call %s offers telephone-event at %s Hz only, which the answer's 8000 Hz "
                "audio cannot carry (RFC 4733): its keys will not be heard",
                info.callIdString,
                "/".join(unheard),
            )
        asserted = asserted_user(invite)
        if asserted:
            peer = sender(invite, source, cfg.front_door)
            if not trusted(peer, cfg.trusted_peers):
                log.info(
                    "call %s: P-Asserted-Identity from %s, not a trusted peer, ignored",
                    info.callIdString,
                    peer or source,
                )
                asserted = ""
        self._emit(
            {
                "type": "incoming",
                "leg": leg.leg_id,
                "from": str(info.remoteUri),
                "contact": str(info.remoteContact),
                "to": str(info.localUri),
                "from_user": uri_user(str(info.remoteUri)),
                "asserted_user": asserted,
                "to_user": uri_user(str(info.localUri)),
            }
        )
        if cfg.auto_answer:
            prm = pj.CallOpParam()
            prm.statusCode = 200
            leg.answer(prm)

    def _answer_loop(self, leg: _Leg) -> None:
        """A loop from another endpoint of ours (a REFER another worker took, when the
        front door did not send it back there): answered at once (its transferor hears
        "200") and hung up by its transferee; it never reaches the IVR, and is hung up
        here if still up after LOOP_CALL_S."""
        self._legs[leg.leg_id] = leg
        prm = pj.CallOpParam()
        prm.statusCode = 200
        leg.answer(prm)
        leg_id = leg.leg_id  # the timer must not keep the pj object alive past libDestroy
        self._later(LOOP_CALL_S, lambda: self._hangup(leg_id, 200))

    def _refer_child(self, call_id: str) -> int | None:
        """The leg pjsua placed for a REFER of ours whose INVITE this is (same Call-ID:
        it came back to us directly or through the front door, a proxy)."""
        for leg_id in self._refer_children:
            child = self._legs.get(leg_id)
            if child is None or child.getId() == pj.PJSUA_INVALID_ID:
                continue
            try:
                if str(child.getInfo().callIdString) == call_id:
                    return leg_id
            except Exception as error:  # ending meanwhile
                log.debug("refer child %d: %s", leg_id, _describe(error))
        return None

    def _hold_loop(self, leg: _Leg, child: int) -> None:
        """The loop of a REFER of ours: unanswered (pjsua's 100 Trying only) until the
        asyncio side decides the transfer and answers it (`answer`: 200) or refuses it
        (`hangup` with 404, 480, 603): that answer is the one the transferor's NOTIFY
        reports. Refused here (480) if no verdict comes within LOOP_WAIT_S."""
        self._legs[leg.leg_id] = leg
        leg_id = leg.leg_id
        self._later(LOOP_WAIT_S, lambda: self._hangup(leg_id, 480))
        self._emit({"type": "loop", "leg": leg_id, "child": child})

    def _forget_leg(self, leg: _Leg) -> None:
        self._legs.pop(leg.leg_id, None)
        self._refer_children.discard(leg.leg_id)
        if getattr(leg, "counted", False):
            leg.counted = False  # type: ignore[attr-defined]
            self.leg_count -= 1
            if leg.inbound:
                self.inbound_count -= 1
        self._music_legs.discard(leg.leg_id)
        self._drop_links(leg.leg_id)
        for player_id in self._leg_players.pop(leg.leg_id, set()):
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
        if leg.getId() == pj.PJSUA_INVALID_ID:
            # A transfer's call that pjsua never placed: nothing to hang up, only forget.
            self._forget_leg(leg)
            return
        prm = pj.CallOpParam()
        prm.statusCode = code
        try:
            leg.hangup(prm)
        except Exception as error:  # already disconnecting: its DISCONNECTED event follows
            log.debug("hangup of leg %d: %s", leg_id, _describe(error))

    def _make_call(self, uri: str, headers: dict[str, str]) -> int:
        leg = self._new_leg()
        if leg is None:
            raise EngineError("no call slot left in this worker")
        prm = pj.CallOpParam(True)
        for name, value in (*self.config.dial_headers, *headers.items()):
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        try:
            leg.makeCall(uri, prm)
        except Exception:
            self._forget_leg(leg)
            raise
        return leg.leg_id

    def _audio(self, port: int) -> pj.AudioMedia | None:
        """The conference port of a leg (None before its media is up) or a recorder."""
        leg = self._legs.get(port)
        if leg is not None:
            return leg.audio
        return self._recorders.get(port)

    def _reconnect(self, leg: _Leg) -> None:
        """Re-apply the audio flows of a leg after its media (re)starts: a re-INVITE (a
        hold, a resume, a codec change) may give its stream a new conference port."""
        if leg.audio is None:
            return
        for source, sink in self._port_links.get(leg.leg_id, ()):
            self._transmit(source, sink, True)
        if leg.leg_id in self._music_legs and self._music is not None:
            self._music.startTransmit(leg.audio)
        for player_id in self._leg_players.get(leg.leg_id, ()):
            self._players[player_id].startTransmit(leg.audio)

    def _transmit(self, source: int, sink: int, on: bool) -> None:
        if on and sink in self._muted:  # a paused recording: its links wait
            return
        a, b = self._audio(source), self._audio(sink)
        if a is None or b is None:
            return
        if on:
            a.startTransmit(b)
        else:
            a.stopTransmit(b)

    def _link(self, source: int, sink: int, on: bool) -> None:
        link = (source, sink)
        if on:
            self._links.add(link)
            self._port_links[source].add(link)
            self._port_links[sink].add(link)
        else:
            self._forget_link(link)
        self._transmit(source, sink, on)

    def _forget_link(self, link: tuple[int, int]) -> None:
        self._links.discard(link)
        for port in link:
            links = self._port_links.get(port)
            if links is not None:
                links.discard(link)
                if not links:
                    del self._port_links[port]

    def _drop_links(self, port: int) -> None:
        for link in list(self._port_links.get(port, ())):
            self._forget_link(link)

    def _set_music_file(self, path: str) -> None:
        self._music_path = path

    def _set_music(self, leg_id: int, on: bool) -> None:
        leg = self._legs.get(leg_id)
        if leg is None:
            return
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
        self._leg_players[leg_id].add(player.player_id)
        if self._music is not None and leg.audio is not None and leg_id in self._music_legs:
            self._music.stopTransmit(leg.audio)
        if leg.audio is not None:
            player.startTransmit(leg.audio)
        return player.player_id

    def _stop_play(self, player_id: int) -> None:
        player = self._players.pop(player_id, None)
        if player is None:
            return
        self._leg_players.get(player.leg_id, set()).discard(player_id)
        leg = self._legs.get(player.leg_id)
        if leg is not None and leg.audio is not None:
            player.stopTransmit(leg.audio)
            if leg.leg_id in self._music_legs and self._music is not None:
                self._music.startTransmit(leg.audio)

    def _bridge(self, a: int, b: int) -> None:
        for leg_id in (a, b):
            self._set_music(leg_id, False)
        self._link(a, b, True)
        self._link(b, a, True)

    def _unbridge(self, a: int, b: int) -> None:
        self._link(a, b, False)
        self._link(b, a, False)

    def _record(self, path: str, sources: tuple[int, ...]) -> int:
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(path)
        recorder_id = next(self._ids)
        self._recorders[recorder_id] = recorder
        for source in sources:
            self._link(source, recorder_id, True)
        return recorder_id

    def _stop_record(self, recorder_id: int) -> None:
        if recorder_id in self._muted:
            self._mute_record(recorder_id, False)
        for source, sink in list(self._port_links.get(recorder_id, ())):
            self._link(source, sink, False)
        self._recorders.pop(recorder_id, None)  # the last reference: the file is closed

    def _mute_record(self, recorder_id: int, muted: bool) -> None:
        """A muted recorder's links are kept but not transmitted (`_transmit`), and an idle
        tone generator is its one source: the bridge writes its zeros to the file, which
        keeps the call's timeline (a recorder with no source gets no frames at all, and
        pjsua2 2.12's `adjustTxLevel` does not reach a recorder's file)."""
        recorder = self._recorders.get(recorder_id)
        if recorder is None:
            raise EngineError(f"no recorder {recorder_id}")
        if muted == (recorder_id in self._muted):
            return
        if self._silence is None:
            self._silence = pj.ToneGenerator()
            self._silence.createToneGenerator(8000, 1)  # the bridge's clock (medConfig)
        links = list(self._port_links.get(recorder_id, ()))
        if muted:
            for source, sink in links:
                self._transmit(source, sink, False)
            self._muted.add(recorder_id)
            self._silence.startTransmit(recorder)
        else:
            self._silence.stopTransmit(recorder)
            self._muted.discard(recorder_id)
            for source, sink in links:
                self._transmit(source, sink, True)

    def _loop_file(self, leg_id: int, path: str) -> int:
        leg = self._leg(leg_id)
        player = _Player(self, next(self._ids), leg_id)
        player.createPlayer(path, 0)
        if leg.audio is None:
            raise EngineError("leg has no active media yet")
        player.startTransmit(leg.audio)
        self._players[player.player_id] = player
        self._leg_players[leg_id].add(player.player_id)
        return player.player_id

    def _dial_dtmf(self, leg_id: int, digits: str, method: str) -> None:
        leg = self._leg(leg_id)
        if method == "rfc2833":
            leg.dialDtmf(digits)
            return
        prm = pj.CallSendDtmfParam()
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
        prm.digits = digits
        leg.sendDtmf(prm)

    def _transfer(self, leg_id: int, target: str) -> None:
        self._leg(leg_id).xfer(target, pj.CallOpParam(True))

    def _hold_music(self, listener: int, held: int, on: bool, private: bool) -> None:
        if on:
            self._link(held, listener, False)
            if private:
                self._link(listener, held, False)
            self._set_music(listener, True)
        else:
            self._bridge(listener, held)

    def _hold(self, leg_id: int, on: bool, inactive: bool) -> None:
        leg = self._leg(leg_id)
        prm = pj.CallOpParam(True)
        if on and not inactive:
            leg.setHold(prm)
            return
        leg.holding_inactive = on and inactive
        if on:
            prm.opt.flag = pj.PJSUA_CALL_SET_MEDIA_DIR
            prm.opt.mediaDir = pj.IntVector([pj.PJMEDIA_DIR_NONE])
        else:
            prm.opt.flag = pj.PJSUA_CALL_UNHOLD | pj.PJSUA_CALL_SET_MEDIA_DIR
            prm.opt.mediaDir = pj.IntVector([pj.PJMEDIA_DIR_ENCODING_DECODING])
        leg.reinvite(prm)


def _deliver(batch: list[Callable[[], None]]) -> None:
    """Run, in the event loop, what one poll of the pj thread produced (in order)."""
    for fn in batch:
        try:
            fn()
        except Exception:
            log.exception("event handler failed")


def _readable(error: BaseException, config: EndpointConfig) -> BaseException:
    """A start failure as a message an operator can act on: pjsua2's Error prints as a
    SWIG object; its title and reason say what failed ("transportCreate(...):
    Address already in use"), here with the address it was for."""
    if not isinstance(error, pj.Error):
        return error
    where = f"SIP {config.sip_host}:{config.sip_port}"
    return RuntimeError(f"{where}: {error.title}: {error.reason} (status {error.status})")
