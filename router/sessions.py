"""Sessions of staff: login with throttling, bearer tokens that end, revocation everywhere.

A token is a random string whose record in Redis says who it belongs to; it ends at
its time to live, after an idle period when one is configured, at logout, and whenever
the user's password or role changes or the user is removed; a login that was checking
the password while that happened gets no token (401: `_issue`). Revoking publishes a
`session_closed` event so that every node closes that user's open WebSockets and
event streams at once, and signs the user out of routing: an agent with no session
left is offline (what they held goes back to the queues, see `presence` in
routing.lua), never left Available with nobody at the desk. A session that merely
runs out (its lifetime or idle time) ends no key anyone watches: the agent's node looks
every `expiry_check_s` for agents whose every session has run out and signs them out
the same way (`router.agents.Agents.sign_out_lapsed`).

Password checks run in a thread pool (scrypt at the configured cost takes tens to
hundreds of milliseconds), unknown users cost the same as known ones, and repeated
failures are refused for a growing while: per account and client address together, so
that whoever knows a user name locks that user out only from their own address (the
user signs in from theirs), and per client address across accounts, so that one address
does not try a password on many accounts (`_check_throttle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from router.access import Principal
from router.auth import DEFAULT_LOG2_N, DummyHash, hash_password, needs_rehash, verify_password
from router.errors import BadCredentials, TooManyAttempts, UnknownAgent
from router.model import Presence, Role
from router.users_store import UserRecord, UserStore

log = logging.getLogger(__name__)
# What login failures are counted by (`UserStore.add_failure`'s kinds): an account from
# one client address, and a client address whatever the account.
ACCOUNT_AT_ADDRESS = "account_at_address"
ADDRESS = "address"


@dataclass(frozen=True)
class SessionPolicy:
    """`[auth]`: token life, idle timeout, login throttling and the password hash cost."""

    token_ttl_s: float = 12 * 3600
    idle_timeout_s: float | None = None
    # Failures allowed for one account from one client address before that address's
    # logins to that account are refused for a while.
    max_failures: int = 5
    # Failures allowed from one client address, whatever the accounts, before all its
    # logins are refused for a while (a few colleagues behind one NAT mistyping).
    address_max_failures: int = 20
    failure_window_s: float = 900.0
    lockout_base_s: float = 2.0  # doubles with every failure past max_failures
    lockout_max_s: float = 900.0
    scrypt_log2_n: int = DEFAULT_LOG2_N
    # How often a node signs out its agents whose every session has run out.
    expiry_check_s: float = 15.0


# Checks a sign-in of this principal before its session exists (raises to refuse).
Admit = Callable[[Principal], Awaitable[None]]


class Presences(Protocol):
    """Agents' presence in routing (router.service.Router): UnknownAgent for a user who
    is no agent."""

    async def set_presence(self, agent_id: str, presence: Presence, reason: str = "") -> object: ...


class Sessions:
    def __init__(
        self,
        users: UserStore,
        events: Any,
        policy: SessionPolicy | None = None,
        presences: Presences | None = None,
    ) -> None:
        """`events` publishes cross-node events (the routing store's `publish_event`);
        `presences` takes a user whose every session ended offline (when they are an
        agent)."""
        self.users = users
        self.events = events
        self.policy = policy or SessionPolicy()
        self.presences = presences
        self._dummy = DummyHash(self.policy.scrypt_log2_n)
        # Each check holds 128·N·r bytes for its duration: at most two at a time.
        self._hashing = asyncio.Semaphore(2)

    async def _in_pool(self, work: Any, *args: Any) -> Any:
        """Password work in a thread, off the event loop, bounded in memory."""
        async with self._hashing:
            return await asyncio.to_thread(work, *args)

    # -- accounts --------------------------------------------------------------------

    async def save_user(
        self,
        user_id: str,
        role: Role,
        password: str,
        *,
        queues: tuple[str, ...] = (),
        regions: tuple[str, ...] = (),
    ) -> bool:
        """Create or update a user; a change of an existing one ends its sessions.
        Returns whether the user existed."""
        password_hash = await asyncio.to_thread(hash_password, password, self.policy.scrypt_log2_n)
        existed = await self.users.get(user_id) is not None
        await self.users.put(UserRecord(user_id, role.value, password_hash, queues, regions))
        if existed:
            await self.revoke_all(user_id, "account changed")
        return existed

    async def remove_user(self, user_id: str) -> bool:
        """Remove the record first, then the sessions: a login that reads the record
        after this began finds nobody, one that read it before has its token withdrawn
        (`login`) or revoked here."""
        removed = await self.users.delete(user_id)
        await self.revoke_all(user_id, "account removed")
        return removed

    async def reset_sip_account(self, user_id: str) -> bool:
        """A new SIP password for the user (the old one stops working on every node, and
        their softphone's registrations are dropped); False for an unknown user."""
        if not await self.users.reset_sip_salt(user_id):
            return False
        await self.events.publish_event({"type": "sip_account_reset", "user_id": user_id})
        return True

    # -- login -----------------------------------------------------------------------

    async def login(
        self, user_id: str, password: str, client: str = "", admit: Admit | None = None
    ) -> tuple[str, Principal]:
        """A new token for the user; TooManyAttempts while throttled, BadCredentials for an
        unknown user or a wrong password (the same to the caller). `admit` sees who signs
        in once the password is right and before any token exists: what it raises refuses
        the login with no session left behind."""
        await self._check_throttle(user_id, client)
        user = await self.users.get(user_id)
        stored = (
            user.password_hash
            if user is not None
            else await self._in_pool(lambda: self._dummy.value)
        )
        ok = await self._in_pool(verify_password, password, stored)
        if user is None or not ok or not _known_role(user.role):
            await self._count_failure(user_id, client)
            raise BadCredentials("unknown user or wrong password")
        await self.users.clear_failures(ACCOUNT_AT_ADDRESS, _account_at(user_id, client))
        principal = _principal(user.user_id, user.role, user.queues, user.regions)
        if admit is not None:
            await admit(principal)
        if needs_rehash(user.password_hash, self.policy.scrypt_log2_n):
            upgraded = await self._in_pool(hash_password, password, self.policy.scrypt_log2_n)
            if not await self.users.set_password_hash(user, upgraded):
                raise BadCredentials("the account changed during the login")
        token = secrets.token_urlsafe(32)
        await self._issue(token, user)
        return token, principal

    async def _issue(self, token: str, user: UserRecord) -> None:
        """Store the token, then confirm the account is still as read before the password
        check, or withdraw it (BadCredentials). Token and user keys lie on different
        Cluster slots, so no one script holds both; the order makes it safe instead: a
        revocation changes the version before it lists the tokens to delete, a login
        lists its token before it reads the version, so either the revocation finds the
        token or the login finds the version changed."""
        await self.users.add_token(token, user, self.policy.token_ttl_s, self.policy.idle_timeout_s)
        if not await self.users.is_current(user):
            await self.users.delete_token(user.user_id, token)
            raise BadCredentials("the account changed during the login")

    async def _check_throttle(self, user_id: str, client: str) -> None:
        """TooManyAttempts while the account from this address, or this address whatever
        the account, failed too often lately. An account's failures from other addresses
        count for nothing here: a right password from the user's own address signs in
        while someone elsewhere guesses (each guesser is slowed at their address)."""
        kinds = {ACCOUNT_AT_ADDRESS: _account_at(user_id, client)}
        allowed = {ACCOUNT_AT_ADDRESS: self.policy.max_failures}
        if client:
            kinds[ADDRESS] = client
            allowed[ADDRESS] = self.policy.address_max_failures
        counts = await self.users.failures(kinds)
        wait = 0.0
        for kind, (count, ttl_s) in counts.items():
            over = count - allowed[kind]
            if over >= 0:
                lockout = min(self.policy.lockout_base_s * 2**over, self.policy.lockout_max_s)
                # The count's age tells how long ago the last failure was.
                since_last = self.policy.failure_window_s - ttl_s
                wait = max(wait, lockout - since_last)
        if wait > 0:
            raise TooManyAttempts(wait)

    async def _count_failure(self, user_id: str, client: str) -> None:
        window_s = self.policy.failure_window_s
        await self.users.add_failure(ACCOUNT_AT_ADDRESS, _account_at(user_id, client), window_s)
        if client:
            await self.users.add_failure(ADDRESS, client, window_s)

    # -- tokens ----------------------------------------------------------------------

    async def principal(self, token: str) -> Principal | None:
        """Who holds `token`, or None when it is unknown, expired or revoked. Use keeps an
        idle-limited token alive, never past its absolute end (`token_ttl_s` from login,
        the `expires_at` the login answered)."""
        if not token or len(token) > 128:
            return None
        record = await self.users.get_token(token)
        if record is None or not _known_role(record.role):
            return None
        left_s = record.expires_at - time.time() if record.expires_at else None
        if left_s is not None and left_s <= 0:
            return None
        if self.policy.idle_timeout_s:
            idle_s = self.policy.idle_timeout_s
            await self.users.touch_token(token, idle_s if left_s is None else min(idle_s, left_s))
        return _principal(record.user_id, record.role, record.queues, record.regions)

    async def expires_at(self, token: str) -> float | None:
        """When `token` ends at the latest (Unix seconds), idle or not; None when it is
        not valid."""
        record = await self.users.get_token(token) if token else None
        return record.expires_at if record is not None and record.expires_at else None

    async def logout(self, token: str) -> Principal | None:
        principal = await self.principal(token)
        if principal is None:
            return None
        await self.users.delete_token(principal.user_id, token)
        await self.events.publish_event(
            {
                "type": "session_closed",
                "user_id": principal.user_id,
                "token_ids": [token_id(token)],
                "reason": "logged out",
            }
        )
        return principal

    async def revoke_all(self, user_id: str, reason: str, offline_reason: str = "") -> int:
        """End every session of a user on every node, and sign the user out of routing
        (an agent goes offline, with `offline_reason` or else `reason`: nobody is at the
        desk); returns how many tokens ended."""
        await self.users.new_version(user_id)  # before listing: see `_issue`
        tokens = await self.users.delete_tokens(user_id)
        await self.events.publish_event(
            {
                "type": "session_closed",
                "user_id": user_id,
                "agent_id": user_id,
                "token_ids": [token_id(t) for t in tokens],
                "reason": reason,
            }
        )
        await self.signed_out(user_id, offline_reason or reason)
        return len(tokens)

    async def signed_out(self, user_id: str, reason: str) -> None:
        """A user with no session left: offline in routing, if they are an agent."""
        if self.presences is None:
            return
        with contextlib.suppress(UnknownAgent):  # a user who is no agent (a planner...)
            await self.presences.set_presence(user_id, Presence.OFFLINE, reason)


def _account_at(user_id: str, client: str) -> str:
    """The key of an account's failures from one client address: the address first, as
    it holds no `/` (an IP address) while a user id stored before ids refused it may."""
    return f"{client}/{user_id}"


def token_id(token: str) -> str:
    """A short, non-secret name of a token, for events and logs."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _known_role(role: str) -> bool:
    return role in {r.value for r in Role}


def _principal(
    user_id: str, role: str, queues: tuple[str, ...], regions: tuple[str, ...]
) -> Principal:
    return Principal(user_id, Role(role), frozenset(queues), frozenset(regions))
