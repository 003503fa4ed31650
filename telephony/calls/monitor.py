"""Supervisors on a live call: the worker calls the supervisor's phone and joins it to the
call on the conference bridge. Listen hears both sides; whisper is also heard by the agent
only; barge by both. Each start and end is reported for the audit log."""

from __future__ import annotations

import logging

from telephony.calls.call import Call, CallState, Monitor, Role
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError
from telephony.model import MonitorMode

log = logging.getLogger(__name__)

Link = tuple[int, int]


class MonitorRefused(ValueError):
    """The call cannot be monitored now; the message says why."""


class MonitorController:
    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self._applied: dict[int, set[Link]] = {}  # monitor leg -> links made for it

    async def start(self, call: Call, supervisor: str, uri: str, mode: MonitorMode) -> int:
        """Ring the supervisor's phone; joined once answered. Returns the monitor's id."""
        if call.state not in (CallState.TALKING, CallState.HELD):
            raise MonitorRefused(f"the call is {call.state}: nothing to listen to")
        try:
            leg = await self.voice.engine.call(uri)
        except EngineError as error:
            raise MonitorRefused(f"calling {uri} failed: {error}") from error
        call.monitors[leg] = Monitor(supervisor=supervisor, uri=uri, mode=mode, leg=leg)
        self.voice.table.add(leg, call, Role.MONITOR)
        return leg

    async def answered(self, call: Call, leg: int) -> None:
        monitor = call.monitors.get(leg)
        if monitor is None:
            await self.voice.hangup(leg)
            return
        monitor.answered = True
        monitor.started_ms = self.voice.clock()
        await self._apply(call, monitor)
        self._audit(call, monitor, "monitor_started")

    async def change(self, call: Call, leg: int, mode: MonitorMode) -> None:
        monitor = call.monitors.get(leg)
        if monitor is None:
            raise MonitorRefused(f"no monitor {leg} on this call")
        if monitor.mode == mode:
            return
        monitor.mode = mode
        if monitor.answered:
            await self._apply(call, monitor)
            self._audit(call, monitor, "monitor_changed")

    async def stop(self, call: Call, leg: int) -> None:
        if leg not in call.monitors:
            raise MonitorRefused(f"no monitor {leg} on this call")
        await self.voice.hangup(leg)

    async def gone(self, call: Call, leg: int) -> None:
        """The supervisor's leg ended (hung up either side)."""
        monitor = call.monitors.pop(leg, None)
        self._applied.pop(leg, None)
        if monitor is not None and monitor.answered:
            self._audit(call, monitor, "monitor_ended")

    async def follow(self, call: Call) -> None:
        """The agent changed (answer, transfer): supervisors hear the new one."""
        for monitor in list(call.monitors.values()):
            if monitor.answered:
                await self._apply(call, monitor)

    async def end_all(self, call: Call) -> None:
        for leg in list(call.monitors):
            await self.voice.hangup(leg)

    @staticmethod
    def links(call: Call, monitor: Monitor) -> set[Link]:
        """Who hears whom: (source, sink) pairs for this monitor's mode."""
        supervisor, talking = monitor.leg, call.talking_leg
        parties = [leg for leg in (call.leg, talking) if leg is not None]
        links = {(party, supervisor) for party in parties}
        if monitor.mode in (MonitorMode.WHISPER, MonitorMode.BARGE) and talking is not None:
            links.add((supervisor, talking))
        if monitor.mode == MonitorMode.BARGE:
            links.add((supervisor, call.leg))
        return links

    async def _apply(self, call: Call, monitor: Monitor) -> None:
        engine = self.voice.engine
        wanted = self.links(call, monitor)
        applied = self._applied.setdefault(monitor.leg, set())
        try:
            for source, sink in applied - wanted:
                await engine.unlink(source, sink)
            for source, sink in wanted - applied:
                await engine.link(source, sink)
        except EngineError as error:
            log.warning("monitor %d of %s: %s", monitor.leg, call.contact_id, error)
        self._applied[monitor.leg] = wanted

    def _audit(self, call: Call, monitor: Monitor, action: str) -> None:
        self.voice.report(
            {
                "type": "audit",
                "actor": monitor.supervisor,
                "action": action,
                "contact_id": call.contact_id,
                "agent_id": call.agent_id,
                "mode": monitor.mode.value,
                "monitor": monitor.leg,
                "at_ms": self.voice.clock(),
            }
        )
