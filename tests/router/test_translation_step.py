"""The routing step `translation` names a chat's rules only when a translation pair
widened them: a chat that waited past `relax_translation_after_s` and went to an agent
of the queue's fallback language, with no pair for the customer's language, was routed
by the language step (the desk's "Why you" and the supervisor's explanation line say
what happened, not a translation that does not)."""

from __future__ import annotations

from router.model import Channel, ContactState, NewContact, Presence, QueueConfig, Strategy
from router.service import Router
from router.store import RoutingStore
from tests.router.conftest import make_agent

T0 = 1_700_000_000_000

HELP = QueueConfig(
    name="help",
    skill="help",
    strategy=Strategy.ROUND_ROBIN,
    wrap_up_s=0,
    fallback_languages=("en",),
    relax_language_after_s=10,
    relax_region_after_s=None,
    relax_proficiency_after_s=None,
    relax_translation_after_s=30,
)


async def help_router(redis_client, pairs: list[tuple[str, str]]) -> Router:
    """A router of the one queue `help`, with the translator's pairs published."""
    router = Router(RoutingStore(redis_client), [HELP], node_id="n1", region="eu")
    await router.publish_configuration(["eu"])
    await router.store.publish_translation_pairs(pairs)
    return router


async def offered_after_the_translation_step(router: Router, language: str, agent_languages):
    """A chat in `language` waits past every step; then the agent becomes available."""
    contact = await router.create_contact(
        NewContact(channel=Channel.CHAT, queue="help", language=language), at_ms=T0
    )
    await router.tick(at_ms=T0 + 40_000)
    assert (await router.get_contact(contact.contact_id)).state == ContactState.QUEUED
    agent = make_agent("tom", languages=agent_languages, help=4)
    await router.store.upsert_agent(agent, at_ms=T0 + 40_000)
    await router.set_presence("tom", Presence.AVAILABLE, at_ms=T0 + 41_000)
    return await router.get_contact(contact.contact_id)


async def test_a_fallback_language_agent_past_the_translation_wait_is_the_language_step(
    redis_client,
) -> None:
    """Japanese chat, only es<->en installed, Tom speaks English (the fallback): the
    explanation says step=language, never translation."""
    router = await help_router(redis_client, [("es", "en"), ("en", "es")])
    contact = await offered_after_the_translation_step(router, "ja", ["en"])
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "tom")
    assert "step=language" in contact.explanation[-1], contact.explanation[-1]
    assert "step=translation" not in " ".join(contact.explanation)
    assert contact.matched_languages == ["ja", "en"]


async def test_a_pair_that_adds_a_language_is_the_translation_step(redis_client) -> None:
    """Spanish chat, es<->fr installed, the agent speaks French only: the pair let him
    take it, so the step is translation and French is among the languages."""
    router = await help_router(redis_client, [("es", "fr"), ("fr", "es")])
    contact = await offered_after_the_translation_step(router, "es", ["fr"])
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "tom")
    assert "step=translation" in contact.explanation[-1], contact.explanation[-1]
    assert contact.matched_languages == ["es", "en", "fr"]


async def test_a_pair_into_a_fallback_language_adds_nothing(redis_client) -> None:
    """Spanish chat, es<->en installed, English is the queue's fallback already: the
    translation step widens nothing, so the rules are still the language step's."""
    router = await help_router(redis_client, [("es", "en"), ("en", "es")])
    contact = await offered_after_the_translation_step(router, "es", ["en"])
    assert (contact.state, contact.agent_id) == (ContactState.OFFERED, "tom")
    assert "step=language" in contact.explanation[-1], contact.explanation[-1]
