"""The planner's agents CSV read into router agents, so operations and planning share one roster.

The agents CSV (see the README): agent_id,region,timezone,skills,languages,min_hours,max_hours;
skills like `booking:4;baggage:2` (proficiency 1-5, default 3), languages `en;zh` (a
region tag like `es-MX` counts as its language, `es`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from router.model import Agent
from switchboard.common.errors import InputError
from switchboard.common.languages import primary
from switchboard.common.textfiles import records

REQUIRED_COLUMNS = ("agent_id", "region", "skills", "languages")
DEFAULT_PROFICIENCY = 3


def parse_skills(text: str, where: str) -> dict[str, int]:
    skills: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, level = item.partition(":")
        if not name:
            raise InputError(f"{where}: field skills: empty skill name in {text!r}")
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
    known_regions = set(regions)
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise InputError(f"{source}: header: missing column(s) {', '.join(missing)}")
    agents: list[Agent] = []
    seen: set[str] = set()
    for line, row in records(reader, header, source):
        where = f"{source}: row {line}"
        agent_id = (row.get("agent_id") or "").strip()
        if not agent_id:
            raise InputError(f"{where}: field agent_id: expected an id, found nothing")
        if agent_id in seen:
            raise InputError(f"{where}: field agent_id: {agent_id!r} appears twice")
        seen.add(agent_id)
        region = (row.get("region") or "").strip()
        if known_regions and region not in known_regions:
            expected = ", ".join(sorted(known_regions))
            raise InputError(f"{where}: field region: expected one of {expected}, found {region!r}")
        # matched on the language subtag, as contacts' are: `es-MX` and `ES` are `es`
        tags = (row.get("languages") or "").split(";")
        languages = list(dict.fromkeys(primary(tag.strip()) for tag in tags if tag.strip()))
        if not languages:
            raise InputError(
                f"{where}: field languages: expected at least one language, found nothing"
            )
        agents.append(
            Agent(
                agent_id=agent_id,
                region=region,
                skills=parse_skills(row.get("skills") or "", where),
                languages=languages,
                capacity={"voice": 1, "chat": max_chats},
            )
        )
    return agents
