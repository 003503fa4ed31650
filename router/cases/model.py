"""Cases, their SLA policies and the rules that open them, as plain data.

A case is a work item that outlives one contact: it follows a customer across channels
and regions, carries notes, wrap-up codes and a history of every change, and is timed
against the SLA policy of its queue and the customer's tier. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from router.cases.emotion import Lexicon
from router.cases.sla import BusinessClock, Timer, TimerKind
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.hours import OpeningHours


class CaseStatus(StrEnum):
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"  # waits on the customer: timers pause
    SOLVED = "solved"  # waits for the customer's confirmation (follow-up)
    CLOSED = "closed"


# A new contact of the customer is linked to a case in one of these.
LIVE_STATUSES = frozenset({CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER, CaseStatus.SOLVED})


class CaseSource(StrEnum):
    AGENT = "agent"  # an agent from a contact
    RULE = "rule"  # a `[[case_rules]]` rule
    API = "api"  # the HTTP API (a CRM, a supervisor)


@dataclass(frozen=True)
class Note:
    at_ms: int
    author: str
    text: str
    # What was taken out of the text as written (`card_number`: router/redaction.py).
    redacted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a case: who, when, what."""

    at_ms: int
    actor: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    case_id: str
    customer_id: str
    subject: str
    queue: str
    region: str
    customer_tier: str = "standard"
    status: CaseStatus = CaseStatus.OPEN
    priority: int = 0
    owner: str = ""
    policy: str = ""  # the SLA policy's name ('' : none applies)
    source: CaseSource = CaseSource.API
    created_by: str = ""
    created_ms: int = 0
    updated_ms: int = 0
    contacts: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    wrap_up_codes: list[str] = field(default_factory=list)
    timers: dict[TimerKind, Timer] = field(default_factory=dict)
    # The customer wrote after the last agent answer (a next response is owed).
    awaiting_reply: bool = False
    # An agent has answered at least once (next responses are counted from then on).
    answered: bool = False
    solved_ms: int = 0
    closed_ms: int = 0
    # A solved case closes by itself at this time unless the customer replies first.
    close_due_ms: int = 0
    version: int = 0

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True)
class CaseRequest:
    """A case opened by a person or a system (the API)."""

    customer_id: str
    subject: str
    queue: str
    region: str | None = None
    customer_tier: str = "standard"
    priority: int = 0
    owner: str = ""
    contact_id: str = ""


@dataclass(frozen=True)
class Escalation:
    """What a breach of a policy's target does."""

    raise_priority: int = 0  # points added to the case and its waiting contacts
    move_to: str | None = None  # queue the case and its waiting contacts move to
    notify: bool = True  # the queue's supervisors: WebSocket, wallboard, webhook


@dataclass(frozen=True)
class SlaPolicy:
    """Targets for the cases of some queues and customer tiers (empty: all)."""

    name: str
    queues: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    first_response_s: float | None = None
    next_response_s: float | None = None
    resolution_s: float | None = None
    warn_at: float = 0.8  # share of a target at which a warning is raised
    around_the_clock: bool = False  # emergency queues: every hour counts
    escalation: Escalation = field(default_factory=Escalation)

    def applies(self, queue: str, tier: str) -> bool:
        return (not self.queues or queue in self.queues) and (not self.tiers or tier in self.tiers)

    def target_s(self, kind: TimerKind) -> float | None:
        return {
            TimerKind.FIRST_RESPONSE: self.first_response_s,
            TimerKind.NEXT_RESPONSE: self.next_response_s,
            TimerKind.RESOLUTION: self.resolution_s,
        }[kind]


class RuleTrigger(StrEnum):
    CONTACT = "contact"  # every new contact without a live case opens one
    REPEAT_CONTACT = "repeat_contact"  # the count-th contact within a window opens one
    EMOTION = "emotion"  # an emotion trigger opens one


@dataclass(frozen=True)
class CaseRule:
    """Proactive care: when to open a case without anyone asking."""

    name: str
    on: RuleTrigger
    queues: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    count: int = 3
    within_s: float = 86_400.0
    subject: str = ""

    def applies(self, queue: str, channel: str, tier: str) -> bool:
        return (
            (not self.queues or queue in self.queues)
            and (not self.channels or channel in self.channels)
            and (not self.tiers or tier in self.tiers)
        )


@dataclass(frozen=True)
class EmotionSettings:
    """What an emotion trigger does to a chat."""

    lexicons: tuple[Lexicon, ...] = ()
    always: tuple[str, ...] = ("en",)  # languages read in every message besides its own
    threshold: float = -0.6  # a sentiment score at or below it triggers too
    raise_priority: int = 2
    move_to: str | None = None  # the human queue with a senior skill
    flag: bool = True


@dataclass(frozen=True)
class WebhookSettings:
    name: str
    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...] = ("*",)  # event types, `case.*` style patterns
    max_attempts: int = 8
    backoff_s: float = 1.0  # first retry; doubles each time
    max_backoff_s: float = 300.0
    timeout_s: float = 10.0


@dataclass(frozen=True)
class CaseSettings:
    policies: tuple[SlaPolicy, ...] = ()
    rules: tuple[CaseRule, ...] = ()
    emotion: EmotionSettings | None = None
    webhooks: tuple[WebhookSettings, ...] = ()
    hours: Mapping[str, OpeningHours] = field(default_factory=dict)
    calendars: Mapping[str, HolidayCalendar] = field(default_factory=dict)
    prefer_owner_s: float = 120.0  # a returning customer's contact waits this long for the owner
    close_after_s: float = 72 * 3600.0  # a solved case closes unconfirmed after this
    tick_s: float = 1.0

    def queue_uses(self, queue: str) -> list[str]:
        """Where these settings send contacts to `queue` (an escalation's `move_to`): an
        admin removing it would leave those moves silently undone."""
        uses = [
            f"sla_policies {policy.name} escalation move_to"
            for policy in self.policies
            if policy.escalation.move_to == queue
        ]
        if self.emotion is not None and self.emotion.move_to == queue:
            uses.append("[emotion] move_to")
        return uses

    def policy_for(self, queue: str, tier: str) -> SlaPolicy | None:
        """The first policy, in file order, that applies to the queue and tier."""
        return next((p for p in self.policies if p.applies(queue, tier)), None)

    def policy(self, name: str) -> SlaPolicy | None:
        return next((p for p in self.policies if p.name == name), None)

    def clock(self, region: str, policy: SlaPolicy | None) -> BusinessClock:
        """Business time of a region (around the clock for emergency policies)."""
        return BusinessClock(
            self.hours.get(region, OpeningHours()),
            self.calendars.get(region, HolidayCalendar()),
            around_the_clock=bool(policy and policy.around_the_clock),
        )
