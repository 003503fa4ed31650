"""Play a WAV to a caller over a real SIP call on loopback and record what the caller hears.

Run as a subprocess (pjsua2 allows one endpoint per process):
    python sip_playback.py --wav PROMPT.wav --record HEARD.wav --sip-port P --rtp-port R
One endpoint, two accounts: "caller" INVITEs "ivr" over UDP on 127.0.0.1; "ivr" answers
and plays the WAV; the caller's side records the RTP audio it receives (PCMU). Prints
one JSON line with what happened, exits 0 when the prompt was played to its end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wav", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--sip-port", type=int, required=True)
    parser.add_argument("--rtp-port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

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
    transport.port = args.sip_port
    transport.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    ep.libStart()
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        ep.codecSetPriority(codec.codecId, 255 if codec.codecId.upper().startswith("PCMU") else 0)

    accounts = []
    for index, (user, account) in enumerate((("ivr", Ivr()), ("caller", pj.Account()))):
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = f"sip:{user}@127.0.0.1:{args.sip_port}"
        acc_cfg.mediaConfig.transportConfig.port = args.rtp_port + 10 * index
        acc_cfg.mediaConfig.transportConfig.portRange = 10
        acc_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        account.create(acc_cfg)
        accounts.append(account)
    ivr, caller_account = accounts

    caller = Leg(caller_account)
    caller.makeCall(f"sip:ivr@127.0.0.1:{args.sip_port}", pj.CallOpParam(True))
    player: Player | None = None
    recorder: pj.AudioMediaRecorder | None = None
    result = {"answered": False, "played": False, "recorded": False}
    deadline = time.monotonic() + args.timeout
    finished_at: float | None = None
    while time.monotonic() < deadline:
        ep.libHandleEvents(10)
        ivr_leg = ivr.legs[0] if ivr.legs else None
        if recorder is None and caller.audio is not None and ivr_leg and ivr_leg.audio:
            recorder = pj.AudioMediaRecorder()
            recorder.createRecorder(args.record)
            caller.audio.startTransmit(recorder)
            player = Player()
            player.createPlayer(args.wav, pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(ivr_leg.audio)
            result["answered"] = True
        if player is not None and player.done and finished_at is None:
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
        if caller.disconnected and all(leg.disconnected for leg in ivr.legs):
            break
    print(json.dumps(result), flush=True)
    code = 0 if result["played"] and result["recorded"] else 1
    # libDestroy closes the recorder, which writes the WAV header. Then leave without
    # running the Python objects' destructors: after libDestroy they assert and abort.
    ep.libDestroy()
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
