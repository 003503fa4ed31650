"""What the agent desktop and the customer chat are configured with.

`[desk]`: the not-ready reasons agents choose from, the window in which a customer's
new contact counts as a repeat (first-contact resolution), and whether agents see
callers' numbers in clear. `[[dispositions]]`: each queue's wrap-up codes and whether
one is required before the agent is available again. `[[canned]]`: replies per queue
and language. `[chat]`, `[chat.topics.QUEUE]` (what a customer reads for a queue, per
language) and `[[chat.sites]]`: the customers' side (see router/identity.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from router.errors import InvalidInput
from switchboard.common.configfile import ConfigReader
from switchboard.common.durations import parse_duration
from switchboard.common.languages import primary

DEFAULT_REASONS = ("break", "lunch", "meeting", "training", "after-call work")


@dataclass(frozen=True)
class Dispositions:
    """A queue's wrap-up codes; with `required`, an agent gives one before taking more."""

    codes: tuple[str, ...] = ()
    required: bool = False

    def check(self, code: str, field: str) -> None:
        """A code from the list, when the queue has one (InvalidInput naming `field`)."""
        if self.codes and code not in self.codes:
            raise InvalidInput(field, f"one of {', '.join(self.codes)}", code)


@dataclass(frozen=True)
class CannedReply:
    queue: str
    language: str
    title: str
    text: str


@dataclass(frozen=True)
class ChatSite:
    """A web site that embeds the chat: the origins it is served from (CORS) and the
    secret with which it signs who its customers are."""

    name: str
    origins: tuple[str, ...]
    secret: str
    queues: tuple[str, ...] = ()  # offered in its chat window (empty: every queue)
    # Put before the customer ids it signs: a site whose customers are not the center's
    # own (a partner's) names one, so that its ids never name the center's customers,
    # their history or their cases. Empty: its ids are the center's.
    customer_prefix: str = ""
    # The home regions a signed identity may name: the deployment's (set by the node,
    # `DeskConfig.in_regions`; empty: not checked).
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeskConfig:
    not_ready_reasons: tuple[str, ...] = DEFAULT_REASONS
    repeat_window_s: float = 24 * 3600
    show_caller_number: bool = False
    dispositions: dict[str, Dispositions] = field(default_factory=dict)
    canned: tuple[CannedReply, ...] = ()
    # The customers' side.
    tier_priority: dict[str, int] = field(default_factory=dict)
    abandon_grace_s: float = 60.0
    # How long after its chat ended a customer token still opens it (`[chat]
    # customer_token_after_end_s`, access.require_customer_token_open).
    customer_token_after_end_s: float = 24 * 3600
    public_requests_per_minute: int = 300
    sites: tuple[ChatSite, ...] = ()
    # Queues a chat without a site may not pick (an escalation queue); a site lists its own.
    hidden_queues: tuple[str, ...] = ()
    # What a customer reads for a queue in the chat window: {queue: {language: text}}.
    topics: dict[str, dict[str, str]] = field(default_factory=dict)

    def disposition(self, queue: str) -> Dispositions:
        return self.dispositions.get(queue, Dispositions())

    def in_regions(self, regions: Sequence[str]) -> DeskConfig:
        """This desk on a deployment of these regions: the only home regions its sites'
        signed identities may name."""
        sites = tuple(replace(site, regions=tuple(regions)) for site in self.sites)
        return replace(self, sites=sites)

    def site(self, name: str) -> ChatSite | None:
        return next((site for site in self.sites if site.name == name), None)

    def chat_topics(self, site: ChatSite | None, every_queue: Sequence[str]) -> tuple[str, ...]:
        """The queues a customer's chat may start in: the site's, else every queue but
        `[chat] hidden_queues` (an escalation queue such as `senior`; a queue an admin adds
        is a topic at once)."""
        if site is not None and site.queues:
            return site.queues
        return tuple(queue for queue in every_queue if queue not in self.hidden_queues)

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(origin for site in self.sites for origin in site.origins)


def read_desk(reader: ConfigReader, queues: Sequence[str]) -> DeskConfig:
    """`[desk]`, `[[dispositions]]`, `[[canned]]`, `[chat]`; faults go to the reader.
    `queues`: the names of the file's queues (one without a name is a fault of its own,
    and no name here)."""
    queues = [queue for queue in queues if isinstance(queue, str)]
    desk = reader.section("desk")
    window = desk.string("repeat_window", "24h")
    try:
        repeat_window_s = parse_duration(window, positive=True).total_seconds()
    except ValueError as failure:
        desk.fault("repeat_window", str(failure), window)
        repeat_window_s = 24 * 3600
    dispositions = {}
    for section in reader.sections("dispositions"):
        queue = section.string("queue")
        if queue is not None and queue not in queues:
            section.fault("queue", f"one of {', '.join(queues)}", queue)
        codes = tuple(section.strings("codes", []))
        required = section.boolean("required", False)
        if required and not codes:
            section.fault("codes", "at least one code when required = true", [])
        if isinstance(queue, str):
            dispositions[queue] = Dispositions(codes, required)
    canned = []
    for section in reader.sections("canned"):
        queue = section.string("queue")
        if queue is not None and queue not in queues:
            section.fault("queue", f"one of {', '.join(queues)}", queue)
        canned.append(
            CannedReply(
                queue=queue or "",
                # What the desk compares with the agent's writing language (a language
                # subtag): `ES` or `es-MX` is `es`, as tags are case-insensitive.
                language=primary(section.string("language", "en") or "en"),
                title=section.string("title"),
                text=section.string("text"),
            )
        )
    chat = reader.section("chat")
    tiers = chat.section("tier_priority")
    tier_priority = {name: tiers.integer(name, 0, minimum=0, maximum=9) for name in tiers.table}
    return DeskConfig(
        not_ready_reasons=tuple(desk.strings("not_ready_reasons", list(DEFAULT_REASONS))),
        repeat_window_s=repeat_window_s,
        show_caller_number=desk.boolean("show_caller_number", False),
        dispositions=dispositions,
        canned=tuple(canned),
        tier_priority=tier_priority,
        abandon_grace_s=chat.number("abandon_grace_s", 60.0, minimum=0),
        customer_token_after_end_s=chat.number(
            "customer_token_after_end_s", 24 * 3600.0, minimum=60
        ),
        public_requests_per_minute=chat.integer("public_requests_per_minute", 300, minimum=1),
        sites=tuple(_site(section, queues) for section in chat.sections("sites")),
        hidden_queues=_known_queues(chat, queues, "hidden_queues"),
        topics=_topics(chat.section("topics"), queues),
    )


def _topics(section: ConfigReader, queues: Sequence[str]) -> dict[str, dict[str, str]]:
    """`[chat.topics.QUEUE]`: `LANGUAGE = "text"` per language, for queues of the node (an
    operator's own queues read as words, not ids, in the customer's language)."""
    topics: dict[str, dict[str, str]] = {}
    for queue in section.table:
        if queue not in queues:
            section.fault(queue, f"one of {', '.join(queues)}", queue)
            continue
        labels = section.section(queue)
        texts = {language: labels.string(language) for language in labels.table}
        topics[queue] = {
            topic_key(lang): text.strip() for lang, text in texts.items() if text and text.strip()
        }
    return topics


def topic_key(tag: str) -> str:
    """A `[chat.topics.QUEUE]` key as the chat window looks it up: lower case, `-` between
    subtags, the language in its current code (`pt_BR` → `pt-br`, `iw` → `he`)."""
    language, _, rest = tag.strip().replace("_", "-").lower().partition("-")
    return f"{primary(language)}-{rest}" if rest else primary(language)


def _known_queues(
    section: ConfigReader, queues: Sequence[str], key: str = "queues"
) -> tuple[str, ...]:
    """The section's list of queues under `key`, each one of the node's (a fault names any
    other)."""
    named = tuple(section.strings(key, []) or ())
    for queue in named:
        if queue not in queues:
            section.fault(key, f"some of {', '.join(queues)}", queue)
    return named


# A site's customer_prefix: short, and of characters customer ids may hold.
CUSTOMER_PREFIX = r"[A-Za-z0-9_.:-]{1,32}"


def _site(section: ConfigReader, queues: Sequence[str]) -> ChatSite:
    """A site's secret comes from an environment variable or a file, never the config."""
    import os
    from pathlib import Path

    secret = ""
    env = section.string("secret_env", None)
    path = section.string("secret_file", None)
    if env:
        secret = os.environ.get(env, "")
        if not secret:
            section.fault("secret_env", "an environment variable holding the secret", env)
    elif path:
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as failure:
            section.fault("secret_file", "a readable file", f"{path} ({failure.strerror})")
    else:
        section.fault("secret_env", "secret_env or secret_file", None)
    site_queues = _known_queues(section, queues)
    prefix = section.string("customer_prefix", "")
    if prefix and (not re.fullmatch(CUSTOMER_PREFIX, prefix) or prefix.startswith("anon-")):
        section.fault(
            "customer_prefix", "1-32 letters, digits or _.:- (like partner:), not anon-", prefix
        )
    return ChatSite(
        name=section.string("name"),
        origins=tuple(section.strings("origins", [])),
        secret=secret,
        queues=site_queues,
        customer_prefix=prefix,
    )
