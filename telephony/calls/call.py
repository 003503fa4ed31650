"""One caller's call as a worker tracks it: an explicit state and the legs around it.

A call has one caller leg (the customer's, also after a callback dials them), at most
one agent leg, and may have a consult leg (warm transfer), an outside leg (transfer to
a number outside the center), monitors (supervisors listening) and a recorder. The
`CallTable` finds a call from any of its legs, with the leg's role.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from router.reports.survey import SurveySession
from telephony.ivr import IvrSession
from telephony.model import IvrFlow, MonitorMode


class CallState(StrEnum):
    """Where the caller is; each state has one controller that moves it on."""

    IVR = "ivr"  # in the menus (controllers.menus)
    QUEUED = "queued"  # waiting: music and announcements (waiting)
    OFFERED = "offered"  # waiting while an agent's phone rings (offers)
    TALKING = "talking"  # bridged to an agent (offers; recording, monitor on top)
    HELD = "held"  # on hold with music while the agent consults a colleague (transfer)
    EXTERNAL = "external"  # handed to a number outside the center; the contact is closed
    SURVEY = "survey"  # the agent left; the caller rates the call (survey)
    CALLBACK = "callback"  # the caller left for a callback; the contact waits on
    ENDED = "ended"


WAITING = frozenset({CallState.QUEUED, CallState.OFFERED})

# A party outside the center (a number consulted, a customer called back) may ring this
# many times the queue's ring time: they must find their phone, a colleague is at a desk.
OUTSIDE_RING_FACTOR = 2.0


class Role(StrEnum):
    """What a leg is to its call."""

    CALLER = "caller"
    AGENT = "agent"
    CONSULT = "consult"  # the colleague or number an agent consults before transferring
    OUTSIDE = "outside"  # a blind transfer's outside party
    LOOP = "loop"  # a REFER to one of our names: the call pjsua places to it, hung up
    LEAVING = "leaving"  # the agent's leg while the router decides its transfer
    MONITOR = "monitor"  # a supervisor listening, whispering or barging in


@dataclass
class AgentLeg:
    """The agent the router offered the call to, and the leg ringing or talking to them."""

    agent_id: str
    leg: int | None = None
    picked_up: bool = False  # the phone answered; the router's accept may be in flight
    answered: bool = False  # the router accepted: agent and caller talk
    revoked: bool = False
    phone_holds: bool = False  # the phone put the call on hold (re-INVITE sendonly/inactive)


@dataclass
class Consult:
    """A warm transfer in progress: the agent talks to `target`; the caller is held."""

    target: str  # `agent:ID`, or the SIP URI of the number dialled
    agent_id: str  # the colleague's id; empty for a number outside the center
    started_ms: int
    leg: int | None = None
    answered: bool = False
    reserved: bool = False  # the router holds the colleague for it (RoutingPort.consult)
    handing_over: bool = False  # the router is connecting the contact to the colleague
    ring_limit: asyncio.Task[None] | None = None  # ends it when nobody answers in time


@dataclass
class Monitor:
    supervisor: str
    uri: str
    mode: MonitorMode
    leg: int
    answered: bool = False
    started_ms: int = 0


@dataclass
class Call:
    """A caller's call, from INVITE to hang-up."""

    leg: int
    caller: str  # the caller's number (user part of From)
    contact_uri: str  # where to reach the caller again (callback)
    dialled: str
    flow: IvrFlow | None
    state: CallState = CallState.IVR
    contact_id: str = ""
    queue: str = ""
    language: str = "en"
    region: str = ""
    timestamps: dict[str, int] = field(default_factory=dict)
    media: asyncio.Event = field(default_factory=asyncio.Event)
    # The caller's ACK came: the call is set up (a 200 OK never acknowledged is none).
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    digits: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    script: asyncio.Task[None] | None = None  # what the caller hears now (IVR, wait, survey)
    agent: AgentLeg | None = None
    # The agent whose blind transfer the router is deciding (their leg is None once their
    # phone hung up meanwhile).
    leaving: AgentLeg | None = None
    callback: bool = False  # the customer leg of a callback (the agent is called first)
    customer_answered: bool = True  # False until a called-back customer picks up
    ringback: int | None = None  # the player of the tone the agent hears meanwhile
    ivr: IvrSession | None = None
    ivr_outcome: str = ""  # the call's one IVR outcome, once recorded (IvrController)
    # The call's id in its IVR outcome and in what the node's pool is told of it (`call`).
    ivr_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    survey: SurveySession | None = None
    consult: Consult | None = None
    outside_leg: int | None = None
    # A blind transfer out of the center (to `outside_leg`), noted on the contact once its
    # outcome is known: answered (completed), failed (requeued) or the caller gone.
    outside_transfer: dict[str, Any] | None = None
    recorder: int | None = None
    recording: str = ""  # the file name of the call's recording
    monitors: dict[int, Monitor] = field(default_factory=dict)
    heard: list[Path] = field(default_factory=list)  # prompt files played, in order
    held_since: int | None = None  # ms: the caller is on hold (phone or desktop) since then
    # The queue's ring time (s), from the router's last offer: how long a colleague's phone
    # rings for a consultation, and (twice that) a party outside the center's.
    ring_s: float = 15.0

    @property
    def agent_id(self) -> str:
        return self.agent.agent_id if self.agent is not None else ""

    @property
    def calling_back(self) -> bool:
        """A callback whose customer has not picked up yet: the agent is offered it and
        waits while the customer's phone rings. Once they have, it is a call like any
        other (a transfer sends the customer back to the queue with music)."""
        return self.callback and not self.customer_answered

    @property
    def agent_leg(self) -> int | None:
        return self.agent.leg if self.agent is not None else None

    @property
    def talking_leg(self) -> int | None:
        """The leg the caller talks to now: the agent, or an outside party."""
        if self.state == CallState.EXTERNAL:
            return self.outside_leg
        return self.agent_leg if self.agent is not None and self.agent.answered else None


class CallTable:
    """Every live leg of a worker -> (its call, its role); calls by contact id."""

    def __init__(self) -> None:
        self._legs: dict[int, tuple[Call, Role]] = {}
        self.by_contact: dict[str, Call] = {}

    def add(self, leg: int, call: Call, role: Role) -> None:
        self._legs[leg] = (call, role)

    def get(self, leg: int) -> tuple[Call, Role] | None:
        return self._legs.get(leg)

    def pop(self, leg: int) -> tuple[Call, Role] | None:
        return self._legs.pop(leg, None)

    def callers(self) -> dict[int, Call]:
        return {leg: call for leg, (call, role) in self._legs.items() if role == Role.CALLER}

    def own(self, call: Call) -> None:
        self.by_contact[call.contact_id] = call

    def release(self, call: Call) -> None:
        if self.by_contact.get(call.contact_id) is call:
            del self.by_contact[call.contact_id]
