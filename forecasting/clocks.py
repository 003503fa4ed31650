"""The clock each queue of a history is read on: one center, many regions.

A global center's export holds queues of several zones in one file, often in UTC. Read on
one clock, the center's hours, summed over the zones, stepped at no zone's switches, and
a London queue's day stayed on UTC, an hour off for weeks after each switch, unsaid (a
probe's airline: week-ahead WAPE 0.167 against 0.077 from London's own file); where one
zone's hours dominated, every queue was read on its clock and the others' days moved by
its switches. Here the queues are grouped by clock, and each group is read, forecast and
backtested as a history of its own, one after another:

- `--timezone` gives one zone for every queue (`Europe/London`), or zones per queue with
  an optional bare zone for the others (`emea_en=Europe/London,americas_es=UTC`,
  `emea_en=Europe/London,UTC`): `parse`, `given`.
- The others, on a clock of one UTC offset, are read on the zone their own hours step
  with (`switches.zone_from_hours` on each queue's contacts, where its hours clearly step
  at that zone's switches: a queue of a few dozen contacts a day may name one by
  chance); a queue whose hours name none follows a zone another queue's or the center's
  hours name where they clearly step with it, else the center's, unless they clearly
  stand still at its switches (`switches.step_evidence`): `by_hours`. Queues that all
  agree with the center are one group, read as the whole history was before.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

from forecasting import switches, zones
from forecasting.model import FloatArray, IntArray
from switchboard.common.errors import InputError
from switchboard.common.hours import timezone_named

GIVEN = "given"  # --timezone named the zone
FOUND = "found"  # the queues' hours step at the zone's switches
KEPT = "kept"  # their hours stand still on a one-offset clock: kept on it
OFFSETS = "offsets"  # as the rows' offsets say (they change at a zone's switches)
FLAG = "--timezone"


@dataclass(frozen=True)
class Spec:
    """`--timezone`: a zone for the queues not named (`default`) and zones per queue."""

    default: ZoneInfo | None = None
    queues: Mapping[str, ZoneInfo] = field(default_factory=dict)


def parse(text: str | None) -> Spec:
    """`--timezone ZONE` or `--timezone QUEUE=ZONE[,QUEUE=ZONE...][,ZONE]`: a zone per
    named queue, and a bare zone for the rest. Each fault names the entry."""
    if text is None:
        return Spec()
    if "=" not in text and "," not in text:  # one zone for every queue
        return Spec(_zone(text, FLAG))
    default: ZoneInfo | None = None
    queues: dict[str, ZoneInfo] = {}
    for entry in text.split(","):
        queue, sign, name = (part.strip() for part in entry.partition("="))
        if not queue or (sign and not name):
            raise InputError(
                f"{FLAG}: expected ZONE or QUEUE=ZONE entries separated by commas "
                f"(emea_en=Europe/London,americas_es=America/Mexico_City), found {entry!r} "
                f"in {text!r}"
            )
        if not sign:  # a bare zone: the queues not named
            if default is not None:
                raise InputError(
                    f"{FLAG}: expected one zone for the queues not named, found "
                    f"{default.key!r} and {queue!r}"
                )
            default = _zone(queue, FLAG)
            continue
        if queue in queues:
            raise InputError(f"{FLAG}: queue {queue!r} given twice")
        queues[queue] = _zone(name, f"{FLAG}: queue {queue}")
    return Spec(default, queues)


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return timezone_named(name)
    except ValueError as unknown:
        raise InputError(f"{where}: {unknown}") from None


@dataclass(frozen=True)
class Group:
    """Queues read on one clock: `zone` (None: the rows' offsets, or the one offset all
    along when `how` is KEPT) and how it was chosen; `offset` is the file's one offset
    when it had one."""

    queues: tuple[str, ...]
    zone: tzinfo | None
    how: str
    offset: timedelta | None = None

    def note(self) -> str:
        """What the forecast says of this group when the queues are on several clocks."""
        named = f"history: queues {', '.join(self.queues)}"
        clock = f"UTC{zones.offset_text(self.offset)}"
        if self.how == GIVEN:
            return f"{named}: on {self.zone}'s clock ({FLAG})"
        if self.how == FOUND:
            return (
                f"{named}: {self.zone} found from their hours (they step at its "
                f"daylight-saving switches on the file's clock, {clock}): forecast on its "
                f"clock, written on the file's"
            )
        if self.how == KEPT:
            return (
                f"{named}: no daylight-saving switch in their hours: kept on the file's "
                f"clock ({clock})"
            )
        return f"{named}: on the clock their rows' offsets name"


def given(spec: Spec, queues: Sequence[str], path: object) -> tuple[list[Group], list[str]]:
    """The groups `--timezone` sets (one per zone, in queue order) and the queues it
    leaves to the file (no zone named for them, no default). A queue the flag names that
    the history lacks is refused, naming it and the history's queues."""
    known = set(queues)
    for queue in spec.queues:
        if queue not in known:
            close = difflib.get_close_matches(queue, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"{FLAG}: queue {queue!r} is not in {path} (its queues: {', '.join(queues)}){hint}"
            )
    by_zone: dict[str, list[str]] = {}
    zone_of: dict[str, ZoneInfo] = {}
    rest = []
    for queue in queues:
        zone = spec.queues.get(queue, spec.default)
        if zone is None:
            rest.append(queue)
            continue
        by_zone.setdefault(zone.key, []).append(queue)
        zone_of[zone.key] = zone
    groups = [Group(tuple(names), zone_of[key], GIVEN) for key, names in by_zone.items()]
    return groups, rest


Hours = tuple[IntArray, FloatArray]  # UTC seconds of the intervals with contacts, and theirs


def by_hours(
    queues: Sequence[str], hours: Sequence[Hours], center: Hours, offset_s: int
) -> list[Group]:
    """The queues of a one-offset clock (`offset_s`) grouped by the zone whose switches
    their hours step at (`hours` per queue, `center` summed over them): one group, the
    center's, when every queue agrees with it (as the whole history was read before)."""
    center_zone = _zone_of(center, offset_s)
    offset = timedelta(seconds=offset_s)
    if len(queues) == 1:  # its hours are the center's
        return [Group(tuple(queues), center_zone, FOUND if center_zone else KEPT, offset)]
    span = _span(center)
    among = switches.switching_zones(center[0], offset_s, center[1])
    own = [_own_zone(queue_hours, offset_s, center_zone, span, among) for queue_hours in hours]
    found: list[ZoneInfo] = []
    for zone in [center_zone, *own]:
        if zone is not None and not any(_same_switches(zone, f, span) for f in found):
            found.append(zone)
    clock = [
        zone if zone is not None else _followed(queue_hours, offset_s, found, center_zone)
        for zone, queue_hours in zip(own, hours, strict=True)
    ]
    if all(_same_switches(zone, center_zone, span) for zone in clock):
        how = FOUND if center_zone is not None else KEPT
        return [Group(tuple(queues), center_zone, how, offset)]
    firsts: list[ZoneInfo | None] = []  # per group, the clock its first queue steps with
    members: list[list[int]] = []
    for k, stepped in enumerate(clock):
        for first, ks in zip(firsts, members, strict=True):
            if _same_switches(stepped, first, span):
                ks.append(k)
                break
        else:
            firsts.append(stepped)
            members.append([k])
    groups = []
    for first, ks in zip(firsts, members, strict=True):
        # the zone its queues' own hours name (the center's, of the same switches, is where
        # the contacts of every zone centre nearest 13:00), else the one they follow
        named = next((own[k] for k in ks if own[k] is not None), first)
        how = FOUND if named is not None else KEPT
        groups.append(Group(tuple(queues[k] for k in ks), named, how, offset))
    return groups


def _own_zone(
    hours: Hours,
    offset_s: int,
    center: ZoneInfo | None,
    span: Sequence[datetime],
    among: tuple[str, ...],
) -> ZoneInfo | None:
    """The zone a queue's own hours name (`among` the center's switching zones), where it
    is the center's or they clearly step at its switches: a queue of a few dozen contacts
    a day may name one by chance."""
    epochs, contacts = hours
    zone = switches.zone_from_hours(epochs, offset_s, contacts, among)
    if zone is None:
        return None
    if _same_switches(zone, center, span) or _steps_with(hours, offset_s, zone):
        return zone
    return None


def _followed(
    hours: Hours, offset_s: int, found: Sequence[ZoneInfo], center: ZoneInfo | None
) -> ZoneInfo | None:
    """The clock of a queue whose own hours name no zone: the first zone found (the
    center's first) whose switches its hours clearly step at; else the center's, unless
    they clearly stand still at its switches."""
    for zone in found:
        if _steps_with(hours, offset_s, zone):
            return zone
    if center is None:
        return None
    evidence = _evidence(hours, offset_s, center)
    return None if evidence is not None and evidence >= switches.DECISIVE else center


def _steps_with(hours: Hours, offset_s: int, zone: ZoneInfo) -> bool:
    """Whether the hours clearly step at the zone's switches."""
    evidence = _evidence(hours, offset_s, zone)
    return evidence is not None and evidence <= -switches.DECISIVE


def _zone_of(hours: Hours, offset_s: int) -> ZoneInfo | None:
    epochs, contacts = hours
    return switches.zone_from_hours(epochs, offset_s, contacts)


def _evidence(hours: Hours, offset_s: int, zone: ZoneInfo) -> float | None:
    epochs, contacts = hours
    return switches.step_evidence(epochs, offset_s, contacts, zone)


def _span(hours: Hours) -> list[datetime]:
    """A moment a day over the hours' span (the dates switches are compared on)."""
    epochs = hours[0]
    if not np.size(epochs):
        return []
    first, last = int(np.min(epochs)), int(np.max(epochs))
    return [datetime.fromtimestamp(t, UTC) for t in range(first, last + 86400, 86400)]


def _same_switches(a: tzinfo | None, b: tzinfo | None, span: Sequence[datetime]) -> bool:
    """Whether two clocks (None: one that never switches) step on the same dates over the
    span: New York and Chicago do, as do London and Paris; London and New York do not."""
    if a is b:
        return True
    fixed = UTC
    steps = {
        zones.offset_seconds(a or fixed, moment) - zones.offset_seconds(b or fixed, moment)
        for moment in span
    }
    return len(steps) <= 1
