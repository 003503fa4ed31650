"""The contact center's own nouns as plain data: agents, contacts, queues, outcomes.

Nothing here does I/O; the store turns Redis hashes into these and back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

# The highest contact priority (0-9): boosts of every kind stop here.
MAX_PRIORITY = 9
# The longest short-abandon threshold a queue may set (s): ACDs use 5-10 s; beyond two
# minutes a customer who left was no misdial.
MAX_SHORT_ABANDON_S = 120
# The longest ring an agent may ask for (s): ten times the default 15 s, as WCAG 2.2.1
# asks of an adjustable time limit, and twice that for room.
MAX_AGENT_RING_S = 300


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"


class Presence(StrEnum):
    """What the agent asked for; the routing state (reserved, busy, wrap-up) derives from load."""

    OFFLINE = "offline"
    AVAILABLE = "available"
    NOT_READY = "not_ready"


class AgentState(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"


class ContactState(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    COMPLETED = "completed"
    ABANDONED = "abandoned"
    FAILED = "failed"


TERMINAL_STATES = frozenset({ContactState.COMPLETED, ContactState.ABANDONED, ContactState.FAILED})


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"
    ROUND_ROBIN = "round_robin"
    LEAST_OCCUPIED = "least_occupied"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    PLANNER = "planner"
    ADMIN = "admin"


@dataclass(frozen=True)
class QueueConfig:
    """How one queue routes: who may take its contacts, and when the rules widen."""

    name: str
    skill: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = 1
    answer_within_s: float = 20.0
    service_level_target: float = 0.8
    wrap_up_s: float = 10.0
    ring_s: float = 15.0
    min_proficiency: int = 1
    fallback_languages: tuple[str, ...] = ("en",)
    relax_language_after_s: float | None = 60.0
    relax_region_after_s: float | None = 120.0
    relax_proficiency_after_s: float | None = 180.0
    relax_translation_after_s: float | None = None
    max_wait_s: float | None = None
    overflow_queue: str | None = None
    # Seconds of waiting one point of contact priority is worth when ordering the queue.
    priority_weight_s: float = 60.0
    # Above this predicted wait agents of every region may take the contact at once.
    overflow_region_ewt_s: float | None = None
    # Above this predicted wait a new chat is placed in a region that predicts less.
    placement_ewt_s: float | None = None
    # How often a callback calls a customer who does not pick up (1: once), and how
    # long after the last try.
    callback_attempts: int = 1
    callback_retry_s: float = 300.0
    # A customer who leaves before this wait (s, from queueing) is a short abandon (a
    # misdial, a chat opened by mistake): counted apart, in no abandonment rate (0: off).
    short_abandon_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """Its fields as JSON writes them (the kept definition, the admin API's)."""
        fields = asdict(self)
        fields["strategy"] = self.strategy.value
        fields["fallback_languages"] = list(self.fallback_languages)
        return fields


@dataclass
class Agent:
    agent_id: str
    region: str
    skills: dict[str, int]
    languages: list[str]
    capacity: dict[str, int] = field(default_factory=lambda: {"voice": 1, "chat": 3})
    presence: Presence = Presence.OFFLINE
    reason: str = ""
    sip_uri: str = ""
    load: dict[str, int] = field(default_factory=lambda: {"voice": 0, "chat": 0})
    offers: int = 0
    wrap_up_until_ms: int = 0
    idle_since_ms: int = 0
    node: str = ""
    presence_since_ms: int = 0
    # When what its load shows (busy, ringing, free) last changed (routing.lua load_shown).
    load_since_ms: int = 0
    # A required wrap-up code is owed until the agent gives it (or until then at most):
    # the wrap-up lasts while it is.
    code_owed_until_ms: int = 0
    # The agent's own ring time (s) when longer than a queue's: an agent who needs more
    # time to answer (a screen reader, a switch device); 0: the queue's. None in an
    # upsert that does not say (a roster without the column): the stored one is kept.
    ring_s: int | None = None

    def owes_code(self, now_ms: int) -> bool:
        return self.code_owed_until_ms > now_ms

    @property
    def serving(self) -> bool:
        """Whether the agent serves their queues: signed in and ready. An agent on a break
        (not ready) who still holds a chat takes nothing new, so serves nobody waiting."""
        return self.presence == Presence.AVAILABLE

    def state(self, now_ms: int) -> AgentState:
        """The routing state a supervisor sees, derived from presence and load."""
        if self.presence == Presence.OFFLINE:
            return AgentState.OFFLINE
        if sum(self.load.values()) > self.offers:
            return AgentState.BUSY
        if self.offers:
            return AgentState.RESERVED
        if self.wrap_up_until_ms > now_ms or self.owes_code(now_ms):
            return AgentState.WRAP_UP
        if self.presence == Presence.NOT_READY:
            return AgentState.NOT_READY
        return AgentState.AVAILABLE


@dataclass
class Contact:
    contact_id: str
    channel: Channel
    queue: str
    language: str  # the language subtag (`zh`, `pt`): what routing and translation key on
    region: str
    customer_id: str = ""
    customer_tier: str = "standard"
    priority: int = 0
    skill: str = ""
    state: ContactState = ContactState.QUEUED
    outcome: str = ""
    reason: str = ""
    agent_id: str = ""
    # The agent it rang at when the customer left (the abandon clears `agent_id`).
    left_ringing_at: str = ""
    # The agent whose offer of it ended last (rang out, declined, moved) and why: their
    # late answer is told so (409), not that they may not answer (403).
    offer_ended_for: str = ""
    offer_ended_why: str = ""
    node: str = ""
    explanation: list[str] = field(default_factory=list)
    # The languages its latest offer was matched on (the contact's, the queue's
    # fallbacks, or those a translation pair reaches), in routing's order.
    matched_languages: list[str] = field(default_factory=list)
    timestamps: dict[str, int] = field(default_factory=dict)
    placement: str = ""
    callback_uri: str = ""
    # Voice: each transfer (at_ms, mode, by, from_agent, to...), each recording (file,
    # started_ms, ended_ms, reason) and each hold by the agent's phone (at_ms, held_ms,
    # agent), as telephony notes them.
    transfers: list[dict[str, object]] = field(default_factory=list)
    recordings: list[dict[str, object]] = field(default_factory=list)
    holds: list[dict[str, object]] = field(default_factory=list)
    on_hold_since: int = 0  # ms: the caller is on hold since then (phone or desktop; 0: not)
    # ms: the call's recording is paused since then (card details, PCI DSS; 0: not)
    recording_paused_since: int = 0
    rating: int | None = None
    # The customer id was vouched for (a site's signed identity, or the caller's number).
    verified: bool = False
    # The customer's own tag, script and region kept (`zh-TW`, `zh-Hant`, `pt-BR`): how
    # text is written for them (Traditional Chinese, i18n/chinese.py); `""` when only the
    # language is known (a contact stored before the tag was kept).
    language_tag: str = ""

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def agent_chain(self) -> list[str]:
        """The agents the contact went through, first to last (each transfer's agent, then
        the one it is with now)."""
        chain: list[str] = []
        for agent in [*(str(t.get("from_agent", "")) for t in self.transfers), self.agent_id]:
            if agent and (not chain or chain[-1] != agent):
                chain.append(agent)
        return chain


@dataclass(frozen=True)
class NewContact:
    """A request to create a contact, as the HTTP API or the IVR hands it in."""

    channel: Channel
    queue: str
    language: str
    customer_id: str = ""
    customer_tier: str = "standard"
    priority: int = 0
    # A skill of its own (an IVR reason's); empty: the queue's skill.
    skill: str = ""
    region: str | None = None
    node: str = ""
    placement: str = ""
    # Agents of every region may take it from the start (home region's EWT too long).
    open_regions: bool = False
    # Offered to this agent only, for this long, before anyone else (a case's owner).
    preferred_agent: str = ""
    prefer_s: float = 0.0
    verified: bool = False
    # Why it starts as it does (an advisory's boost): the first lines of its explanation.
    reasons: tuple[str, ...] = ()
    # The customer's own tag (`zh-TW`), kept beside `language`, its language subtag.
    language_tag: str = ""
    # A chat the customer started: how long their window has to open before they have
    # left (`[chat] abandon_grace_s`), judged from its creation on; None: no window is
    # waited for (a chat staff start for a customer, a call).
    window_grace_s: float | None = None


# A background loop's failure (where, what), told to whoever counts them: the node's
# metrics (`Metrics.store_failed`); no one in tests and one-off commands.
LoopFailed = Callable[[str, BaseException], None]


def uncounted(where: str, failure: BaseException) -> None:
    """A loop failure nobody counts."""


@dataclass
class _FailureRun:
    since: float  # when the loop first failed (seconds, the caller's clock)
    logged_at: float  # when a line about it was last logged
    unlogged: int = 0  # failures since that line


@dataclass(frozen=True)
class Burst:
    """What to log of a loop's failures: `count` of them over the last `over_s` seconds
    (the first failure of a run: 1 over 0 s, `first`)."""

    count: int
    over_s: float
    first: bool

    def describe(self, failure: BaseException) -> str:
        if self.first:
            return str(failure)
        return f"failed {self.count} times in the last {self.over_s:.0f} s; last: {failure}"


class RepeatedFailures:
    """Which failures of background loops to log, so that a Redis outage does not write
    ten lines a second per node: a loop's first failure at once, then at most one line per
    `every_s` with how many came meanwhile, and its recovery once. Pure: the caller logs
    and gives the time (`now`, seconds of any monotonic clock)."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._runs: dict[str, _FailureRun] = {}

    def failed(self, where: str, now: float) -> Burst | None:
        """What to log of this failure of `where`'s loop, or None (counted only)."""
        run = self._runs.get(where)
        if run is None:
            self._runs[where] = _FailureRun(since=now, logged_at=now)
            return Burst(1, 0.0, first=True)
        run.unlogged += 1
        if now - run.logged_at < self.every_s:
            return None
        burst = Burst(run.unlogged, now - run.logged_at, first=False)
        run.logged_at, run.unlogged = now, 0
        return burst

    def passed(self, where: str, now: float) -> float | None:
        """How long `where`'s loop failed, when it works again after failing (log it);
        None when it was not failing."""
        run = self._runs.pop(where, None)
        return None if run is None else now - run.since


class LoopLog:
    """The log of one background loop (`what` it does), through RepeatedFailures: its
    first failure at once, then one line per burst with the count, and its recovery
    once; and the failure told to `failed` (the metrics) every time."""

    def __init__(
        self, logger: logging.Logger, where: str, what: str, failed: LoopFailed = uncounted
    ) -> None:
        self.logger, self.where, self.what, self.counted = logger, where, what, failed
        self._failures = RepeatedFailures()

    def failed(self, failure: BaseException) -> None:
        self.counted(self.where, failure)
        burst = self._failures.failed(self.where, time.monotonic())
        if burst is not None:
            self.logger.warning("%s failed: %s", self.what, burst.describe(failure))

    def passed(self) -> float | None:
        """How long the loop failed, when it works again after failing (logged)."""
        out_s = self._failures.passed(self.where, time.monotonic())
        if out_s is not None:
            self.logger.warning("%s works again after %.1f s", self.what, out_s)
        return out_s
