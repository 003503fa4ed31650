"""Request bodies and query strings of the HTTP API, as pydantic models.

They validate every field (valid Unicode, lengths, allowed characters for ids and SIP
URIs, languages babel knows) and are what the OpenAPI document shows. Domain rules
that need state (is this queue configured, may this actor do that) stay in the
service layer.

One rule for every body (`Strict`): no unknown field, numbers and yes/no as JSON writes
them (`Integer`, `Number`, `Flag`: `"5"`, `5.0` for a whole number, `"yes"` or `1` for
true are refused, not read as 5 or true), times as ISO 8601 text with an offset
(`Moment`: no number read as seconds since 1970), and text a person is to read
(`Prose`: a subject, a note, a message) something to read. And one for every query string
(`Query`): no unknown key, so a typo (`?stauts=closed`) is an error and does not
silently widen a list.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from i18n.pages import Page
from router.model import (
    MAX_AGENT_RING_S,
    MAX_SHORT_ABANDON_S,
    Presence,
    QueueConfig,
    Role,
    Strategy,
)
from switchboard.common.ids import (
    AUDIT_ENTRY_ID,
    Id,
    Name,
    StaffId,
    Text,
    described,
    finite,
    valid_unicode,
)
from switchboard.common.languages import canonical, known_to_babel, primary
from switchboard.common.readable import readable


def _known_tag(value: str) -> str:
    """A language tag babel knows, as BCP 47 writes it (tags are case-insensitive: `ZH-tw`
    is `zh-TW`, `iw-IL` is `he-IL`), language, script and region kept."""
    tag = canonical(value)
    if not known_to_babel(tag):
        raise ValueError("a language tag babel knows, like es or pt-BR")
    return tag


def _known_language(value: str) -> str:
    """The language subtag of a tag babel knows: agents and contacts are matched on it, so
    a customer's `es-MX` (or `ES`, `es_ES`) reaches an agent who speaks `es`."""
    return primary(_known_tag(value))


_LANGUAGE_TAG = StringConstraints(
    max_length=35,
    pattern=described(
        r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$", "a language tag like en or pt-BR"
    ),
)
Language = Annotated[str, _LANGUAGE_TAG, AfterValidator(_known_language)]
# The customer's own tag, script and region kept (`zh-TW`, `pt-BR`): what a chat is
# written in for them; routing matches its language subtag alone (router/contacts.py).
LanguageTag = Annotated[str, _LANGUAGE_TAG, AfterValidator(_known_tag)]
SipUri = Annotated[
    str,
    StringConstraints(
        max_length=256,
        pattern=described(
            r'^sips?:[^\s<>"\x00-\x1f\x7f]+$',
            "a SIP URI like sip:ana@example.com (no spaces, quotes, <> or controls)",
        ),
    ),
    AfterValidator(valid_unicode),
]
Reason = Annotated[str, StringConstraints(max_length=200), AfterValidator(valid_unicode)]
# An outside number a call is transferred to: digits, an optional leading +.
PhoneNumber = Annotated[
    str,
    StringConstraints(
        pattern=described(r"^\+?[0-9]{2,20}$", "a phone number: 2 to 20 digits, maybe a + first")
    ),
]

# Numbers and yes/no as JSON writes them: a client sending "5" or "yes" has a bug that
# coercion would hide (and "yes" closing a case is worse than a 400). A float takes an
# integer (20 is 20.0 seconds).
Integer = Annotated[int, Field(strict=True)]
Number = Annotated[float, Field(strict=True), AfterValidator(finite)]
Flag = Annotated[bool, Field(strict=True)]


def said(text: str) -> str:
    """Text of spaces, invisible marks or blanks alone says nothing to the person who
    reads it, and a control character (NUL...) breaks what shows it; the rule a chat
    message is held to (`switchboard.common.readable`)."""
    if not readable(text):
        raise ValueError("something to read and no control character but line breaks and tabs")
    return text


# What a person is to read: a case's subject or note, a chat message.
Prose = Annotated[Text, AfterValidator(said)]


def iso_time(value: object) -> object:
    """A time is ISO 8601 text: a number, or digits, would be read as seconds since 1970
    (an advisory "until 12345" ended in 1970), a client's bug coercion hides."""
    if not isinstance(value, str) or value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("an ISO 8601 time with its offset (2026-12-08T10:00:00+01:00)")
    return value


# A moment in a body: ISO 8601 with its offset, never a number.
Moment = Annotated[AwareDatetime, BeforeValidator(iso_time)]


class Strict(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error and not silently
    ignored; its numbers and flags are `Integer`, `Number` and `Flag`."""

    model_config = ConfigDict(extra="forbid")


# Query keys that carry a credential where a browser cannot send a header (WebSocket,
# EventSource): the caller's check reads them, so no query model names them.
CREDENTIAL_KEYS = frozenset({"token", "customer_token"})


class Query(BaseModel):
    """A query string: an unknown key is refused (400 naming `query.<key>`), as a body's
    unknown field is; values come as text and are read as their field's type."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _without_credentials(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in CREDENTIAL_KEYS}
        return data


class Channels(Strict):
    voice: Integer | None = Field(default=None, ge=0, le=10)
    chat: Integer | None = Field(default=None, ge=0, le=10)


class Login(Strict):
    agent_id: Id  # any id stored, one from before `StaffId` too
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    sip_uri: SipUri | None = None
    channels: Channels | None = None


class StateChange(Strict):
    state: Presence
    reason: Reason = ""


class ChatCustomer(Strict):
    """Who the customer is, as the caller says: read only when a supervisor or admin
    creates the chat for them (a back office); from anyone else, accepted and ignored."""

    id: Id | None = None
    tier: Name | None = None


class NewChat(Strict):
    channel: Literal["chat"]
    queue: Name
    language: LanguageTag
    # The embedding site's signed identity of its customer (router/identity.py).
    identity: Annotated[str, StringConstraints(max_length=4096)] | None = None
    site: Name | None = None
    # As `customer`: read only from a supervisor's or admin's request.
    customer: ChatCustomer | None = None
    region: Name | None = None
    priority: Integer | None = Field(default=None, ge=0, le=9)


class ContactWrapUp(Strict):
    code: Annotated[str, StringConstraints(max_length=64)] = ""
    note: Annotated[Text, StringConstraints(max_length=2000)] = ""


class PagesQuery(Query):
    lang: LanguageTag = "en"
    page: Page = Field(
        default="chat",
        description="the page asking: `chat` (the customer's, from every catalog) or "
        "`desk` (the agent desktop, from the desk languages only: English for a language "
        "that does not translate it)",
    )


class ChatOptionsQuery(Query):
    site: Name | None = None


# What a page's URL may carry for its scripts: the page reads and checks it itself (an
# unknown language falls back to the browser's, chat-main.js), so only bounded here.
PageText = Annotated[str, StringConstraints(max_length=64)]
# A site's signed identity (router/identity.py: base64url payload, '.', hex signature).
PageIdentity = Annotated[
    str,
    StringConstraints(
        max_length=4096,
        pattern=described(
            r"^[A-Za-z0-9_.=-]*$",
            "a signed identity as the site gives it: letters, digits, _ . = -",
        ),
    ),
]


class PageQuery(Query):
    """The desktop's and the wallboard's URL: `?lang=` (i18n.js)."""

    lang: PageText | None = None


class ChatPageQuery(PageQuery):
    """The chat window's URL as embed.js writes it (site, lang, queue; the identity
    better in the fragment, which no server sees)."""

    site: PageText | None = None
    queue: PageText | None = None
    identity: PageIdentity | None = None


# The sender's own id of a chat message (a page makes one per message it composes).
ClientMessageId = Annotated[
    str,
    StringConstraints(
        pattern=described(
            r"^[A-Za-z0-9_-]{1,64}$", "an id of 1 to 64 letters, digits, _ and - (no spaces)"
        )
    ),
]


class NewMessage(Strict):
    text: Annotated[Prose, StringConstraints(min_length=1, max_length=4000)]
    # Sent again with a retry (the answer was lost): the message is stored and sent once.
    client_message_id: ClientMessageId | None = None


class Rating(Strict):
    score: Integer = Field(ge=1, le=5)


class Transfer(Strict):
    """Exactly one of queue, agent, number (a number and `warm`: voice calls only)."""

    queue: Name | None = None
    agent: Id | None = None
    number: PhoneNumber | None = None
    warm: Flag = False


class Monitor(Strict):
    """A supervisor joins a live call: their softphone is rung at `phone`."""

    mode: Literal["listen", "whisper", "barge"] = "listen"
    phone: SipUri


class Move(Strict):
    queue: Name


class SnapshotStream(Query):
    """Query of the wallboard's event stream."""

    every: Annotated[float, AfterValidator(finite)] = Field(default=2.0, ge=0.5, le=30.0)


class AuditQuery(Query):
    """`last` entries, the latest or those before the entry `before` (a page's `next`)."""

    last: int = Field(default=100, ge=1, le=10_000)
    before: (
        Annotated[
            str,
            StringConstraints(
                pattern=described(AUDIT_ENTRY_ID, "an entry's id as a page's next gives it")
            ),
        ]
        | None
    ) = None


Seconds = Annotated[Number, Field(ge=0, le=86_400)]
# The defaults a queue's fields take, `QueueConfig`'s: shown here for the OpenAPI document,
# applied by `router.definitions.queue_from` to the fields a definition leaves out.
_QUEUE = QueueConfig(name="", skill="")


class QueueDefinition(Strict):
    """A queue as an admin defines it (the fields of `[[queues]]` but its name): the one
    validator of a queue's fields, for the node's file (`switchboard.settings`) and the
    admin API alike, so a queue the file defines is one the API takes back."""

    skill: Name | None = Field(default=None, description="left out: the queue's name")
    strategy: Strategy = _QUEUE.strategy
    priority: Integer = Field(default=_QUEUE.priority, ge=0, le=100)
    answer_within_s: Seconds = _QUEUE.answer_within_s
    service_level_target: Number = Field(default=_QUEUE.service_level_target, ge=0, le=1)
    wrap_up_s: Seconds = _QUEUE.wrap_up_s
    ring_s: Number | None = Field(
        default=None, ge=1, le=600, description="left out: the node's [routing].offer_timeout_s"
    )
    min_proficiency: Integer = Field(default=_QUEUE.min_proficiency, ge=1, le=5)
    fallback_languages: list[Language] = Field(
        default_factory=lambda: list(_QUEUE.fallback_languages), max_length=30
    )
    relax_language_after_s: Seconds | None = _QUEUE.relax_language_after_s
    relax_region_after_s: Seconds | None = _QUEUE.relax_region_after_s
    relax_proficiency_after_s: Seconds | None = _QUEUE.relax_proficiency_after_s
    relax_translation_after_s: Seconds | None = _QUEUE.relax_translation_after_s
    max_wait_s: Seconds | None = _QUEUE.max_wait_s
    overflow_queue: Name | None = _QUEUE.overflow_queue
    priority_weight_s: Seconds = _QUEUE.priority_weight_s
    overflow_region_ewt_s: Seconds | None = _QUEUE.overflow_region_ewt_s
    placement_ewt_s: Seconds | None = _QUEUE.placement_ewt_s
    callback_attempts: Integer = Field(default=_QUEUE.callback_attempts, ge=1, le=10)
    callback_retry_s: Number = Field(default=_QUEUE.callback_retry_s, ge=1, le=86_400)
    short_abandon_s: Number = Field(
        default=_QUEUE.short_abandon_s,
        ge=0,
        le=MAX_SHORT_ABANDON_S,
        description="a customer who leaves before waiting this long (s) is a short abandon "
        "(a misdial): counted apart, out of the abandonment rate; 0: off",
    )


class AgentDefinition(Strict):
    region: Name
    skills: dict[Name, Annotated[Integer, Field(ge=1, le=5)]] = Field(min_length=1, max_length=50)
    languages: list[Language] = Field(min_length=1, max_length=30)
    capacity: Channels | None = None
    ring_s: Integer | None = Field(
        default=None,
        ge=0,
        le=MAX_AGENT_RING_S,
        description="the agent's own ring time (s) where it is longer than a queue's: an "
        "agent who needs more time to answer (WCAG 2.2.1); 0: each queue's; left out: "
        "unchanged (0 for a new agent)",
    )


class QueuePath(Strict):
    """The queue a PUT creates: a name as every body names queues."""

    queue: Name


class AgentPath(Strict):
    """The agent a PUT creates: an id fit for the paths that name agents (`StaffId`)."""

    agent: StaffId


class UserPath(Strict):
    """The user a PUT creates: an id fit for the paths that name users (`StaffId`)."""

    user: StaffId


class UserDefinition(Strict):
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    queues: list[Name] = Field(default_factory=list, max_length=200)
    regions: list[Name] = Field(default_factory=list, max_length=50)
