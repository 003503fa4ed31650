"""Service report figures from contact records: pure, records in and figures out.

A record is the dict the routing script appends to the records stream when a contact
ends (all values strings, times in ms since the epoch). The figures follow the
definitions supervisors already see on the wallboard (router/stats.py), so that a day's
report and the day's wallboard agree:

- volume: contacts that arrived in the period (arrival = queued_at, else arrived_at);
- open: contacts that arrived in the period and had not ended (no record yet), in no
  other figure;
- answered: contacts an agent accepted (answered_at set); abandoned and failed by state,
  an abandon the routing function marked short (`short_abandon`: its customer left before
  the queue's `short_abandon_s`, as it was then) in short_abandoned instead, in no rate;
- service level: answered within the answering queue's answer_within_s over answered;
- ASA: mean of answered_at - queued_at over answered contacts;
- requeue wait: the time answered contacts waited for an agent again after their first
  answer (a transfer, a requeue: first answer to end less the agents' legs), per contact
  that did (waited_again);
- moved in / out: contacts moved before their answer (a supervisor's move, an overflow)
  from the queue they entered to the one that counts them; they still count there only;
- first response time (chats): first agent message - queued_at, when transcripts exist;
- AHT: mean handle time of completed contacts (handled): the agents' connected legs
  (handled_by), so a wait between agents is not in it; a record without legs, its first
  answer to its end (wrap-up is not recorded, so it is not included; hold is, as it is
  part of the connected time);
- hold: contacts the agent's phone held (held) and hold time per completed contact
  (hold_s; the holds telephony notes on a voice contact);
- FCR: of the completed contacts of known customers (not anonymous chats), the share
  with no repeat contact from the same customer arriving within the window after the
  contact ended;
- occupancy: handle time over staffed time from a schedule (agent_id,start,end,activity);
- CSAT: share of 1-5 ratings that are 4 or 5 (top-two-box), with the mean rating.

Grouped by language, a contact counts in the row of its language as routing matched it
(`record_language`: the primary subtag, `zh` for `zh-TW`), a record without one in
`(unknown)`; a contact has one language, so its whole share is in that row.

A contact that changed hands is split between rows by queue and agent (`attribution`),
as the routing core's live counters count it: its answer (answered, ASA, service level)
where and by whom it was first answered, its offer there and in every queue it was
transferred to after that, its end (outcome, requeue wait, FCR, rating) where it ended,
and each agent's own connected time (`handled_by`) and holds where and to whom it
belongs: handle time by queue is the legs held in that queue. The total row counts it
once. `switchboard history export` counts contacts and handle time per queue the same way.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from router.identity import ANONYMOUS_PREFIX
from router.reports.periods import (
    MAX_REPORT_ROWS,
    interval_bounds,
    interval_end,
    interval_start,
    local_label,
)
from router.reports.privacy import mask_chat_text, mask_identifier
from switchboard.common.languages import primary

DIMENSIONS = ("region", "queue", "channel", "language", "agent", "interval")
# The language row of a record with an empty language: not a language of its own (the
# API and the IVR give every contact one), so not shown as one.
UNKNOWN_LANGUAGE = "(unknown)"
DEFAULT_ANSWER_WITHIN_S = 20.0
NOT_BREAKS = ("break", "lunch")


@dataclass(frozen=True)
class Shift:
    """One staffed segment of an agent (a schedule row whose activity is not a break)."""

    agent_id: str
    start_ms: int
    end_ms: int
    activity: str


@dataclass(frozen=True)
class ReportOptions:
    start_ms: int
    end_ms: int
    by: tuple[str, ...] = ()
    interval_s: int = 1800
    repeat_window_s: int = 86_400
    timezone: str = "UTC"
    answer_within_s: Mapping[str, float] = field(default_factory=dict)


@dataclass
class ReportRow:
    key: dict[str, str]
    volume: int = 0
    open: int = 0  # arrived in the period, not ended when the report was made
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    short_abandoned: int = 0  # left before the queue's short_abandon_s: not in abandoned
    failed: int = 0
    moved_in: int = 0  # moved here before their answer from the queue they entered
    moved_out: int = 0  # entered here, moved before their answer to another queue
    wait_ms: int = 0
    waited_again: int = 0  # answered, then waited for an agent again (transfer, requeue)
    requeue_wait_ms: int = 0
    handled: int = 0
    handle_ms: int = 0
    held: int = 0
    hold_ms: int = 0
    first_responses: int = 0
    first_response_ms: int = 0
    fcr_base: int = 0
    repeated: int = 0
    staffed_ms: int = 0
    ratings: list[int] = field(default_factory=list)
    wrap_up_codes: Counter[str] = field(default_factory=Counter)

    @property
    def service_level(self) -> float | None:
        return self.answered_in_sl / self.answered if self.answered else None

    @property
    def abandonment_rate(self) -> float | None:
        """Abandoned over answered plus abandoned; short abandons are in neither."""
        ended = self.answered + self.abandoned
        return self.abandoned / ended if ended else None

    @property
    def asa_s(self) -> float | None:
        return self.wait_ms / self.answered / 1000 if self.answered else None

    @property
    def requeue_wait_s(self) -> float | None:
        return self.requeue_wait_ms / self.waited_again / 1000 if self.waited_again else None

    @property
    def first_response_s(self) -> float | None:
        return (
            self.first_response_ms / self.first_responses / 1000 if self.first_responses else None
        )

    @property
    def aht_s(self) -> float | None:
        return self.handle_ms / self.handled / 1000 if self.handled else None

    @property
    def hold_s(self) -> float | None:
        return self.hold_ms / self.handled / 1000 if self.handled else None

    @property
    def fcr(self) -> float | None:
        return (self.fcr_base - self.repeated) / self.fcr_base if self.fcr_base else None

    @property
    def occupancy(self) -> float | None:
        return self.handle_ms / self.staffed_ms if self.staffed_ms else None

    @property
    def csat(self) -> float | None:
        good = sum(1 for score in self.ratings if score >= 4)
        return good / len(self.ratings) if self.ratings else None

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    def figures(self, codes: Sequence[str] = ()) -> dict[str, int | float | None]:
        """The columns of the report, in order; one per wrap-up code in `codes`."""
        return {
            "volume": self.volume,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "failed": self.failed,
            "open": self.open,
            "moved_in": self.moved_in,
            "moved_out": self.moved_out,
            "abandonment_rate": self.abandonment_rate,
            "service_level": self.service_level,
            "asa_s": self.asa_s,
            "waited_again": self.waited_again,
            "requeue_wait_s": self.requeue_wait_s,
            "first_response_s": self.first_response_s,
            "handled": self.handled,
            "aht_s": self.aht_s,
            "held": self.held,
            "hold_s": self.hold_s,
            "fcr": self.fcr,
            "repeat_contacts": self.repeated,
            "occupancy": self.occupancy,
            "ratings": len(self.ratings),
            "csat": self.csat,
            "average_rating": self.average_rating,
            **{f"wrap_up_{code}": self.wrap_up_codes[code] for code in codes},
        }


@dataclass
class Report:
    options: ReportOptions
    rows: list[ReportRow]
    total: ReportRow
    notes: list[str]

    @property
    def codes(self) -> list[str]:
        """The wrap-up codes agents gave in the period, each a column."""
        return sorted(self.total.wrap_up_codes)

    @property
    def columns(self) -> list[str]:
        return [*self.options.by, *self.total.figures(self.codes)]


def arrival_ms(record: Mapping[str, str]) -> int:
    return record_ms(record.get("queued_at")) or record_ms(record.get("arrived_at"))


def record_language(record: Mapping[str, str]) -> str:
    """The contact's language as routing matched it, its primary subtag (`es-MX` is `es`,
    `iw` is `he`: `primary`, as agents and contacts are matched), so a tag written in
    full still falls in its language's row; UNKNOWN_LANGUAGE when the record has none."""
    return primary(record.get("language", "").strip()) or UNKNOWN_LANGUAGE


def short_abandon(record: Mapping[str, str]) -> bool:
    """Whether the record is a short abandon: its customer left before the queue's
    `short_abandon_s` (routing.lua `abandon_contact` marks it at the end, by the threshold
    then). Records written before the mark, or with no threshold set, are not."""
    return record.get("state") == "abandoned" and record.get("short_abandon") == "1"


def known_customer(record: Mapping[str, str]) -> str:
    """The record's customer id, or "" when the customer is unknown: no id, or an
    anonymous chat's own (`anon-…`), which can never come back as the same customer."""
    customer = record.get("customer_id", "")
    return "" if customer.startswith(ANONYMOUS_PREFIX) else customer


EVERY_HOLD = "*"
ALL_HOLDS = frozenset({EVERY_HOLD})


@dataclass
class Share:
    """What one row counts of a contact: its offer(s), its answer, its end (outcome,
    FCR, rating, wrap-up), its whole handle time or the agents' connected time there
    (`legs_ms`, None when the row holds none of it), its wait between agents
    (`waits_again`), the holds of the agents in `holds` (ALL_HOLDS: every one; None:
    none), and whether it was moved here (`moved_in`) or out of here (`moved_out`)
    before its answer."""

    queue: str
    agent: str
    offered: int = 0
    answer: bool = False
    end: bool = False
    whole_handle: bool = False
    legs_ms: int | None = None
    holds: frozenset[str] | None = None
    waits_again: bool = False
    moved_in: bool = False
    moved_out: bool = False

    def merge(self, other: Share) -> None:
        self.offered += other.offered
        self.answer |= other.answer
        self.end |= other.end
        self.whole_handle |= other.whole_handle
        if other.legs_ms is not None:
            self.legs_ms = (self.legs_ms or 0) + other.legs_ms
        if other.holds is not None:  # two agents' legs in one row: both their holds
            self.holds = other.holds if self.holds is None else self.holds | other.holds
        self.waits_again |= other.waits_again
        self.moved_in |= other.moved_in
        self.moved_out |= other.moved_out


def handled_by(record: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """The record's legs (agent, queue, ms): who held it connected, where, how long, in
    order (`agent@queue:ms`, space-separated, routing.lua end_leg); [] for a record
    written before legs were kept, or one that does not parse."""
    legs = []
    for leg in record.get("handled_by", "").split():
        held, _, ms = leg.rpartition(":")
        agent, _, queue = held.rpartition("@")
        if not agent or not ms.isdigit():
            return []
        legs.append((agent, queue, int(ms)))
    return legs


def contact_handle_ms(record: Mapping[str, str]) -> int:
    """A contact's handle time: its agents' connected legs (`handled_by`; hold is inside
    them), so the time it waited between agents (a transfer, a requeue) is not in it; a
    record without legs, its first answer to its end."""
    legs = handled_by(record)
    if legs:
        return sum(ms for _, _, ms in legs)
    answered, ended = record_ms(record.get("answered_at")), record_ms(record.get("ended_at"))
    return max(ended - answered, 0) if answered and ended else 0


def requeue_wait_ms(record: Mapping[str, str]) -> int:
    """How long an answered contact waited for an agent again after its first answer
    (transferred, or requeued when its agent was lost, until taken or ended): its first
    answer to its end less its agents' legs; 0 for a record without legs."""
    legs = handled_by(record)
    answered, ended = record_ms(record.get("answered_at")), record_ms(record.get("ended_at"))
    if not legs or not answered or not ended:
        return 0
    return max(ended - answered - sum(ms for _, _, ms in legs), 0)


def moved_from(record: Mapping[str, str]) -> str:
    """The queue the contact entered when it was moved out of it before its answer (a
    supervisor's move, an overflow) and is counted in another (answered there, or ended
    there unanswered); "" when it was not, or its record predates `entered_queue`."""
    entered = record.get("entered_queue", "")
    counted = record.get("answered_queue") or record.get("queue", "")
    moves = record.get("moved_before_answer", "")
    return entered if entered and moves.isdigit() and int(moves) and entered != counted else ""


def attribution(record: Mapping[str, str], by: Sequence[str]) -> list[Share]:
    """The rows a contact counts in, when grouped `by`: one share with all of it, unless
    it was answered and the grouping is by queue or agent. Then its answer and offer go
    where and to whom it was first answered, an offer to every queue it was transferred
    to after its answer, its end where it ended and each agent's legs as handle time (and
    their own holds) of their queue and of themselves. A record without the answer's
    fields (written before they were kept) counts where it ended, as it did.

    A contact moved before its answer is `moved_in` where it counts (the first share)
    and, by queue, `moved_out` of the queue it entered (a share of nothing else there);
    grouped otherwise, its one row has both."""
    shares = _hands(record, by)
    moved = moved_from(record)
    if moved:
        shares[0].moved_in = True
        if "queue" in by:
            shares.append(Share(moved, "", moved_out=True))
        else:
            shares[0].moved_out = True
    return shares


def shares_by_queue(record: Mapping[str, str]) -> dict[str, Share]:
    """The contact's shares grouped by queue alone (`attribution`), one per queue."""
    merged: dict[str, Share] = {}
    for share in attribution(record, ("queue",)):
        if share.queue in merged:
            merged[share.queue].merge(share)
        else:
            merged[share.queue] = share
    return merged


def share_handle_ms(record: Mapping[str, str], share: Share) -> int | None:
    """The handle time `share` counts of the record: the contact's whole handle time, or
    the legs held there; None when it counts none (not completed, or no leg there)."""
    answered, ended = record_ms(record.get("answered_at")), record_ms(record.get("ended_at"))
    if record.get("state") != "completed" or not answered or not ended:
        return None
    if share.whole_handle:
        return contact_handle_ms(record)
    return share.legs_ms


def _hands(record: Mapping[str, str], by: Sequence[str]) -> list[Share]:
    """`attribution` of the contact's offers, answer, end and legs."""
    queue, agent = record.get("queue", ""), record.get("agent_id", "")
    whole = Share(
        queue,
        agent,
        offered=1,
        answer=True,
        end=True,
        whole_handle=True,
        holds=ALL_HOLDS,
        waits_again=True,
    )
    if not record.get("answered_at") or ("queue" not in by and "agent" not in by):
        return [whole]
    answer = (record.get("answered_queue") or queue, record.get("answered_agent") or agent)
    # Each queue once, the answering one not again (records written before the routing
    # core counted a transfer within a queue once name it there too).
    transfers = [
        moved
        for moved in dict.fromkeys(record.get("transferred_to", "").split())
        if moved != answer[0]
    ]
    legs = handled_by(record)
    one_leg = not legs or (len(legs) == 1 and legs[0][:2] == (agent, queue))
    if answer == (queue, agent) and not transfers and one_leg:  # most contacts
        return [whole]
    shares = [
        Share(*answer, offered=1, answer=True),
        Share(
            queue,
            agent,
            end=True,
            whole_handle=not legs,
            holds=None if legs else ALL_HOLDS,
            waits_again="agent" not in by,  # the wait between agents is no agent's
        ),
    ]
    if "queue" in by:
        for moved in transfers:
            taker = next((a for a, q, _ in legs if q == moved), agent if moved == queue else "")
            shares.append(Share(moved, taker, offered=1))
    holders = {a: index for index, (a, _, _) in reversed(list(enumerate(legs)))}
    shares += [  # an agent's holds where their first leg was
        Share(q, a, legs_ms=ms, holds=frozenset({a}) if holders[a] == index else None)
        for index, (a, q, ms) in enumerate(legs)
    ]
    return shares


def build_report(
    records: Iterable[Mapping[str, str]],
    options: ReportOptions,
    *,
    ratings: Mapping[str, int] | None = None,
    first_agent_message_ms: Mapping[str, int] | None = None,
    shifts: Sequence[Shift] | None = None,
    wrap_ups: Mapping[str, Mapping[str, Any]] | None = None,
    open_contacts: Iterable[Mapping[str, str]] = (),
) -> Report:
    """Figures per group of `options.by` plus a total row.

    `open_contacts` (their fields, as a record's) are contacts that had not ended when
    the report was made: those that arrived in the period and have no record are counted
    in `open`, and in no other figure. Grouped by interval, each group has a row per
    interval of the period (ValueError when that is more than MAX_REPORT_ROWS).

    `records` may reach past the period's end: contacts arriving up to the repeat window
    after it are read only to find repeats of contacts inside the period.
    """
    ratings = ratings or {}
    wrap_ups = wrap_ups or {}
    first_replies = first_agent_message_ms or {}
    unknown = [name for name in options.by if name not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown grouping {unknown[0]!r}; expected some of {DIMENSIONS}")
    all_records = sorted((r for r in records if arrival_ms(r)), key=arrival_ms)
    arrivals_by_customer: dict[str, list[int]] = defaultdict(list)
    for record in all_records:
        customer = known_customer(record)
        if customer:
            arrivals_by_customer[customer].append(arrival_ms(record))
    zone = ZoneInfo(options.timezone)
    groups: dict[tuple[str, ...], ReportRow] = {}
    total = ReportRow(key={name: "all" for name in options.by})
    window_ms = options.repeat_window_s * 1000
    chats = chats_with_transcript = 0
    for record in all_records:
        arrived = arrival_ms(record)
        if not options.start_ms <= arrived < options.end_ms:
            continue
        repeated = _has_repeat(record, arrivals_by_customer, window_ms)
        code = str(wrap_ups.get(record.get("contact_id", ""), {}).get("code") or "")
        targets = [
            (groups.setdefault(tuple(key.values()), ReportRow(key=key)), share)
            for key, share in _shares_by_row(record, options, zone, arrived)
        ]
        for target, share in [*targets, (total, attribution(record, ())[0])]:
            _add(target, record, options, ratings, first_replies, repeated, share)
            if code and share.end:
                target.wrap_up_codes[code] += 1
        if record.get("channel") == "chat" and record.get("answered_at"):
            chats += 1
            chats_with_transcript += record.get("contact_id", "") in first_replies
    still_open = _count_open(groups, total, open_contacts, all_records, options, zone)
    if "interval" in options.by:
        _fill_intervals(groups, options, zone)
    rows = [groups[key] for key in sorted(groups, key=lambda k: _in_time_order(k, options.by))]
    notes = []
    if still_open:
        notes.append(
            f"{still_open} contact{'s' if still_open != 1 else ''} that arrived in the period "
            "had not ended when the report was made: counted in `open`, in no other figure"
        )
    undefined = _undefined_queues(all_records, options)
    if undefined:
        notes.append(
            f"queues with no definition ({', '.join(undefined)}): their service level is "
            f"judged against {DEFAULT_ANSWER_WITHIN_S:g} s"
        )
    if shifts is not None:
        _add_staffed_time(rows, total, shifts, options, zone)
        if not set(options.by) <= {"agent", "queue", "interval"}:
            notes.append("occupancy per row needs grouping by agent, queue or interval only")
    else:
        notes.append("occupancy omitted: no schedule given (--schedule FILE) to know staffed time")
    if chats and not chats_with_transcript:
        notes.append("first response time omitted: no chat transcripts with an agent message")
    if not ratings:
        notes.append("CSAT omitted: no survey ratings in the period")
    notes.append(
        "AHT is the agents' connected time (their legs; a wait between agents is "
        "requeue_wait_s); wrap-up time is not recorded and not included"
    )
    return Report(options, rows, total, notes)


def record_ms(value: str | None) -> int:
    """A record's time field in ms (0 when it has none or it is not a number)."""
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def _shares_by_row(
    record: Mapping[str, str], options: ReportOptions, zone: ZoneInfo, arrived: int
) -> list[tuple[dict[str, str], Share]]:
    """The contact's shares (`attribution`) by row key, those of one row merged."""
    shares = attribution(record, options.by)
    if len(shares) == 1:
        return [(_key(record, options, zone, arrived, shares[0]), shares[0])]
    rows: dict[tuple[str, ...], tuple[dict[str, str], Share]] = {}
    for share in shares:
        key = _key(record, options, zone, arrived, share)
        if (found := rows.get(tuple(key.values()))) is not None:
            found[1].merge(share)
        else:
            rows[tuple(key.values())] = (key, share)
    return list(rows.values())


def _key(
    record: Mapping[str, str], options: ReportOptions, zone: ZoneInfo, arrived: int, share: Share
) -> dict[str, str]:
    key = {}
    for name in options.by:
        if name == "interval":
            key[name] = interval_label(arrived, options.interval_s, zone)
        elif name == "agent":
            key[name] = share.agent or "(none)"
        elif name == "queue":
            key[name] = share.queue or "(none)"
        elif name == "language":
            key[name] = record_language(record)
        else:
            key[name] = record.get(name) or "(none)"
    return key


def interval_label(at_ms: int, interval_s: int, zone: ZoneInfo) -> str:
    """Start of the interval holding `at_ms`, in the report's zone, ISO 8601 with offset.

    Intervals follow the wall clock from local midnight (periods.py): a time a clock
    going back repeats starts two intervals, each labelled with its own offset, and the
    label is always a local time that happened."""
    return local_label(interval_start(at_ms, interval_s, zone), zone)


def _count_open(
    groups: dict[tuple[str, ...], ReportRow],
    total: ReportRow,
    open_contacts: Iterable[Mapping[str, str]],
    records: Sequence[Mapping[str, str]],
    options: ReportOptions,
    zone: ZoneInfo,
) -> int:
    """Count in `open` the contacts of the period not ended yet. One that ended while
    the report was read has its record: it counts there, not twice."""
    recorded = {record.get("contact_id") for record in records}
    count = 0
    for contact in open_contacts:
        arrived = arrival_ms(contact)
        in_period = options.start_ms <= arrived < options.end_ms
        if not in_period or contact.get("contact_id") in recorded:
            continue
        key = _key(contact, options, zone, arrived, attribution(contact, ())[0])
        groups.setdefault(tuple(key.values()), ReportRow(key=key)).open += 1
        total.open += 1
        count += 1
    return count


def _fill_intervals(
    groups: dict[tuple[str, ...], ReportRow], options: ReportOptions, zone: ZoneInfo
) -> None:
    """A row for every interval of the period in each group, zeros where nothing arrived,
    so an interval report has a fixed shape to set beside the forecast and the schedule.
    The groups are those of the period's contacts; by queue alone, every defined queue."""
    bounds = interval_bounds(options.start_ms, options.end_ms, options.interval_s, zone)
    labels = [local_label(start, zone) for start in bounds[:-1]]
    slot = options.by.index("interval")
    combos = {key[:slot] + key[slot + 1 :] for key in groups}
    others = [name for name in options.by if name != "interval"]
    if others == ["queue"]:
        combos |= {(queue,) for queue in options.answer_within_s}
    if not others:
        combos = {()}
    count = len(labels) * len(combos)
    if count > MAX_REPORT_ROWS:
        raise ValueError(
            f"{len(labels)} intervals x {len(combos)} groups is {count} rows, more than a "
            f"report holds ({MAX_REPORT_ROWS}): choose a longer interval, a shorter period "
            "or fewer groupings"
        )
    for combo in combos:
        for label in labels:
            values = (*combo[:slot], label, *combo[slot:])
            groups.setdefault(values, ReportRow(key=dict(zip(options.by, values, strict=True))))


def _undefined_queues(records: Iterable[Mapping[str, str]], options: ReportOptions) -> list[str]:
    """The queues of the period's contacts with no `answer_within_s`: judged against the
    default, which the report must say."""
    named = {
        queue
        for record in records
        if options.start_ms <= arrival_ms(record) < options.end_ms
        for queue in (record.get("queue", ""), record.get("answered_queue", ""))
        if queue
    }
    return sorted(named - set(options.answer_within_s))


def _in_time_order(key: tuple[str, ...], names: Sequence[str]) -> tuple[str | float, ...]:
    """A row's sort key: an interval by its instant (a repeated hour's labels share
    their wall time), every other dimension by name."""
    return tuple(
        dt.datetime.fromisoformat(value).timestamp() if name == "interval" else value
        for name, value in zip(names, key, strict=True)
    )


def _has_repeat(
    record: Mapping[str, str], arrivals: Mapping[str, list[int]], window_ms: int
) -> bool:
    """Another contact of the same customer arrives after this one ended, within the window.

    `arrivals` lists each customer's arrival times in ascending order.
    """
    customer = known_customer(record)
    ended = record_ms(record.get("ended_at"))
    if not customer or not ended:
        return False
    later = arrivals.get(customer, [])
    index = bisect.bisect_right(later, ended)
    return index < len(later) and later[index] <= ended + window_ms


def _add(
    row: ReportRow,
    record: Mapping[str, str],
    options: ReportOptions,
    ratings: Mapping[str, int],
    first_replies: Mapping[str, int],
    repeated: bool,
    share: Share,
) -> None:
    """Adds to `row` the `share` of the contact it counts (`attribution`)."""
    row.volume += share.offered
    row.moved_in += share.moved_in
    row.moved_out += share.moved_out
    state = record.get("state", "")
    queued = arrival_ms(record)
    answered = record_ms(record.get("answered_at"))
    ended = record_ms(record.get("ended_at"))
    contact_id = record.get("contact_id", "")
    completed = state == "completed" and answered and ended
    if share.end and state == "abandoned" and short_abandon(record):
        row.short_abandoned += 1
    elif share.end and state == "abandoned":
        row.abandoned += 1
    elif share.end and state == "failed":
        row.failed += 1
    if share.answer and answered:
        row.answered += 1
        wait = max(answered - queued, 0)
        row.wait_ms += wait
        answering = record.get("answered_queue") or record.get("queue", "")
        limit = options.answer_within_s.get(answering, DEFAULT_ANSWER_WITHIN_S)
        row.answered_in_sl += wait <= limit * 1000
    if share.waits_again and (again := requeue_wait_ms(record)):
        row.waited_again += 1
        row.requeue_wait_ms += again
    handle = share_handle_ms(record, share)
    if handle is not None:
        row.handled += 1
        row.handle_ms += handle
    if completed and share.holds is not None:
        hold = (
            record_hold_ms(record)
            if EVERY_HOLD in share.holds
            else sum(record_hold_ms(record, agent) for agent in sorted(share.holds))
        )
        row.hold_ms += hold
        row.held += hold > 0
    if completed and share.end and known_customer(record):
        row.fcr_base += 1
        row.repeated += repeated
    if share.answer and contact_id in first_replies and record.get("channel") == "chat":
        row.first_responses += 1
        row.first_response_ms += max(first_replies[contact_id] - queued, 0)
    if share.end and contact_id in ratings:
        row.ratings.append(int(ratings[contact_id]))


def _add_staffed_time(
    rows: list[ReportRow],
    total: ReportRow,
    shifts: Sequence[Shift],
    options: ReportOptions,
    zone: ZoneInfo,
) -> None:
    """Staffed time of the shifts that match each row (by agent, queue and interval).

    A row's interval ends where the next one starts (periods.py), so a day's row on a
    clock-change day takes 23 or 25 hours of shifts, and the rows add up to the total."""
    spans: dict[tuple[str, str], list[tuple[int, int, ReportRow]]] = defaultdict(list)
    if set(options.by) <= {"agent", "queue", "interval"}:
        for row in rows:
            begin, end = _row_span(row, options, zone)
            spans[(row.key.get("agent", ""), row.key.get("queue", ""))].append((begin, end, row))
    for spanned in spans.values():
        spanned.sort(key=lambda span: span[0])
    for shift in shifts:
        if shift.activity in NOT_BREAKS:
            continue
        start = max(shift.start_ms, options.start_ms)
        end = min(shift.end_ms, options.end_ms)
        if end <= start:
            continue
        total.staffed_ms += end - start
        agent = shift.agent_id if "agent" in options.by else ""
        spanned = spans.get((agent, shift.activity if "queue" in options.by else ""), [])
        first = max(bisect.bisect_right(spanned, start, key=lambda span: span[0]) - 1, 0)
        for begin, finish, row in spanned[first:]:
            if begin >= end:
                break
            row.staffed_ms += max(min(end, finish) - max(start, begin), 0)


def _row_span(row: ReportRow, options: ReportOptions, zone: ZoneInfo) -> tuple[int, int]:
    """The time (ms) a row covers: its interval, or the whole period."""
    if "interval" not in row.key:
        return options.start_ms, options.end_ms
    begin = int(dt.datetime.fromisoformat(row.key["interval"]).timestamp() * 1000)
    return begin, interval_end(begin, options.interval_s, zone)


def format_value(value: int | float | None) -> str:
    """CSV cell: empty for no value, numbers with at most four decimals."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def report_table(report: Report) -> list[list[str]]:
    """Header, one line per group, then the total line."""
    lines = [report.columns]
    for row in [*report.rows, report.total] if report.options.by else [report.total]:
        values = [format_value(v) for v in row.figures(report.codes).values()]
        lines.append([*row.key.values(), *values])
    return lines


CONTACT_COLUMNS = (
    "contact_id",
    "channel",
    "queue",
    "entered_queue",
    "region",
    "agent_id",
    "customer_id",
    "state",
    "reason",
    "arrived",
    "wait_s",
    "requeue_wait_s",
    "handle_s",
    "hold_s",
    "repeated",
    "rating",
    "wrap_up_code",
    "wrap_up_note",
    "case_id",
    "short_abandon",  # appended: a spreadsheet reading columns by position keeps its own
)


def contact_table(
    records: Iterable[Mapping[str, str]],
    options: ReportOptions,
    *,
    ratings: Mapping[str, int] | None = None,
    masked: bool = True,
    wrap_ups: Mapping[str, Mapping[str, Any]] | None = None,
    cases: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """One line per contact of the period, with its wrap-up and its case when it has one
    (`cases`: contact -> case); customer ids and wrap-up notes masked unless asked
    otherwise. `short_abandon` is "yes" on the abandons the summary counts in
    `short_abandoned` (the same `short_abandon` test), so the two reconcile: their
    state stays `abandoned`."""
    ratings = ratings or {}
    wrap_ups = wrap_ups or {}
    cases = cases or {}
    ordered = sorted((r for r in records if arrival_ms(r)), key=arrival_ms)
    arrivals: dict[str, list[int]] = defaultdict(list)
    for record in ordered:
        if known_customer(record):
            arrivals[record["customer_id"]].append(arrival_ms(record))
    zone = ZoneInfo(options.timezone)
    window_ms = options.repeat_window_s * 1000
    lines = [list(CONTACT_COLUMNS)]
    for record in ordered:
        arrived = arrival_ms(record)
        if not options.start_ms <= arrived < options.end_ms:
            continue
        answered, ended = record_ms(record.get("answered_at")), record_ms(record.get("ended_at"))
        customer = known_customer(record)  # an anonymous chat's is nobody's: unknown
        contact_id = record.get("contact_id", "")
        held = record_hold_ms(record)
        again = requeue_wait_ms(record)
        lines.append(
            [
                contact_id,
                record.get("channel", ""),
                record.get("queue", ""),
                record.get("entered_queue", ""),
                record.get("region", ""),
                record.get("agent_id", ""),
                mask_identifier(customer) if masked else customer,
                record.get("state", ""),
                record.get("reason", ""),
                dt.datetime.fromtimestamp(arrived / 1000, zone).isoformat(),
                format_value((answered - arrived) / 1000) if answered else "",
                format_value(again / 1000) if again else "",
                format_value(contact_handle_ms(record) / 1000) if answered and ended else "",
                format_value(held / 1000) if held else "",
                "yes" if _has_repeat(record, arrivals, window_ms) else "",
                str(ratings[contact_id]) if contact_id in ratings else "",
                str(wrap_ups.get(contact_id, {}).get("code") or ""),
                _note(str(wrap_ups.get(contact_id, {}).get("note") or ""), masked),
                cases.get(contact_id, ""),
                "yes" if short_abandon(record) else "",
            ]
        )
    return lines


def record_hold_ms(record: Mapping[str, str], agent: str | None = None) -> int:
    """The time the agents' phones held the contact (its `holds`, as telephony noted them),
    or `agent`'s alone (a hold noted without its agent is the last agent's); 0 without
    holds or with a list that does not parse."""
    last = record.get("agent_id", "")
    try:
        holds = json.loads(record.get("holds") or "[]")
        return sum(
            int(hold.get("held_ms", 0))
            for hold in holds
            if isinstance(hold, dict) and agent in (None, hold.get("agent") or last)
        )
    except (ValueError, TypeError, AttributeError):
        return 0


def _note(note: str, masked: bool) -> str:
    """A wrap-up note is free text about a person: its length only, unless unmasked."""
    return mask_chat_text(note) if masked and note else note
