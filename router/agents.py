"""What people do with agents: sign in and out, change state, see who is there.

An agent acts on themselves; a supervisor on the agents of their queues and regions
(audited); a planner only reads. `router.access` decides, this module only asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from router import access
from router.access import AgentAct, Principal
from router.model import Agent, Presence, Role
from router.reports.service import Reports
from router.service import Router
from router.sessions import Sessions


@dataclass(frozen=True)
class SignIn:
    """A login: credentials, and for agents the softphone and chat capacity."""

    user_id: str
    password: str
    client: str = ""
    sip_uri: str = ""
    channels: dict[str, int] | None = None


@dataclass(frozen=True)
class Session:
    token: str
    principal: Principal
    agent: Agent | None


class Agents:
    def __init__(self, router: Router, sessions: Sessions, reports: Reports) -> None:
        self.router = router
        self.sessions = sessions
        self.reports = reports

    @property
    def _queue_skills(self) -> dict[str, str]:
        return {name: queue.skill for name, queue in self.router.queues.items()}

    async def sign_in(self, request: SignIn) -> Session:
        """A token; an agent's login also records its softphone and capacity and, when
        it was offline, makes it not-ready ("logged in")."""
        token, principal = await self.sessions.login(
            request.user_id, request.password, request.client
        )
        agent = None
        if principal.role == Role.AGENT or request.sip_uri or request.channels:
            agent = await self.router.login(principal.user_id, request.sip_uri, request.channels)
        return Session(token, principal, agent)

    async def sign_out(self, token: str) -> Principal | None:
        """End this session; an agent with no other session open goes offline."""
        principal = await self.sessions.logout(token)
        if (
            principal is not None
            and principal.role == Role.AGENT
            and not await self.sessions.users.token_count(principal.user_id)
        ):
            await self.router.set_presence(principal.user_id, Presence.OFFLINE, "logged out")
        return principal

    async def get(self, actor: Principal, agent_id: str, act: AgentAct = AgentAct.READ) -> Agent:
        access.require_may_seek_agent(actor, agent_id)
        agent = await self.router.get_agent(agent_id)
        access.require_for_agent(actor, act, agent, self._queue_skills)
        return agent

    async def visible(self, actor: Principal) -> list[Agent]:
        agents = await self.router.list_agents()
        return access.visible_agents(actor, agents, self._queue_skills)

    async def set_state(
        self, actor: Principal, agent_id: str, presence: Presence, reason: str = ""
    ) -> Agent:
        await self.get(actor, agent_id, AgentAct.SET_STATE)
        if actor.user_id != agent_id:
            await self.reports.audit(
                actor.user_id, "agent.set_state", agent_id=agent_id, state=presence.value
            )
        return await self.router.set_presence(agent_id, presence, reason)

    async def log_out(self, actor: Principal, agent_id: str) -> Agent:
        """A supervisor signs an agent out: every session ends, the agent goes offline."""
        await self.get(actor, agent_id, AgentAct.LOG_OUT)
        await self.reports.audit(actor.user_id, "agent.log_out", agent_id=agent_id)
        await self.sessions.revoke_all(agent_id, f"logged out by {actor.user_id}")
        return await self.router.set_presence(agent_id, Presence.OFFLINE, "logged out")

    async def events(self, actor: Principal, agent_id: str) -> Agent:
        """May the actor follow this agent's events (offers, messages)? Only the agent."""
        return await self.get(actor, agent_id, AgentAct.EVENTS)
