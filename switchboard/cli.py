"""The `switchboard` command: a thin shell over each package's `cli.register`.

Each package owns its subcommands; this module only builds the parser, lets every
package add to it, and turns user errors into one line and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from switchboard.common.errors import InputError
from switchboard.logs import FORMATS, configure_logging

Handler = Callable[[argparse.Namespace], int]

# The shipped configuration, found from the package (not the working folder), so that a
# command without --config works from any folder. Relative paths inside it (data_dir,
# prompt_cache_dir, ...) are still taken from the working folder.
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "default.toml"
_DEFAULT_SHOWN = str(DEFAULT_CONFIG).replace("%", "%%")  # argparse formats help with %

# Modules whose `register(registry)` adds subcommands, in help order, each with the
# top-level commands it adds. A command imports only the modules that add it: the others'
# imports (the reports', the server's) would cost half a second of every run.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "switchboard.serve": ("serve",),
    "router.cli": ("agents", "users", "history", "report", "privacy"),
    "telephony.cli": ("voice",),
    "i18n.cli": ("prompts", "i18n"),
    "forecasting.cli": ("history", "forecast"),
    "scheduler.cli": ("staffing", "schedule"),
}


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


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    """`--config FILE`, defaulting to the project's config/default.toml from any folder."""
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="FILE",
        help=f"configuration TOML (default: {_DEFAULT_SHOWN}, found from the installation "
        "whatever the working folder; relative paths in it, like data_dir, are from the "
        "working folder)",
    )


def _os_fault(error: OSError) -> str:
    """`FILE: Is a directory` from an OSError that escaped a command's own handling."""
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if error.filename is not None else reason


def _stdout_is_a_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):  # closed, or replaced by something without a descriptor
        return False


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in `argv` (after any global options), None if none is or help
    is asked before it (`switchboard -h forecast` lists every command); the full parser
    checks the options and says what is wrong with them."""
    before = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    before.add_argument("--log-level")
    before.add_argument("--log-format")
    before.add_argument("command", nargs="?")
    try:
        command: str | None = before.parse_known_args(argv)[0].command
    except argparse.ArgumentError:
        return None
    if command is None or {"-h", "--help"} & set(argv[: list(argv).index(command)]):
        return None
    return command


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or, given the arguments, with only the modules
    that add the command they name (all of them for help or a command nobody adds, which
    argparse then lists)."""
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
    command = None if argv is None else _command_in(argv)
    owners = [module for module, names in COMMAND_MODULES.items() if command in names]
    for module in owners or COMMAND_MODULES:
        importlib.import_module(module).register(registry)
    return parser


def _signed_values_joined(argv: Sequence[str]) -> list[str]:
    """`--horizon -1d` as `--horizon=-1d`: argparse takes a value that starts with '-' and
    is not a plain number for an option, and says only "expected one argument"; given to
    the option, its own check says what it takes. No option's name starts with a digit."""
    joined: list[str] = []
    for token in argv:
        previous = joined[-1] if joined else ""
        if re.match(r"-\d", token) and previous.startswith("--") and "=" not in previous:
            joined[-1] = f"{previous}={token}"
        else:
            joined.append(token)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _signed_values_joined(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    configure_logging(args.log_level, args.log_format)
    if args.log_level != "DEBUG":  # matplotlib's INFO lines (a report's plots) are noise
        logging.getLogger("matplotlib").setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not as Python exits
        return status
    except BrokenPipeError as error:
        if not _stdout_is_a_pipe():  # another pipe broke: an error like any other
            print(f"switchboard: error: {_os_fault(error)}", file=sys.stderr)
            return 2
        # The reader of the output went away (`switchboard report | head`): nothing to
        # tell it. As the Python documentation's recipe does, stdout goes to devnull so
        # that the final flush as Python exits does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except InputError as error:
        print(f"switchboard: error: {error}", file=sys.stderr)
        return 2
    # A safety net for a file fault that a reader or writer did not name itself: still one
    # line and status 2, never a traceback. Other exceptions are bugs and keep theirs.
    except UnicodeDecodeError as error:
        print(f"switchboard: error: input is not UTF-8 text ({error.reason})", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"switchboard: error: {_os_fault(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
