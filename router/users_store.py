"""Users, their bearer tokens and failed logins on Redis: every key of sessions lives here.

Users and tokens sit outside the routing hash tag: no decision reads them, and on a
Cluster they spread over slots (so each token is deleted with its own call).

A user's record carries a `version`, a random value that changes with every change of
the account and every revocation of its sessions: a login compares it after storing its
token (`is_current`) and withdraws the token when it moved, so no token issued from a
record read before a change outlives the change (router.sessions).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    role: str
    password_hash: str
    queues: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    version: str = ""  # "" for a record stored before versions existed


# Compare-and-set on one user's hash (one key: legal on a Cluster).
_SET_IF_VERSION = """
if redis.call('HEXISTS', KEYS[1], 'role') == 0 then return 0 end
if (redis.call('HGET', KEYS[1], 'version') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1
"""
_NEW_VERSION = """
if redis.call('HEXISTS', KEYS[1], 'role') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1])
return 1
"""


def _new_version() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class TokenRecord:
    user_id: str
    role: str
    queues: tuple[str, ...]
    regions: tuple[str, ...]
    expires_at: float


class UserStore:
    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.prefix = prefix

    def _user(self, user_id: str) -> str:
        return f"{self.prefix}:user:{user_id}"

    def _token(self, token: str) -> str:
        return f"{self.prefix}:token:{token}"

    def _tokens(self, user_id: str) -> str:
        return f"{self.prefix}:tokens:{user_id}"

    def _failures(self, kind: str, key: str) -> str:
        return f"{self.prefix}:login_failures:{kind}:{key}"

    # -- users ----------------------------------------------------------------------

    async def get(self, user_id: str) -> UserRecord | None:
        fields = await self.client.hgetall(self._user(user_id))
        if not fields:
            return None
        return UserRecord(
            user_id=user_id,
            role=fields.get("role", ""),
            password_hash=fields.get("password", ""),
            queues=tuple(json.loads(fields.get("queues") or "[]")),
            regions=tuple(json.loads(fields.get("regions") or "[]")),
            version=fields.get("version", ""),
        )

    async def put(self, user: UserRecord) -> None:
        """Store the user with a new version (whatever `user.version` says)."""
        await self.client.hset(
            self._user(user.user_id),
            mapping={
                "role": user.role,
                "password": user.password_hash,
                "queues": json.dumps(list(user.queues)),
                "regions": json.dumps(list(user.regions)),
                "version": _new_version(),
            },
        )

    async def set_password_hash(self, user: UserRecord, password_hash: str) -> bool:
        """Replace the hash of the same password (a cost upgrade) only if the account is
        still the one `user` was read as: an admin's new password set meanwhile stays."""
        done = await self.client.eval(
            _SET_IF_VERSION, 1, self._user(user.user_id), user.version, "password", password_hash
        )
        return bool(done)

    async def new_version(self, user_id: str) -> None:
        """Mark the account changed (its sessions are being revoked); nothing for a user
        who does not exist."""
        await self.client.eval(_NEW_VERSION, 1, self._user(user_id), _new_version())

    async def is_current(self, user: UserRecord) -> bool:
        """Whether the account still exists and has not changed since `user` was read."""
        role, version = await self.client.hmget(self._user(user.user_id), ["role", "version"])
        return role is not None and (version or "") == user.version

    async def delete(self, user_id: str) -> bool:
        return bool(await self.client.delete(self._user(user_id)))

    async def sip_salt(self, user_id: str) -> str | None:
        """The user's SIP salt (made the first time); None for an unknown user. With the
        node's secret it derives the SIP password (telephony.softphones), never stored."""
        key = self._user(user_id)
        if not await self.client.exists(key):
            return None
        await self.client.hsetnx(key, "sip_salt", secrets.token_hex(16))
        salt = await self.client.hget(key, "sip_salt")
        return None if salt is None else str(salt)

    async def reset_sip_salt(self, user_id: str) -> bool:
        """A new salt: the user's SIP password changes (revoking the old). False: no user."""
        key = self._user(user_id)
        if not await self.client.exists(key):
            return False
        await self.client.hset(key, "sip_salt", secrets.token_hex(16))
        return True

    # -- tokens ---------------------------------------------------------------------

    async def add_token(
        self, token: str, user: UserRecord, ttl_s: float, idle_s: float | None
    ) -> None:
        """Store a token for `ttl_s` (or `idle_s` until next used, when shorter) and list
        it under its user, dropping the user's expired ones from that list."""
        now = time.time()
        expires_at = now + ttl_s
        record = {
            "user_id": user.user_id,
            "role": user.role,
            "queues": list(user.queues),
            "regions": list(user.regions),
            "expires_at": expires_at,
        }
        life = min(ttl_s, idle_s) if idle_s else ttl_s
        await self.client.set(self._token(token), json.dumps(record), px=int(life * 1000))
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(self._tokens(user.user_id), "-inf", now)
        pipe.zadd(self._tokens(user.user_id), {token: expires_at})
        pipe.expire(self._tokens(user.user_id), int(ttl_s) + 1)
        await pipe.execute()

    async def get_token(self, token: str) -> TokenRecord | None:
        raw = await self.client.get(self._token(token))
        if raw is None:
            return None
        data = json.loads(raw)
        return TokenRecord(
            user_id=data["user_id"],
            role=data["role"],
            queues=tuple(data.get("queues", ())),
            regions=tuple(data.get("regions", ())),
            expires_at=float(data.get("expires_at", 0)),
        )

    async def touch_token(self, token: str, seconds: float) -> None:
        """Extend an idle-limited token by `seconds` from now."""
        await self.client.pexpire(self._token(token), int(seconds * 1000))

    async def delete_token(self, user_id: str, token: str) -> None:
        await self.client.delete(self._token(token))
        await self.client.zrem(self._tokens(user_id), token)

    async def delete_tokens(self, user_id: str) -> list[str]:
        """Delete every token of a user; returns them."""
        tokens = list(await self.client.zrange(self._tokens(user_id), 0, -1))
        for token in tokens:  # one key per call: tokens spread over Cluster slots
            await self.client.delete(self._token(token))
        await self.client.delete(self._tokens(user_id))
        return tokens

    async def token_count(self, user_id: str) -> int:
        """The user's sessions still alive: listed, and their token key not yet gone (a
        token idle too long expires as a key before its entry in the list)."""
        tokens = await self.client.zrangebyscore(self._tokens(user_id), time.time(), "+inf")
        alive = 0
        for token in tokens:  # one key per call: tokens spread over Cluster slots
            alive += int(await self.client.exists(self._token(token)))
        return alive

    # -- failed logins --------------------------------------------------------------

    async def add_failure(self, kind: str, key: str, window_s: float) -> int:
        """Count one more failed login for an account or an address within a window."""
        name = self._failures(kind, key)
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, int(window_s))
        count, _ = await pipe.execute()
        return int(count)

    async def failures(self, kinds: dict[str, str]) -> dict[str, tuple[int, float]]:
        """Per kind: failures counted and seconds until the count is forgotten."""
        pipe = self.client.pipeline(transaction=False)
        for kind, key in kinds.items():
            pipe.get(self._failures(kind, key))
            pipe.pttl(self._failures(kind, key))
        values = await pipe.execute()
        result = {}
        for index, kind in enumerate(kinds):
            count, ttl_ms = values[2 * index], values[2 * index + 1]
            result[kind] = (int(count or 0), max(int(ttl_ms or 0), 0) / 1000)
        return result

    async def clear_failures(self, kind: str, key: str) -> None:
        await self.client.delete(self._failures(kind, key))
