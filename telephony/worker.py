"""A telephony worker process: one pjsua2 endpoint, its calls, and a pipe to the node.

Started by the pool as `python -m telephony.worker --config FILE --index I --sip-port P
--rtp-port R --calls C --rtp-ports N`. The process keeps its original stdout for the
JSON-lines protocol (telephony.pipe) and points fd 1 at stderr, so pjlib's own prints can
never corrupt the protocol. It stops on `{"stop": true}`, on EOF of stdin (node gone) or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import resource
import signal
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from switchboard.logs import FORMATS, configure_logging
from switchboard.settings import load_settings
from telephony.calls import VoiceCalls
from telephony.calls.transfer import node_names
from telephony.config import read_voice
from telephony.endpoint import EndpointConfig, PjEngine
from telephony.frontdoor import DIAL_HEADER
from telephony.model import Hours, SipConfig
from telephony.pipe import PipeRatings, PipeRouting, serve_command
from telephony.prompts import PromptRenderer, make_music
from telephony.style import locale_style

log = logging.getLogger("telephony.worker")


# The exit status of a worker that could not start (its SIP port taken, say).
START_FAILED = 3


def now_ms() -> int:
    """The worker's clock: wall time in ms, as the router stamps its records."""
    return time.time_ns() // 1_000_000


async def run(args: argparse.Namespace, out_fd: int) -> int:
    settings = load_settings(Path(args.config), region=args.region, node_id=args.node)
    hours = {r.name: Hours(r.timezone, r.open, r.close) for r in settings.regions}
    queues = [q.name for q in settings.queues]
    config = read_voice(settings.reader, queues=queues, regions=hours, home=settings.region)
    settings.reader.faults.raise_if_any()
    # The node sized the pool (calls per worker from the pjsua2 build); use its figures.
    sip = replace(config.sip, calls_per_worker=args.calls, rtp_ports_per_worker=args.rtp_ports)
    flows = config.flows
    _allow_descriptors(4 * sip.calls_per_worker + 64)  # two RTP sockets per call, and SIP
    routing = PipeRouting(out_fd)
    cache = Path(sip.prompt_cache_dir)
    music = Path(sip.music) if sip.music else make_music(cache / "music.wav")
    endpoint = EndpointConfig(
        sip_host=sip.host,
        sip_port=args.sip_port,
        # Without a front door this worker is the node's SIP port, and takes TCP there too.
        tcp=sip.tcp and args.sip_port == sip.port,
        rtp_port=args.rtp_port,
        rtp_port_range=sip.rtp_ports_per_worker,
        max_calls=sip.calls_per_worker,
        max_inbound=sip.callers_per_worker,
        poll_ms=sip.poll_ms,
        retry_after_s=sip.retry_after_s,
        user=f"switchboard-w{args.index}",
        dial_headers=((DIAL_HEADER, "person"),),
        numbers=None if any(f.number == "*" for f in flows) else tuple(f.number for f in flows),
        trusted_peers=sip.trusted_peers,
        front_door=_front_door(sip, args.sip_port),
    )
    calls = VoiceCalls(
        engine_factory=lambda on_event: PjEngine(endpoint, on_event),
        routing=routing,
        flows=flows,
        prompts=PromptRenderer(cache, sip.voice_rate),
        node_id=settings.node_id,
        clock=now_ms,
        music=music,
        queues=queues,
        report=routing.report,
        surveys=config.surveys,
        ratings=PipeRatings(routing),  # the node keeps ratings in its Reports
        recording=config.recording,
        # A REFER to the node (its host:port, or the accounts' domain) names a queue, an
        # agent or a number.
        own_addresses=node_names(sip.host, sip.port, sip.domain or sip.host),
        outside_uri=sip.outside_uri,
        styles=locale_style,  # greeting, menus, numbers and times by the caller's locale
        agent_auto_answer=sip.agent_auto_answer,
    )
    try:
        await calls.start()
    except RuntimeError as failure:  # its SIP port taken...: said to the node, which stops
        routing.send({"start_failed": str(failure)})
        return START_FAILED
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def answer(message: dict[str, Any]) -> None:
        routing.send(await serve_command(calls, message))

    async def listen() -> None:
        while True:
            line = await reader.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("unreadable line from the node: %r", line[:200])
                continue
            if "reply" in message:
                routing.on_reply(message)
            elif "router_event" in message:
                task = loop.create_task(calls.handle_router_event(message["router_event"]))
                task.add_done_callback(_log_failure)
            elif "command" in message:
                loop.create_task(answer(message)).add_done_callback(_log_failure)
            elif message.get("stop"):
                break
        stop.set()

    listener = loop.create_task(listen())
    routing.send({"ready": True, "pid": os.getpid(), "port": args.sip_port})
    await stop.wait()
    listener.cancel()
    routing.fail_all("worker stopping")
    await calls.stop()
    return 0


def _front_door(sip: SipConfig, port: int) -> str:
    """Kamailio's address as the INVITEs it relays come from (`ip:port`: it sends from its
    listening socket), or '' for the worker that is the node's SIP port itself."""
    if port == sip.port:
        return ""
    try:
        address = ipaddress.ip_address(sip.host)
    except ValueError:  # a host name, as Kamailio resolves it to listen
        try:
            address = ipaddress.ip_address(socket.gethostbyname(sip.host))
        except OSError as error:
            log.warning("the front door's address (%s) is unknown: %s", sip.host, error)
            return ""
    return f"[{address}]:{sip.port}" if address.version == 6 else f"{address}:{sip.port}"


def _allow_descriptors(count: int) -> None:
    """Raise the soft limit of open files to `count` when the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("router event failed", exc_info=task.exception())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="telephony.worker")
    parser.add_argument("--config", required=True)
    parser.add_argument("--node", default=None)
    parser.add_argument("--region", default=None)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--sip-port", type=int, required=True)
    parser.add_argument("--rtp-port", type=int, required=True)
    parser.add_argument("--calls", type=int, required=True, help="calls per worker")
    parser.add_argument("--rtp-ports", type=int, required=True, help="RTP ports of this worker")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--log-format", choices=FORMATS, default="text")
    args = parser.parse_args(argv)
    # As the node logs: the same format, phone numbers and SIP users masked.
    configure_logging(args.log_level, args.log_format)
    # Keep the real stdout for the protocol; anything printed to fd 1 goes to stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args, out_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
