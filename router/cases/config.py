"""The node file's sections for cases: `[cases]`, `[[sla_policies]]`, `[[case_rules]]`,
`[emotion]`, `[[webhooks]]`, and the `holidays` of each `[[regions]]`.

Read with the shared `ConfigReader`, so every fault is one line naming the file and key,
reported with the rest of the file's faults at start. The emotion lists are files of
their own (`config/emotion/<language>.toml`); their faults name those files.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from router.cases.emotion import Lexicon, MatchMode
from router.cases.model import (
    CaseRule,
    CaseSettings,
    EmotionSettings,
    Escalation,
    RuleTrigger,
    SlaPolicy,
    WebhookSettings,
)
from switchboard.common.calendar import HolidayCalendar
from switchboard.common.configfile import ConfigReader
from switchboard.common.durations import EXPECTED, parse_duration
from switchboard.common.errors import ConfigError, InputError
from switchboard.common.hours import OpeningHours
from switchboard.common.languages import primary

EVENT_FAMILIES = ("contact", "case", "sla", "customer")
# The shipped lists, found from the installation whatever the working folder.
DEFAULT_LISTS = Path(__file__).resolve().parents[2] / "config" / "emotion"


def read_case_settings(
    reader: ConfigReader, hours: Mapping[str, OpeningHours], queues: Collection[str]
) -> CaseSettings:
    """Every case section of the file; faults go to the reader's list. `hours` are the
    regions' opening hours, `queues` the configured queue names."""
    cases = reader.section("cases")
    calendars = _calendars(reader)
    policies = tuple(_policy(section, queues) for section in reader.sections("sla_policies"))
    names = [policy.name for policy in policies]
    if len(set(names)) != len(names):
        reader.fault(
            "sla_policies", "unique names", sorted({n for n in names if names.count(n) > 1})
        )
    return CaseSettings(
        policies=policies,
        rules=tuple(_rule(section, queues) for section in reader.sections("case_rules")),
        emotion=_emotion(reader, queues) if reader.has("emotion") else None,
        webhooks=tuple(_webhook(section) for section in reader.sections("webhooks")),
        hours=dict(hours),
        calendars=calendars,
        prefer_owner_s=_duration(cases, "prefer_owner", 120.0),
        close_after_s=_duration(cases, "close_after", 72 * 3600.0, positive=True),
        tick_s=_duration(cases, "timer_tick", 1.0, positive=True),
    )


def _duration(section: ConfigReader, key: str, default: float, positive: bool = False) -> float:
    value = section.string(key, None)
    if value is None:
        return default
    try:
        return parse_duration(value, positive=positive).total_seconds()
    except ValueError:
        section.fault(key, EXPECTED + (" above zero" if positive else ""), value)
        return default


def _queue_names(
    section: ConfigReader, key: str, queues: Collection[str], default: list[str] | None = None
) -> tuple[str, ...]:
    names = section.strings(key, default if default is not None else [])
    for name in names or []:
        if name not in queues:
            section.fault(key, f"names of [[queues]] ({', '.join(sorted(queues))})", name)
    return tuple(names or ())


def _queue(section: ConfigReader, key: str, queues: Collection[str]) -> str | None:
    name = section.string(key, None)
    if name is not None and name not in queues:
        section.fault(key, f"the name of a [[queues]] ({', '.join(sorted(queues))})", name)
        return None
    return name


def _calendars(reader: ConfigReader) -> dict[str, HolidayCalendar]:
    """`holidays = "FR"` (or `US-NY`) on a `[[regions]]`: the region's public holidays,
    the same key forecasting reads."""
    calendars = {}
    for section in reader.sections("regions"):
        name, spec = section.string("name", ""), section.string("holidays", None)
        if not spec or not name:
            continue
        try:
            calendars[name] = HolidayCalendar.parse(spec)
        except InputError as failure:
            section.fault("holidays", "a country code such as FR or US-NY", f"{spec} ({failure})")
    return calendars


def _policy(section: ConfigReader, queues: Collection[str]) -> SlaPolicy:
    escalation = section.section("escalation")
    hours = section.string("hours", "business", choices=("business", "around_the_clock"))
    targets = {
        key: _duration(section, key, 0.0, positive=True) if section.has(key) else None
        for key in ("first_response", "next_response", "resolution")
    }
    if not any(targets.values()):
        section.fault(
            "first_response", "at least one of first_response, next_response, resolution", None
        )
    return SlaPolicy(
        name=section.string("name", ""),
        queues=_queue_names(section, "queues", queues),
        tiers=tuple(section.strings("tiers", []) or ()),
        first_response_s=targets["first_response"],
        next_response_s=targets["next_response"],
        resolution_s=targets["resolution"],
        warn_at=section.number("warn_at", 0.8, minimum=0, maximum=1),
        around_the_clock=hours == "around_the_clock",
        escalation=Escalation(
            raise_priority=escalation.integer("raise_priority", 0, minimum=0, maximum=9),
            move_to=_queue(escalation, "move_to", queues),
            notify=escalation.boolean("notify", True),
        ),
    )


def _rule(section: ConfigReader, queues: Collection[str]) -> CaseRule:
    on = section.string(
        "on", RuleTrigger.CONTACT.value, choices=tuple(t.value for t in RuleTrigger)
    )
    return CaseRule(
        name=section.string("name", ""),
        on=RuleTrigger(on or RuleTrigger.CONTACT.value),
        queues=_queue_names(section, "queues", queues),
        channels=tuple(section.strings("channels", []) or ()),
        tiers=tuple(section.strings("tiers", []) or ()),
        count=section.integer("count", 3, minimum=2),
        within_s=_duration(section, "within", 86_400.0, positive=True),
        subject=section.string("subject", ""),
    )


def _emotion(reader: ConfigReader, queues: Collection[str]) -> EmotionSettings:
    section = reader.section("emotion")
    folder = Path(section.string("lists", str(DEFAULT_LISTS)))
    wanted = section.strings("languages", None)
    lexicons = read_lexicons(folder, wanted, reader)
    return EmotionSettings(
        lexicons=lexicons,
        always=tuple(section.strings("always", ["en"]) or ()),
        threshold=section.number("threshold", -0.6, minimum=-1, maximum=1),
        raise_priority=section.integer("raise_priority", 2, minimum=0, maximum=9),
        move_to=_queue(section, "move_to", queues),
        flag=section.boolean("flag", True),
    )


def read_lexicons(
    folder: Path, languages: list[str] | None, reader: ConfigReader | None = None
) -> tuple[Lexicon, ...]:
    """The lists of `folder` (one `<language>.toml` each; `languages` restricts them).
    Faults go to `reader`'s list when given, else raise ConfigError."""
    faults: list[str] = []
    if not folder.is_dir():
        faults.append(f"{folder}: emotion lists: expected a folder of <language>.toml files")
        paths: list[Path] = []
    else:
        paths = sorted(folder.glob("*.toml"))
    lexicons = []
    for path in paths:
        if languages is not None and path.stem not in languages:
            continue
        try:
            file = ConfigReader.open(path)
        except ConfigError as failure:
            faults.append(str(failure))
            continue
        lexicons.append(_lexicon(file, path))
        file.check_unknown_keys()
        faults += file.faults.lines
    for language in languages or []:
        if language not in {lexicon.language for lexicon in lexicons} and folder.is_dir():
            faults.append(f"{folder / (language + '.toml')}: no such emotion list")
    if reader is not None:
        reader.faults.lines.extend(faults)
    elif faults:
        raise ConfigError("\n".join(faults))
    return tuple(lexicons)


def languages_without_lists(emotion: EmotionSettings | None, languages: Iterable[str]) -> list[str]:
    """Those of `languages` (the customer languages a node enables or offers; their
    language subtags) that no emotion list reads: a message in them is read for its
    anger emoji and the `always` languages' words only. Nothing when `[emotion]` is off
    altogether (an operator's choice, not a gap)."""
    if emotion is None:
        return []
    listed = {lexicon.language for lexicon in emotion.lexicons}
    return sorted({primary(language) for language in languages} - listed)


def _lexicon(file: ConfigReader, path: Path) -> Lexicon:
    language = file.string("language", path.stem)
    if language != path.stem:
        file.fault("language", f"{path.stem!r}, the file's name", language)
    mode = file.string("match", "words", choices=tuple(m.value for m in MatchMode))

    def words(key: str) -> tuple[str, ...]:
        return tuple(file.strings(key, []) or ())

    return Lexicon(
        language=path.stem,
        mode=MatchMode(mode or "words"),
        escalate=words("escalate"),
        negative=words("negative"),
        positive=words("positive"),
        neutral=words("neutral"),
        negators=words("negators"),
        negators_after=words("negators_after"),
        amplifiers=words("amplifiers"),
        clitics=words("clitics"),
    )


def _webhook(section: ConfigReader) -> WebhookSettings:
    url = section.string("url", "")
    if url and not url.startswith(("http://", "https://")):
        section.fault("url", "an http:// or https:// URL", url)
    events = section.strings("events", ["*"]) or ["*"]
    for pattern in events:
        family = pattern.split(".", 1)[0]
        if pattern != "*" and family not in EVENT_FAMILIES:
            section.fault(
                "events", f"patterns like case.* over {', '.join(EVENT_FAMILIES)}", pattern
            )
    return WebhookSettings(
        name=section.string("name", ""),
        url=url,
        secret=_secret(section),
        events=tuple(events),
        max_attempts=section.integer("max_attempts", 8, minimum=1, maximum=100),
        backoff_s=_duration(section, "backoff", 1.0, positive=True),
        max_backoff_s=_duration(section, "max_backoff", 300.0, positive=True),
        timeout_s=_duration(section, "timeout", 10.0, positive=True),
    )


def _secret(section: ConfigReader) -> str:
    """The signing secret: `secret_file` (a file holding it) or `secret_env` (the name of
    an environment variable holding it); never the secret itself in the file."""
    path = section.string("secret_file", None)
    variable = section.string("secret_env", None)
    if path:
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as failure:
            section.fault("secret_file", "a readable file", f"{path} ({failure.strerror})")
            return ""
    elif variable:
        secret = os.environ.get(variable, "")
        if not secret:
            section.fault("secret_env", "an environment variable holding the secret", variable)
            return ""
    else:
        section.fault("secret_file", "secret_file or secret_env (the HMAC signing secret)", None)
        return ""
    if len(secret) < 16:
        section.fault(
            "secret_file" if path else "secret_env",
            "a secret of 16 characters or more",
            f"{len(secret)} characters",
        )
    return secret
