"""Users, roles, password hashes (scrypt, memory-hard, standard library) and bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from router.model import Role

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB per hash
TOKEN_TTL_S = 12 * 3600


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role

    def may_act_for(self, agent_id: str) -> bool:
        return self.user_id == agent_id or self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def may_read_all(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN, Role.PLANNER)


class UserStore:
    def __init__(self, client: Any, prefix: str = "sb") -> None:
        self.client = client
        self.prefix = prefix

    async def add(self, user_id: str, role: Role, password: str) -> None:
        await self.client.hset(
            f"{self.prefix}:user:{user_id}",
            mapping={"role": role.value, "password": hash_password(password)},
        )

    async def authenticate(self, user_id: str, password: str) -> Principal | None:
        fields = await self.client.hgetall(f"{self.prefix}:user:{user_id}")
        if not fields or not verify_password(password, fields.get("password", "")):
            return None
        return Principal(user_id, Role(fields["role"]))

    async def issue_token(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(32)
        await self.client.set(
            f"{self.prefix}:token:{token}",
            json.dumps({"user_id": principal.user_id, "role": principal.role.value}),
            ex=TOKEN_TTL_S,
        )
        await self.client.sadd(f"{self.prefix}:tokens:{principal.user_id}", token)
        return token

    async def principal(self, token: str) -> Principal | None:
        raw = await self.client.get(f"{self.prefix}:token:{token}")
        if raw is None:
            return None
        data = json.loads(raw)
        return Principal(data["user_id"], Role(data["role"]))

    async def revoke_all(self, user_id: str) -> int:
        """Close every session of a user (logout, or the node that held it died)."""
        key = f"{self.prefix}:tokens:{user_id}"
        tokens = await self.client.smembers(key)
        for token in tokens:  # one key per call: tokens spread over Cluster slots
            await self.client.delete(f"{self.prefix}:token:{token}")
        await self.client.delete(key)
        return len(tokens)
