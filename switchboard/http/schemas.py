"""Request bodies and query strings of the HTTP API, as pydantic models.

They validate every field (valid Unicode, lengths, allowed characters for ids and SIP
URIs, languages babel knows) and are what the OpenAPI document shows. Domain rules
that need state (is this queue configured, may this actor do that) stay in the
service layer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from router.model import Presence, Role, Strategy
from switchboard.common.ids import Id, Name, Text, finite, valid_unicode
from switchboard.common.languages import canonical, primary


def _known_tag(value: str) -> str:
    """A language tag babel knows, as BCP 47 writes it (tags are case-insensitive: `ZH-tw`
    is `zh-TW`, `iw-IL` is `he-IL`), language, script and region kept."""
    tag = canonical(value)
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ValueError("a language tag babel knows, like es or pt-BR") from None
    return tag


def _known_language(value: str) -> str:
    """The language subtag of a tag babel knows: agents and contacts are matched on it, so
    a customer's `es-MX` (or `ES`, `es_ES`) reaches an agent who speaks `es`."""
    return primary(_known_tag(value))


_LANGUAGE_TAG = StringConstraints(
    max_length=35, pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$"
)
Language = Annotated[str, _LANGUAGE_TAG, AfterValidator(_known_language)]
# The customer's own tag, script and region kept (`zh-TW`, `pt-BR`): what a chat is
# written in for them; routing matches its language subtag alone (router/contacts.py).
LanguageTag = Annotated[str, _LANGUAGE_TAG, AfterValidator(_known_tag)]
SipUri = Annotated[
    str,
    StringConstraints(max_length=256, pattern=r'^sips?:[^\s<>"\x00-\x1f\x7f]+$'),
    AfterValidator(valid_unicode),
]
Reason = Annotated[str, StringConstraints(max_length=200), AfterValidator(valid_unicode)]
# An outside number a call is transferred to: digits, an optional leading +.
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}$")]


class Strict(BaseModel):
    """Unknown fields are refused, so a typo is an error and not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Channels(Strict):
    voice: int | None = Field(default=None, ge=0, le=10)
    chat: int | None = Field(default=None, ge=0, le=10)


class Login(Strict):
    agent_id: Id
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
    priority: int | None = Field(default=None, ge=0, le=9)


class WrapUp(Strict):
    code: Annotated[str, StringConstraints(max_length=64)] = ""
    note: Annotated[Text, StringConstraints(max_length=2000)] = ""


class PagesQuery(BaseModel):
    lang: LanguageTag = "en"


class ChatOptionsQuery(BaseModel):
    site: Name | None = None


# The sender's own id of a chat message (a page makes one per message it composes).
ClientMessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class NewMessage(Strict):
    text: Annotated[Text, StringConstraints(min_length=1, max_length=4000)]
    # Sent again with a retry (the answer was lost): the message is stored and sent once.
    client_message_id: ClientMessageId | None = None


class Rating(Strict):
    score: int = Field(ge=1, le=5)


class Transfer(Strict):
    """Exactly one of queue, agent, number (a number and `warm`: voice calls only)."""

    queue: Name | None = None
    agent: Id | None = None
    number: PhoneNumber | None = None
    warm: bool = False


class Monitor(Strict):
    """A supervisor joins a live call: their softphone is rung at `phone`."""

    mode: Literal["listen", "whisper", "barge"] = "listen"
    phone: SipUri


class Move(Strict):
    queue: Name


class SnapshotStream(BaseModel):
    """Query of the wallboard's event stream (other query keys, e.g. token, pass)."""

    every: Annotated[float, AfterValidator(finite)] = Field(default=2.0, ge=0.5, le=30.0)


class AuditQuery(BaseModel):
    last: int = Field(default=100, ge=1, le=10_000)


Seconds = Annotated[float, AfterValidator(finite), Field(ge=0, le=86_400)]


class QueueDefinition(Strict):
    """A queue as an admin defines it (the fields of `[[queues]]` but its name)."""

    skill: Name | None = None
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority: int = Field(default=1, ge=0, le=100)
    answer_within_s: Seconds = 20.0
    service_level_target: float = Field(default=0.8, ge=0, le=1)
    wrap_up_s: Seconds = 10.0
    ring_s: float | None = Field(default=None, ge=1, le=600)  # None: [routing]'s
    min_proficiency: int = Field(default=1, ge=1, le=5)
    fallback_languages: list[Language] = Field(default_factory=lambda: ["en"], max_length=30)
    relax_language_after_s: Seconds | None = 60.0
    relax_region_after_s: Seconds | None = 120.0
    relax_proficiency_after_s: Seconds | None = 180.0
    relax_translation_after_s: Seconds | None = None
    max_wait_s: Seconds | None = None
    overflow_queue: Name | None = None
    priority_weight_s: Seconds = 60.0
    overflow_region_ewt_s: Seconds | None = None
    placement_ewt_s: Seconds | None = None


class AgentDefinition(Strict):
    region: Name
    skills: dict[Name, Annotated[int, Field(ge=1, le=5)]] = Field(min_length=1, max_length=50)
    languages: list[Language] = Field(min_length=1, max_length=30)
    capacity: Channels | None = None


class QueuePath(Strict):
    """The queue a PUT creates: a name as every body names queues."""

    queue: Name


class AgentPath(Strict):
    """The agent a PUT creates: an id as a login and a transfer name agents."""

    agent: Id


class UserPath(Strict):
    """The user a PUT creates: an id as a login names users."""

    user: Id


class UserDefinition(Strict):
    role: Role
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    queues: list[Name] = Field(default_factory=list, max_length=200)
    regions: list[Name] = Field(default_factory=list, max_length=50)
