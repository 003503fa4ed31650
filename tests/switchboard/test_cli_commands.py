"""The command line imports only the modules that add the command it runs
(`switchboard.cli.COMMAND_MODULES`): the map must say what each module adds."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from switchboard.cli import COMMAND_MODULES, CommandRegistry, build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    return set(_subparsers(parser))


@pytest.mark.parametrize("module", list(COMMAND_MODULES))
def test_each_module_adds_the_commands_the_map_names(module: str) -> None:
    parser = argparse.ArgumentParser()
    importlib.import_module(module).register(CommandRegistry(parser))
    assert _commands(parser) == set(COMMAND_MODULES[module])


def test_help_before_a_command_and_an_unknown_command_see_every_command() -> None:
    every = {name for names in COMMAND_MODULES.values() for name in names}
    assert _commands(build_parser()) == every
    assert _commands(build_parser([])) == every
    assert _commands(build_parser(["--log-level", "DEBUG", "nosuch"])) == every
    assert _commands(build_parser(["-h", "forecast"])) == every
    assert _commands(build_parser(["forecast", "-h"])) == {"history", "forecast"}


def test_a_shared_group_gets_the_subcommands_of_every_module_that_adds_to_it() -> None:
    history = _subparsers(build_parser(["history", "import"]))["history"]
    assert _commands(history) == {"import", "export"}


def test_a_forecast_imports_neither_the_reports_nor_the_server() -> None:
    """In a fresh interpreter, as `switchboard forecast` starts."""
    code = (
        "import sys\n"
        "from switchboard.cli import build_parser\n"
        "build_parser(['--log-level', 'debug', 'forecast', '--history', 'h.csv'])\n"
        "print(sorted(m for m in ('forecasting.cli', 'router.cli', 'router.reports.cli', "
        "'switchboard.serve', 'scheduler.cli') if m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "['forecasting.cli']"
