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
    # Which process of the node id wrote it (a new one at each start); "" before there was one.
    run: str = ""
    # It stopped cleanly (its last act: `leave`), rather than died.
    left: bool = False

    @property
    def age_s(self) -> float:
        return time.time() - self.last_seen


class MembershipStore:
    def __init__(self, client: Any, prefix: str, ttl_s: float) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s

    # Each key of the membership, named once.

    def _heartbeat_key(self, node_id: str) -> str:
        """A live node's heartbeat (expires with its TTL)."""
        return f"{self.prefix}:node:{node_id}"

    def _nodes_key(self) -> str:
        """Every node seen (hash: node id -> its last heartbeat), until adopted."""
        return f"{self.prefix}:nodes"

    def _adoptions_key(self) -> str:
        """The last 100 adoptions (list, oldest first)."""
        return f"{self.prefix}:adoptions"

    def _claim_key(self, dead: NodeInfo) -> str:
        """Who adopts one death of a node (named by its last heartbeat)."""
        return f"{self.prefix}:adopt:{dead.node_id}:{dead.last_seen!r}"

    async def beat(
        self,
        node_id: str,
        region: str,
        http: str,
        started_at: float,
        load: dict[str, Any],
        run: str = "",
    ) -> NodeInfo | None:
        """Renew the heartbeat; answers the one it replaced, if it was still alive."""
        payload = json.dumps(
            {
                "node_id": node_id,
                "region": region,
                "http": http,
                "started_at": started_at,
                "last_seen": time.time(),
                "load": load,
                "run": run,
            }
        )
        replaced = await self.client.set(
            self._heartbeat_key(node_id), payload, px=int(self.ttl_s * 1000), get=True
        )
        await self.client.hset(self._nodes_key(), node_id, payload)
        return NodeInfo(**json.loads(replaced)) if replaced else None

    async def heartbeat(self, node_id: str) -> tuple[str, NodeInfo] | None:
        """The node's live heartbeat as stored (to tell a renewal) and read, if any."""
        raw = await self.client.get(self._heartbeat_key(node_id))
        return (raw, NodeInfo(**json.loads(raw))) if raw else None

    async def known(self, node_id: str) -> NodeInfo | None:
        """What the node's last heartbeat said, alive or not, until it is forgotten."""
        raw = await self.client.hget(self._nodes_key(), node_id)
        return NodeInfo(**json.loads(raw)) if raw else None

    async def nodes(self) -> list[tuple[NodeInfo, bool]]:
        """Every node ever seen, with whether its heartbeat is alive (two round trips; a
        third when one is not). A node whose heartbeat is gone is read again after: a
        node that stops marks its entry before it deletes its heartbeat (`leave`), so
        the entry read after the heartbeat was found gone has the mark, and a clean
        stop is never taken for a death, not even for a moment."""
        known = sorted((await self.client.hgetall(self._nodes_key())).items())
        if not known:
            return []
        pipe = self.client.pipeline(transaction=False)
        for node_id, _ in known:
            pipe.exists(self._heartbeat_key(node_id))
        alive = await pipe.execute()
        listed = [(node_id, raw, bool(up)) for (node_id, raw), up in zip(known, alive, strict=True)]
        gone = [node_id for node_id, _, up in listed if not up]
        if gone:
            again = await self.client.hmget(self._nodes_key(), gone)
            latest = dict(zip(gone, again, strict=True))
            # One forgotten meanwhile was adopted (and its adoption recorded): left out.
            listed = [(n, latest.get(n, raw), up) for n, raw, up in listed]
        return [(NodeInfo(**json.loads(raw)), up) for _, raw, up in listed if raw]

    async def claim_adoption(self, dead: NodeInfo, heir: str) -> bool:
        """One heir per death of a node, even if two nodes disagree on who is alive. A
        death is named by the last heartbeat before it, not by the process: a process
        adopted while alive (cut off from Redis for a TTL) that beats again and then dies
        is adopted again, and its restart recovers what it left."""
        return bool(await self.client.set(self._claim_key(dead), heir, nx=True, ex=3600))

    async def forget(self, dead: NodeInfo) -> None:
        """Drop an adopted node from the membership, unless it beat again since (it was
        alive after all): then it stays, so that its next death is seen."""
        await self.client.eval(_FORGET, 1, self._nodes_key(), dead.node_id, repr(dead.last_seen))

    async def record_adoption(self, adoption: dict[str, Any]) -> None:
        await self.client.rpush(self._adoptions_key(), json.dumps(adoption))
        await self.client.ltrim(self._adoptions_key(), -100, -1)

    async def adoptions(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self.client.lrange(self._adoptions_key(), 0, -1)]

    async def leave(self, node_id: str, run: str) -> None:
        """End the heartbeat at once, so that the heir adopts without waiting for the TTL;
        only if it is this run's (a process refused for a node id in use leaves the
        running one's alone). The entry is marked stopped first, the heartbeat deleted
        after: whoever finds the heartbeat gone finds the mark (the heir tells a clean
        stop from a death, the wallboard shows no node down). Two keys, two calls: on
        Redis Cluster they live in different slots."""
        nodes = self._nodes_key()
        last = await self.client.hget(nodes, node_id)
        if last and json.loads(last).get("run") == run:
            payload = json.dumps({**json.loads(last), "left": True})
            await self.client.eval(_MARK_LEFT, 1, nodes, node_id, last, payload)
        await self.client.eval(_LEAVE, 1, self._heartbeat_key(node_id), run)


# Delete the heartbeat if the given run wrote it.
_LEAVE = """
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw)['run'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Replace the node's entry (with its stopped mark) if it is still the one read.
_MARK_LEFT = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 0
"""

# Delete the node's entry if its last heartbeat is still the given one.
_FORGET = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw and cjson.decode(raw)['last_seen'] == tonumber(ARGV[2]) then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""
