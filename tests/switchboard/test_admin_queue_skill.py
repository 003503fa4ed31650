"""An admin re-skills a queue during an incident (emergency -> booking: nobody has
`emergency`): the contacts already waiting there follow the queue's new skill at once
and go to the idle booking agent, each told why in its explanation; a contact that
brought a skill of its own (an IVR reason's) keeps it, even when it equals the queue's
old skill."""

from __future__ import annotations

from router.model import Agent, Channel, NewContact, Presence, Role
from tests.nodes import http_session, login, new_chat, running_node

ADMIN = [("adm", Role.ADMIN, "admin-secret-1")]
EMERGENCY = {
    "skill": "emergency",
    "strategy": "most_skilled",
    "priority": 9,
    "answer_within_s": 10,
    "ring_s": 10,
    "wrap_up_s": 5,
    "fallback_languages": ["en"],
}
LINE = "queue emergency now routes skill booking"


async def test_waiting_contacts_follow_the_queues_new_skill_and_are_offered_at_once(
    redis_url: str,
) -> None:
    bea = Agent("bea", "default", {"booking": 4}, ["en"], capacity={"voice": 1, "chat": 4})
    async with (
        running_node(redis_url, users=ADMIN, agents=[bea]) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        assert (await http.put("/api/v1/admin/queues/emergency", json=EMERGENCY, headers=adm)).ok
        await node.router.set_presence("bea", Presence.AVAILABLE)
        chats = [await new_chat(http, queue="emergency", customer=f"e-{i}") for i in range(3)]
        assert [chat["state"] for chat in chats] == ["queued"] * 3
        # An IVR reason's own skill, the same as the queue's old one: it is not the queue's.
        own = await node.router.create_contact(
            NewContact(Channel.CHAT, "emergency", "en", skill="emergency")
        )
        assert own.state.value == "queued"

        changed = {**EMERGENCY, "skill": "booking"}
        answer = await http.put("/api/v1/admin/queues/emergency", json=changed, headers=adm)
        assert answer.status == 200 and (await answer.json())["skill"] == "booking"

        # No timer, no agent freeing up: the PUT itself offered them to bea.
        for chat in chats:
            contact = await node.router.get_contact(chat["contact_id"])
            assert (contact.state.value, contact.agent_id, contact.skill) == (
                "offered",
                "bea",
                "booking",
            )
            assert any(LINE in line for line in contact.explanation), contact.explanation
        kept = await node.router.get_contact(own.contact_id)
        assert (kept.state.value, kept.skill) == ("queued", "emergency")
        assert not any(LINE in line for line in kept.explanation)
        assert (await node.router.get_agent("bea")).offers == 3  # room for a 4th: not taken
