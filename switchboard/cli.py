"""The `switchboard` command: a thin shell over each package's `cli.register`.

Each package owns its subcommands; this module only builds the parser, lets every
package add to it, and turns user errors into one line and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from switchboard.common.errors import InputError
from switchboard.logs import FORMATS, configure_logging

Handler = Callable[[argparse.Namespace], int]

# Modules whose `register(registry)` adds subcommands, in help order.
COMMAND_MODULES = (
    "switchboard.serve",
    "router.cli",
    "telephony.cli",
    "i18n.cli",
    "forecasting.cli",
    "scheduler.cli",
)


class CommandRegistry:
    """Hands out sub-parsers so that two packages can share a group (`history import|export`)."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._commands = parser.add_subparsers(dest="command", metavar="COMMAND")
        self._commands.required = True
        self._groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}

    def command(self, name: str, help: str) -> argparse.ArgumentParser:
        """A top-level subcommand, e.g. `switchboard serve`."""
        return self._commands.add_parser(name, help=help, description=help)

    def subcommand(self, group: str, name: str, help: str) -> argparse.ArgumentParser:
        """A subcommand inside a group, e.g. `switchboard history export`."""
        if group not in self._groups:
            group_parser = self._commands.add_parser(group, help=f"{group} commands")
            actions = group_parser.add_subparsers(dest=f"{group}_command", metavar="SUBCOMMAND")
            actions.required = True
            self._groups[group] = actions
        return self._groups[group].add_parser(name, help=help, description=help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Multi-region contact-center routing and telephony."
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="default INFO",
    )
    parser.add_argument(
        "--log-format", default="text", choices=FORMATS, help="text (default) or json lines"
    )
    registry = CommandRegistry(parser)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(registry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    handler: Handler = args.handler
    try:
        return handler(args)
    except InputError as error:
        print(f"switchboard: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
