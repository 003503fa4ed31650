"""Softphone accounts: the SIP account each member of staff registers their softphone with.

Real softphones are set up with an account (server, user, password) and REGISTER with
digest auth; Kamailio, the node's front door, is their registrar (telephony/frontdoor.py).
The one home of a SIP credential is the user's record: the password is never stored
anywhere. It is derived, when needed, from the node's secret and a random per-user salt
kept on the user's record in Redis (`UserStore.sip_salt`):

    password = base32(HMAC-SHA256(node secret, "sip-password" / user / salt))[:24]

Kamailio gets only HA1 = MD5(user:realm:password), the digest form, into in-memory
htables over its JSON-RPC socket, pushed when a user signs in. Two rules, one table
each: a phone registers with the HA1 in REGISTERING, which a sign-out leaves there (the
phone keeps refreshing its registration, so signed in again the user is called there at
once); a call reaches only a user in SIGNED_IN, which the last sign-out, a supervisor's
log-out or a session running out take away (the front door answers 404). A removed user
or a new password takes both, and the registrations. An admin revokes one user's SIP
account with `switchboard users sip-reset --id ID`: a new salt, hence a new password,
and every node drops the old HA1 and contacts.
Kamailio 5.6 has no HMAC of its own (no crypto module in Debian's build), which is why
the node does the derivation and pushes the result rather than Kamailio computing it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from telephony.model import SipConfig

log = logging.getLogger(__name__)

# The characters a SIP user part may hold unescaped (RFC 3261 `user`, without escapes).
SIP_USER = re.compile(r"[A-Za-z0-9_.!~*'()&=+$,;?/-]{1,64}")
# Kamailio's htables (its configuration names them too), each user's HA1 by user name:
# the phones that may register (kept through a sign-out; a refresh answered 403 let the
# binding run out, and some phones stop registering after a 403 until the user acts),
# and the users signed in here, the only ones a call reaches.
REGISTERING = "sipreg"
SIGNED_IN = "sipauth"
PASSWORD_CHARS = 24  # of base32: 120 bits
RPC_WAIT_S = 2.0


class NoSipAccount(LookupError):
    """The user has no SIP account here (unknown user, or an id no SIP user may carry)."""


@dataclass(frozen=True)
class SipAccount:
    """What a softphone is configured with; `uri` is where the node calls it."""

    user: str
    domain: str
    server: str  # host:port of the node's front door
    transport: str  # the one to configure when a phone takes one (UDP: every phone has it)
    password: str
    transports: tuple[str, ...] = ("udp",)  # every one the front door takes

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{self.server}"

    def as_json(self) -> dict[str, str]:
        return {**asdict(self), "uri": self.uri}


def sip_password(secret: bytes, user: str, salt: str) -> str:
    digest = hmac.new(secret, f"sip-password\0{user}\0{salt}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:PASSWORD_CHARS]


def ha1(user: str, realm: str, password: str) -> str:
    """The digest HA1 (RFC 2617): what the registrar checks a response against."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def load_secret(path: Path) -> bytes:
    """The node's secret for SIP passwords; made (random, 0600) the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".sip-secret")
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # never over a secret another process just made
        os.unlink(temporary)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < 16:
        raise ValueError(f"{path}: the SIP secret must have 16 characters or more")
    return secret.encode()


class UserSalts(Protocol):
    """What `router.users_store.UserStore` offers for SIP accounts."""

    async def sip_salt(self, user_id: str) -> str | None: ...

    async def token_count(self, user_id: str) -> int: ...


class Registrar(Protocol):
    async def allow(self, user: str, ha1: str) -> None: ...

    async def refuse(self, user: str) -> None: ...

    async def forget(self, user: str) -> None: ...


class KamailioRegistrar:
    """Kamailio's JSON-RPC over its unix datagram socket (module jsonrpcs)."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self._lock = asyncio.Lock()

    async def allow(self, user: str, ha1: str) -> None:
        """The user's phone registers with this HA1 and is called."""
        await self.call("htable.sets", REGISTERING, user, ha1)
        await self.call("htable.sets", SIGNED_IN, user, ha1)

    async def refuse(self, user: str) -> None:
        """No call reaches the user's phone (the front door answers 404); the phone goes
        on refreshing its registration (200), which stays for the next sign-in."""
        await self.call("htable.delete", SIGNED_IN, user, tolerate=True)

    async def forget(self, user: str) -> None:
        """As `refuse`, and the phone may not register any more: its HA1 and its
        contacts are gone at once."""
        await self.refuse(user)
        await self.call("htable.delete", REGISTERING, user, tolerate=True)
        await self.call("ul.rm", "location", user, tolerate=True)

    async def call(self, method: str, *params: Any, tolerate: bool = False) -> Any:
        async with self._lock:
            reply = await asyncio.to_thread(self._exchange, method, list(params))
        if "error" in reply and not tolerate:
            raise RuntimeError(f"kamailio {method}: {reply['error'].get('message')}")
        return reply.get("result")

    def _exchange(self, method: str, params: list[Any]) -> dict[str, Any]:
        request = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
        with tempfile.TemporaryDirectory(prefix="sb-rpc") as scratch:
            own = str(Path(scratch, "c.sock"))
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.bind(own)
                sock.settimeout(RPC_WAIT_S)
                sock.sendto(json.dumps(request).encode(), str(self.socket_path))
                data = sock.recv(1 << 16)
        answer: dict[str, Any] = json.loads(data)
        return answer


class Softphones:
    """The node's softphone accounts: derive, show, allow and forget them."""

    def __init__(
        self, secret: bytes, sip: SipConfig, users: UserSalts, registrar: Registrar
    ) -> None:
        self.secret = secret
        self.sip = sip
        self.users = users
        self.registrar = registrar

    @property
    def domain(self) -> str:
        return self.sip.domain or self.sip.host

    async def account(self, user_id: str) -> SipAccount:
        """The user's account; NoSipAccount when the user is unknown or their id cannot
        be a SIP user."""
        if not SIP_USER.fullmatch(user_id):
            raise NoSipAccount(f"user id {user_id!r} cannot be a SIP user name")
        salt = await self.users.sip_salt(user_id)
        if salt is None:
            raise NoSipAccount(f"no user {user_id!r}")
        return SipAccount(
            user=user_id,
            domain=self.domain,
            server=f"{self.sip.host}:{self.sip.port}",
            transport="udp",
            password=sip_password(self.secret, user_id, salt),
            transports=self.sip.transports,
        )

    async def allow(self, user_id: str) -> SipAccount:
        """The registrar accepts this user's softphone (with the current password)."""
        account = await self.account(user_id)
        await self.registrar.allow(user_id, ha1(user_id, self.domain, account.password))
        return account

    async def forget(self, user_id: str) -> None:
        """The account revoked (a new password, the user removed): registrations go too."""
        if SIP_USER.fullmatch(user_id):
            await self.registrar.forget(user_id)

    async def signed_out(self, user_id: str) -> None:
        """The user signed out: their phone is not called until they sign in again, but
        it keeps its registration, refreshes included. A phone does not know it was
        dropped: after a sign-in it went on saying "registered" while every call to it
        was refused 480 until its own refresh, minutes later, and each offer ended at
        once as the agent's "no answer"; and a refresh refused 403 while signed out let
        the binding run out just the same (the first offer after the sign-in was
        `phone_unreachable`), or stopped the phone registering at all."""
        if SIP_USER.fullmatch(user_id):
            await self.registrar.refuse(user_id)

    async def refresh(self, user_id: str, *, reset: bool = False) -> None:
        """After a sign-out elsewhere (or a changed or removed user): a user still signed
        in keeps registering, with the current password; one who is not is signed out
        (`signed_out`), and a removed one forgotten, registrations and all. `reset` (a
        new password): the old registrations go first."""
        if reset:
            await self.forget(user_id)
        try:
            if await self.users.token_count(user_id):
                await self.allow(user_id)
                return
        except NoSipAccount:
            await self.forget(user_id)
            return
        await self.signed_out(user_id)
