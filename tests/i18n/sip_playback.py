"""Play a WAV to a caller over a real SIP call on loopback and record what the caller hears.

Run as a subprocess (pjsua2 allows one endpoint per process):
    python sip_playback.py --wav PROMPT.wav --record HEARD.wav --sip-port P --rtp-port R
Two endpoints in two processes, as on a real call: this one (the caller, SIP port P, RTP
from R) starts the other (`--role ivr`, RTP from R + 10), which answers and plays the WAV;
the caller records the RTP audio it receives (PCMU). Prints one JSON line with what
happened, exits 0 when the prompt was played to its end.

Why two processes: with both ends in one endpoint, pjproject 2.12's jitter buffer (the
256-call build, scripts/build-pjsua2.sh) filled to half a second and then dropped a frame
every 200 ms; between two processes both builds deliver the prompt intact, 25 ms late.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time

import pjsua2 as pj


class Leg(pj.Call):
    def __init__(self, account: pj.Account, call_id: int | None = None) -> None:
        if call_id is None:
            super().__init__(account)
        else:
            super().__init__(account, call_id)
        self.audio: pj.AudioMedia | None = None
        self.confirmed = False
        self.disconnected = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        state = self.getInfo().state
        self.confirmed = self.confirmed or state == pj.PJSIP_INV_STATE_CONFIRMED
        self.disconnected = state == pj.PJSIP_INV_STATE_DISCONNECTED

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        info = self.getInfo()  # keep it alive: its media vector dies with it
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.audio = self.getAudioMedia(media.index)


class Player(pj.AudioMediaPlayer):
    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def onEof2(self) -> None:
        self.done = True


class Ivr(pj.Account):
    def __init__(self) -> None:
        super().__init__()
        self.legs: list[Leg] = []

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        leg = Leg(self, prm.callId)
        self.legs.append(leg)
        answer = pj.CallOpParam()
        answer.statusCode = 200
        leg.answer(answer)


def endpoint(sip_port: int) -> tuple[pj.Endpoint, int]:
    """An endpoint on UDP 127.0.0.1 (port 0: any); returns it and its SIP port."""
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.noVad = True
    ep.libInit(cfg)
    transport = pj.TransportConfig()
    transport.port = sip_port
    transport.boundAddress = "127.0.0.1"
    transport_id = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    ep.libStart()
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        ep.codecSetPriority(codec.codecId, 255 if codec.codecId.upper().startswith("PCMU") else 0)
    port = int(ep.transportGetInfo(transport_id).localName.rsplit(":", 1)[1])
    return ep, port


def account_config(user: str, sip_port: int, rtp_port: int) -> pj.AccountConfig:
    acc_cfg = pj.AccountConfig()
    acc_cfg.idUri = f"sip:{user}@127.0.0.1:{sip_port}"
    acc_cfg.mediaConfig.transportConfig.port = rtp_port
    acc_cfg.mediaConfig.transportConfig.portRange = 10
    acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    return acc_cfg


def leave(ep: pj.Endpoint, code: int) -> None:
    # libDestroy closes the recorder, which writes the WAV header. Then leave without
    # running the Python objects' destructors: after libDestroy they assert and abort.
    ep.libDestroy()
    sys.stdout.flush()
    os._exit(code)


def run_ivr(args: argparse.Namespace) -> None:
    """The answering side: play the WAV once on the first call, say so, wait to be hung up."""
    ep, port = endpoint(0)
    ivr = Ivr()
    ivr.create(account_config("ivr", port, args.rtp_port))
    print(json.dumps({"ivr": f"sip:ivr@127.0.0.1:{port}"}), flush=True)
    player: Player | None = None
    reported = False
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        ep.libHandleEvents(10)
        leg = ivr.legs[0] if ivr.legs else None
        if player is None and leg is not None and leg.audio is not None:
            player = Player()
            player.createPlayer(args.wav, pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(leg.audio)
            print(json.dumps({"playing": True}), flush=True)
        if player is not None and player.done and not reported:
            print(json.dumps({"played": True}), flush=True)  # the caller hangs up
            reported = True
        if leg is not None and leg.disconnected:
            break
    leave(ep, 0)


def lines_of(process: subprocess.Popen[str]) -> queue.SimpleQueue[dict[str, object]]:
    """The JSON lines a child prints, readable without blocking the SIP loop."""
    found: queue.SimpleQueue[dict[str, object]] = queue.SimpleQueue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("{"):
                found.put(json.loads(line))

    threading.Thread(target=read, daemon=True).start()
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wav", required=True)
    parser.add_argument("--record", default="")
    parser.add_argument("--sip-port", type=int, default=0)
    parser.add_argument("--rtp-port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--role", choices=("caller", "ivr"), default="caller")
    args = parser.parse_args()
    if args.role == "ivr":
        run_ivr(args)
        return 0

    ivr_process = subprocess.Popen(
        [sys.executable, __file__, "--role", "ivr", "--wav", args.wav,
         "--rtp-port", str(args.rtp_port + 10), "--timeout", str(args.timeout)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    messages = lines_of(ivr_process)
    result = {"answered": False, "played": False, "recorded": False}
    try:
        ivr_uri = str(messages.get(timeout=args.timeout)["ivr"])
    except queue.Empty:
        print(json.dumps(result), flush=True)
        return 1
    ep, _ = endpoint(args.sip_port)
    caller_account = pj.Account()
    caller_account.create(account_config("caller", args.sip_port, args.rtp_port))
    caller = Leg(caller_account)
    caller.makeCall(ivr_uri, pj.CallOpParam(True))
    recorder: pj.AudioMediaRecorder | None = None
    deadline = time.monotonic() + args.timeout
    finished_at: float | None = None
    while time.monotonic() < deadline:
        ep.libHandleEvents(10)
        if recorder is None and caller.audio is not None:
            recorder = pj.AudioMediaRecorder()
            recorder.createRecorder(args.record)
            caller.audio.startTransmit(recorder)
        while not messages.empty():
            message = messages.get()
            result["answered"] = result["answered"] or "playing" in message
            if "played" in message and finished_at is None:
                finished_at = time.monotonic()
        # Half a second more so the last RTP packets reach the caller's recorder.
        if finished_at is not None and time.monotonic() - finished_at > 0.5:
            result["played"] = True
            break
        if caller.disconnected:
            break
    if recorder is not None:
        caller.audio.stopTransmit(recorder)  # type: ignore[union-attr]
        result["recorded"] = True
    ep.hangupAllCalls()
    for _ in range(100):
        ep.libHandleEvents(10)
        if caller.disconnected:
            break
    try:
        ivr_process.wait(10)
    except subprocess.TimeoutExpired:
        ivr_process.kill()
        ivr_process.wait()
    print(json.dumps(result), flush=True)
    leave(ep, 0 if result["played"] and result["recorded"] else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
