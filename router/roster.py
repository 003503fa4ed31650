"""The planner's agents CSV read into router agents, so operations and planning share one roster.

The agents CSV (see the README): agent_id,region,timezone,skills,languages,min_hours,max_hours;
skills like `booking:4;baggage:2` (proficiency 1-5, default 3), languages `en;zh` (a
region tag like `es-MX` counts as its language, `es`); an optional `ring_s`, the agent's
own ring time where longer than a queue's (routing only: the scheduler ignores it).

A row is held to the rules the rest holds it to: ids and skill names as the admin API
takes them, languages babel knows (as the API), a time zone and hours the scheduler
takes; a skill no queue routes on is imported with a warning (its queue may come later).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Iterable

from router.definitions import agent_capacity
from router.model import MAX_AGENT_RING_S, Agent
from switchboard.common.errors import InputError
from switchboard.common.hours import check_timezone
from switchboard.common.ids import NAME_PATTERN, STAFF_ID_PATTERN, STAFF_ID_WORDS
from switchboard.common.languages import known_to_babel, primary
from switchboard.common.textfiles import records, split_header

_ID = re.compile(STAFF_ID_PATTERN)  # as the admin API's path.agent
_NAME = re.compile(NAME_PATTERN)

REQUIRED_COLUMNS = ("agent_id", "region", "skills", "languages")
COLUMNS = (*REQUIRED_COLUMNS, "timezone", "min_hours", "max_hours", "ring_s")
# A week's hours: no agent works more (`max_hours` above it is a typo, or a month's).
WEEK_HOURS = 168.0
DEFAULT_PROFICIENCY = 3


def parse_skills(text: str, where: str) -> dict[str, int]:
    skills: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, level = item.partition(":")
        name = name.strip()
        if not name:
            raise InputError(f"{where}: field skills: empty skill name in {text!r}")
        if not _NAME.match(name):
            raise InputError(
                f"{where}: field skills: expected skill names of letters, digits, _ . - "
                f"(at most 64), found {name!r}"
            )
        try:
            proficiency = int(level) if level else DEFAULT_PROFICIENCY
        except ValueError:
            raise InputError(
                f"{where}: field skills: expected proficiency 1-5 after ':', found {level!r}"
            ) from None
        if not 1 <= proficiency <= 5:
            raise InputError(
                f"{where}: field skills: proficiency of {name} must be 1-5, found {proficiency}"
            )
        skills[name] = proficiency
    if not skills:
        raise InputError(f"{where}: field skills: expected at least one skill, found {text!r}")
    return skills


def read_roster(text: str, source: str, regions: Iterable[str], max_chats: int = 3) -> list[Agent]:
    """Parse the whole file first: one bad row rejects the import, nothing half-loaded."""
    return [agent for _, agent in roster_rows(text, source, regions, max_chats)]


def unrouted_skills(rows: Iterable[tuple[str, Agent]], skills: Iterable[str]) -> list[str]:
    """A warning line for each skill of a row (`roster_rows`) that none of `skills` (those
    the queues and IVR reasons route on) is: a typo, or a queue still to come."""
    known = sorted(set(skills))
    return [
        _unrouted(where, skill, known)
        for where, agent in rows
        for skill in agent.skills
        if skill not in known
    ]


def roster_rows(
    text: str, source: str, regions: Iterable[str], max_chats: int = 3
) -> list[tuple[str, Agent]]:
    """Each row's agent with where it is (`agents.csv: row 3`); InputError at the first
    bad row."""
    known_regions = set(regions)
    # the separator as the scheduler's readers find it: a European spreadsheet writes ';'
    delimiter, header = split_header(text.partition("\n")[0].rstrip("\r"), COLUMNS)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)  # the header, split above
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise InputError(
            f"{source}: header: missing column(s) {', '.join(missing)} (found "
            f"{','.join(name or '(no name)' for name in header) or 'nothing'}; separated by "
            "commas, semicolons, tabs or pipes)"
        )
    agents: list[tuple[str, Agent]] = []
    seen: set[str] = set()
    for line, row in records(reader, header, source, delimiter):
        where = f"{source}: row {line}"
        agent_id = (row.get("agent_id") or "").strip()
        if not agent_id:
            raise InputError(f"{where}: field agent_id: expected an id, found nothing")
        if not _ID.match(agent_id):
            raise InputError(
                f"{where}: field agent_id: expected {STAFF_ID_WORDS} (at most 128), "
                f"found {agent_id!r}"
            )
        if agent_id in seen:
            raise InputError(f"{where}: field agent_id: {agent_id!r} appears twice")
        seen.add(agent_id)
        region = (row.get("region") or "").strip()
        if known_regions and region not in known_regions:
            expected = ", ".join(sorted(known_regions))
            raise InputError(f"{where}: field region: expected one of {expected}, found {region!r}")
        # the columns in their order: the first fault of a row is the leftmost
        _check_timezone(row.get("timezone"), where)
        skills = parse_skills(row.get("skills") or "", where)
        # matched on the language subtag, as contacts' are: `es-MX` and `ES` are `es`
        tags = [tag.strip() for tag in (row.get("languages") or "").split(";") if tag.strip()]
        for tag in tags:
            _check_language(tag, where)
        languages = list(dict.fromkeys(primary(tag) for tag in tags))
        if not languages:
            raise InputError(
                f"{where}: field languages: expected at least one language, found nothing"
            )
        _check_hours(row, where)
        agent = Agent(
            agent_id=agent_id,
            region=region,
            skills=skills,
            languages=languages,
            capacity=agent_capacity(max_chats),
            ring_s=_ring_s(row.get("ring_s"), where),
        )
        agents.append((where, agent))
    return agents


def _check_timezone(value: str | None, where: str) -> None:
    """The planners' time zone (optional here: routing does not use it), as the scheduler
    reads it."""
    zone = (value or "").strip()
    if not zone:
        return
    try:
        check_timezone(zone)
    except ValueError:
        raise InputError(
            f"{where}: field timezone: expected an IANA time zone like Europe/Berlin, "
            f"found {zone!r}"
        ) from None


def _check_hours(row: dict[str, str], where: str) -> None:
    """min_hours and max_hours (optional here), as the scheduler reads them."""
    hours = {}
    for name in ("min_hours", "max_hours"):
        text = (row.get(name) or "").strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not 0 <= value <= WEEK_HOURS:
            raise InputError(
                f"{where}: field {name}: expected a number >= 0 and <= {WEEK_HOURS:g} (the "
                f"hours of a week), found {text!r}"
            )
        hours[name] = value
    if hours.get("max_hours", math.inf) < hours.get("min_hours", 0.0):
        raise InputError(
            f"{where}: field max_hours: expected at least min_hours "
            f"({hours['min_hours']:g}), found {row['max_hours'].strip()!r}"
        )


def _ring_s(value: str | None, where: str) -> int | None:
    """The agent's own ring time in whole seconds, as the admin API takes it (blank: 0,
    each queue's); None without the column: a planners' export that does not know it
    leaves what an admin set."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_AGENT_RING_S:
        raise InputError(
            f"{where}: field ring_s: expected whole seconds from 0 to {MAX_AGENT_RING_S}, "
            f"found {text!r}"
        )
    return int(text)


def _check_language(tag: str, where: str) -> None:
    """A language tag babel knows, as the admin API takes an agent's languages."""
    if not known_to_babel(tag):
        raise InputError(
            f"{where}: field languages: expected language tags babel knows, like es or "
            f"pt-BR, found {tag!r}"
        )


def _unrouted(where: str, skill: str, known: list[str]) -> str:
    """A warning: no queue routes on this skill (yet)."""
    close = difflib.get_close_matches(skill, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"the queues': {', '.join(known)}"
    return (
        f"{where}: field skills: {skill!r} is no queue's skill ({hint}); imported, but no "
        "contact reaches the agent by it until a queue routes on it"
    )
