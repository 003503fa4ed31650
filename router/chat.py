"""Chat messages between a customer and an agent, translated when they share no language."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Protocol

from router.model import Agent, Contact
from router.store import RoutingStore
from switchboard.common.clock import now_ms

MAX_MESSAGE_CHARS = 4000
# The sender of a message the center itself posts (an advisory), not a person.
CENTER = "center"


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


def reader_language(contact: Contact, agent: Agent | None, sender_is_agent: bool) -> str:
    """The customer reads the contact's language; the agent reads it if they speak it."""
    if sender_is_agent:
        return contact.language
    if agent is None or contact.language in agent.languages or not agent.languages:
        return contact.language
    return agent.languages[0]


def writer_language(contact: Contact, agent: Agent | None, sender_is_agent: bool) -> str:
    if not sender_is_agent or agent is None:
        return contact.language
    return contact.language if contact.language in agent.languages else agent.languages[0]


class ChatLog:
    """Messages of each chat contact, translated on the way in, kept by the routing store."""

    def __init__(self, store: RoutingStore, translator: TranslatorPort | None) -> None:
        self.store = store
        self.translator = translator

    async def post(self, contact: Contact, agent: Agent | None, sender: str, text: str) -> Message:
        sender_is_agent = sender != "customer"
        source = writer_language(contact, agent, sender_is_agent)
        target = reader_language(contact, agent, sender_is_agent)
        return await self._write(contact, sender, text, source, target)

    async def post_from_center(self, contact: Contact, text: str, language: str) -> Message:
        """A message from the center itself (sender `center`, no agent), written in
        `language`, translated into the chat's language when that differs."""
        return await self._write(contact, CENTER, text, language, contact.language)

    async def _write(
        self, contact: Contact, sender: str, text: str, source: str, target: str
    ) -> Message:
        """Keep a message written in `source`, with its translation into `target`."""
        message = Message(
            message_id=uuid.uuid4().hex,
            contact_id=contact.contact_id,
            sender=sender,
            text=text,
            language=source,
            at_ms=now_ms(),
        )
        if target != source:
            await self._translate(message, target)
        await self.store.append_message(contact.contact_id, asdict(message))
        return message

    async def _translate(self, message: Message, target: str) -> None:
        """Add the translation into `target`, or note that the pair is missing."""
        if self.translator is not None:
            result = await self.translator.translate_async(message.text, message.language, target)
            if not (result.missing_pair or result.error):
                message.translations[target] = result.text
                return
        message.missing_translation.append(f"{message.language}>{target}")

    async def messages(self, contact_id: str) -> list[Message]:
        return [Message(**fields) for fields in await self.store.messages(contact_id)]

    async def messages_for(self, contact: Contact, agent: Agent | None) -> list[Message]:
        """The messages, with the customer's written before `agent` took the chat (while
        it waited, nobody's language was known) translated for them now and kept."""
        messages = await self.messages(contact.contact_id)
        target = reader_language(contact, agent, sender_is_agent=False)
        for index, message in enumerate(messages):
            needs = message.sender == "customer" and message.language != target
            if not needs or target in message.translations:
                continue
            if f"{message.language}>{target}" in message.missing_translation:
                continue
            await self._translate(message, target)
            await self.store.replace_message(contact.contact_id, index, asdict(message))
        return messages
