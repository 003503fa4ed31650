"""The IVR's prompts in English: the source that `pybabel extract` (babel.cfg) reads.

Keys are what the IVR asks for; the English text is the gettext msgid that each
language's catalog (i18n/locales/<lang>/LC_MESSAGES/prompts.po) translates. Placeholders
use str.format names ({digit}, {position}, {minutes}). A plural entry lists the English
singular and plural; each catalog has as many forms as its language's plural rule.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction; returns it unchanged."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural message for extraction (the count is named in PLURAL_COUNTS)."""
    return (singular, plural)


PROMPTS: dict[str, str | tuple[str, str]] = {
    "welcome": N_("Welcome to Switchboard Airlines."),
    "welcome_informal": N_("Hi, thanks for calling Switchboard Airlines!"),
    # i18n: say the name of YOUR language, written in your language: "Para español, pulse {digit}."
    "choose_language": N_("For English, press {digit}."),
    "choose_reason": N_("Please choose the reason for your call."),
    "reason_booking": N_("For bookings and changes, press {digit}."),
    "reason_baggage": N_("For baggage, press {digit}."),
    "reason_emergency": N_("For an emergency, press {digit}."),
    "reason_general": N_("For anything else, press {digit}."),
    # i18n: a reason (queue) named other than the four above; {reason} is its name as the
    # operator wrote it in the configuration, untranslated ("lounge").
    "reason_option": N_("For {reason}, press {digit}."),
    "menu_repeat_hint": N_("To hear these options again, press star."),
    "invalid_choice": N_("Sorry, that is not a valid choice."),
    "closed": N_("We are closed now. Please call again during our opening hours."),
    # i18n: said after "closed"; {time} is the time as the caller's region says it
    # ("8 in the morning", "08:00"), already in your language.
    "opens_at": N_("We open again at {time}."),
    "queued": N_("Please hold, an agent will be with you shortly."),
    # Said before the agent answers a call of a recorded queue ([recording] consent).
    "recording_consent": N_("This call is recorded for quality and training."),
    "queue_position": NP_(
        "You are number {position} in line. The wait is about {minutes} minute.",
        "You are number {position} in line. The wait is about {minutes} minutes.",
    ),
    # Said instead of queue_position while nobody can serve the queue: no wait to promise.
    "queue_position_no_wait": N_("You are number {position} in line."),
    "callback_offer": N_("To be called back instead of waiting, press {digit}."),
    "callback_confirmed": N_("Thank you. We will call you back as soon as an agent is free."),
    "connecting": N_("Connecting you to an agent now."),
    # Said to a customer who picks up a callback, before "connecting": who is calling.
    "callback_intro": N_("This is Switchboard Airlines, calling you back as you asked."),
    "goodbye": N_("Goodbye."),
    "survey_question": N_("How satisfied were you with this call? Press 1 to 5."),
    "thank_you": N_("Thank you for your feedback."),
    # Said when a menu's wait ended with no key pressed (a wrong key hears invalid_choice).
    "no_input": N_("We did not hear a choice."),
}

# The value that picks the plural form of each plural prompt.
PLURAL_COUNTS: dict[str, str] = {"queue_position": "minutes"}

# The names of the queues whose reason the IVR offers, in menu order.
REASON_KEYS: dict[str, str] = {
    "booking": "reason_booking",
    "baggage": "reason_baggage",
    "emergency": "reason_emergency",
    "general": "reason_general",
}

# Other names the telephony package's IVR uses for the same prompts.
ALIASES: dict[str, str] = {
    "ivr.greeting": "welcome",
    "ivr.language_option": "choose_language",
    "ivr.invalid": "invalid_choice",
    "ivr.no_input": "no_input",
    "ivr.closed": "closed",
    "ivr.opens_at": "opens_at",
    "ivr.queued": "queued",
    "queue.position": "queue_position",
    "queue.position_no_wait": "queue_position_no_wait",
    "queue.callback_offer": "callback_offer",
    "queue.callback_confirmed": "callback_confirmed",
    "callback.intro": "callback_intro",
    "callback.connecting": "connecting",
    "recording.consent": "recording_consent",
}


def resolve_key(key: str, values: dict[str, object]) -> str:
    """The catalog key for a key or alias; `ivr.reason_option` picks reason_<reason>,
    or the template `reason_option` that says any other reason by its name."""
    if key == "ivr.reason_option":
        return REASON_KEYS.get(str(values.get("reason")), "reason_option")
    return ALIASES.get(key, key)
