"""The voice front door of a node: worker pool, Kamailio, and routing events, wired.

The node (`switchboard serve`) builds one `VoiceFrontDoor` with its settings, its
`Router` and its event hub, then awaits `start()` and, at shutdown, `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from router.survey import RatingStore, SurveyConfig
from switchboard.settings import Settings
from telephony.capacity import sized_for_this_machine
from telephony.config import read_flows, read_sip, read_voice_surveys
from telephony.frontdoor import Destination, FrontDoor
from telephony.model import Hours, IvrFlow, SipConfig
from telephony.pool import WorkerPool
from telephony.prompts import PromptRenderer, make_music, static_prompts
from telephony.routing import RatingPort, RoutingPort

log = logging.getLogger(__name__)


class EventSource(Protocol):
    """What `router.events.EventHub` offers: a queue of one node's routing events."""

    def listen(self, *, node: str | None = None) -> AbstractAsyncContextManager[Any]: ...


def read_voice_config(settings: Settings) -> tuple[SipConfig, list[IvrFlow]]:
    """`[sip]` (its automatic figures sized for this machine and pjsua2 build) and
    `[[ivr]]` of the node's file; raises ConfigError listing every fault."""
    sip = read_sip(settings.reader)
    hours = {r.name: Hours(r.timezone, r.open, r.close) for r in settings.regions}
    flows = read_flows(settings.reader, queues=[q.name for q in settings.queues], regions=hours)
    settings.reader.faults.raise_if_any()
    return sized_for_this_machine(sip), flows


def read_survey_config(settings: Settings) -> dict[str, SurveyConfig]:
    """Queue -> post-call voice survey (`[[surveys]]`, voice = true); raises ConfigError."""
    surveys = read_voice_surveys(settings.reader, queues=[q.name for q in settings.queues])
    settings.reader.faults.raise_if_any()
    return surveys


def rating_store_of(router: Any) -> RatingPort | None:
    """The router's own rating store (the one reports read), when it has a Redis store."""
    store = getattr(router, "store", None)
    client = getattr(store, "client", None)
    if client is None:
        return None
    return RatingStore(client, getattr(store, "prefix", "sb"))


class VoiceFrontDoor:
    def __init__(
        self,
        settings: Settings,
        router: RoutingPort,
        events: EventSource,
        *,
        workdir: Path = Path("var/telephony"),
        python: str = sys.executable,
        log_level: str = "WARNING",
        ratings: RatingPort | None = None,
    ) -> None:
        self.settings = settings
        self.router = router
        self.events = events
        self.workdir = workdir
        self.python = python
        self.log_level = log_level
        self.sip, self.flows = read_voice_config(settings)
        self.surveys = read_survey_config(settings)
        # Workers send survey ratings over their pipe; the node stores them here.
        self.ratings = ratings if ratings is not None else rating_store_of(router)
        self.pool: WorkerPool | None = None
        self.front_door: FrontDoor | None = None
        self._pump: asyncio.Task[None] | None = None
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
            ratings=self.ratings,
        )
        # Render prompts and music once here, rather than racing in every worker.
        await asyncio.get_running_loop().run_in_executor(None, self._prerender)
        self._pump = asyncio.get_running_loop().create_task(self._pump_events())
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
            )
            await self.front_door.start()
        self.capacity = len(ports) * sip.callers_per_worker
        log.info(
            "voice: SIP on udp:%s:%d, %d worker(s), capacity %d concurrent calls%s",
            sip.host,
            sip.port,
            len(ports),
            self.capacity,
            "" if use_kamailio else " (no front door)",
        )

    def _prerender(self) -> None:
        cache = Path(self.sip.prompt_cache_dir)
        if not self.sip.music:
            make_music(cache / "music.wav")
        renderer = PromptRenderer(cache, self.sip.voice_rate)
        for prompt in static_prompts(self.flows, self.surveys.values()):
            renderer.path(prompt)

    async def _pump_events(self) -> None:
        async with self.events.listen(node=self.settings.node_id) as queue:
            while True:
                event = await queue.get()
                if self.pool is not None:
                    try:
                        await self.pool.dispatch(event)
                    except Exception:
                        log.exception("routing event %s not delivered", event.get("type"))

    async def stop(self) -> None:
        if self.front_door is not None:
            await self.front_door.stop()
        if self.pool is not None:
            await self.pool.stop()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
