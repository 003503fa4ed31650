"""Use cases other packages call: the IVR's language menu, chat messages for a reader,
and which agents a chat may reach through translation.

Plain data in and out; the translator and the catalog are passed in, never created here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from babel import Locale

from i18n.language import primary
from i18n.locale import LocaleProfile
from i18n.messages import REASON_KEYS
from i18n.model import Translation, Verbosity
from i18n.prompts import PromptCatalog
from i18n.translation import Translator


@dataclass(frozen=True)
class MenuEntry:
    digit: int
    language: str
    text: str


def language_menu(
    catalog: PromptCatalog, languages: Sequence[str], first_digit: int = 1
) -> list[MenuEntry]:
    """ "For English press 1", "Para español, pulse 2"…: each entry in its own language.

    `languages` comes ordered as the IVR wants to offer them (guessed ones first).
    """
    return [
        MenuEntry(digit, language, catalog.text("choose_language", language, digit=digit))
        for digit, language in enumerate(languages, start=first_digit)
    ]


@dataclass(frozen=True)
class ReasonEntry:
    digit: int
    queue: str
    text: str


def reason_menu(
    catalog: PromptCatalog,
    language: str,
    queues: Sequence[str],
    verbosity: Verbosity = Verbosity.FULL,
    first_digit: int = 1,
) -> tuple[list[str], list[ReasonEntry]]:
    """The reason menu as the IVR plays it: (texts in order, digit → queue entries).

    Full verbosity opens with "Please choose the reason for your call" and closes with
    how to hear the options again; short plays the options alone (the shortest path).
    Queues without a reason prompt are left out of the menu.
    """
    entries = [
        ReasonEntry(digit, queue, catalog.text(REASON_KEYS[queue], language, digit=digit))
        for digit, queue in enumerate((q for q in queues if q in REASON_KEYS), start=first_digit)
    ]
    texts = [entry.text for entry in entries]
    if verbosity is Verbosity.FULL:
        texts = [
            catalog.text("choose_reason", language),
            *texts,
            catalog.text("menu_repeat_hint", language),
        ]
    return texts, entries


@dataclass(frozen=True)
class ChatLine:
    """One chat message as its reader sees it: the text, and the author's words kept."""

    text: str
    original: str
    author_language: str
    reader_language: str
    translated: bool
    missing_pair: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "original": self.original,
            "author_language": self.author_language,
            "reader_language": self.reader_language,
            "translated": self.translated,
            "missing_pair": self.missing_pair,
        }


def shared_language(first: Iterable[str], second: Iterable[str]) -> str | None:
    """A language both sides speak (order of `first` wins), compared on the language alone."""
    others = {primary(code) for code in second}
    return next((primary(code) for code in first if primary(code) in others), None)


def chat_line(
    translator: Translator, text: str, author_language: str, reader_languages: Sequence[str]
) -> ChatLine:
    """Show a message to a reader: as written if the reader speaks its language, else in
    the reader's first language that a model reaches, else as written with the gap said."""
    author = primary(author_language)
    readers = [primary(code) for code in reader_languages] or [author]
    if author in readers:
        return ChatLine(text, text, author, author, False, False)
    result: Translation | None = None
    for reader in readers:
        if translator.can_translate(author, reader):
            result = translator.translate(text, author, reader)
            if result.translated:
                break
    if result is None or not result.translated:
        return ChatLine(text, text, author, readers[0], False, True)
    return ChatLine(result.text, text, author, result.target, True, False)


def translation_language(
    customer_language: str, agent_languages: Sequence[str], pairs: Iterable[tuple[str, str]]
) -> str | None:
    """The agent language a chat can be carried in through models both ways, or None.

    The routing step after the language steps fail: an agent without the customer's
    language may take the chat when customer→agent and agent→customer pairs exist.
    `pairs` is `Translator.pairs()` (pivots included), so routing needs no model loaded.
    """
    customer = primary(customer_language)
    available = set(pairs)
    for language in agent_languages:
        agent = primary(language)
        if agent == customer:
            return agent
        if (customer, agent) in available and (agent, customer) in available:
            return agent
    return None


def customer_card(
    profile: LocaleProfile, agent_language: str, now: datetime, waited_s: float
) -> dict[str, str]:
    """What an agent sees about a customer's locale, written in the agent's language:
    the customer's language by name, their local time, how long they waited, how to
    address them and the currency they think in."""
    agent_locale = Locale.parse(primary(agent_language))
    customer_locale = Locale.parse(profile.locale)
    # The customer's time zone, the agent's way of writing.
    agent_profile = LocaleProfile(
        replace(profile.settings, language=primary(agent_language), locale=str(agent_locale))
    )
    return {
        "language": customer_locale.get_display_name(agent_locale) or profile.locale,
        "local_time": agent_profile.format_time(now),
        "waited": agent_profile.format_duration(waited_s),
        "formality": profile.formality.value,
        "currency": profile.settings.currency,
    }
