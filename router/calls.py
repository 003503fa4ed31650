"""What people do with a live voice call: the agent transfers, holds and records it (and
pauses the recording while the caller gives card details), a supervisor listens in,
whispers or barges, and plays its recording back.

Access is `router.access`'s (through `Contacts.get`, which also audits a playback); the
call itself is carried out by the node's voice front door (`telephony.service.
VoiceFrontDoor`, behind `VoicePort`), on the worker process holding the call. Warm
transfers, numbers, recording and monitoring are steered through the node whose worker
holds the call; on another node they are refused (409).
A chat's transfer, and a blind one to a queue or an agent of a call another node holds,
is `Contacts.transfer` (the router offers it anew; the node holding the call acts on it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from router.access import Act, Actor, Principal
from router.contacts import Contacts
from router.errors import InvalidInput, RoutingError, UnknownRecording
from router.model import Channel, Contact

MONITOR_MODES = ("listen", "whisper", "barge")
T = TypeVar("T")


class VoicePort(Protocol):
    """The node's voice front door. Its refusals are RuntimeErrors (no worker of this node
    holds the call, or the call's state does not allow it); an unknown recording a
    LookupError."""

    def holds(self, contact_id: str) -> bool: ...

    async def transfer(self, contact_id: str, target: str, *, warm: bool = False) -> str: ...

    async def complete_transfer(self, contact_id: str) -> str: ...

    async def cancel_transfer(self, contact_id: str) -> str: ...

    async def record(self, contact_id: str) -> str: ...

    async def pause_recording(self, contact_id: str, by: str) -> dict[str, Any]:
        """The recording's state after the pause: `file`, `paused_since_ms`,
        `paused_by`, `pauses` (those ended: `started_ms`, `ended_ms`, `by`, `ended`,
        `resumed_by`)."""
        ...

    async def resume_recording(self, contact_id: str, by: str) -> dict[str, Any]: ...

    async def hold(self, contact_id: str, on: bool) -> bool: ...

    async def monitor(
        self, contact_id: str, supervisor: str, supervisor_uri: str, mode: str = "listen"
    ) -> int: ...

    async def change_monitor(self, contact_id: str, monitor: int, mode: str) -> None: ...

    async def end_monitor(self, contact_id: str, monitor: int) -> None: ...

    def recording_file(self, name: str) -> Path: ...


@dataclass(frozen=True)
class TransferTarget:
    """Where the agent sends the call: a queue, a named agent (then that agent's queue
    after the ring time), or an outside number; `warm` consults the target first."""

    queue: str | None = None
    agent: str | None = None
    number: str | None = None
    warm: bool = False


@dataclass(frozen=True)
class RecordingState:
    """A call's recording as the agent's pause or resume left it: its file, paused since
    (ms since the epoch, 0 while it records) and by whom, and the pauses that ended."""

    contact_id: str
    file: str
    paused_since_ms: int = 0
    paused_by: str = ""
    pauses: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, contact_id: str, answer: dict[str, Any]) -> RecordingState:
        return cls(
            contact_id,
            str(answer.get("file", "")),
            int(answer.get("paused_since_ms") or 0),
            str(answer.get("paused_by", "")),
            tuple(dict(p) for p in answer.get("pauses") or ()),
        )


@dataclass(frozen=True)
class CallState:
    """A contact and, for a voice call steered here, the state its call is in now."""

    contact: Contact
    call: str = ""


class LiveCalls:
    def __init__(self, contacts: Contacts, voice: VoicePort | None = None) -> None:
        self.contacts = contacts
        self.voice = voice  # set by the node once its voice front door runs
        # (contact, supervisor) -> the monitor id on the worker holding the call.
        self._monitors: dict[tuple[str, str], int] = {}

    # -- the agent ------------------------------------------------------------------------

    async def transfer(self, actor: Actor, contact_id: str, target: TransferTarget) -> CallState:
        """Blind or warm transfer by the agent holding the contact. A chat goes to a queue
        or an agent (`Contacts.transfer`); a voice call also to an outside number, and
        warm: the caller hears music while the agent talks to the target."""
        chosen = [t for t in (target.queue, target.agent, target.number) if t]
        if len(chosen) != 1:
            raise InvalidInput("$", "exactly one of queue, agent or number", len(chosen))
        contact = await self.contacts.get(actor, contact_id, Act.TRANSFER)
        is_call = contact.channel == Channel.VOICE
        if not is_call and (target.number or target.warm):
            field = "$.number" if target.number else "$.warm"
            raise InvalidInput(field, "a voice call (a chat moves to a queue or an agent)")
        here = is_call and self.voice is not None and self.voice.holds(contact_id)
        if not here and not target.number and not target.warm:
            # A chat, or a call another node holds: the router offers the contact anew
            # and the node holding the call rings the new agent.
            moved = await self.contacts.transfer(actor, contact_id, target.queue, target.agent)
            return CallState(moved)
        router = self.contacts.router
        if target.queue and target.queue not in router.queues:
            raise InvalidInput("$.queue", f"one of {', '.join(router.queues)}", target.queue)
        if target.agent:
            await router.get_agent(target.agent)  # UnknownAgent (404) when there is none
        where = (
            f"queue:{target.queue}"
            if target.queue
            else f"agent:{target.agent}"
            if target.agent
            else f"tel:{target.number}"
        )
        state = await self._voice_call(
            lambda voice: voice.transfer(contact_id, where, warm=target.warm)
        )
        return CallState(await router.get_contact(contact_id), state)

    async def finish_transfer(self, actor: Actor, contact_id: str) -> CallState:
        """A warm transfer's agent hands the caller to the consulted party."""
        contact = await self._voice_contact(actor, contact_id, Act.TRANSFER)
        state = await self._voice_call(lambda voice: voice.complete_transfer(contact_id))
        return CallState(await self.contacts.router.get_contact(contact.contact_id), state)

    async def return_transfer(self, actor: Actor, contact_id: str) -> CallState:
        """A warm transfer's agent takes the caller back; the consulted party is hung up."""
        contact = await self._voice_contact(actor, contact_id, Act.TRANSFER)
        state = await self._voice_call(lambda voice: voice.cancel_transfer(contact_id))
        return CallState(await self.contacts.router.get_contact(contact.contact_id), state)

    async def hold(self, actor: Actor, contact_id: str, on: bool) -> CallState:
        """The agent holds the caller from the desktop (the caller hears music, the agent's
        phone stays up and no longer hears the caller), or takes them off hold."""
        await self._voice_contact(actor, contact_id, Act.HOLD)
        held = await self._voice_call(lambda voice: voice.hold(contact_id, on))
        contact = await self.contacts.router.get_contact(contact_id)
        return CallState(contact, "held" if held else "talking")

    async def record(self, actor: Actor, contact_id: str) -> str:
        """The agent records the call from now on (after the consent prompt where
        configured); the file's name, which the contact's record lists."""
        await self._voice_contact(actor, contact_id, Act.RECORD)
        return await self._voice_call(lambda voice: voice.record(contact_id))

    async def pause_recording(self, actor: Actor, contact_id: str) -> RecordingState:
        """The agent on the call pauses its recording while the caller gives card details
        (PCI DSS): the file takes silence until `resume_recording` (or `[recording]
        pause_max_s`). Who may is who may record (`Act.RECORD`); a call not recorded, or
        a recording already paused, is a conflict (409) saying so. The worker audits it."""
        principal = await self._recording_actor(actor, contact_id)
        answer = await self._voice_call(
            lambda voice: voice.pause_recording(contact_id, principal.user_id)
        )
        return RecordingState.of(contact_id, answer)

    async def resume_recording(self, actor: Actor, contact_id: str) -> RecordingState:
        """The agent resumes the paused recording (409 when it is not paused)."""
        principal = await self._recording_actor(actor, contact_id)
        answer = await self._voice_call(
            lambda voice: voice.resume_recording(contact_id, principal.user_id)
        )
        return RecordingState.of(contact_id, answer)

    async def _recording_actor(self, actor: Actor, contact_id: str) -> Principal:
        await self._voice_contact(actor, contact_id, Act.RECORD)
        assert isinstance(actor, Principal)  # customers never have Act.RECORD
        return actor

    # -- the supervisor ---------------------------------------------------------------------

    async def monitor(self, actor: Actor, contact_id: str, mode: str, phone: str) -> int:
        """Ring the supervisor's `phone` and join it to the call in `mode`; a supervisor
        already on the call changes mode instead. The worker audits start, change, end."""
        if mode not in MONITOR_MODES:
            raise InvalidInput("$.mode", " or ".join(MONITOR_MODES), mode)
        await self._voice_contact(actor, contact_id, Act.MONITOR)
        assert isinstance(actor, Principal)
        key = (contact_id, actor.user_id)
        current = self._monitors.get(key)
        if current is not None:
            try:
                await self._voice_call(
                    lambda voice: voice.change_monitor(contact_id, current, mode)
                )
                return current
            except RoutingError:  # the supervisor hung up meanwhile: ring again
                self._monitors.pop(key, None)
        monitor = await self._voice_call(
            lambda voice: voice.monitor(contact_id, actor.user_id, phone, mode)
        )
        self._monitors[key] = monitor
        return monitor

    async def end_monitor(self, actor: Actor, contact_id: str) -> None:
        """The supervisor leaves the call (their phone is hung up)."""
        await self._voice_contact(actor, contact_id, Act.MONITOR)
        assert isinstance(actor, Principal)
        monitor = self._monitors.pop((contact_id, actor.user_id), None)
        if monitor is None:
            raise RoutingError(f"{actor.user_id} is not on the call of contact {contact_id}")
        await self._voice_call(lambda voice: voice.end_monitor(contact_id, monitor))

    async def recording(self, actor: Actor, contact_id: str) -> Path:
        """The call's recording for playback by a supervisor (audited), when this node
        keeps it."""
        contact = await self.contacts.get(actor, contact_id, Act.PLAYBACK)
        files = [str(r.get("file", "")) for r in contact.recordings if r.get("file")]
        if not files or self.voice is None:
            raise UnknownRecording(f"contact {contact_id} has no recording on this node")
        try:
            return self.voice.recording_file(files[-1])
        except LookupError:
            raise UnknownRecording(f"{files[-1]} is not kept on this node") from None

    # -- shared -------------------------------------------------------------------------------

    async def _voice_contact(self, actor: Actor, contact_id: str, act: Act) -> Contact:
        contact = await self.contacts.get(actor, contact_id, act)
        if contact.channel != Channel.VOICE:
            raise RoutingError(f"contact {contact_id} is a {contact.channel.value} contact")
        return contact

    async def _voice_call(self, command: Callable[[VoicePort], Awaitable[T]]) -> T:
        """Run a command on the voice front door; its refusals are conflicts (409)."""
        if self.voice is None:
            raise RoutingError("voice is not running on this node")
        try:
            return await command(self.voice)
        except RuntimeError as refused:
            raise RoutingError(str(refused)) from None
