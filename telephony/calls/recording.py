"""Call recording: both sides mixed into one 8 kHz WAV per contact, noted on the contact.

A call is recorded when its queue is in `[recording] queues` (from the moment an agent
answers) or when its agent asks for it (the desktop's "record"). Where `consent` is set,
the caller first hears that the call is recorded, in their language. The recording
follows the call through transfers (the new agent's voice joins the same file) and ends
with the conversation. A disk that cannot take it never costs the call: with less than
`min_free_mb` free, or when the file cannot be created, the call goes on unrecorded and
the worker says why.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

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
        self._started: dict[str, int] = {}  # contact -> when its current recording began

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
        self._started[call.contact_id] = voice.clock()

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

    async def stop(self, call: Call) -> None:
        """The conversation ended: close the file and list it on the contact."""
        recorder, call.recorder = call.recorder, None
        self._wanted.discard(call.contact_id)
        if recorder is None:
            return
        voice = self.voice
        try:
            await voice.engine.stop_record(recorder)
        except EngineError as error:
            log.warning("closing the recording of %s: %s", call.contact_id, error)
        entry = {
            "file": call.recording,
            "started_ms": self._started.pop(call.contact_id, 0),
            "ended_ms": voice.clock(),
            "reason": "queue" if call.queue in self.config.queues else "agent",
        }
        try:
            await voice.routing.note_recording(call.contact_id, entry)
        except ROUTING_REFUSALS as error:
            log.warning("recording %s not noted on %s: %s", call.recording, call.contact_id, error)


class RecordingRefused(ValueError):
    """The call cannot be recorded now; the message says why."""
