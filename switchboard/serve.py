"""`switchboard serve`: run one node."""

from __future__ import annotations

import argparse
import asyncio
import sys

from switchboard.cli import CommandRegistry, add_config_flag
from switchboard.settings import MAX_PORT, load_settings


def register(registry: CommandRegistry) -> None:
    parser = registry.command("serve", "Run one node (HTTP API, routing timers, heartbeats).")
    add_config_flag(parser)
    parser.add_argument("--region", help="the node's region (default: [node].region)")
    parser.add_argument("--node", help="the node's id (default: [node].id)")
    parser.add_argument(
        "--http-port",
        type=_port,
        help="HTTP port, 0 for any free one (default: [http].port)",
    )
    parser.add_argument(
        "--no-voice", action="store_true", help="do not start the SIP front door and workers"
    )
    parser.set_defaults(handler=serve)


def _port(text: str) -> int:
    """A TCP port 0-65535 (0: any free port, which the node logs)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(
            f"expected a port 1-{MAX_PORT} (0: any free port), found {text!r}"
        )
    return port


def serve(args: argparse.Namespace) -> int:
    # Imported here: the node pulls in the whole server (aiohttp, telephony, every
    # package), about a second that `switchboard forecast` and the other commands,
    # which build the same argument parser, need not pay.
    from switchboard.node import Node

    settings = load_settings(
        args.config,
        region=args.region,
        node_id=args.node,
        http_port=args.http_port,
        defer_faults=True,
    )
    node = Node(settings, voice=not args.no_voice)  # checks the whole file first
    try:
        asyncio.run(node.serve_forever())
    except OSError as failure:  # a port taken, a directory not writable: say which, exit 1
        print(
            f"switchboard: error: cannot start node {settings.node_id}: {failure}", file=sys.stderr
        )
        return 1
    return 0
