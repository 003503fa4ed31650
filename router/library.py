"""The routing Lua as a Redis Functions library: loaded once per server, called by FCALL.

EVALSHA runs a script's whole chunk on every call; a function library is defined once
per server, so a decision pays only for its own work. The library and function names
carry a digest of the source, so nodes of different versions sharing one Redis each
call their own code and never replace one another's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from redis.exceptions import ResponseError

SOURCE = (Path(__file__).parent / "routing.lua").read_text()


class RoutingLibrary:
    """Loads the library where it is missing and calls its function."""

    def __init__(self, source: str = SOURCE) -> None:
        digest = hashlib.sha1(source.encode()).hexdigest()[:12]
        self.function = f"sb_route_{digest}"
        self.code = (
            f"#!lua name=sb_routing_{digest}\nlocal FUNCTION_NAME = '{self.function}'\n{source}"
        )

    async def call(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        """FCALL; a server that lacks the library (new, flushed, restarted without
        persistence) gets it loaded and the call is made again, once."""
        try:
            return await client.fcall(self.function, len(keys), *keys, *args)
        except ResponseError as error:
            if "function not found" not in str(error).lower():
                raise
        await self.load(client)
        return await client.fcall(self.function, len(keys), *keys, *args)

    def queue(self, pipe: Any, keys: list[str], args: list[Any]) -> None:
        """Adds a call to a pipeline (the library must be loaded already)."""
        pipe.fcall(self.function, len(keys), *keys, *args)

    async def load(self, client: Any) -> None:
        """FUNCTION LOAD (on every primary of a Cluster); another node's concurrent
        load of the same version is as good as ours."""
        try:
            await client.function_load(self.code)
        except ResponseError as error:
            if "already exists" not in str(error).lower():
                raise
