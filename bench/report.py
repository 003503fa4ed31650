"""Service report over a real month: the Anonymous Bank, February 1999 (33,344 calls).

Each call becomes a contact record (queue = call type, agent = server, customer id kept
for first-contact resolution), the records are written to a private Redis stream the
way the routing script writes them, then the report is read and computed as
`switchboard report` does. Baseline in the same run: the history export's aggregation
(`router.reports.history.interval_rows`) over the same records, the cheapest pass over them.

    .venv/bin/python bench/report.py [--data FILE] [--html FILE]

Prints the month's figures and timings; the last line is a JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import ROOT, print_json_line, private_redis

from router.reports.history import interval_rows
from router.reports.html import render_html
from router.reports.report import ReportOptions, build_report
from switchboard.cli import DEFAULT_CONFIG
from switchboard.services import Services
from switchboard.settings import load_settings

DATA = ROOT.parent / "shared" / "data" / "anonymous_bank_1999_02.tsv"
ZONE = ZoneInfo("Asia/Jerusalem")
# Served calls are completed; AGENT without a server ended in the VRU: not a queue outcome.
STATES = {"HANG": "abandoned", "PHANTOM": "failed", "AGENT": "failed"}


def _ms(date: str, clock: str) -> int:
    day = dt.datetime.strptime(date, "%y%m%d").replace(tzinfo=ZONE)
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return int(
        (day + dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)).timestamp() * 1000
    )


def bank_records(path: Path) -> list[dict[str, str]]:
    """One record per call, in the routing script's field names."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            queued = _ms(row["date"], row["q_start"] if int(row["q_time"]) else row["vru_exit"])
            served = row["outcome"] == "AGENT" and row["server"] != "NO_SERVER"
            queue_exit = row["q_exit"] if int(row["q_time"]) else row["vru_exit"]
            answered = ended = 0
            if served:  # a few served rows lack ser_start: the queue exit is the answer
                begun = row["ser_start"] if row["ser_start"] != "0:00:00" else queue_exit
                answered = _ms(row["date"], begun)
                ended = answered + int(row["ser_time"]) * 1000
            else:
                ended = _ms(row["date"], queue_exit)
            # Clock times only: a time far before the queue start is past midnight; a
            # second before it is the data's rounding.
            if answered and queued - answered > 43_200_000:
                answered, ended = answered + 86_400_000, ended + 86_400_000
            if queued - ended > 43_200_000:
                ended += 86_400_000
            answered = max(answered, queued) if answered else 0
            ended = max(ended, answered, queued)
            records.append(
                {
                    "contact_id": row["call_id"],
                    "channel": "voice",
                    "queue": row["type"],
                    "region": "il",
                    "customer_id": "" if row["customer_id"] == "0" else row["customer_id"],
                    "agent_id": row["server"] if served else "",
                    "state": "completed" if served else STATES.get(row["outcome"], "failed"),
                    "queued_at": str(queued),
                    "answered_at": str(answered) if answered else "",
                    "ended_at": str(ended),
                }
            )
    return records


async def load(client: object, stream: str, records: list[dict[str, str]]) -> None:
    """Append in end-time order with the end time as stream id, as a live node would."""
    pipe = client.pipeline(transaction=False)  # type: ignore[attr-defined]
    last = 0
    for record in sorted(records, key=lambda r: int(r["ended_at"])):
        last = max(int(record["ended_at"]), last)
        pipe.xadd(stream, record, id=f"{last}-*")
    await pipe.execute()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--html", type=Path, default=ROOT / "artifacts" / "bank-1999-02-report.html"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    records = bank_records(args.data)
    convert_s = time.perf_counter() - started
    start = int(dt.datetime(1999, 2, 1, tzinfo=ZONE).timestamp() * 1000)
    end = int(dt.datetime(1999, 3, 1, tzinfo=ZONE).timestamp() * 1000)
    settings = load_settings(DEFAULT_CONFIG)
    async with private_redis() as client:
        # The services `switchboard report` builds (services_for_command), on our own
        # Redis; the report's inputs are read the way the command reads them.
        reports = Services.build(client, settings).reports
        await load(client, reports.store.routing.keys.records, records)
        began = time.perf_counter()
        inputs = await reports.inputs(start)
        read_s = time.perf_counter() - began
    stored, ratings, first = inputs.records, inputs.ratings, inputs.first_agent_message_ms
    options = ReportOptions(
        start_ms=start,
        end_ms=end,
        by=("queue", "interval"),
        interval_s=3600,
        timezone="Asia/Jerusalem",
        answer_within_s={},  # 20 s everywhere
    )
    began = time.perf_counter()
    report = build_report(
        stored, options, ratings=ratings, first_agent_message_ms=first, wrap_ups=inputs.wrap_ups
    )
    report_s = time.perf_counter() - began
    began = time.perf_counter()
    interval_rows(stored, 3600)
    baseline_s = time.perf_counter() - began
    by_interval = build_report(stored, ReportOptions(**{**options.__dict__, "by": ("interval",)}))
    began = time.perf_counter()
    page = render_html(
        build_report(stored, ReportOptions(**{**options.__dict__, "by": ("queue",)})),
        by_interval,
        "Anonymous Bank, February 1999",
        0.8,
    )
    html_s = time.perf_counter() - began
    args.html.parent.mkdir(parents=True, exist_ok=True)
    args.html.write_text(page, encoding="utf-8")
    total = report.total
    print(
        f"records {len(stored)} (converted in {convert_s:.2f} s, read from Redis in {read_s:.2f} s)"
    )
    print(
        f"month: volume {total.volume}, answered {total.answered}, abandoned {total.abandoned} "
        f"({total.abandonment_rate:.1%}), SL(20 s) {total.service_level:.1%}, "
        f"ASA {total.asa_s:.1f} s, AHT {total.aht_s:.1f} s, FCR(24 h) {total.fcr:.1%} "
        f"({total.repeated} repeats of {total.fcr_base} known-customer calls)"
    )
    print(
        f"report by queue x hour: {len(report.rows)} rows in {report_s:.3f} s; "
        f"baseline history aggregation {baseline_s:.3f} s; HTML {html_s:.2f} s -> {args.html}"
    )
    print_json_line(
        {
            "bench": "report",
            "records": len(stored),
            "read_s": round(read_s, 3),
            "report_s": round(report_s, 3),
            "baseline_s": round(baseline_s, 3),
            "report_vs_baseline": round(report_s / baseline_s, 2),
            "records_per_s": round(len(stored) / report_s),
            "html_s": round(html_s, 2),
            "volume": total.volume,
            "abandonment_rate": round(total.abandonment_rate or 0, 4),
            "service_level": round(total.service_level or 0, 4),
            "asa_s": round(total.asa_s or 0, 1),
            "aht_s": round(total.aht_s or 0, 1),
            "fcr_24h": round(total.fcr or 0, 4),
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
