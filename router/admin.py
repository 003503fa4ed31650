"""Administration over the API: queues, agents and users changed while every node runs.

Every change is an admin's, audited, and announced with a `config_changed` event so
that each node takes it up at once (queues) or the sessions it affects end (users and
agents removed or changed). The routing function reads queue rules from Redis on the
next decision after `config_version` changes, so no node restarts.
"""

from __future__ import annotations

from collections.abc import Callable

from router import access
from router.access import Principal
from router.contacts import EventPublisher
from router.errors import InvalidInput, RoutingError, UnknownQueue, UnknownUser
from router.model import Agent, QueueConfig, Role
from router.reports.service import Reports
from router.service import Router
from router.sessions import Sessions


class Administration:
    def __init__(
        self,
        router: Router,
        sessions: Sessions,
        reports: Reports,
        events: EventPublisher,
        queue_uses: Callable[[str], list[str]] = lambda queue: [],
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.reports = reports
        self.events = events
        # where the node's other settings send contacts to a queue (cases' escalations)
        self.queue_uses = queue_uses

    async def _changed(self, actor: Principal, action: str, what: str, **detail: object) -> None:
        await self.reports.audit(actor.user_id, action, **detail)
        await self.events.publish({"type": "config_changed", "what": what})

    async def put_queue(self, actor: Principal, queue: QueueConfig) -> QueueConfig:
        access.require_role(actor, Role.ADMIN)
        if queue.overflow_queue and queue.overflow_queue not in {*self.router.queues, queue.name}:
            raise InvalidInput(
                "$.overflow_queue", "the name of another queue", queue.overflow_queue
            )
        await self.router.define_queue(queue)
        await self._changed(actor, "admin.queue.put", "queues", queue=queue.name)
        return queue

    async def queue(self, actor: Principal, name: str) -> QueueConfig:
        """A queue as the deployment defines it now (UnknownQueue otherwise)."""
        access.require_role(actor, Role.ADMIN)
        definitions = await self.router.store.queue_definitions()
        if name not in definitions:
            raise UnknownQueue(name)
        return definitions[name][0]

    async def remove_queue(self, actor: Principal, name: str) -> None:
        """Refused (409) while the settings send contacts to it, as an overflow does."""
        access.require_role(actor, Role.ADMIN)
        if uses := self.queue_uses(name):
            raise RoutingError(f"queue {name} is where {', '.join(uses)} sends contacts")
        await self.router.remove_queue(name)
        await self._changed(actor, "admin.queue.remove", "queues", queue=name)

    async def put_agent(self, actor: Principal, agent: Agent) -> Agent:
        """Create or change an agent of one of the deployment's regions (400 `$.region`)."""
        access.require_role(actor, Role.ADMIN)
        self.router.require_region("$.region", agent.region)
        await self.router.upsert_agent(agent)
        await self._changed(actor, "admin.agent.put", "agents", agent_id=agent.agent_id)
        return await self.router.get_agent(agent.agent_id)

    async def remove_agent(self, actor: Principal, agent_id: str) -> None:
        """Remove an agent who holds no contact (RoutingError, 409, otherwise: going
        offline would hand their chats back to the queues, which is not the admin's to
        decide here); their sessions end."""
        access.require_role(actor, Role.ADMIN)
        agent = await self.router.get_agent(agent_id)
        if sum(agent.load.values()) or agent.offers:
            raise RoutingError(f"agent {agent_id} holds contacts; end or move them first")
        await self.router.remove_agent(agent_id)
        await self.sessions.revoke_all(agent_id, "agent removed")
        await self._changed(actor, "admin.agent.remove", "agents", agent_id=agent_id)

    async def put_user(
        self,
        actor: Principal,
        user_id: str,
        role: Role,
        password: str,
        *,
        queues: tuple[str, ...] = (),
        regions: tuple[str, ...] = (),
    ) -> bool:
        """Create or change a user (its sessions end when it existed); True if it existed.
        A scope names queues and regions that exist (400 naming the first that does not:
        a typo would leave a supervisor who sees nothing, with no error): the
        deployment's, the same on every node."""
        access.require_role(actor, Role.ADMIN)
        _require_known("$.queues", queues, tuple(self.router.queues))
        for index, region in enumerate(regions):
            self.router.require_region(f"$.regions[{index}]", region)
        existed = await self.sessions.save_user(
            user_id, role, password, queues=queues, regions=regions
        )
        await self._changed(actor, "admin.user.put", "users", user_id=user_id, role=role.value)
        return existed

    async def remove_user(self, actor: Principal, user_id: str) -> None:
        """Remove a user; its sessions end. One that does not exist is UnknownUser (404)
        and no change: nothing is audited or announced."""
        access.require_role(actor, Role.ADMIN)
        if not await self.sessions.remove_user(user_id):
            raise UnknownUser(user_id)
        await self._changed(actor, "admin.user.remove", "users", user_id=user_id)


def _require_known(field: str, names: tuple[str, ...], known: tuple[str, ...]) -> None:
    """Every name one of `known`: InvalidInput naming the first that is not, with the
    choices."""
    for index, name in enumerate(names):
        if name not in known:
            raise InvalidInput(f"{field}[{index}]", f"one of {', '.join(sorted(known))}", name)
