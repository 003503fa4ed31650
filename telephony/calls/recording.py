"""Call recording: both sides mixed into one 8 kHz WAV per contact, noted on the contact.

A call is recorded when its queue is in `[recording] queues` (from the moment an agent
answers) or when its agent asks for it (the desktop's "record"). Where `consent` is set,
the caller first hears that the call is recorded, in their language. The recording
follows the call through transfers (the new agent's voice joins the same file) and ends
with the conversation. A disk that cannot take it never costs the call: with less than
`min_free_mb` free, or when the file cannot be created, the call goes on unrecorded and
the worker says why.

The agent pauses a recording while the caller gives card details (PCI DSS) and resumes
it after. Paused, the file takes silence, not nothing: its timeline stays the call's, so a
pause listed on the contact (`pauses`, ms since the epoch) is where QA hears the gap. The
mute is the recorder's own (`PjEngine.mute_record`), so a voice that joins meanwhile (a
transfer's next agent) stays out of the file too: a transfer keeps the pause. A pause
longer than `pause_max_s` ends by itself (people forget); each pause and resume is
audited. While paused, the contact shows it (`recording_paused_since`) and each change,
however the pause ended, reaches the agent's desktop (the router's `recording` event).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telephony.calls.call import Call, CallState
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError
from telephony.model import Prompt, RecordingConfig
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)

CONSENT = "recording.consent"


class RecordingController:
    def __init__(self, voice: Voice, config: RecordingConfig) -> None:
        self.voice = voice
        self.config = config
        self.directory = Path(config.directory)
        self._wanted: set[str] = set()  # contacts whose agent asked for a recording
        # contact -> when its current recording began, and why (`queue`, `agent`)
        self._started: dict[str, tuple[int, str]] = {}
        self._pauses: dict[str, Pauses] = {}  # contact -> its current recording's pauses
        self._showing = asyncio.Lock()  # one pause change told to the router at a time

    def kept(self) -> set[str]:
        """The contacts this controller keeps anything of (a recording going on, a pause,
        an agent's request): empty once every call has ended."""
        return {*self._wanted, *self._started, *self._pauses}

    def wanted(self, call: Call) -> bool:
        return call.queue in self.config.queues or call.contact_id in self._wanted

    async def announce(self, call: Call) -> None:
        """While queued: tell the caller that this queue records its calls."""
        if self.config.consent and call.queue in self.config.queues:
            await self.voice.prompter.play(call, (Prompt(CONSENT, call.language),))

    async def start_by_agent(self, call: Call) -> str:
        """The agent asks to record this call: consent prompt (the agent waits), then record.
        Returns the file name, or raises RecordingRefused."""
        if call.state != CallState.TALKING:
            raise RecordingRefused(f"the call is {call.state}, not talking")
        self._wanted.add(call.contact_id)
        if call.recorder is not None:
            return call.recording
        if self.config.consent:
            await self._consent_to_caller(call)
        await self.follow(call)
        if call.recorder is None:
            raise RecordingRefused("the recording could not be started (see the worker's log)")
        return call.recording

    async def _consent_to_caller(self, call: Call) -> None:
        """The caller alone hears the consent prompt; the two sides are joined again after."""
        voice = self.voice
        agent = call.agent_leg
        try:
            if agent is not None:
                await voice.engine.unbridge(call.leg, agent)
            await voice.prompter.play(call, (Prompt(CONSENT, call.language),))
            if agent is not None and call.state == CallState.TALKING:
                await voice.engine.bridge(call.leg, agent)
        except EngineError as error:  # a side hung up meanwhile: its event ends the call
            log.info("consent prompt of %s: %s", call.contact_id, error)

    async def follow(self, call: Call) -> None:
        """After an agent joined the caller: start recording, or add the new agent's voice."""
        if not self.wanted(call):
            return
        voice = self.voice
        talking = call.talking_leg
        if call.recorder is not None:
            if talking is not None:
                await voice.engine.link(talking, call.recorder)
            return
        if not self._room():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        name = self._file_name(call)
        sources = [leg for leg in (call.leg, talking) if leg is not None]
        try:
            call.recorder = await voice.engine.record(str(self.directory / name), *sources)
        except EngineError as error:
            log.warning("recording of %s not started: %s", call.contact_id, error)
            voice.report({"type": "recording_failed", "contact_id": call.contact_id})
            return
        call.recording = name
        # Why is fixed now: a transfer to a queue not recorded does not make it the agent's.
        reason = "queue" if call.queue in self.config.queues else "agent"
        self._started[call.contact_id] = (voice.clock(), reason)

    def _room(self) -> bool:
        try:
            free_mb = shutil.disk_usage(self._existing_parent()).free / 1_048_576
        except OSError as error:
            log.warning("recording directory %s unusable: %s", self.directory, error)
            return False
        if free_mb < self.config.min_free_mb:
            log.warning(
                "not recording: %.0f MB free in %s, below [recording] min_free_mb = %d",
                free_mb,
                self.directory,
                self.config.min_free_mb,
            )
            return False
        return True

    def _existing_parent(self) -> Path:
        path = self.directory.resolve()
        while not path.exists():
            path = path.parent
        return path

    def _file_name(self, call: Call) -> str:
        """`<contact>.wav`; a second recording of the same contact `<contact>-2.wav`…"""
        name, n = f"{call.contact_id}.wav", 1
        while (self.directory / name).exists():
            n += 1
            name = f"{call.contact_id}-{n}.wav"
        return name

    # -- pause (card details) ---------------------------------------------------------------

    async def pause(self, call: Call, by: str) -> dict[str, Any]:
        """`by` (the agent) pauses the call's recording: silence from now on. Refused
        (RecordingRefused) when the call is not recorded or the recording is paused."""
        recorder = self._recorder(call, "pause")
        pauses = self._pauses.setdefault(call.contact_id, Pauses())
        if pauses.current is not None:
            raise RecordingRefused(
                f"cannot pause the recording of contact {call.contact_id}: it is already "
                f"paused (by {pauses.current.by} since {pauses.current.started_ms})"
            )
        voice = self.voice
        pause = pauses.current = Pause(by=by, started_ms=voice.clock())  # a second waits
        try:
            await self._mute(call, recorder, True)
        except RecordingRefused:
            pauses.current = None
            raise
        if self.config.pause_max_s > 0:
            pause.expiry = voice.spawn(self._expire(call, pause))
        self._audit(call, by, "recording_paused")
        state = self.state(call)
        await self._show(call, "resumed")
        return state

    async def resume(self, call: Call, by: str) -> dict[str, Any]:
        """`by` resumes the call's paused recording. Refused when the call is not
        recorded or its recording is not paused."""
        recorder = self._recorder(call, "resume")
        pauses = self._pauses.get(call.contact_id)
        if pauses is None or pauses.current is None:
            raise RecordingRefused(
                f"cannot resume the recording of contact {call.contact_id}: it is not paused"
            )
        self._end_pause(call, pauses, "resumed", by)  # first: a second resume is refused
        await self._mute(call, recorder, False)
        self._audit(call, by, "recording_resumed")
        state = self.state(call)
        await self._show(call, "resumed")
        return state

    def state(self, call: Call) -> dict[str, Any]:
        """The call's recording as the desk sees it: its file, paused since (ms, 0 when
        recording) and its pauses so far (the ended ones)."""
        pauses = self._pauses.get(call.contact_id, Pauses())
        current = pauses.current
        return {
            "file": call.recording,
            "paused_since_ms": current.started_ms if current is not None else 0,
            "paused_by": current.by if current is not None else "",
            "pauses": list(pauses.ended),
        }

    def _recorder(self, call: Call, act: str) -> int:
        if call.recorder is None:
            raise RecordingRefused(
                f"cannot {act} the recording of contact {call.contact_id}: "
                f"the call is not being recorded"
            )
        return call.recorder

    async def _mute(self, call: Call, recorder: int, muted: bool) -> None:
        try:
            await self.voice.engine.mute_record(recorder, muted)
        except EngineError as error:  # the recorder closed meanwhile (the call ended)
            raise RecordingRefused(
                f"the recording of contact {call.contact_id} has ended: {error}"
            ) from None

    async def _expire(self, call: Call, pause: Pause) -> None:
        """`[recording] pause_max_s` after a pause began: resume it if it is still on."""
        await asyncio.sleep(self.config.pause_max_s)
        pauses = self._pauses.get(call.contact_id)
        if pauses is None or pauses.current is not pause or call.recorder is None:
            return
        pause.expiry = None  # this task: not to be cancelled by ending the pause
        self._end_pause(call, pauses, "pause_max_s", "")
        try:
            await self.voice.engine.mute_record(call.recorder, False)
        except EngineError as error:  # the recording ended meanwhile
            log.info("pause of %s not ended: %s", call.contact_id, error)
            await self._show(call, "recording_ended")
            return
        log.warning(
            "recording of %s resumed by itself: paused by %s for %g s ([recording] pause_max_s)",
            call.contact_id,
            pause.by,
            self.config.pause_max_s,
        )
        self._audit(call, pause.by, "recording_pause_expired")
        await self._show(call, "pause_max_s")

    async def _show(self, call: Call, ended: str) -> None:
        """Tell the router whether the recording is paused now (the contact shows it, the
        agent's desktop hears it); `ended` says how a pause ended, when none is on. The
        state now, not the change that asked: notes that cross (a resume told before its
        pause) still leave the contact as the recorder is."""
        async with self._showing:
            pauses = self._pauses.get(call.contact_id)
            current = pauses.current if pauses is not None else None
            try:
                if current is not None:
                    await self.voice.routing.note_recording_paused(
                        call.contact_id, current.started_ms, current.by
                    )
                else:
                    await self.voice.routing.note_recording_resumed(call.contact_id, ended)
            except ROUTING_REFUSALS as error:
                log.warning("recording pause of %s not shown: %s", call.contact_id, error)

    def _end_pause(self, call: Call, pauses: Pauses, how: str, by: str) -> None:
        pause, pauses.current = pauses.current, None
        if pause is None:
            return
        if pause.expiry is not None:
            pause.expiry.cancel()
        pauses.ended.append(
            {
                "started_ms": pause.started_ms,
                "ended_ms": self.voice.clock(),
                "by": pause.by,
                "ended": how,
                "resumed_by": by,
            }
        )

    def _audit(self, call: Call, actor: str, action: str) -> None:
        self.voice.report(
            {
                "type": "audit",
                "actor": actor,
                "action": action,
                "contact_id": call.contact_id,
                "agent_id": call.agent_id,
                "file": call.recording,
                "at_ms": self.voice.clock(),
            }
        )

    # -- the end --------------------------------------------------------------------------------

    async def stop(self, call: Call) -> None:
        """The conversation ended (completed, or the caller left in any state): close the
        file and list it on the contact (with its pauses; one still on ends with the
        recording). A second call for the same recording does nothing."""
        recorder, call.recorder = call.recorder, None
        self._wanted.discard(call.contact_id)
        pauses = self._pauses.pop(call.contact_id, Pauses())
        paused = pauses.current is not None
        self._end_pause(call, pauses, "recording_ended", "")
        if paused:
            await self._show(call, "recording_ended")
        if recorder is None:
            return
        voice = self.voice
        try:
            await voice.engine.stop_record(recorder)
        except EngineError as error:
            log.warning("closing the recording of %s: %s", call.contact_id, error)
        started_ms, reason = self._started.pop(call.contact_id, (0, "agent"))
        entry: dict[str, Any] = {
            "file": call.recording,
            "started_ms": started_ms,
            "ended_ms": voice.clock(),
            "reason": reason,
            "pauses": pauses.ended,
        }
        try:
            await voice.routing.note_recording(call.contact_id, entry)
        except ROUTING_REFUSALS as error:
            log.warning("recording %s not noted on %s: %s", call.recording, call.contact_id, error)


class RecordingRefused(ValueError):
    """The call cannot be recorded now; the message says why."""


@dataclass
class Pause:
    """A pause going on: who paused, since when, and its `pause_max_s` task."""

    by: str
    started_ms: int
    expiry: asyncio.Task[None] | None = None


@dataclass
class Pauses:
    """A recording's pauses: the one going on, and those ended (as noted on the contact:
    `started_ms`, `ended_ms`, `by`, `ended` — resumed, pause_max_s or recording_ended —
    and `resumed_by`)."""

    current: Pause | None = None
    ended: list[dict[str, Any]] = field(default_factory=list)
