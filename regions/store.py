"""Node membership on Redis: each node heartbeats a key with a TTL; an expired key is a
dead node. Every key of the regions package lives here."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    region: str
    http: str
    started_at: float
    last_seen: float
    load: dict[str, Any]

    @property
    def age_s(self) -> float:
        return time.time() - self.last_seen


class MembershipStore:
    def __init__(self, client: Any, prefix: str, ttl_s: float) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    def _key(self, node_id: str) -> str:
        return f"{self.prefix}:node:{node_id}"

    async def beat(
        self, node_id: str, region: str, http: str, started_at: float, load: dict[str, Any]
    ) -> None:
        payload = {
            "node_id": node_id,
            "region": region,
            "http": http,
            "started_at": started_at,
            "last_seen": time.time(),
            "load": load,
        }
        await self.client.set(self._key(node_id), json.dumps(payload), px=int(self.ttl_s * 1000))
        await self.client.hset(f"{self.prefix}:nodes", node_id, json.dumps(payload))

    async def nodes(self) -> list[tuple[NodeInfo, bool]]:
        """Every node ever seen, with whether its heartbeat is alive (two round trips)."""
        known = sorted((await self.client.hgetall(f"{self.prefix}:nodes")).items())
        if not known:
            return []
        pipe = self.client.pipeline(transaction=False)
        for node_id, _ in known:
            pipe.exists(self._key(node_id))
        alive = await pipe.execute()
        return [
            (NodeInfo(**json.loads(raw)), bool(up))
            for (_, raw), up in zip(known, alive, strict=True)
        ]

    async def claim_adoption(self, dead: NodeInfo, heir: str) -> bool:
        """One heir per death of a node, even if two nodes disagree on who is alive."""
        key = f"{self.prefix}:adopt:{dead.node_id}:{dead.started_at}"
        return bool(await self.client.set(key, heir, nx=True, ex=3600))

    async def is_alive(self, node_id: str) -> bool:
        return bool(await self.client.exists(self._key(node_id)))

    async def forget(self, node_id: str) -> None:
        await self.client.hdel(f"{self.prefix}:nodes", node_id)

    async def record_adoption(self, adoption: dict[str, Any]) -> None:
        await self.client.rpush(f"{self.prefix}:adoptions", json.dumps(adoption))
        await self.client.ltrim(f"{self.prefix}:adoptions", -100, -1)

    async def adoptions(self) -> list[dict[str, Any]]:
        return [
            json.loads(raw) for raw in await self.client.lrange(f"{self.prefix}:adoptions", 0, -1)
        ]

    async def leave(self, node_id: str) -> None:
        """Stop beating at once, so that the heir adopts without waiting for the TTL."""
        await self.client.delete(self._key(node_id))
