"""What the README names exists: every `switchboard` command line parses, every HTTP path
is a declared route, every configuration section and key is one the node reads."""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from switchboard.cli import build_parser
from switchboard.http.api import API
from switchboard.http.app import FEATURES
from switchboard.node import check_configuration
from switchboard.settings import load_settings
from tests.nodes import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
assert FEATURES  # every route declared


def command_lines() -> list[str]:
    """Each command line of the README that runs `switchboard`, continuations joined."""
    text = README.replace("\\\n", " ")
    lines = []
    for line in text.splitlines():
        match = re.search(r"(?:^|\s)(?:\.venv/bin/)?switchboard (\S.*)$", line.strip())
        if match and not line.strip().startswith(("|", "-", "*")) and "`" not in line:
            lines.append(match.group(1).split(" #")[0].strip())
    return lines


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_the_readme_shows_commands() -> None:
    assert len(command_lines()) >= 15


@pytest.mark.parametrize("line", command_lines())
def test_every_command_line_parses(line: str) -> None:
    words = [w for w in shlex.split(line) if "$(" not in w]
    parser = build_parser()
    path, current = [], parser
    while words and words[0] in subcommands(current):
        path.append(words[0])
        current = subcommands(current)[words.pop(0)]
    assert path, f"no such command: switchboard {line}"
    known = {option for action in current._actions for option in action.option_strings}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"switchboard {' '.join(path)} has no {word}"


def route_of(path: str) -> str:
    """A README path with its example ids put back as the route's parameters."""
    path = path.rstrip(".,)")
    for example, parameter in (
        ("CONTACT_ID", "{contact_id}"),
        ("CASE_ID", "{case}"),
        ("/ana/", "/{agent_id}/"),
        ("{id}", "{contact_id}"),
    ):
        path = path.replace(example, parameter)
    return path


def test_every_http_path_is_a_route() -> None:
    routes = {op.path for op in API.operations}
    named = {route_of(path) for path in re.findall(r"/api/v1/[A-Za-z_/{}.0-9-]+", README)}
    named |= set(
        re.findall(r"(?<![\w/])/(?:healthz|readyz|livez|metrics|wallboard|agent|chat)\b", README)
    )
    assert named and named <= routes, sorted(named - routes)


def test_every_configuration_key_is_read() -> None:
    settings = load_settings(ROOT / "config" / "default.toml")
    check_configuration(settings)
    asked = {re.sub(r"\[\d+\]", "", key) for key in settings.reader.faults.asked}
    named = set(re.findall(r"`\[\[?([a-z_.]+)\]\]?(?: ([a-z_]+))?", README))
    assert named
    for section, key in named:
        if section in ("translation",):  # i18n's own file, config/locales.toml
            continue
        assert section in asked, f"[{section}] is read by no one"
        if key:
            assert f"{section}.{key}" in asked, f"[{section}] {key} is read by no one"
