"""Chat messages between a customer and an agent, translated when they share no language."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, Protocol

from router.model import Agent, Contact
from router.redaction import Redactor
from router.store import RoutingStore
from switchboard.common.clock import now_ms
from switchboard.common.languages import primary, script_of

MAX_MESSAGE_CHARS = 4000
# The sender of a message the center itself posts (an advisory), not a person.
CENTER = "center"
# Messages read from a chat's head to find the agent's first answer (reports, cases): a
# bound, so a long transcript is never read whole for it.
FIRST_MESSAGES = 50


def from_an_agent(sender: object) -> bool:
    """Whether a chat message's `sender` is an agent: not the customer, nor the center
    (an advisory's notice), nor unknown. What answers the customer (reports, cases)."""
    return sender not in (None, "", "customer", CENTER)


# How long the translator's pairs are taken as they were (an install shows within this).
PAIRS_FRESH_S = 5.0


class TranslationResult(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def missing_pair(self) -> bool: ...

    @property
    def error(self) -> str | None: ...


class TranslatorPort(Protocol):
    """What chat needs from i18n: translate off the event loop, or say the pair is missing."""

    async def translate_async(self, text: str, source: str, target: str) -> TranslationResult: ...

    def pairs(self) -> list[tuple[str, str]]: ...


@dataclass
class Message:
    message_id: str
    contact_id: str
    sender: str  # "customer", the agent's id, or CENTER
    text: str
    language: str
    at_ms: int
    translations: dict[str, str] = field(default_factory=dict)
    missing_translation: list[str] = field(default_factory=list)
    # The sender's own id of the message (a retry after a lost answer carries it again).
    client_message_id: str | None = None
    # What was taken out of the text as written (`card_number`: router/redaction.py).
    redacted: list[str] = field(default_factory=list)


class Posted(NamedTuple):
    """A message posted: `new` False when it repeats one already stored (the same
    sender's `client_message_id`), which is the message then; nothing new was kept."""

    message: Message
    new: bool


def agent_language(contact: Contact, agent: Agent | None, pairs: Iterable[tuple[str, str]]) -> str:
    """The language the agent reads and writes this chat in: the customer's when the agent
    speaks it; else, of the agent's languages in their order, the first that the
    customer's language is translated to and from (`pairs`, pivots included), one the
    routing matched them on first (the pair that let them take the chat, or the queue's
    fallback); else one the routing matched on; else one the customer's words are
    translated into; else the agent's first."""
    if agent is None or not agent.languages:
        return contact.language
    customer = primary(contact.language)
    spoken = list(dict.fromkeys(primary(tag) for tag in agent.languages))
    if customer in spoken:
        return contact.language
    routed = {primary(tag) for tag in contact.matched_languages}
    available = set(pairs)

    def fit(language: str) -> tuple[bool, bool, bool]:
        to_agent = (customer, language) in available
        both = to_agent and (language, customer) in available
        return both, language in routed, to_agent

    return max(spoken, key=fit)  # the first of the best


def written_for(contact: Contact, language: str) -> str:
    """The tag text in `language` is translated into: the customer's own (`zh-TW`: the
    translator writes Traditional characters for them) when it is the chat's language,
    else the language itself. Translations stay keyed by the language (`zh`)."""
    if language == contact.language and contact.language_tag:
        return contact.language_tag
    return language


def agent_written(agent: Agent | None, language: str) -> str:
    """The tag `agent` reads and writes `language` in: their own entry of it (the roster
    keeps language subtags, so `zh`, which is Simplified), else the language itself."""
    if agent is not None:
        return next((tag for tag in agent.languages if primary(tag) == primary(language)), language)
    return language


def rewritten(source: str, target: str, tags: tuple[str, str]) -> bool:
    """Whether a message needs a text for its reader: another language, or the same one
    in another script (Simplified and Traditional Chinese: zh and zh-TW)."""
    return target != source or script_of(tags[0]) != script_of(tags[1])


class ChatLog:
    """Messages of each chat contact, card numbers masked and translated on the way in,
    kept by the routing store."""

    def __init__(
        self,
        store: RoutingStore,
        translator: TranslatorPort | None,
        redactor: Redactor | None = None,
    ) -> None:
        self.store = store
        self.translator = translator
        self.redactor = redactor or Redactor()
        self._pairs: tuple[float, frozenset[tuple[str, str]]] | None = None

    async def pairs(self) -> frozenset[tuple[str, str]]:
        """What the translator can translate, asked again after PAIRS_FRESH_S (off the
        event loop: an engine answers once its running model call is done)."""
        if self.translator is None:
            return frozenset()
        if self._pairs is None or time.monotonic() - self._pairs[0] > PAIRS_FRESH_S:
            found = frozenset(await asyncio.to_thread(self.translator.pairs))
            self._pairs = (time.monotonic(), found)
        return self._pairs[1]

    async def agent_language(self, contact: Contact, agent: Agent | None) -> str:
        """The language `agent` reads and writes this chat in (see `agent_language`)."""
        if agent is None or primary(contact.language) in map(primary, agent.languages):
            return contact.language
        return agent_language(contact, agent, await self.pairs())

    async def post(
        self,
        contact: Contact,
        agent: Agent | None,
        sender: str,
        text: str,
        client_message_id: str | None = None,
    ) -> Posted:
        """The customer writes in the chat's language and the agent reads theirs; the
        agent writes in theirs and the customer reads the chat's. A `client_message_id`
        the sender already used in this chat stores nothing: the message it named is
        answered."""
        agent_side = await self.agent_language(contact, agent)
        source, target = agent_side, contact.language
        # Tags as each side writes (the script): nobody's known while the chat waits.
        customer_tag = written_for(contact, contact.language)
        tags = (agent_written(agent, agent_side) if agent else customer_tag, customer_tag)
        if sender == "customer":
            source, target, tags = contact.language, agent_side, (tags[1], tags[0])
        return await self._write(contact, sender, text, source, target, client_message_id, tags)

    async def repeat(self, contact_id: str, sender: str, client_message_id: str) -> Message | None:
        """The message `sender` posted in the chat with this `client_message_id`, if any
        (among the chat's latest, `store.REPEAT_SCAN`)."""
        known = await self.store.find_repeat(contact_id, sender, client_message_id)
        return Message(**known) if known else None

    async def post_from_center(self, contact: Contact, text: str, language: str) -> Message:
        """A message from the center itself (sender `center`, no agent), written in
        `language`, translated into the chat's language when that differs."""
        return (await self._write(contact, CENTER, text, language, contact.language)).message

    async def _write(
        self,
        contact: Contact,
        sender: str,
        text: str,
        source: str,
        target: str,
        client_message_id: str | None = None,
        tags: tuple[str, str] | None = None,
    ) -> Posted:
        """Keep a message written in `source`, with its translation into `target` (or
        answer the sender's message of the same `client_message_id`); `tags`: the
        writer's and the reader's own (default: `source`, the customer's for `target`).
        Card numbers are masked first: no store, engine, desk or export sees them."""
        redacted = self.redactor.redact(text)
        message = Message(
            message_id=uuid.uuid4().hex,
            contact_id=contact.contact_id,
            sender=sender,
            text=redacted.text,
            language=source,
            at_ms=now_ms(),
            client_message_id=client_message_id,
            redacted=redacted.kinds,
        )
        tags = tags or (source, written_for(contact, target))
        if rewritten(source, target, tags):
            await self._translate(message, target, tags[1], tags[0])
        if client_message_id is None:
            await self.store.append_message(contact.contact_id, asdict(message))
            return Posted(message, True)
        known = await self.store.append_message_once(contact.contact_id, asdict(message))
        return Posted(Message(**known), False) if known else Posted(message, True)

    async def _translate(
        self, message: Message, target: str, tag: str = "", source_tag: str = ""
    ) -> None:
        """Add the translation into `target` (written as `tag` says, when given, from the
        script `source_tag` says), or note that the pair is missing. Nothing is added in
        the same language when the text reads the same."""
        if self.translator is not None:
            into, written = tag or target, source_tag or message.language
            result = await self.translator.translate_async(message.text, written, into)
            if not (result.missing_pair or result.error):
                if target != message.language or result.text != message.text:
                    message.translations[target] = result.text
                return
        if target != message.language:  # the same language is read as written at worst
            message.missing_translation.append(f"{message.language}>{target}")

    async def messages(self, contact_id: str) -> list[Message]:
        return [Message(**fields) for fields in await self.store.messages(contact_id)]

    async def read(self, contact_id: str, reader: str, message_id: str) -> bool:
        """`reader` ("customer" or "agent") has read the chat up to `message_id`, a
        message of the other side (the agent's or the center's for the customer, the
        customer's for the agent): kept when it is later than what they had read. False,
        and nothing kept, otherwise (an earlier message, one of their own, none such)."""
        for index, fields in enumerate(await self.store.messages(contact_id)):
            if fields.get("message_id") != message_id:
                continue
            from_customer = fields.get("sender") == "customer"
            if from_customer == (reader == "customer"):
                return False
            return await self.store.mark_read(contact_id, reader, message_id, index)
        return False

    async def reads(self, contact_id: str) -> dict[str, str | None]:
        """The latest message each side has read: `customer` and `agent` (None: none)."""
        return await self.store.reads(contact_id)

    async def messages_for(self, contact: Contact, agent: Agent | None) -> list[Message]:
        """The messages, with the customer's written before `agent` took the chat (while
        it waited, nobody's language was known) translated for them now and kept."""
        messages = await self.messages(contact.contact_id)
        if agent is None:  # nobody's language, nor script, to write them for
            return messages
        target = await self.agent_language(contact, agent)
        for index, message in enumerate(messages):
            tags = (written_for(contact, message.language), agent_written(agent, target))
            needs = message.sender == "customer" and rewritten(message.language, target, tags)
            if not needs or target in message.translations:
                continue
            if f"{message.language}>{target}" in message.missing_translation:
                continue
            await self._translate(message, target, tags[1], tags[0])
            await self.store.replace_message(contact.contact_id, index, asdict(message))
        return messages
