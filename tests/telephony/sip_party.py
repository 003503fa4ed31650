"""A scripted SIP phone for tests: a caller or an agent softphone in its own process.

Run as `python sip_party.py --port P --rtp-port R [--answer] [--tone FILE] [--user NUMBER]`
(a softphone with an account: `--user ana --registrar sip:HOST:PORT --domain D --password
PW`, event `registration` with the registrar's answer; `--tcp`: a TCP transport on the
same port too, and the registration over it; `--contact URI`: that Contact on every
request and answer, as a phone behind NAT names an address nobody reaches). It prints one
JSON event per line on stdout (`{"type": "ready"}`, `incoming`, `answered`, `media`,
`dtmf`, `hangup`, `transfer_status`...) and reads one JSON command per line on stdin:
`{"cmd": "call", "uri": ...}`, `{"cmd": "dtmf", "digits": "1", "method": "rfc2833"|"info"}`,
`{"cmd": "record", "path": ...}` (what the last call brings, until `{"cmd": "stop_record"}`),
`{"cmd": "hangup"}` (`"code": 486`: a ringing call refused busy), `{"cmd": "answer"}` (the
last call, ringing here without `--answer`), `{"cmd": "transfer",
"target": ...}`, `{"cmd": "hold"}` (sendonly, as pjsua's Hold key) or
`{"cmd": "hold-inactive"}` (a=inactive, as some phones hold) and `{"cmd": "resume"}` (on
the last call), `{"cmd": "quit"}`.
With `--answer` it answers every incoming call and, with `--tone`, plays that file in a
loop to the caller, as an agent's softphone would carry the agent's voice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from telephony.endpoint import EndpointConfig, PjEngine


def say(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rtp-port", type=int, required=True)
    parser.add_argument("--answer", action="store_true")
    parser.add_argument("--user", default="party", help="the From user (a caller's number)")
    parser.add_argument("--answer-delay", type=float, default=0.0)
    parser.add_argument("--tone", default="")
    parser.add_argument("--registrar", default="", help="register there (sip:host:port)")
    parser.add_argument("--tcp", action="store_true", help="listen on TCP, register over it")
    parser.add_argument("--contact", default="", help="this Contact instead of pjsua's own")
    parser.add_argument("--domain", default="", help="the account's domain")
    parser.add_argument("--password", default="", help="the account's digest password")
    parser.add_argument(
        "--record", default="", help="record each call's audio here ({leg} = the leg number)"
    )
    args = parser.parse_args()

    loop = asyncio.get_running_loop()
    legs: list[int] = []
    recorders: list[int] = []
    tasks: set[asyncio.Task[None]] = set()
    engine: PjEngine

    def spawn(coro: Any) -> None:
        task = loop.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def on_media(leg: int) -> None:
        try:
            if args.tone:
                await engine.loop_file(leg, args.tone)
            if args.record:
                await engine.record(args.record.replace("{leg}", str(leg)), leg)
        except Exception as error:  # report, never crash the phone
            say({"type": "error", "error": str(error)})

    async def answer_later(leg: int) -> None:
        await asyncio.sleep(args.answer_delay)
        try:
            await engine.answer(leg, 200)
        except Exception as error:
            say({"type": "error", "error": str(error)})

    def on_event(event: dict[str, Any]) -> None:
        say(event)
        if event["type"] == "incoming":
            legs.append(event["leg"])
            if args.answer:
                spawn(answer_later(event["leg"]))
        elif event["type"] == "media":
            spawn(on_media(event["leg"]))
        elif event["type"] == "hangup" and event["leg"] in legs:
            legs.remove(event["leg"])

    engine = PjEngine(
        EndpointConfig(
            sip_port=args.port,
            rtp_port=args.rtp_port,
            rtp_port_range=20,
            max_inbound=4,
            reserve_per_inbound=0,
            auto_answer=False,
            answer_loops=False,
            user=args.user,
            tcp=args.tcp,
            contact=args.contact,
            registrar=f"{args.registrar};transport=tcp" if args.tcp else args.registrar,
            domain=args.domain,
            password=args.password,
        ),
        on_event,
    )
    await engine.start()
    say({"type": "ready"})
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        command = json.loads(line)
        name = command["cmd"]
        try:
            if name == "quit":
                break
            if name == "call":
                leg = await engine.call(command["uri"])
                legs.append(leg)
                say({"type": "calling", "leg": leg})
            elif name == "dtmf":
                await engine.dial_dtmf(
                    legs[-1], command["digits"], command.get("method", "rfc2833")
                )
            elif name == "record":
                recorders.append(await engine.record(command["path"], legs[-1]))
                say({"type": "recording", "path": command["path"]})
            elif name == "stop_record":
                while recorders:
                    await engine.stop_record(recorders.pop())
                say({"type": "recorded"})
            elif name == "hangup":  # "code": a call still ringing refused so (486 busy)
                for leg in list(legs):
                    await engine.hangup(leg, int(command.get("code", 200)))
            elif name == "answer":  # the last call, ringing here (without --answer)
                await engine.answer(legs[-1], 200)
            elif name == "transfer":
                await engine.transfer(legs[-1], command["target"])
            elif name in ("hold", "hold-inactive", "resume"):
                await engine.hold(legs[-1], name != "resume", name == "hold-inactive")
        except Exception as error:
            say({"type": "error", "error": str(error)})
    await engine.stop()
    say({"type": "stopped"})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
