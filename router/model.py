"""The contact center's own nouns as plain data: agents, contacts, queues, outcomes.

Nothing here does I/O; the store turns Redis hashes into these and back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

# The highest contact priority (0-9): boosts of every kind stop here.
MAX_PRIORITY = 9


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
    # A required wrap-up code is owed until the agent gives it (or until then at most):
    # the wrap-up lasts while it is.
    code_owed_until_ms: int = 0

    def owes_code(self, now_ms: int) -> bool:
        return self.code_owed_until_ms > now_ms

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
