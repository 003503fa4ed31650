"""Names one planning file uses and another must know: language tags, skills, agent ids.

A typo in any of them is otherwise silent: an agent whose languages say `spanish` or
whose skills say `bagage` is never scheduled for the queue they were meant for, a queue
of language `jp` finds no agent, and leave under `[agents.emea-13O]` (letter O) is
never applied. Language tags are held to what babel knows, as the admin API and
`agents import` hold them; skills and agent ids are compared with the other files and
a close one is suggested ("did you mean").
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from functools import cache

from babel import Locale
from babel.core import get_global

from scheduler.model import Agent, Rules

EXPECTED_LANGUAGE = "a language tag babel knows, like es or pt-BR"


def language_hint(tag: str) -> str:
    """For a tag babel does not know, the one likely meant: a language's English name
    (`spanish` → `es`) or a country code (`jp` is Japan: `ja`); "" when none is."""
    text = tag.strip()
    by_name = _codes_by_name().get(text.lower())
    if by_name:
        return f" (did you mean {by_name!r}?)"
    likely = get_global("likely_subtags").get(f"und_{text.upper()}")
    if likely and len(text) == 2:
        code = str(likely).split("_", 1)[0]
        return f" (did you mean {code!r}? {text.upper()} is a country, its language is {code})"
    return ""


@cache
def _codes_by_name() -> dict[str, str]:
    """English language name, lower case → language code (`spanish` → `es`)."""
    names = Locale("en").languages
    return {str(name).lower(): code for code, name in names.items() if "_" not in code}


# Letters typed for the digits they look like (`emea-13O`, `emea-l30`).
_LOOKALIKES = str.maketrans("oli", "011")


def did_you_mean(name: str, known: set[str]) -> str:
    """` (did you mean 'baggage'?)` when a known name is close: the same but for case or
    a letter typed for a look-alike digit, else a small edit."""
    folded = {item.lower().translate(_LOOKALIKES): item for item in sorted(known)}
    same = folded.get(name.lower().translate(_LOOKALIKES))
    if same is not None:
        return f" (did you mean {same!r}?)"
    lowered = {item.lower(): item for item in sorted(known)}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


def unused_skills(agents: list[Agent], queues: list[str], rules: Rules, source: str) -> list[str]:
    """One warning per roster skill no queue of this schedule needs, naming its agents and
    the skill likely meant: such an agent is never scheduled for it (`bagage`). A skill
    close to no queue's is named as well, briefly: it may serve a queue of another plan."""
    needed = {rules.queue_rule(q).skill for q in queues}
    having: dict[str, list[str]] = defaultdict(list)
    for agent in agents:
        for skill in agent.skills - needed:
            having[skill].append(agent.agent_id)
    lines = []
    for skill, ids in sorted(having.items()):
        hint = did_you_mean(skill, needed)
        who = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        lines.append(
            f"{source}: field skills: {skill!r} (agent{'s' if len(ids) > 1 else ''} {who}) is "
            f"no queue's skill{hint}; no shift is planned for it"
        )
    return lines


def unknown_agents(
    agents: list[Agent], rules: Rules, source: str, roster: str, limit: int = 5
) -> list[str]:
    """One line per `[agents.ID]` section of the rules whose id is not in the roster (its
    availability and wishes apply to no one: leave that never happens), the first `limit`
    of them, then one line for the rest (a rules file for a whole center read with the
    roster of one region names many)."""
    ids = {agent.agent_id for agent in agents}
    unknown = sorted(set(rules.agents) - ids)
    lines = [
        f"{source}: agents.{name}: no agent {name!r} in {roster}{did_you_mean(name, ids)}; "
        "its availability and wishes apply to no one"
        for name in unknown[:limit]
    ]
    if len(unknown) > limit:
        rest = unknown[limit:]
        shown = ", ".join(rest[:limit]) + (", ..." if len(rest) > limit else "")
        lines.append(
            f"{source}: {len(rest)} more [agents.*] sections name no agent in {roster} ({shown})"
        )
    return lines
