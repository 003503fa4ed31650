"""The voice front door of a node: worker pool, Kamailio, routing events, and the entry
points supervisors and agents reach a live call through.

The node (`switchboard serve`) builds one `VoiceFrontDoor` with its settings, its
`Router` and its event hub, then awaits `start()` and, at shutdown, `stop()`. The HTTP
layer calls `transfer`, `complete_transfer`, `cancel_transfer`, `record`,
`pause_recording`, `resume_recording`, `monitor`, `change_monitor`, `end_monitor` and
`recording_file`; each is carried out by the worker
holding the call and raises `CommandRefused` with the reason when it cannot be done.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from router.events import RESUMED, offer_event
from router.model import Channel
from router.reports.survey import SurveyConfig
from switchboard.common.clock import now_ms
from switchboard.common.tasks import cancel_and_wait
from telephony.capacity import sized_for_this_machine
from telephony.config import NodeSettings as Settings
from telephony.config import VoiceConfig, read_voice, read_voice_surveys
from telephony.frontdoor import Destination, FrontDoor
from telephony.model import Hours, MonitorMode
from telephony.pool import CommandRefused, WorkerPool
from telephony.prompts import PromptRenderer, make_music, static_prompts
from telephony.recordings import purge, recording_path
from telephony.routing import AuditPort, CallMetrics, NodeRoutingPort, RatingPort
from telephony.softphones import KamailioRegistrar, Softphones, UserSalts, load_secret

log = logging.getLogger(__name__)

# How often the node deletes recordings past their retention.
PURGE_EVERY_S = 3600.0

__all__ = ["CommandRefused", "VoiceFrontDoor", "read_voice_settings"]


class EventSource(Protocol):
    """What `router.events.EventHub` offers: a queue of one node's routing events."""

    def listen(self, *, node: str | None = None) -> AbstractAsyncContextManager[Any]: ...


def read_voice_settings(settings: Settings) -> VoiceConfig:
    """The node's voice configuration, `[sip]` sized for this machine and pjsua2 build;
    raises ConfigError listing every fault."""
    hours = {r.name: Hours(r.timezone, r.open, r.close) for r in settings.regions}
    queues = [q.name for q in settings.queues]
    config = read_voice(settings.reader, queues=queues, regions=hours, home=settings.region)
    settings.reader.faults.raise_if_any()
    return VoiceConfig(
        sip=sized_for_this_machine(config.sip),
        flows=config.flows,
        surveys=config.surveys,
        recording=config.recording,
    )


def read_survey_config(settings: Settings) -> dict[str, SurveyConfig]:
    """Queue -> post-call voice survey (`[[surveys]]`, voice = true); raises ConfigError."""
    surveys = read_voice_surveys(settings.reader, queues=[q.name for q in settings.queues])
    settings.reader.faults.raise_if_any()
    return surveys


class VoiceFrontDoor:
    def __init__(
        self,
        settings: Settings,
        router: NodeRoutingPort,
        events: EventSource,
        *,
        workdir: Path = Path("var/telephony"),
        python: str = sys.executable,
        log_level: str = "WARNING",
        log_format: str = "text",
        ratings: RatingPort | None = None,
        audit: AuditPort | None = None,
        metrics: CallMetrics | None = None,
        users: UserSalts | None = None,
    ) -> None:
        """`users` (the node's UserStore) gives staff SIP accounts on the front door's
        registrar (`softphones`); without it, or without Kamailio, there are none."""
        self.settings = settings
        self.users = users
        self.softphones: Softphones | None = None
        self.router = router
        self.events = events
        self.workdir = workdir
        self.python = python
        self.log_level = log_level
        self.log_format = log_format
        self.metrics = metrics
        self.config = read_voice_settings(settings)
        self.sip = self.config.sip
        self.flows = self.config.flows
        self.surveys = self.config.surveys
        # Workers send survey ratings and monitoring audits over their pipe; the node
        # keeps them where it passes (its Reports).
        self.ratings = ratings
        self.audit = audit
        self.pool: WorkerPool | None = None
        self.front_door: FrontDoor | None = None
        self._pump: asyncio.Task[None] | None = None
        self._purge: asyncio.Task[None] | None = None
        self.capacity = 0

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        sip = self.sip
        use_kamailio = sip.front_door == "kamailio" and shutil.which(sip.kamailio) is not None
        if sip.front_door == "kamailio" and not use_kamailio:
            log.warning(
                "Kamailio (%s) not found: one worker answers on %s:%d itself",
                sip.kamailio,
                sip.host,
                sip.port,
            )
        ports = (
            [sip.worker_port_base + i for i in range(sip.workers)] if use_kamailio else [sip.port]
        )
        self.pool = WorkerPool(
            config_path=self.settings.path,
            node_id=self.settings.node_id,
            region=self.settings.region,
            sip=sip,
            routing=self.router,
            sip_ports=ports,
            python=self.python,
            log_level=self.log_level,
            log_format=self.log_format,
            ratings=self.ratings,
            audit=self.audit,
            metrics=self.metrics,
        )
        # Render prompts and music once here, rather than racing in every worker.
        await asyncio.get_running_loop().run_in_executor(None, self._prerender)
        self._pump = asyncio.get_running_loop().create_task(self._pump_events())
        if self.config.recording.retention_days > 0:
            self._purge = asyncio.get_running_loop().create_task(self._purge_recordings())
        await self.pool.start()
        if use_kamailio:
            self.front_door = FrontDoor(
                host=sip.host,
                port=sip.port,
                destinations=[
                    Destination(f"w{i}", sip.host, port, sip.callers_per_worker)
                    for i, port in enumerate(ports)
                ],
                workdir=self.workdir / "kamailio",
                binary=sip.kamailio,
                retry_after_s=sip.retry_after_s,
                realm=sip.domain or sip.host,  # the softphones' digest realm
                tcp=sip.tcp,
            )
            await self.front_door.start()
            # A dead worker's calls are hung up through it (their BYEs, both ways).
            self.pool.call_ender = self.front_door
            if self.users is not None:
                secret = Path(sip.secret_file or self.workdir / "sip-secret")
                self.softphones = Softphones(
                    load_secret(secret),
                    sip,
                    self.users,
                    KamailioRegistrar(self.front_door.rpc),
                )
        self.capacity = len(ports) * sip.callers_per_worker
        log.info(
            "voice: SIP on %s:%s:%d, %d worker(s) x %d calls, capacity %d concurrent calls%s",
            "+".join(sip.transports),
            sip.host,
            sip.port,
            len(ports),
            sip.calls_per_worker,
            self.capacity,
            "" if use_kamailio else " (no front door)",
        )

    def _prerender(self) -> None:
        cache = Path(self.sip.prompt_cache_dir)
        if not self.sip.music:
            make_music(cache / "music.wav")
        renderer = PromptRenderer(cache, self.sip.voice_rate)
        for prompt in static_prompts(self.flows, self.surveys.values(), self.config.recording):
            renderer.path(prompt)

    async def _pump_events(self) -> None:
        async with self.events.listen(node=self.settings.node_id) as queue:
            while True:
                event = await queue.get()
                if self.pool is not None:
                    try:
                        if event.get("type") == RESUMED:
                            await self._offer_again(self.pool)
                        else:
                            await self.pool.dispatch(event)
                    except Exception:
                        log.exception("routing event %s not delivered", event.get("type"))

    async def _offer_again(self, pool: WorkerPool) -> None:
        """The node's events came back after a gap (a Redis outage): an offer made
        meanwhile for one of its calls was never heard, so the agent's phone would not
        ring and the call would ring out as the agent's 'no answer'. Every voice offer
        still ringing is handed to the workers again, with the ring time left; a call
        whose agent's phone already rings ignores it."""
        now = now_ms()
        for contact, until in await self.router.ringing_at_node(self.settings.node_id):
            if contact.channel != Channel.VOICE or not contact.agent_id:
                continue
            agent = await self.router.get_agent(contact.agent_id)
            await pool.dispatch(offer_event(contact, until, now, sip_uri=agent.sip_uri))

    async def _purge_recordings(self) -> None:
        recording = self.config.recording
        loop = asyncio.get_running_loop()
        while True:
            await loop.run_in_executor(
                None, purge, Path(recording.directory), recording.retention_days
            )
            await asyncio.sleep(PURGE_EVERY_S)

    async def stop(self) -> None:
        """The workers first, then Kamailio: a worker that stops hangs its calls up, and
        the BYE reaches a caller through Kamailio (it record-routes), so the front door
        stays up until every worker has ended."""
        self.softphones = None
        if self.pool is not None:
            await self.pool.stop()
        if self.front_door is not None:
            await self.front_door.stop()
        await cancel_and_wait(task for task in (self._pump, self._purge) if task is not None)

    # ------------------------------------------------------------------ live calls
    async def _command(self, contact_id: str, op: str, **args: Any) -> Any:
        if self.pool is None:
            raise CommandRefused("voice is not running on this node")
        return await self.pool.command(contact_id, op, **args)

    def holds(self, contact_id: str) -> bool:
        """Whether a worker of this node holds the contact's call."""
        return self.pool is not None and contact_id in self.pool.owner

    async def transfer(self, contact_id: str, target: str, *, warm: bool = False) -> str:
        """Blind or warm transfer of a connected call from the agent's desktop. `target`
        is `queue:NAME`, `agent:ID` (that agent first, then the queue), `tel:NUMBER` (via
        `[sip] outside_uri`) or a SIP URI. Warm: the caller is held with music while the
        agent talks to the target; then `complete_transfer` or `cancel_transfer`.
        Returns the call's state."""
        result = await self._command(contact_id, "transfer", target=target, warm=warm)
        return str(result["state"])

    async def complete_transfer(self, contact_id: str) -> str:
        return str((await self._command(contact_id, "complete_transfer"))["state"])

    async def cancel_transfer(self, contact_id: str) -> str:
        """Back to the agent: the consulted party is hung up."""
        return str((await self._command(contact_id, "cancel_transfer"))["state"])

    async def hold(self, contact_id: str, on: bool) -> bool:
        """The agent holds the caller from the desktop (music; the phone stays up and no
        longer hears the caller), or resumes; whether the call is on hold now."""
        return bool((await self._command(contact_id, "hold", on=on))["on_hold"])

    async def record(self, contact_id: str) -> str:
        """The agent records this call from now on (after the consent prompt where
        configured); returns the file name that the contact's record will list."""
        return str((await self._command(contact_id, "record"))["file"])

    async def pause_recording(self, contact_id: str, by: str) -> dict[str, Any]:
        """`by` pauses the call's recording (silence from now on: card details); refused
        when the call is not recorded or already paused. The recording's state: `file`,
        `paused_since_ms`, `paused_by`, `pauses` (those ended)."""
        return dict(await self._command(contact_id, "recording_pause", by=by))

    async def resume_recording(self, contact_id: str, by: str) -> dict[str, Any]:
        """`by` resumes the call's paused recording; refused when it is not paused."""
        return dict(await self._command(contact_id, "recording_resume", by=by))

    async def monitor(
        self, contact_id: str, supervisor: str, supervisor_uri: str, mode: str = "listen"
    ) -> int:
        """Ring the supervisor's phone and join it to the call (`listen`, `whisper` or
        `barge`); start and end are audited. Returns the monitor's id."""
        mode = MonitorMode(mode).value
        result = await self._command(
            contact_id, "monitor", supervisor=supervisor, uri=supervisor_uri, mode=mode
        )
        return int(result["monitor"])

    async def change_monitor(self, contact_id: str, monitor: int, mode: str) -> None:
        await self._command(
            contact_id, "monitor_mode", monitor=monitor, mode=MonitorMode(mode).value
        )

    async def end_monitor(self, contact_id: str, monitor: int) -> None:
        await self._command(contact_id, "monitor_stop", monitor=monitor)

    def recording_file(self, name: str) -> Path:
        """A recording listed on a contact, for playback (the caller audits who plays it);
        raises telephony.recordings.UnknownRecording."""
        return recording_path(Path(self.config.recording.directory), name)
