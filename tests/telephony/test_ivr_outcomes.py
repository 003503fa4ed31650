"""Every call the IVR answers ends in one IVR outcome, on real SIP (sipp callers against
one worker, the real Router on real Redis), and `switchboard report --ivr` adds them up:

| caller (sipp scenario)                        | number | outcome | stage          |
|-----------------------------------------------|--------|---------|----------------|
| hangs up in the greeting (peer_bye_in_ivr)    | 1000   | hung_up | language       |
| picks English, hangs up (ivr_hangup_in_reason)| 1000   | hung_up | reason         |
| picks a reason, hangs up while queued         | 1000   | routed  | routing        |
|   (peer_hangup_at_route)                      |        |         |                |
| the same while the contact is being made      | 1000   | routed  | routing        |
| waits (ivr_hung_up_on), closed hours          | 3000   | closed  | closed_message |
| hangs up in the closed message                | 3000   | hung_up | closed_message |
| waits, routed to a queue the router refuses   | 4000   | failed  | routing        |

A routed caller's hang-up is their contact's outcome (`abandoned`); the IVR says
`routed` once, also when the hang-up races the making of the contact.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from router.model import Contact, NewContact
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from telephony.calls import VoiceCalls
from telephony.ivr import IvrSession, Stage
from telephony.model import Hours, Reason
from tests.router.report_cli import config_for, run_cli

from .conftest import flow, node_uri, run_sipp, running_worker, terminal, until
from .test_pool import _stop_front_doors  # noqa: F401 (its autouse fixture stops nodes)
from .test_pool import make_front_door as make_front_door  # the fixture: a node's voice


def closed_now() -> Hours:
    """Hours that open six hours from now, for an hour: closed now, with a time to say."""
    opens = dt.datetime.now(dt.UTC) + dt.timedelta(hours=6)
    return Hours("UTC", f"{opens.hour:02d}:00", f"{(opens.hour + 1) % 24:02d}:00")


FLOWS = [
    flow(number="1000"),
    # Closed, and no reason that routes around the clock: the message, then a hang-up.
    flow(number="3000", reasons=(Reason("1", "booking", "booking"),), hours=closed_now()),
    # One language, one try, and a default queue the router does not know: refused.
    flow(
        number="4000", languages=("en",), max_tries=1, digit_timeout_s=0.5, default_queue="nowhere"
    ),
]


class Made:
    """The router as the worker sees it, noting each contact it makes; `reply_delay_s`
    holds each answer back (a busy node: the contact is made, its id on its way)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.contacts: list[str] = []
        self.reply_delay_s = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.router, name)

    async def create_contact(self, new: NewContact) -> Contact:
        contact = await self.router.create_contact(new)
        self.contacts.append(contact.contact_id)
        await asyncio.sleep(self.reply_delay_s)
        return contact


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    async with running_worker(router, prompt_cache, flows=FLOWS) as calls:
        yield calls


@pytest.fixture
def made(worker: VoiceCalls, router: Router) -> Made:
    spy = Made(router)
    worker.voice.routing = spy
    return spy


async def call(
    worker: VoiceCalls, router: Router, scenario: str, number: str, tmp_path: Path
) -> None:
    """One sipp call to `number`: it went as its scenario says (exit 0), it is gone, and
    its outcome is stored (the calls' outcomes are then in the order of the calls)."""
    port = worker.engine.config.sip_port
    before = len(await Reports(RecordStore(router.store)).ivr_outcomes(0))
    assert await run_sipp(port, scenario, tmp_path, extra=("-s", number)) == 0
    await until(lambda: not worker.calls and worker.engine.inbound_count == 0)
    await outcomes(router, before + 1)


async def outcomes(router: Router, count: int) -> list[dict[str, str]]:
    """The IVR outcomes stored, once there are `count` (each is noted as its call leaves
    the IVR, apart from the call)."""
    reports = Reports(RecordStore(router.store))
    return list(await until(lambda: _at_least(reports, count)))


async def _at_least(reports: Reports, count: int) -> list[dict[str, str]] | None:
    found = await reports.ivr_outcomes(0)
    assert len(found) <= count, found
    return found if len(found) == count else None


async def test_each_answered_call_has_one_ivr_outcome_and_the_report_adds_them_up(
    worker: VoiceCalls, router: Router, made: Made, redis_url: str, tmp_path: Path
) -> None:
    await call(worker, router, "peer_bye_in_ivr.xml", "1000", tmp_path)
    await call(worker, router, "ivr_hangup_in_reason.xml", "1000", tmp_path)
    await call(worker, router, "peer_hangup_at_route.xml", "1000", tmp_path)
    made.reply_delay_s = 1.0  # the caller hangs up while the contact is being made
    await call(worker, router, "peer_hangup_at_route.xml", "1000", tmp_path)
    made.reply_delay_s = 0.0
    await call(worker, router, "ivr_hung_up_on.xml", "3000", tmp_path)
    await call(worker, router, "peer_bye_in_ivr.xml", "3000", tmp_path)
    await call(worker, router, "ivr_hung_up_on.xml", "4000", tmp_path)

    stored = await outcomes(router, 7)
    seen = [(r["dialled"], r["outcome"], r["stage"], r["reason"]) for r in stored]
    assert seen == [
        ("1000", "hung_up", "language", ""),
        ("1000", "hung_up", "reason", ""),
        ("1000", "routed", "routing", ""),
        ("1000", "routed", "routing", ""),
        ("3000", "closed", "closed_message", ""),
        ("3000", "hung_up", "closed_message", ""),
        ("4000", "failed", "routing", "contact_refused"),
    ]
    # The routed calls name their contacts, whose own outcome is the caller's hang-up.
    routed = [r for r in stored if r["outcome"] == "routed"]
    assert [r["contact_id"] for r in routed] == made.contacts
    for record in routed:
        contact = await until(partial(terminal, router, record["contact_id"]))
        assert (contact.queue, contact.state.value) == ("baggage", "abandoned")
        assert record["queue"] == "baggage"
    assert all(not r["contact_id"] for r in stored if r["outcome"] != "routed")
    assert {r["region"] for r in stored} == {"default"}

    # The report: answered = routed + hung up (by stage) + closed + failed.
    config = config_for(redis_url, tmp_path)
    out = tmp_path / "ivr.csv"
    today = dt.datetime.now(dt.UTC).date().isoformat()
    argv = ["report", "--config", str(config), "--from", today, "--to", today]
    assert await run_cli([*argv, "--ivr", "--out", str(out)]) == 0
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert (row["region"], row["period"]) == ("all", "all")
    figures = {name: int(value) for name, value in row.items() if name not in ("region", "period")}
    assert figures == {
        "answered": 7,
        "routed": 2,
        "hung_up": 3,
        "hung_up_answer": 0,
        "hung_up_language": 1,
        "hung_up_reason": 1,
        "hung_up_closed_message": 1,
        "hung_up_routing": 0,
        "closed": 1,
        "failed": 1,
    }


def test_the_ivr_names_the_stage_a_caller_is_in() -> None:
    """The stages the outcomes name, from the menus themselves (no call needed)."""
    now = dt.datetime.now(dt.UTC)
    session = IvrSession(FLOWS[0], ["en"], now)
    session.start()
    assert session.stage == Stage.LANGUAGE
    session.digit("1")
    assert session.stage == Stage.REASON
    session.digit("2")
    assert session.stage == Stage.ROUTING
    closed = IvrSession(FLOWS[1], ["en"], now)
    closed.start()
    assert closed.stage == Stage.CLOSED_MESSAGE


async def test_a_node_counts_its_ivr_outcomes_and_stores_them_through_the_pipe(
    make_front_door: Any, router: Router, parties: Any
) -> None:
    """Through Kamailio to a worker process: the outcome crosses the worker's pipe to the
    node's router, and the node counts it (`switchboard_ivr_calls_total`). The node's
    flow has one language: a caller who hangs up in the greeting is in the reason menu."""
    voice = await make_front_door(workers=1)
    caller = await parties()
    caller.send(cmd="call", uri=node_uri(voice))
    await caller.wait_for("media", timeout=20)
    caller.send(cmd="hangup")
    (record,) = await outcomes(router, 1)
    assert (record["outcome"], record["stage"], record["node"]) == ("hung_up", "reason", "node-t")
    registry = voice.metrics.registry
    counted = {"outcome": "hung_up", "stage": "reason"}
    await until(lambda: registry.get_sample_value(IVR_CALLS, counted) == 1)
    assert registry.get_sample_value(IVR_CALLS, {**counted, "stage": "language"}) is None


IVR_CALLS = "switchboard_ivr_calls_total"
