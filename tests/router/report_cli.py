"""`switchboard report` as the report tests run it: the shipped configuration pointed at
the test Redis, and the real entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard import cli

ROOT = Path(__file__).resolve().parents[2]


def config_for(redis_url: str, directory: Path) -> Path:
    """config/default.toml with its Redis at `redis_url`, written in `directory`."""
    text = (ROOT / "config" / "default.toml").read_text()
    text = text.replace('data_dir = "var/redis"', f'url = "{redis_url}"')
    path = directory / "node.toml"
    path.write_text(text)
    return path


async def run_cli(argv: list[str]) -> int:
    """The real `switchboard` entry point, off the event loop (it runs its own)."""
    return await asyncio.to_thread(cli.main, argv)
