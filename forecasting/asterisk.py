"""Asterisk `queue_log` → calls: which events make a contact, and what its handle time is.

A contact is an ENTERQUEUE: it counts once, in its queue, at the time it entered (a caller
sent on to a second queue is offered to both). The call's last event gives its outcome:
COMPLETECALLER, COMPLETEAGENT and the transfers (TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER)
carry the talk time (`calltime`), which is the call's handle time (Asterisk logs no
wrap-up); ABANDON, EXITEMPTY, EXITWITHKEY and EXITWITHTIMEOUT end it unhandled. Lines
that are no part of a call (agent log-ins, pauses, queue starts) and events this module
does not know are skipped and counted, so that the CLI can say what was left out.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from forecasting import queue_log
from forecasting.calls import Call, Imported, Intervals
from switchboard.common.errors import InputError

DEFAULT_TIMEZONE = "UTC"

ENTER = "ENTERQUEUE"
TALKED = frozenset(
    {"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
)
UNHANDLED = frozenset({"ABANDON", "EXITEMPTY", "EXITWITHKEY", "EXITWITHTIMEOUT"})
# steps of a call between entering and its outcome: nothing to count
STEPS = frozenset({"CONNECT", "RINGNOANSWER", "RINGCANCELED", "AGENTDUMP", "SYSCOMPAT"})
# lines about agents and queues, not calls
NOT_CALLS = frozenset(
    {
        "QUEUESTART",
        "CONFIGRELOAD",
        "ADDMEMBER",
        "REMOVEMEMBER",
        "AGENTLOGIN",
        "AGENTLOGOFF",
        "AGENTCALLBACKLOGIN",
        "AGENTCALLBACKLOGOFF",
        "PAUSE",
        "UNPAUSE",
        "PAUSEALL",
        "UNPAUSEALL",
    }
)
NO_QUEUE = frozenset({"", "NONE"})
ORPHAN = "outcome of a call whose ENTERQUEUE is not in the file (it entered before the file starts)"


def read(path: Path, width_min: int, zone: ZoneInfo | None) -> Imported:
    """The calls of the queue_log `path` in history rows of `width_min` minutes of `zone`."""
    intervals = Intervals(width_min, zone or ZoneInfo(DEFAULT_TIMEZONE))
    waiting: dict[tuple[str, str], datetime] = {}  # (callid, queue) -> arrival
    skipped: Counter[str] = Counter()
    not_calls: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    untimed: Counter[str] = Counter()  # event -> outcomes of talk without a calltime
    unfinished = 0
    for line in queue_log.read_lines(path):
        key = (line.callid, line.queue)
        if line.event == ENTER:
            if line.queue.upper() in NO_QUEUE:
                raise line.fault("queuename", f"expected the queue entered, found {line.queue!r}")
            if key in waiting:  # entered again without an outcome in between
                intervals.add(Call(waiting[key], line.queue))
                unfinished += 1
            waiting[key] = line.time
        elif line.event in TALKED or line.event in UNHANDLED:
            arrived = waiting.pop(key, None)
            if arrived is None:
                skipped[ORPHAN] += 1
                continue
            talk = line.seconds("calltime") if line.event in TALKED else None
            if line.event in TALKED and talk is None:
                untimed[line.event] += 1
            intervals.add(Call(arrived, line.queue, talk))
        elif line.event in NOT_CALLS:
            not_calls[line.event] += 1
        elif line.event not in STEPS:
            unknown[line.event] += 1
    for (_, queue), arrived in sorted(waiting.items(), key=lambda item: item[1]):
        intervals.add(Call(arrived, queue))
    unfinished += len(waiting)
    if not_calls:
        names = ", ".join(sorted(not_calls))
        skipped[f"agent and queue events, not calls ({names})"] = sum(not_calls.values())
    for event, count in unknown.items():
        skipped[f"unknown event {event!r}"] = count
    notes = [
        f"{count} {event} lines without a talk time (calltime; pre-1.4 TRANSFER has none): "
        "counted as contacts, no handle time"
        for event, count in sorted(untimed.items())
    ]
    if unfinished:
        notes.append(
            f"{unfinished} calls without an outcome (still queued when the file ends, or "
            "lines missing): counted as contacts, no handle time"
        )
    if not intervals.calls:
        raise InputError(f"{path}: no calls (no ENTERQUEUE line; not a queue_log file?)")
    return intervals.result(skipped, notes)
