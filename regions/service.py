"""Regional use cases: heartbeats, where a new chat waits, the regions' overview, and
adopting the work of a dead node."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from regions.contact import RedisContact
from regions.model import RegionConfig
from regions.placement import Placement, RegionView, choose_heir, elsewhere, place
from regions.store import MembershipStore, NodeInfo
from router.model import Agent, AgentState, Channel, LoopFailed, LoopLog, uncounted
from router.service import PlacedElsewhere, Router
from router.sessions import Sessions
from router.stats import estimate_wait_s
from switchboard.common.clock import now_ms
from switchboard.common.errors import InputError

log = logging.getLogger(__name__)

# Placement reads every agent and node; a new chat may use what was read this long ago.
VIEWS_FRESH_S = 1.0
# A failed beat is tried again this soon, not a third of the TTL later: when Redis comes
# back, every live node beats again within moments, long before another judges it dead.
BEAT_RETRY_S = 0.2


class NodeIdInUse(InputError):
    """Another running process beats under this node id: a node refuses to start then."""


def _free_chat_places(agent: Agent, now: int) -> int:
    """The chats an agent ready for them could be offered now: none in wrap-up."""
    if agent.state(now) == AgentState.WRAP_UP:
        return 0
    room = agent.capacity.get("chat", 0) - agent.load.get("chat", 0) - agent.offers
    return max(room, 0)


@dataclass(frozen=True)
class Adoption:
    dead_node: str
    heir: str
    adopted: int
    failed: int
    requeued: int
    agents: list[str]  # signed out: their sessions died with the node
    detected_after_s: float
    stopped: bool = False  # the node stopped cleanly (it did not die)
    region: str = ""  # the dead node's (a region's supervisor is shown theirs)
    handed_over: list[str] = field(default_factory=list)  # a stopped node's: kept
    placed: int = 0  # waiting chats placed in another region: theirs had no live node


class Regions:
    def __init__(
        self,
        router: Router,
        membership: MembershipStore,
        sessions: Sessions,
        regions: list[RegionConfig],
        node_id: str,
    ) -> None:
        self.router = router
        self.membership = membership
        self.sessions = sessions
        self.regions = regions
        self.node_id = node_id
        # This process, among all that ever ran as node_id: a heartbeat names its run.
        self.run = secrets.token_hex(8)
        # Two successful round trips more than half a TTL apart may hide an outage in
        # which a live node's heartbeat lapsed (it beats every third of the TTL).
        ttl_s = membership.ttl_s
        self.contact = RedisContact(settle_s=ttl_s, max_gap_s=ttl_s / 2)
        # Set when another process beats under this id and this one, started later,
        # gives way (`in_use` says why): the node stops as a refused start would.
        self.displaced = asyncio.Event()
        self.in_use: NodeIdInUse | None = None
        self._views: dict[tuple[str, str], tuple[float, list[RegionView]]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(region.name for region in self.regions)

    # -- heartbeats ------------------------------------------------------------------------

    async def heartbeat(
        self,
        region: str,
        http: str,
        load: Callable[[], Awaitable[dict[str, Any]]],
        stop: asyncio.Event,
        failed: LoopFailed = uncounted,
    ) -> None:
        """Beat every third of the TTL until stopped, or until this process gives way to
        another of the same id (`displaced`). A failed beat (Redis down) is never
        fatal and is tried again within BEAT_RETRY_S, so that this node is seen alive as
        soon as Redis is back, before anyone takes it for dead."""
        started = time.time()
        failing = False
        while not stop.is_set():
            wait_s = self.membership.ttl_s / 3
            try:
                if not await self._beat(region, http, started, await load()):
                    return  # the other process's heartbeat is the node's now
                self.contact.reached()
                failing = False
            except Exception as failure:  # Redis down: beat again as soon as it is back
                self.contact.lost()
                failed("heartbeat", failure)
                if not failing:
                    log.warning("heartbeat failed: %s; trying again until it passes", failure)
                failing = True
                wait_s = min(wait_s, BEAT_RETRY_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait_s)

    async def _beat(self, region: str, http: str, started: float, load: dict[str, Any]) -> bool:
        """One beat; False if this process gives way to another of its id (`_share`)."""
        replaced = await self.membership.beat(self.node_id, region, http, started, load, self.run)
        if replaced is not None and replaced.run != self.run:
            return self._share(replaced, started)
        return True

    def _share(self, other: NodeInfo, started: float) -> bool:
        """Another process beats under this id (both started at once, so the start's
        check passed them both). While both beat, the node never looks dead, and neither
        process's agents and contacts would be adopted when one died: the one started
        later (ties broken by the run token, so both reach the same answer) stops, as
        its start would have been refused, and the other serves on. False if this one
        stops."""
        if (started, self.run) < (other.started_at, other.run):
            log.error(
                "node id %s is also used by the process started at %s (%s), started "
                "later: that one stops; give each node its own --node",
                self.node_id,
                _clock(other.started_at),
                other.http,
            )
            return True
        self.in_use = NodeIdInUse(
            f"node id {self.node_id} is in use: the process started at "
            f"{_clock(other.started_at)} ({other.http}) still beats; give each node its "
            "own --node"
        )
        log.error("%s; this process, started later, stops", self.in_use)
        self.displaced.set()
        return False

    async def leave(self) -> None:
        """Stop beating at once, so that the heir adopts without waiting for the TTL. A
        process that gave way to another of its id leaves the heartbeat alone: the node
        lives on in the other process."""
        if self.displaced.is_set():
            return
        await self.membership.leave(self.node_id, self.run)

    # -- placement -------------------------------------------------------------------------

    async def views(self, queue: str, language: str) -> list[RegionView]:
        """Each region's business hours, health, and predicted wait for this queue and
        language."""
        skill = self.router.queues[queue].skill
        agents = await self.router.list_agents()
        nodes = await self.membership.nodes()
        counts = await self.router.store.waiting_counts(queue, "region", "language")
        waiting_by_region = {region: n for (region, lang), n in counts.items() if lang == language}
        aht = await self.router.aht_s(queue)
        wall = dt.datetime.now(dt.UTC)
        now = now_ms()
        views = []
        for region in self.regions:
            fit = [
                agent
                for agent in agents
                if agent.region == region.name
                and skill in agent.skills
                and language in agent.languages
                and agent.serving
            ]
            # A chat that finds a free place with an agent there waits for nobody: only
            # those beyond the free places wait for agents to finish.
            free = sum(_free_chat_places(agent, now) for agent in fit)
            position = waiting_by_region.get(region.name, 0) + 1 - free
            views.append(
                RegionView(
                    name=region.name,
                    open=region.hours.is_open(wall),
                    healthy=any(alive and info.region == region.name for info, alive in nodes),
                    can_serve=bool(fit),
                    predicted_wait_s=estimate_wait_s(position, len(fit), aht) if fit else math.inf,
                )
            )
        return views

    async def place(self, queue: str, language: str, home: str | None) -> Placement:
        """The region a new chat waits in (see `placement.place`). With one region there
        is nothing to choose; otherwise the regions' views are read at most once a second
        per queue and language, so a burst of chats does not read every agent each."""
        config = self.router.queues[queue]
        home = home or self.router.region
        if len(self.regions) < 2:
            return Placement(home, f"home region {home}")
        key = (queue, language)
        loop = asyncio.get_running_loop()
        read_at, views = self._views.get(key, (-math.inf, []))
        if loop.time() - read_at > VIEWS_FRESH_S:
            views = await self.views(queue, language)
            self._views[key] = (loop.time(), views)
        return place(home, views, config.placement_ewt_s, config.overflow_region_ewt_s)

    # -- overview --------------------------------------------------------------------------

    async def overview(self) -> list[dict[str, Any]]:
        """Each region: local time and UTC offset, business hours, open, healthy, its nodes
        (each healthy or not, and whether it stopped cleanly)."""
        now = dt.datetime.now(dt.UTC)
        nodes = await self.membership.nodes()
        body = []
        for region in self.regions:
            members = [
                {
                    "node_id": info.node_id,
                    "healthy": alive,
                    "last_seen_s": round(info.age_s, 1),
                    # it stopped cleanly (its heartbeat deleted on purpose): not down
                    "stopped": info.left,
                    "http": info.http,
                    "load": info.load,
                }
                for info, alive in nodes
                if info.region == region.name
            ]
            local = region.hours.local(now)
            body.append(
                {
                    "region": region.name,
                    "timezone": region.timezone,
                    "local_time": local.isoformat(timespec="seconds"),
                    "utc_offset_min": int(
                        (local.utcoffset() or dt.timedelta()).total_seconds() // 60
                    ),
                    "business_hours": {"open": region.open, "close": region.close},
                    "open": region.hours.is_open(now),
                    "healthy": any(member["healthy"] for member in members),
                    "nodes": members,
                }
            )
        return body

    async def adoptions(self) -> list[dict[str, Any]]:
        return await self.membership.adoptions()

    # -- failover --------------------------------------------------------------------------

    async def adopt_dead_nodes(self) -> list[Adoption]:
        """Adopt the work of every node whose heartbeat expired, if this node is its heir
        and can tell a death from a Redis outage (`_may_judge`)."""
        nodes = await self.membership.nodes()
        self.contact.reached()
        if not self._may_judge(nodes):
            return []
        alive = [(info.node_id, info.region) for info, ok in nodes if ok]
        neighbours = {region.name: region.neighbours for region in self.regions}
        adoptions = []
        for info, ok in nodes:
            if ok or info.node_id == self.node_id:
                continue
            if choose_heir(info.region, alive, neighbours) != self.node_id:
                continue
            if not await self.membership.claim_adoption(info, self.node_id):
                continue
            adoption = await self._adopt(
                info.node_id, time.time() - info.last_seen, stopped=info.left, region=info.region
            )
            await self.membership.forget(info)
            adoptions.append(adoption)
        return adoptions

    def _may_judge(self, nodes: list[tuple[NodeInfo, bool]]) -> bool:
        """An expired heartbeat means a dead node only to a node that has reached Redis
        without a break for a whole TTL, and whose own heartbeat Redis kept: after an
        outage (or data Redis lost) the live nodes' heartbeats may have lapsed too, until
        they beat again. Before its own first beat a node has nothing to go by: it waits."""
        own = [ok for info, ok in nodes if info.node_id == self.node_id and info.run == self.run]
        if not own or self.displaced.is_set():  # a process that gave way judges nothing
            return False
        if not own[0]:
            self.contact.doubt("Redis holds no heartbeat of this node, which beats")
            return False
        return self.contact.settled()

    async def recover_previous_run(self) -> Adoption | None:
        """At start, adopt what this node id's previous process left (its voice calls
        failed, its chats kept, its agents signed out), before serving anything.

        A heartbeat of this id still alive is either the last one of a process that just
        died (a restart within the TTL) or that of another process running as this id:
        wait until it expires (then adopt) or is renewed (then raise NodeIdInUse, and
        leave it alone). If a heir claimed the previous run first, it adopts instead;
        None then."""
        expired = await self._wait_for_previous_heartbeat()
        # Claimed as a heir would (it reads the membership), so that only one adopts.
        previous = await self.membership.known(self.node_id) or expired
        if previous is None:  # never beat (or adopted and forgotten): adopt what may be
            return await self._adopt(self.node_id, 0.0, region=self.router.region)
        if not await self.membership.claim_adoption(previous, self.node_id):
            return None
        since_s = time.time() - previous.last_seen
        return await self._adopt(
            self.node_id, since_s, stopped=previous.left, region=previous.region
        )

    async def _wait_for_previous_heartbeat(self) -> NodeInfo | None:
        """The previous process's heartbeat once it expired; None if there was none."""
        live = await self.membership.heartbeat(self.node_id)
        if live is None:
            return None
        raw, previous = live
        ttl_s = self.membership.ttl_s
        deadline = time.monotonic() + ttl_s + 1.0
        while True:
            await asyncio.sleep(min(0.05, ttl_s / 20))
            now = await self.membership.heartbeat(self.node_id)
            if now is None:
                return previous
            if now[0] != raw or time.monotonic() > deadline:
                raise NodeIdInUse(
                    f"node id {self.node_id} is in use: the process started at "
                    f"{_clock(now[1].started_at)} ({now[1].http}) still beats; give each "
                    "node its own --node"
                )

    async def _adopt(
        self, dead: str, detected_after_s: float, stopped: bool = False, region: str = ""
    ) -> Adoption:
        moves = {} if stopped else await self._placed_elsewhere(dead)
        adopted = await self.router.adopt(dead, self.node_id, stopped, moves)
        for agent_id in adopted.agents:
            await self.sessions.revoke_all(agent_id, "node lost")
        adoption = Adoption(
            dead_node=dead,
            heir=self.node_id,
            adopted=adopted.adopted,
            failed=adopted.failed,
            requeued=adopted.requeued,
            agents=adopted.agents,
            detected_after_s=round(detected_after_s, 2),
            stopped=stopped,
            region=region,
            handed_over=adopted.handed_over,
            placed=adopted.placed,
        )
        await self.membership.record_adoption({**asdict(adoption), "at": time.time()})
        if adoption.failed or adoption.agents or adoption.requeued:  # a crash's losses
            log.warning("adopted the work of node %s: %s", dead, adoption)
        elif adoption.adopted or adoption.handed_over:  # a rolling restart, nothing lost
            log.info("adopted the work of node %s: %s", dead, adoption)
        return adoption

    async def _placed_elsewhere(self, dead: str) -> dict[str, PlacedElsewhere]:
        """The chats that the adoption of `dead` takes over or gives back in a region left
        with no live node, each with where it waits instead: as a new chat would be placed
        now (`placement.elsewhere`), rather than held there until its queue's region
        relaxation. The heir's own region is alive (at a restart it may not have beaten
        yet). Not after a clean stop: its agents stay signed in and serve its region."""
        if len(self.regions) < 2:
            return {}
        alive = {info.region for info, ok in await self.membership.nodes() if ok}
        lost = set(self.names) - alive - {self.router.region}
        if not lost:
            return {}
        moves: dict[str, PlacedElsewhere] = {}
        views: dict[tuple[str, str], list[RegionView]] = {}
        for contact in await self.router.contacts_left_by(dead):
            if (
                contact.channel != Channel.CHAT
                or contact.region not in lost
                or contact.queue not in self.router.queues
            ):
                continue
            key = (contact.queue, contact.language)
            if key not in views:
                views[key] = await self.views(*key)
            placed = elsewhere(contact.region, views[key])
            if placed is not None:
                moves[contact.contact_id] = PlacedElsewhere(
                    contact.region,
                    placed.region,
                    f"adopted by {self.node_id}: region {contact.region} has no live node; "
                    f"placed in {placed.region}",
                )
        return moves

    async def watch(
        self, interval_s: float, stop: asyncio.Event, failed: LoopFailed = uncounted
    ) -> None:
        loop = LoopLog(log, "failover", "failover check", failed)
        while not stop.is_set():
            try:
                await self.adopt_dead_nodes()
                loop.passed()
            except Exception as failure:  # Redis down: check again next time
                self.contact.lost()
                loop.failed(failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)


def _clock(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds")
