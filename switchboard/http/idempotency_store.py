"""The answers kept for `Idempotency-Key` on Redis: every key of idempotency lives here.

One hash per caller's key, `<prefix>:idem:<scope>:<key>`: the request's fingerprint and,
while the first request runs, its claim (a random value, lapsing after `CLAIM_TTL_MS`
should its node stop mid-request); once it succeeded, the answer (status, body, content
type), kept `ANSWER_TTL_MS`. Outside the routing hash tag: no routing decision reads
them, and on a Cluster they spread over slots (each script touches one key).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ANSWER_TTL_MS = 24 * 3600 * 1000
# Longer than any create takes, short enough that a request a stopped node left behind
# blocks its key only briefly.
CLAIM_TTL_MS = 120 * 1000

# The key is free: claim it (ARGV: fingerprint, claim, ttl) and answer {'claimed'};
# else answer what it holds: fingerprint, status ('' while in flight), body, content type.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'claim', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
local held = redis.call('HMGET', KEYS[1], 'fingerprint', 'status', 'body', 'content_type')
return {'held', held[1] or '', held[2] or '', held[3] or '', held[4] or ''}
"""
# Keep the answer, only while the claim is still this request's (ARGV: claim, status,
# body, content type, ttl).
_KEEP = """
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'body', ARGV[3], 'content_type', ARGV[4])
redis.call('HDEL', KEYS[1], 'claim')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""
# Give the key up (the create failed), only while the claim is still this request's.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


@dataclass(frozen=True)
class Stored:
    """A first answer kept for a key."""

    status: int
    body: str
    content_type: str


@dataclass(frozen=True)
class Claim:
    """What claiming a key found: this request now runs it (`claimed`, with `claim`, the
    value that proves it), or another request's fingerprint and, once it answered, its
    answer (`stored`; None: still in flight)."""

    key: str
    claimed: bool
    claim: str = ""
    fingerprint: str = ""
    stored: Stored | None = None


class IdempotencyStore:
    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.prefix = prefix
        self._claim = client.register_script(_CLAIM)
        self._keep = client.register_script(_KEEP)
        self._release = client.register_script(_RELEASE)

    def _key(self, scope: str, key: str) -> str:
        return f"{self.prefix}:idem:{scope}:{key}"

    async def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        """Claim `key` of `scope` for a request, or say what holds it."""
        name = self._key(scope, key)
        claim = secrets.token_hex(16)
        found = await self._claim(keys=[name], args=[fingerprint, claim, CLAIM_TTL_MS])
        if found[0] == "claimed":
            return Claim(name, True, claim=claim, fingerprint=fingerprint)
        held, status, body, content_type = found[1:5]
        stored = Stored(int(status), body, content_type) if status else None
        return Claim(name, False, fingerprint=held, stored=stored)

    async def keep(self, claim: Claim, answer: Stored) -> bool:
        """Keep the first answer for a day; False when the claim had lapsed meanwhile."""
        done = await self._keep(
            keys=[claim.key],
            args=[claim.claim, answer.status, answer.body, answer.content_type, ANSWER_TTL_MS],
        )
        return bool(done)

    async def release(self, claim: Claim) -> None:
        """Free the key after a failed create, so the client may fix it and retry."""
        await self._release(keys=[claim.key], args=[claim.claim])
