"""SLA report figures from the case records: pure, records in and figures out.

The records are what `router.cases` appends as cases live (all values strings, times in
ms since the epoch):

- `timer`: an SLA timer ended (`timer` first_response, next_response or resolution;
  `outcome` met, breached or cancelled; `business_s` counted in business time, `wall_s`
  on the clock; `queue` and `policy` of the case then). A response timer the case's
  solving or closing ended has `responded` 0: no response came, so it is no response
  time; `cancelled` when its target had not passed then (neither met nor missed),
  `breached` when it had (missed). `missed_at_breach` 1: its breach record counted it;
- `breach`: a target passed (`policy`, `timer`, `queue`); `missed` 1: the timer counts
  missed from then, answered or not (a report while 27 customers were overdue read
  100 % attained: a miss counted only when the timer ended). Records written before
  these marks count a miss at the timer's end, as then;
- `escalation`: something was escalated (`cause`: sla.<timer>, emotion.keyword,
  emotion.sentiment);
- `case`: a case was opened (`queue`, `policy`, `source`).

Three tables: per queue, first response time (FRT) and next-response time, on the
clock and in business time, of the responses given; per policy, timers met and
breached, attainment (met / met and missed, a timer missed from the moment its target
passed; cancelled timers are left out) and breaches; per cause, escalations.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class _Durations:
    wall: list[float] = field(default_factory=list)
    business: list[float] = field(default_factory=list)

    def add(self, record: Mapping[str, str]) -> None:
        self.wall.append(float(record.get("wall_s") or 0))
        self.business.append(float(record.get("business_s") or 0))


@dataclass
class QueueResponses:
    queue: str
    cases: int = 0
    first: _Durations = field(default_factory=_Durations)
    next: _Durations = field(default_factory=_Durations)

    def figures(self) -> dict[str, int | float | None]:
        return {
            "cases_opened": self.cases,
            "first_responses": len(self.first.wall),
            "frt_p50_s": _median(self.first.wall),
            "frt_mean_s": _mean(self.first.wall),
            "frt_business_p50_s": _median(self.first.business),
            "frt_business_mean_s": _mean(self.first.business),
            "next_responses": len(self.next.wall),
            "next_response_p50_s": _median(self.next.wall),
            "next_response_mean_s": _mean(self.next.wall),
            "next_response_business_p50_s": _median(self.next.business),
            "next_response_business_mean_s": _mean(self.next.business),
        }


@dataclass
class PolicyAttainment:
    policy: str
    met: Counter[str] = field(default_factory=Counter)  # by timer
    missed: Counter[str] = field(default_factory=Counter)  # target passed, by timer
    late: Counter[str] = field(default_factory=Counter)  # ended after their target, by timer
    # response timers ended without a response before their target: not judged
    cancelled: Counter[str] = field(default_factory=Counter)
    breaches: Counter[str] = field(default_factory=Counter)  # breach records, by timer

    @property
    def attainment(self) -> float | None:
        ended = sum(self.met.values()) + sum(self.missed.values())
        return sum(self.met.values()) / ended if ended else None

    def figures(self) -> dict[str, int | float | None]:
        timers = ("first_response", "next_response", "resolution")
        row: dict[str, int | float | None] = {
            "timers_ended": sum(self.met.values()) + sum(self.late.values()),
            "met": sum(self.met.values()),
            "attainment": self.attainment,
            "breaches": sum(self.breaches.values()),
            "cancelled": sum(self.cancelled.values()),
        }
        for timer in timers:
            ended = self.met[timer] + self.missed[timer]
            row[f"{timer}_attainment"] = self.met[timer] / ended if ended else None
            row[f"{timer}_breaches"] = self.breaches[timer]
        return row


@dataclass(frozen=True)
class SlaReport:
    queues: list[QueueResponses]
    policies: list[PolicyAttainment]
    causes: dict[str, int]

    @property
    def breaches(self) -> int:
        return sum(sum(p.breaches.values()) for p in self.policies)

    @property
    def sla_escalations(self) -> int:
        return sum(n for cause, n in self.causes.items() if cause.startswith("sla."))


def sla_report(records: Iterable[Mapping[str, str]], start_ms: int, end_ms: int) -> SlaReport:
    """Figures of the records appended from `start_ms` until before `end_ms`."""
    queues: dict[str, QueueResponses] = {}
    policies: dict[str, PolicyAttainment] = {}
    causes: Counter[str] = Counter()
    for record in records:
        try:
            at = int(record.get("at_ms") or 0)
        except ValueError:
            continue
        if not start_ms <= at < end_ms:
            continue
        kind, queue = record.get("kind"), record.get("queue") or "(none)"
        policy = record.get("policy") or "(none)"
        if kind == "case":
            queues.setdefault(queue, QueueResponses(queue)).cases += 1
        elif kind == "timer":
            timer, outcome = record.get("timer", ""), record.get("outcome")
            row = queues.setdefault(queue, QueueResponses(queue))
            # A timer ended without a response (the case solved or closed) is no response.
            responded = outcome != "cancelled" and record.get("responded") != "0"
            if timer == "first_response" and responded:
                row.first.add(record)
            elif timer == "next_response" and responded:
                row.next.add(record)
            attained = policies.setdefault(policy, PolicyAttainment(policy))
            if outcome == "cancelled":
                attained.cancelled[timer] += 1
            elif outcome == "met":
                attained.met[timer] += 1
            else:
                attained.late[timer] += 1
                if record.get("missed_at_breach") != "1":
                    attained.missed[timer] += 1
        elif kind == "breach":
            attained = policies.setdefault(policy, PolicyAttainment(policy))
            attained.breaches[record.get("timer", "")] += 1
            if record.get("missed") == "1":
                attained.missed[record.get("timer", "")] += 1
        elif kind == "escalation":
            causes[record.get("cause") or "(none)"] += 1
    return SlaReport(
        [queues[name] for name in sorted(queues)],
        [policies[name] for name in sorted(policies)],
        dict(sorted(causes.items())),
    )


def sla_tables(report: SlaReport) -> dict[str, list[list[str]]]:
    """The three tables as CSV lines (header first): queue, policy, cause."""
    from router.reports.report import format_value

    def table(
        key: str, columns: Iterable[str], rows: list[tuple[str, dict[str, int | float | None]]]
    ) -> list[list[str]]:
        """The header even without rows: an empty period still says what it counts."""
        return [[key, *columns], *([name, *map(format_value, r.values())] for name, r in rows)]

    return {
        "queue": table(
            "queue",
            QueueResponses("").figures(),
            [(row.queue, row.figures()) for row in report.queues],
        ),
        "policy": table(
            "policy",
            PolicyAttainment("").figures(),
            [(row.policy, row.figures()) for row in report.policies],
        ),
        "cause": table(
            "cause",
            ("escalations",),
            [(cause, {"escalations": n}) for cause, n in report.causes.items()],
        ),
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None
