"""`switchboard` subcommands of the router package."""

from __future__ import annotations

from switchboard.cli import CommandRegistry


def register(registry: CommandRegistry) -> None:
    """Add this package's subcommands (none yet)."""
