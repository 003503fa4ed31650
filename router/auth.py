"""Password hashes: scrypt (memory-hard, in the standard library), at a current cost.

OWASP's password storage cheat sheet asks for scrypt at N = 2^17, r = 8, p = 1 (128 MiB
per hash). The cost is a setting (`[auth] scrypt_log2_n`) because it is paid on every
login; hashes record their own parameters, so a stored hash keeps verifying after the
setting changes and is upgraded at the next successful login (`needs_rehash`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEFAULT_LOG2_N = 17
SCRYPT_R, SCRYPT_P = 8, 1
_MAXMEM_SLACK = 2


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    maxmem = 128 * n * r * p * _MAXMEM_SLACK  # scrypt needs 128·N·r·p bytes
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=32,
        maxmem=maxmem,
    )


def hash_password(password: str, log2_n: int = DEFAULT_LOG2_N) -> str:
    salt = secrets.token_bytes(16)
    n = 2**log2_n
    digest = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; a malformed hash matches nothing."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def needs_rehash(stored: str, log2_n: int) -> bool:
    return not stored.startswith(f"scrypt${2**log2_n}${SCRYPT_R}${SCRYPT_P}$")


class DummyHash:
    """A hash of a random password at the configured cost: checking a login for a user
    who does not exist against it costs what a real check costs, so the answer's timing
    does not tell which users exist."""

    def __init__(self, log2_n: int) -> None:
        self.log2_n = log2_n
        self._value: str | None = None

    @property
    def value(self) -> str:
        if self._value is None:
            self._value = hash_password(secrets.token_urlsafe(16), self.log2_n)
        return self._value
