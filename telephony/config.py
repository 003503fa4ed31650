"""Reading the `[sip]`, `[[ivr]]` and `[[surveys]]` sections with the shared ConfigReader.

Every fault is collected (file, key, expected, found) and raised once, like the core
settings; queue and region names are checked against the core configuration.
`[[surveys]]` belongs to the router (`router.reports.survey.read_surveys`); telephony keeps the
queues whose callers hear the post-call DTMF survey.
"""

from __future__ import annotations

import ipaddress
import re
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from i18n import locale as locale_profiles
from i18n.catalogs import catalog_languages, check_catalogs
from i18n.language import match_language
from i18n.messages import PROMPTS
from router.model import QueueConfig
from router.reports.privacy import read_privacy
from router.reports.survey import SurveyConfig, read_surveys
from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from telephony.model import Hours, IvrFlow, Reason, RecordingConfig, SipConfig


class RegionHours(Protocol):
    """A region as voice sees it: its name and opening hours (`regions.model.RegionConfig`)."""

    @property
    def name(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def open(self) -> str: ...

    @property
    def close(self) -> str: ...


class NodeSettings(Protocol):
    """What voice needs of the node's settings (`switchboard.settings.Settings`)."""

    @property
    def path(self) -> Path: ...

    @property
    def node_id(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def reader(self) -> ConfigReader: ...

    @property
    def queues(self) -> Sequence[QueueConfig]: ...

    @property
    def regions(self) -> Sequence[RegionHours]: ...


_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
MAX_PORT = 65535
_DIGIT = re.compile(r"^[0-9*#]$")
# How many of a language's untranslated prompts a fault names (`prompts check` has all).
_GAPS_NAMED = 6


@dataclass(frozen=True)
class VoiceConfig:
    """Everything a node and its workers read for voice."""

    sip: SipConfig
    flows: list[IvrFlow]
    surveys: dict[str, SurveyConfig]
    recording: RecordingConfig


def read_voice(
    reader: ConfigReader, *, queues: Iterable[str], regions: dict[str, Hours], home: str = ""
) -> VoiceConfig:
    """`[sip]`, `[[ivr]]`, the voice `[[surveys]]` and `[recording]`; faults are collected
    in the reader (the caller raises them, every one at once). `home`: the node's region."""
    queue_names = list(queues)
    retention = read_privacy(reader).retention_days or 0.0
    flows = read_flows(reader, queues=queue_names, regions=regions, home=home)
    if flows:
        _check_locales(reader)
    return VoiceConfig(
        sip=read_sip(reader),
        flows=flows,
        surveys=read_voice_surveys(reader, queues=queue_names),
        recording=read_recording(reader, queues=queue_names, retention_days=retention),
    )


def _check_locales(reader: ConfigReader) -> None:
    """The IVR speaks each region's way by i18n's locale profiles (config/locales.toml,
    read by the workers at a call): their faults are reported with the node's own."""
    try:
        locale_profiles.load_locales(locale_profiles.DEFAULT_CONFIG)
    except ConfigError as error:
        reader.faults.include(error)


def read_sip(reader: ConfigReader) -> SipConfig:
    section = reader.section("sip")
    default = SipConfig()
    config = SipConfig(
        host=section.string("host", default.host),
        port=section.integer("port", default.port, minimum=1, maximum=MAX_PORT),
        tcp=section.boolean("tcp", default.tcp),
        front_door=section.string("front_door", default.front_door, choices=("kamailio", "none")),
        kamailio=section.string("kamailio", default.kamailio),
        workers=section.integer("workers", default.workers, minimum=0),
        calls_per_worker=_automatic(section, "calls_per_worker", 2, "the pjsua2 build's limit"),
        worker_port_base=section.integer(
            "worker_port_base", default.worker_port_base, minimum=1, maximum=MAX_PORT
        ),
        rtp_port_base=section.integer(
            "rtp_port_base", default.rtp_port_base, minimum=1024, maximum=MAX_PORT
        ),
        rtp_ports_per_worker=_automatic(section, "rtp_ports_per_worker", 8, "two per call"),
        retry_after_s=section.integer("retry_after_s", default.retry_after_s, minimum=1),
        poll_ms=section.integer("poll_ms", default.poll_ms, minimum=1),
        restart_delay_s=section.number("restart_delay_s", default.restart_delay_s, minimum=0),
        prompt_cache_dir=section.string("prompt_cache_dir", default.prompt_cache_dir),
        music=section.string("music", default.music),
        voice_rate=section.integer("voice_rate", default.voice_rate, minimum=80),
        outside_uri=_outside_uri(section),
        agent_auto_answer=section.boolean("agent_auto_answer", default.agent_auto_answer),
        trusted_peers=_trusted_peers(section),
        domain=section.string("domain", default.domain),
        secret_file=section.string("secret_file", default.secret_file),
    )
    _check_port_ranges(section, config)
    _check_music(section, config.music)
    return config


def _check_music(section: ConfigReader, path: str) -> None:
    """The hold music is a PCM WAV the workers can play: a missing or unplayable file
    started the node, and callers waited in silence."""
    if not path:
        return
    try:
        with wave.open(path, "rb") as music:
            playable = music.getsampwidth() == 2 and music.getcomptype() == "NONE"
    except (OSError, EOFError, wave.Error) as failure:
        reason = getattr(failure, "strerror", None) or str(failure) or "cut short"
        section.fault("music", "a 16-bit PCM WAV file", f"{path} ({reason})")
        return
    if not playable:
        section.fault("music", "a 16-bit PCM WAV file", f"{path} (another sample format)")


def _check_port_ranges(section: ConfigReader, sip: SipConfig) -> None:
    """With a set number of workers, their SIP and RTP ports end at 65535 at the latest
    (`workers = 0` is sized at start, `telephony.capacity`)."""
    if sip.workers <= 0:
        return
    last = sip.worker_port_base + sip.workers - 1
    if last > MAX_PORT:
        section.fault(
            "worker_port_base",
            f"a base whose {sip.workers} workers' ports end by {MAX_PORT} (the last is {last})",
            sip.worker_port_base,
        )
    if sip.rtp_ports_per_worker:
        last = sip.rtp_port_base + sip.workers * sip.rtp_ports_per_worker - 1
        if last > MAX_PORT:
            section.fault(
                "rtp_port_base",
                f"a base whose {sip.workers} workers' RTP ports end by {MAX_PORT} "
                f"(the last is {last})",
                sip.rtp_port_base,
            )


def _trusted_peers(
    section: ConfigReader,
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`trusted_peers`: IP addresses or CIDR networks (`203.0.113.0/24`, `192.0.2.7`,
    `2001:db8::/32`), each fault named."""
    peers = []
    for value in section.strings("trusted_peers", []) or []:
        try:
            peers.append(ipaddress.ip_network(value.strip()))
        except ValueError:
            section.fault(
                "trusted_peers",
                "IP addresses or CIDR networks without host bits (203.0.113.0/24, 192.0.2.7)",
                value,
            )
    return tuple(peers)


def _outside_uri(section: ConfigReader) -> str:
    value = section.string("outside_uri", "")
    if isinstance(value, str) and value and ("{number}" not in value or ":" not in value):
        section.fault("outside_uri", 'a SIP URI with {number}, like "sip:{number}@trunk"', value)
        return ""
    return value if isinstance(value, str) else ""


def read_recording(
    reader: ConfigReader, *, queues: Iterable[str], retention_days: float = 0.0
) -> RecordingConfig:
    """`[recording]`; its retention defaults to `[privacy] retention_days` (passed in)."""
    section = reader.section("recording")
    default = RecordingConfig()
    known = set(queues)
    recorded = tuple(section.strings("queues", []) or ())
    for queue in recorded:
        if queue not in known:
            section.fault("queues", "queue names from [[queues]]", queue)
    directory = section.string("directory", default.directory)
    if isinstance(directory, str) and Path(directory).exists() and not Path(directory).is_dir():
        section.fault("directory", "a directory (made when missing)", f"{directory} (a file)")
    return RecordingConfig(
        directory=directory,
        queues=tuple(q for q in recorded if q in known),
        consent=section.boolean("consent", default.consent),
        retention_days=section.number("retention_days", retention_days, minimum=0),
        min_free_mb=section.integer("min_free_mb", default.min_free_mb, minimum=0),
        pause_max_s=section.number("pause_max_s", default.pause_max_s, minimum=0),
    )


def _automatic(section: ConfigReader, key: str, least: int, automatic: str) -> int:
    """A figure where 0 means "work it out" (see telephony.capacity) and else >= least."""
    value = section.integer(key, 0, minimum=0)
    if not isinstance(value, int):
        return 0
    if 0 < value < least:
        section.fault(key, f"0 ({automatic}) or an integer >= {least}", value)
        return 0
    return value


def _spelled_as(tag: str, available: Sequence[str]) -> str:
    """`tag` as `available` spells the same tag (`DE` → `de`), else `tag` itself."""
    return match_language(tag, available, loose=False) or tag


def read_flows(
    reader: ConfigReader,
    *,
    queues: Iterable[str],
    regions: dict[str, Hours],
    home: str = "",
) -> list[IvrFlow]:
    """The `[[ivr]]` flows; each region's hours come from `[[regions]]` unless overridden.
    A flow without `region` is the node's own (`home`): its callers wait there and hear
    its hours (the file's first region, before, put every node's callers in it)."""
    queue_names = set(queues)
    spoken = catalog_languages()  # the IVR speaks only what its prompt catalogs hold
    gaps: dict[str, list[str]] = {}  # a flow language's untranslated prompts, read once
    flows = []
    numbers: list[str] = []
    for section in reader.sections("ivr"):
        number = section.string("number")
        numbers.append(number)
        region = section.string("region", home or next(iter(regions), "default"))
        if region not in regions:
            named = ", ".join(regions) or "none has a name"
            section.fault("region", f"one of the [[regions]] ({named})", region)
        base = regions.get(region, Hours())
        hours = Hours(
            timezone=base.timezone,
            open=_clock(section, "open", base.open),
            close=_clock(section, "close", base.close),
        )
        # Language tags are case-insensitive: `DE` is the catalog's `de` (match_language).
        languages = tuple(
            _spelled_as(language, spoken)
            for language in section.strings("languages", ["en"]) or ("en",)
        )
        for language in languages:
            if language not in spoken:
                section.fault(
                    "languages", f"languages with IVR prompts ({', '.join(spoken)})", language
                )
            elif gaps.setdefault(language, untranslated_prompts(language)):
                section.fault(
                    "languages",
                    "languages whose prompts are all translated (translate the rest, then "
                    f"`switchboard prompts compile`; `switchboard prompts check --languages "
                    f"{language}` lists them)",
                    _gaps_said(language, gaps[language]),
                )
        default_language = _spelled_as(section.string("default_language", languages[0]), languages)
        if default_language not in languages:
            section.fault("default_language", "one of the flow's languages", default_language)
        default_queue = section.string("default_queue")
        if default_queue is not None and default_queue not in queue_names:
            section.fault("default_queue", "a queue name from [[queues]]", default_queue)
        reasons = []
        for item in section.sections("reasons", required=True):
            digit = item.string("digit")
            if isinstance(digit, str) and not _DIGIT.match(digit):
                item.fault("digit", "one DTMF key (0-9, * or #)", digit)
            queue = item.string("queue")
            if queue is not None and queue not in queue_names:
                item.fault("queue", "a queue name from [[queues]]", queue)
            reasons.append(
                Reason(
                    digit=digit or "",
                    name=item.string("name", queue or ""),
                    queue=queue or "",
                    skill=item.string("skill", ""),
                    priority=item.integer("priority", 0, minimum=0),
                    emergency=item.boolean("emergency", False),
                )
            )
        digits = [reason.digit for reason in reasons]
        if len(set(digits)) != len(digits):
            section.fault("reasons", "a different digit for each reason", digits)
        callback_digit = section.string("callback_digit", "1")
        flows.append(
            IvrFlow(
                number=number or "",
                region=region or "",
                languages=languages,
                reasons=tuple(reasons),
                default_queue=default_queue or "",
                default_language=default_language or languages[0],
                digit_timeout_s=section.number("digit_timeout_s", 5.0, minimum=0.5),
                max_tries=section.integer("max_tries", 3, minimum=1),
                hours=hours,
                announce_every_s=section.number("announce_every_s", 30.0, minimum=1),
                callback_digit=callback_digit or "1",
                callback=section.boolean("callback", True),
            )
        )
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        reader.fault("ivr", "one flow per number", duplicates)
    return flows


def untranslated_prompts(language: str) -> list[str]:
    """The prompts a caller of `language` would hear in English or broken, each as
    "key (why)": missing, blank or fuzzy in its catalog, a placeholder lost or made up
    (what `switchboard prompts check` reports of each prompt, though not a stale .mo:
    the workers compile a .po newer than its .mo themselves)."""
    problems: dict[str, list[str]] = {}
    for problem in check_catalogs([language]):
        if problem.key in PROMPTS:
            problems.setdefault(problem.key, []).append(problem.message)
    return [f"{key} ({'; '.join(why)})" for key, why in problems.items()]


def _gaps_said(language: str, gaps: list[str]) -> str:
    named = ", ".join(gaps[:_GAPS_NAMED])
    more = f" and {len(gaps) - _GAPS_NAMED} more" if len(gaps) > _GAPS_NAMED else ""
    return f"{language}, with {len(gaps)} prompts untranslated or broken: {named}{more}"


def _clock(section: ConfigReader, key: str, default: str) -> str:
    value = section.string(key, default)
    if isinstance(value, str) and not _CLOCK.match(value):
        section.fault(key, "a time of day HH:MM", value)
        return default
    return value if isinstance(value, str) else default


def read_voice_surveys(reader: ConfigReader, *, queues: Iterable[str]) -> dict[str, SurveyConfig]:
    """Queue -> survey, for the queues whose `[[surveys]]` table has `voice = true`."""
    surveys = read_surveys(reader, list(queues))
    return {queue: survey for queue, survey in surveys.items() if survey.voice}
