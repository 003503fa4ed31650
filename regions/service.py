"""Regional use cases: where a new chat waits, and adopting the work of a dead node."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
from dataclasses import dataclass

from regions.membership import Membership
from regions.placement import Placement, RegionView, choose_heir, is_open, place
from router.auth import UserStore
from router.model import AgentState
from router.service import Router
from router.stats import estimate_wait_s
from router.store import now_ms
from switchboard.settings import RegionConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Adoption:
    dead_node: str
    heir: str
    adopted: int
    failed: int
    requeued: int
    agents: list[str]
    detected_after_s: float


class Regions:
    def __init__(
        self,
        router: Router,
        membership: Membership,
        users: UserStore,
        regions: list[RegionConfig],
        node_id: str,
    ) -> None:
        self.router = router
        self.membership = membership
        self.users = users
        self.regions = regions
        self.node_id = node_id

    async def views(self, queue: str, language: str) -> list[RegionView]:
        """Each region's business hours, health, and predicted wait for this queue and language."""
        skill = self.router.queues[queue].skill
        now = now_ms()
        agents = await self.router.list_agents()
        nodes = await self.membership.nodes()
        counts = await self.router.store.waiting_counts(queue, "region", "language")
        waiting_by_region = {region: n for (region, lang), n in counts.items() if lang == language}
        aht = await self.router.aht_s(queue)
        wall = dt.datetime.now(dt.UTC)
        views = []
        for region in self.regions:
            serving = sum(
                1
                for agent in agents
                if agent.region == region.name
                and skill in agent.skills
                and language in agent.languages
                and agent.state(now) not in (AgentState.OFFLINE, AgentState.NOT_READY)
            )
            waiting = waiting_by_region.get(region.name, 0)
            views.append(
                RegionView(
                    name=region.name,
                    open=is_open(region, wall),
                    healthy=any(alive and info.region == region.name for info, alive in nodes),
                    can_serve=serving > 0,
                    predicted_wait_s=estimate_wait_s(waiting + 1, serving, aht)
                    if serving
                    else math.inf,
                )
            )
        return views

    async def place(self, queue: str, language: str, home: str | None) -> Placement:
        config = self.router.queues[queue]
        views = await self.views(queue, language)
        return place(
            home or self.router.region, views, config.placement_ewt_s, config.overflow_region_ewt_s
        )

    async def adopt_dead_nodes(self) -> list[Adoption]:
        """Adopt the work of every node whose heartbeat expired, if this node is its heir."""
        nodes = await self.membership.nodes()
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
            adoption = await self._adopt(info.node_id, time.time() - info.last_seen)
            await self.membership.forget(info.node_id)
            adoptions.append(adoption)
        return adoptions

    async def recover_previous_run(self) -> Adoption | None:
        """At start, adopt what this node id left behind when its last process died."""
        if await self.membership.is_alive(self.node_id):
            return None
        return await self._adopt(self.node_id, 0.0)

    async def _adopt(self, dead: str, detected_after_s: float) -> Adoption:
        result = await self.router.store.run("adopt", dead, self.node_id)
        agents = [str(agent) for agent in result[3:]]
        for agent_id in agents:
            await self.users.revoke_all(agent_id)
        adoption = Adoption(
            dead_node=dead,
            heir=self.node_id,
            adopted=int(result[0]),
            failed=int(result[1]),
            requeued=int(result[2]),
            agents=agents,
            detected_after_s=round(detected_after_s, 2),
        )
        await self.membership.record_adoption({**adoption.__dict__, "at": time.time()})
        if adoption.adopted or adoption.failed or adoption.agents:
            log.warning("adopted the work of node %s: %s", dead, adoption)
        return adoption

    async def watch(self, interval_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.adopt_dead_nodes()
            except Exception as failure:
                log.warning("failover check failed: %s", failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
