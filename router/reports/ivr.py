"""The IVR report: each answered call's one IVR outcome in, figures per period out (pure).

Telephony records one outcome per call its IVR answered (`RoutingPort.note_ivr_outcome`,
kept in the `ivr` stream, `router.store.Keys.ivr`): `routed` (a contact was made, its
id kept), `hung_up` (the caller left, in `stage`), `closed` (the closed-hours message was
played and the IVR hung up), `failed` (with `reason`). A caller hung up on before the
IVR routes the call has no contact, so without these records such a call was nowhere.
Every answered call has exactly one, so routed + hung_up + closed + failed == answered:
a call still in the IVR when its worker dies or its node stops is `failed` (`worker_lost`,
`node_stopped`), recorded by the node's pool from what the worker told it (`call` names
the call in both, so the worker's own outcome, if it came first, stands alone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from router.reports.periods import interval_bounds, interval_start, local_label

OUTCOMES = ("routed", "hung_up", "closed", "failed")
# The IVR's stages in a caller's order (telephony.ivr.Stage): the report's columns.
STAGES = ("answer", "language", "reason", "closed_message", "routing")
# What an outcome record may hold, each a short text (no caller number: nothing personal,
# so retention has nothing to scrub from them).
FIELDS = (
    "outcome",
    "stage",
    "reason",
    "contact_id",
    "queue",
    "region",
    "dialled",
    "language",
    "node",
    "answered_at",
    "ended_at",
    "call",  # the call's id in its worker and pool (opaque), one outcome per id
)
GROUPS = ("region", "interval")
_MAX_TEXT = 128


def ivr_record(outcome: Mapping[str, Any]) -> dict[str, str]:
    """One outcome as it is stored, or ValueError naming the field: an outcome of
    OUTCOMES, a stage, a `contact_id` when routed, a `reason` when failed, the times in
    ms."""
    unknown = sorted(set(outcome) - set(FIELDS))
    if unknown:
        raise ValueError(f"outcome.{unknown[0]}: not a field of an IVR outcome")
    record = {name: str(outcome.get(name) or "") for name in FIELDS}
    for name, value in record.items():
        if len(value) > _MAX_TEXT:
            raise ValueError(f"outcome.{name}: at most {_MAX_TEXT} characters")
    if record["outcome"] not in OUTCOMES:
        raise ValueError(f"outcome.outcome: one of {', '.join(OUTCOMES)}")
    if not record["stage"]:
        raise ValueError("outcome.stage: the IVR stage the call ended in")
    if record["outcome"] == "routed" and not record["contact_id"]:
        raise ValueError("outcome.contact_id: a routed call names its contact")
    if record["outcome"] == "failed" and not record["reason"]:
        raise ValueError("outcome.reason: a failed call says why")
    for name in ("answered_at", "ended_at"):
        if not record[name].isdigit():
            raise ValueError(f"outcome.{name}: a time in ms since the epoch")
    return record


@dataclass
class IvrFigures:
    """One row of the IVR report: calls answered in the period and how each ended."""

    answered: int = 0
    routed: int = 0
    closed: int = 0
    hung_up: Counter[str] = field(default_factory=Counter)  # by stage
    failed: Counter[str] = field(default_factory=Counter)  # by reason

    def add(self, record: Mapping[str, str]) -> None:
        self.answered += 1
        outcome = record.get("outcome")
        if outcome == "routed":
            self.routed += 1
        elif outcome == "closed":
            self.closed += 1
        elif outcome == "hung_up":
            self.hung_up[record.get("stage") or "unknown"] += 1
        else:
            self.failed[record.get("reason") or "unknown"] += 1

    def figures(self, stages: Sequence[str] = STAGES) -> dict[str, Any]:
        """As the HTTP report and the CSV give them: hung up by every stage (0 too)."""
        return {
            "answered": self.answered,
            "routed": self.routed,
            "hung_up": sum(self.hung_up.values()),
            "hung_up_by_stage": {stage: self.hung_up.get(stage, 0) for stage in stages},
            "closed": self.closed,
            "failed": sum(self.failed.values()),
            "failed_by_reason": dict(sorted(self.failed.items())),
        }


@dataclass(frozen=True)
class IvrRow:
    region: str  # "all" when not grouped by region
    period: str  # the interval's start (ISO, its offset), or "all"
    figures: IvrFigures


@dataclass(frozen=True)
class IvrReport:
    rows: list[IvrRow]  # the groups, then the total (region and period "all")
    stages: tuple[str, ...]  # STAGES, then any other stage a record named

    @property
    def total(self) -> IvrFigures:
        return self.rows[-1].figures


def answered_ms(record: Mapping[str, str]) -> int:
    value = record.get("answered_at", "")
    return int(value) if value.isdigit() else 0


def ivr_report(
    records: Iterable[Mapping[str, str]],
    start_ms: int,
    end_ms: int,
    *,
    by: Sequence[str] = (),
    interval_s: int = 1800,
    zone: ZoneInfo | None = None,
) -> IvrReport:
    """The calls the IVR answered in [start_ms, end_ms) (a call belongs to the period of
    its answer, as a contact to that of its arrival), by `region` and/or `interval`
    (every interval of the period has a row, zeros too), then the total."""
    zone = zone or ZoneInfo("UTC")
    unknown = [name for name in by if name not in GROUPS]
    if unknown:
        raise ValueError(f"the IVR figures group by {' and '.join(GROUPS)} only, not {unknown[0]}")
    groups: dict[tuple[str, int], IvrFigures] = {}
    total = IvrFigures()
    stages = list(STAGES)
    regions: set[str] = set()
    for record in records:
        at = answered_ms(record)
        if not start_ms <= at < end_ms:
            continue
        total.add(record)
        stage = record.get("stage", "")
        if record.get("outcome") == "hung_up" and stage and stage not in stages:
            stages.append(stage)
        region = (record.get("region") or "(none)") if "region" in by else "all"
        regions.add(region)
        moment = interval_start(at, interval_s, zone) if "interval" in by else -1
        groups.setdefault((region, moment), IvrFigures()).add(record)
    if "interval" in by:
        # by interval alone, the one group "all" has every interval, calls or none
        for region in regions or ({"all"} if "region" not in by else set()):
            for moment in interval_bounds(start_ms, end_ms, interval_s, zone)[:-1]:
                groups.setdefault((region, moment), IvrFigures())
    rows = [
        IvrRow(region, "all" if moment < 0 else local_label(moment, zone), figures)
        for (region, moment), figures in sorted(groups.items())
    ]
    if by:
        rows.append(IvrRow("all", "all", total))
    else:
        rows = [IvrRow("all", "all", total)]
    return IvrReport(rows, tuple(stages))


def ivr_table(report: IvrReport) -> list[list[str]]:
    """The CSV of `switchboard report --ivr`: one line per row, hung up by stage."""
    stages = report.stages
    header = [
        "region",
        "period",
        "answered",
        "routed",
        "hung_up",
        *(f"hung_up_{stage}" for stage in stages),
        "closed",
        "failed",
    ]
    lines = [header]
    for row in report.rows:
        figures = row.figures.figures(stages)
        lines.append(
            [
                row.region,
                row.period,
                str(figures["answered"]),
                str(figures["routed"]),
                str(figures["hung_up"]),
                *(str(figures["hung_up_by_stage"][stage]) for stage in stages),
                str(figures["closed"]),
                str(figures["failed"]),
            ]
        )
    return lines
