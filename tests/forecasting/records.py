"""Seeded per-call records of a centre, written as an Asterisk queue_log or a calls CSV,
with the counts and handle times planted per interval, so importers can be checked
against what was put in rather than against themselves.

Intervals are planted on a grid of UTC steps from local midnight: for a zone whose
offsets are whole hours that is the local wall-clock grid, and the repeated hour of a
daylight-saving switch comes out as two intervals with different offsets.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Berlin")
# (queue, opening hour, closing hour, mean calls per 30 minutes at the busiest)
QUEUES = (("sales", 8, 20, 6.0), ("support", 7, 22, 9.0), ("emergency", 0, 24, 1.5))
AGENTS = tuple(f"PJSIP/{n}" for n in range(201, 211))
Key = tuple[str, str]  # (interval start, ISO with offset; queue)
Emit = Callable[..., None]


@dataclass(frozen=True)
class PlantedCall:
    arrived: int  # epoch
    queue: str
    handle_s: int | None
    outcome: str


@dataclass
class Planted:
    """What a generated file holds, per interval and queue, and its other lines."""

    counts: Counter[Key] = field(default_factory=Counter)
    talk: defaultdict[Key, list[float]] = field(default_factory=lambda: defaultdict(list))
    lines: list[str] = field(default_factory=list)  # queue_log lines, in time order
    calls: list[PlantedCall] = field(default_factory=list)  # whole calls, for a calls CSV
    not_calls: int = 0  # agent and queue lines
    unknown: Counter[str] = field(default_factory=Counter)  # unknown event -> lines
    orphans: int = 0  # outcomes whose ENTERQUEUE precedes the file
    unfinished: int = 0  # calls with no outcome at the end of the file
    old_transfers: int = 0  # TRANSFER lines without talk time

    def aht(self, key: Key) -> float | None:
        times = [t for t in self.talk.get(key, []) if t > 0]
        return sum(times) / len(times) if times else None


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


def _rate(queue: tuple[str, int, int, float], local: datetime, width_min: int) -> float:
    _name, opens, closes, peak = queue
    hour = local.hour + local.minute / 60
    if not opens <= hour < closes:
        return 0.0
    weekday = (1.0, 0.95, 0.9, 0.9, 0.85, 0.5, 0.35)[local.weekday()]
    midday = 1.0 - abs(hour - 12.5) / 14  # a broad peak around lunchtime
    return peak * weekday * midday * width_min / 30


def _grid(first: date, days: int, width_min: int) -> list[datetime]:
    """Interval starts (UTC) from local midnight of `first` for `days` local days."""
    start = datetime.combine(first, time(), ZONE).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(), ZONE).astimezone(UTC)
    steps = int((end - start).total_seconds()) // (width_min * 60)
    return [start + timedelta(minutes=width_min * k) for k in range(steps)]


def generate(first: date, days: int, width_min: int = 30, seed: int = 7) -> Planted:
    """Calls of every outcome in three queues, with agent lines, unknown events, calls
    that entered before the file, calls still queued at its end and old TRANSFER lines."""
    rng = random.Random(seed)
    planted = Planted()
    events: list[tuple[int, int, str]] = []  # (epoch, order, line)
    order = 0

    def emit(epoch: int, callid: str, queue: str, agent: str, event: str, *data: object) -> None:
        nonlocal order
        order += 1
        fields = [str(epoch), callid, queue, agent, event, *(str(d) for d in data)]
        events.append((epoch, order, "|".join(fields)))

    grid = _grid(first, days, width_min)
    first_epoch = int(grid[0].timestamp())
    emit(first_epoch, "NONE", "NONE", "NONE", "QUEUESTART", "")
    planted.not_calls += 1
    for k in range(3):  # outcomes of calls that entered before the file starts
        emit(
            first_epoch + k,
            f"{first_epoch - 500}.{k}",
            "support",
            AGENTS[k],
            "COMPLETECALLER",
            30,
            200,
            1,
        )
        planted.orphans += 1
    for start in grid:
        local = start.astimezone(ZONE)
        epoch0 = int(start.timestamp())
        if local.hour == 7 and local.minute == 0:
            for agent in AGENTS:
                emit(epoch0, "NONE", "NONE", agent, "AGENTLOGIN", agent)
                for name, *_ in QUEUES:
                    emit(epoch0, "MANAGER", name, agent, "ADDMEMBER", "")
                planted.not_calls += 1 + len(QUEUES)
        if local.hour == 12 and local.minute == 0:
            agent = rng.choice(AGENTS)
            emit(epoch0 + 5, "NONE", "NONE", agent, "PAUSE", "lunch")
            emit(epoch0 + 1200, "NONE", "NONE", agent, "UNPAUSE", "")
            emit(epoch0 + 7, "1234.5", "sales", "NONE", "DID", "+4930123456")
            planted.not_calls += 2
            planted.unknown["DID"] += 1
        for queue in QUEUES:
            mean = _rate(queue, local, width_min)
            count = _poisson(rng, mean)
            if queue[0] == "emergency" and count == 0:
                count = 1  # a call in every interval, also the repeated hour of a switch
            for _ in range(count):
                arrive = epoch0 + rng.randrange(width_min * 60)
                callid = f"{arrive}.{len(planted.calls)}"
                _call(rng, planted, emit, queue[0], arrive, callid, grid, width_min)
    last = int(grid[-1].timestamp())
    for n in range(2):  # still queued when the file ends
        emit(last + 60 + n, f"{last}.end{n}", "support", "NONE", "ENTERQUEUE", "", "0301555", 1)
        planted.counts[(grid[-1].astimezone(ZONE).isoformat(), "support")] += 1
        planted.calls.append(PlantedCall(last + 60 + n, "support", None, "queued"))
        planted.unfinished += 1
    events.sort()
    planted.lines = [line for _, _, line in events]
    return planted


OUTCOMES = (
    ("COMPLETECALLER", 40),
    ("COMPLETEAGENT", 25),
    ("TRANSFER", 6),
    ("OLDTRANSFER", 2),
    ("ABANDON", 14),
    ("EXITWITHTIMEOUT", 6),
    ("EXITWITHKEY", 4),
    ("EXITEMPTY", 3),
)


def _call(
    rng: random.Random,
    planted: Planted,
    emit: Emit,
    queue: str,
    arrive: int,
    callid: str,
    grid: list[datetime],
    width_min: int,
) -> None:
    first = int(grid[0].timestamp())
    end = int(grid[-1].timestamp()) + width_min * 60

    def key(epoch: int) -> Key:
        start = grid[(epoch - first) // (width_min * 60)]
        return (start.astimezone(ZONE).isoformat(), queue)

    outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
    hold = rng.randint(0, 180)
    talk = rng.randint(20, 900)
    agent = rng.choice(AGENTS)
    emit(arrive, callid, queue, "NONE", "ENTERQUEUE", "", f"0301{rng.randrange(10**6):06d}", 1)
    planted.counts[key(arrive)] += 1
    answered = outcome in ("COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "OLDTRANSFER")
    if answered:
        if rng.random() < 0.2:
            emit(arrive + hold // 2, callid, queue, rng.choice(AGENTS), "RINGNOANSWER", 15000)
        emit(arrive + hold, callid, queue, agent, "CONNECT", hold, f"{callid}9", 4)
        done = arrive + hold + talk
        if outcome == "OLDTRANSFER":
            emit(done, callid, queue, agent, "TRANSFER", "2001", "from-internal")
            planted.old_transfers += 1
            planted.calls.append(PlantedCall(arrive, queue, None, "transferred, talk unknown"))
            return
        if outcome == "TRANSFER":
            emit(done, callid, queue, agent, "TRANSFER", "2001", "from-internal", hold, talk, 1)
        else:
            emit(done, callid, queue, agent, outcome, hold, talk, 1)
        planted.talk[key(arrive)].append(talk)
        planted.calls.append(PlantedCall(arrive, queue, talk, outcome.lower()))
        return
    if outcome == "EXITWITHKEY":
        emit(arrive + hold, callid, queue, "NONE", outcome, "1", 2, 1, hold)
    else:
        emit(arrive + hold, callid, queue, "NONE", outcome, 2, 1, hold)
    planted.calls.append(PlantedCall(arrive, queue, None, outcome.lower()))
    if outcome == "EXITWITHTIMEOUT" and queue != "emergency" and arrive + hold < end:
        # the dialplan sends a caller who waited too long on to the emergency queue
        again = arrive + hold
        emit(again, callid, "emergency", "NONE", "ENTERQUEUE", "", "0301000000", 1)
        emit(again + 30, callid, "emergency", "NONE", "ABANDON", 1, 1, 30)
        planted.counts[(key(again)[0], "emergency")] += 1
        planted.calls.append(PlantedCall(again, "emergency", None, "abandon"))


def to_calls_csv(planted: Planted, in_utc: bool = False) -> list[dict[str, str]]:
    """The same calls one row per call, as an ACD export would give them: arrival with
    the centre's offset (or in UTC), queue, handle time when talked, outcome."""
    zone = UTC if in_utc else ZONE
    return [
        {
            "arrived_at": datetime.fromtimestamp(call.arrived, zone).isoformat(),
            "queue": call.queue,
            "handle_s": "" if call.handle_s is None else str(call.handle_s),
            "outcome": call.outcome,
        }
        for call in planted.calls
    ]
