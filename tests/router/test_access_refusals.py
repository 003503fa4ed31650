"""What a refusal on an agent says, in words (pure logic: router/access.py)."""

from __future__ import annotations

import pytest

from router.access import AgentAct, Principal, require_for_agent
from router.errors import Forbidden
from router.model import Agent, Role

QUEUE_SKILLS = {"booking": "booking", "general": "general"}


@pytest.mark.parametrize(
    ("act", "said"),
    [
        (AgentAct.READ, "read"),
        (AgentAct.SET_STATE, "set the state of"),
        (AgentAct.EVENTS, "follow the events of"),
        (AgentAct.LOG_OUT, "log out"),
        (AgentAct.CONTACTS, "read the contacts of"),
    ],
)
def test_a_supervisor_refused_on_an_agent_out_of_scope_is_told_what(
    act: AgentAct, said: str
) -> None:
    """(It read "may not contacts agent ana", "may not set_state agent ana".)"""
    general = Principal("sup2", Role.SUPERVISOR, queues=frozenset({"general"}))
    ana = Agent("ana", "default", {"booking": 4}, ["en"])
    with pytest.raises(Forbidden) as refused:
        require_for_agent(general, act, ana, QUEUE_SKILLS)
    assert str(refused.value) == f"supervisor sup2 may not {said} agent ana"
