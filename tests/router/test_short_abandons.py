"""Short abandons: a customer who leaves before the queue's `short_abandon_s` (a misdial, a
chat opened by mistake) is counted apart as `short_abandoned`, in no abandonment rate nor
service level base, in the routing core's counters (wallboard cards, `/api/v1/queues`,
`/metrics`), the records (the report, the wallboard's per-region table) alike. The
contact's outcome stays `abandoned`; the mark is taken at its end, by the threshold then.

The service-level test: in `general` (short_abandon_s 5), one chat answered after 2 s, one
whose customer left after 1 s (short) and one after 8 s (an abandon), on the real Redis.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from router.model import Agent, Channel, NewContact, Presence, Role
from router.queue_view import regional_abandons, regional_figures
from router.reports.report import ReportOptions, build_report
from router.stats import QueueFigures, add_buckets
from switchboard.common.clock import now_ms, utc_day_start_ms
from switchboard.common.errors import ConfigError
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, running_node
from tests.router.report_cli import config_for, run_cli

S = 1000
DEFAULT = ROOT / "config" / "default.toml"

# -- the arithmetic ---------------------------------------------------------------------


def figures(**counts: int) -> QueueFigures:
    zero = dict.fromkeys(
        (
            "offered",
            "answered",
            "answered_in_sl",
            "abandoned",
            "abandoned_in_sl",
            "failed",
            "handled",
            "wait_ms",
            "handle_ms",
        ),
        0,
    )
    return QueueFigures(**{**zero, **counts})  # type: ignore[arg-type]


def test_short_abandons_are_in_no_rate_of_the_counters() -> None:
    """2 answered (both within T), 1 abandon after T, 3 short: abandonment 1/3, service
    level with abandons 2/3; the short ones change neither, nor the patience estimate."""
    long_only = figures(answered=2, answered_in_sl=2, abandoned=1, wait_ms=4_000)
    with_short = dataclasses.replace(long_only, short_abandoned=3)
    for counted in (long_only, with_short):
        assert counted.abandonment_rate == pytest.approx(1 / 3)
        assert counted.service_level_with_abandons == pytest.approx(2 / 3)
        assert counted.service_level == 1.0
        assert counted.abandon_rate_per_s == pytest.approx(1 / 4)
    only_short = figures(short_abandoned=2)
    assert only_short.abandonment_rate is None and only_short.service_level_with_abandons is None


def test_the_buckets_add_up_short_abandons() -> None:
    summed = add_buckets([{"short_abandoned": 2, "abandoned": 1}, {"short_abandoned": 1}])
    assert (summed.short_abandoned, summed.abandoned) == (3, 1)


def record(contact_id: str, state: str, waited_s: float, **fields: str) -> dict[str, str]:
    queued = 1_000_000
    ended = queued + int(waited_s * S)
    answered = {"answered_at": str(queued + 2 * S)} if state == "completed" else {}
    return {
        "contact_id": contact_id,
        "channel": "chat",
        "queue": "general",
        "region": "eu",
        "state": state,
        "queued_at": str(queued),
        "ended_at": str(ended),
        **answered,
        **fields,
    }


RECORDS = [
    record("answered", "completed", 30),
    record("misdial", "abandoned", 1, short_abandon="1"),
    record("gave-up", "abandoned", 8),
    record("old", "abandoned", 3),  # written before the mark: an abandon, as it was
]


def test_the_report_counts_short_abandons_apart() -> None:
    options = ReportOptions(0, 2_000_000, by=("queue",), answer_within_s={"general": 60})
    row = build_report(RECORDS, options).rows[0]
    figures = row.figures()
    assert (row.volume, row.answered, row.abandoned, row.short_abandoned) == (4, 1, 2, 1)
    assert figures["short_abandoned"] == 1
    assert figures["abandonment_rate"] == pytest.approx(2 / 3)
    assert figures["service_level"] == 1.0
    assert list(figures)[:4] == ["volume", "answered", "abandoned", "short_abandoned"]


def test_the_wallboard_region_figures_leave_short_abandons_out_of_the_abandons() -> None:
    options = ReportOptions(0, 2_000_000, by=("region", "queue"), answer_within_s={"general": 60})
    report = build_report(RECORDS, options)
    rows = {tuple(row.key.values()): row for row in report.rows}
    abandons = regional_abandons(RECORDS, {"eu"}, {"general": 60.0}, 0, 2_000_000)
    assert abandons == {"general": (2, 11 * S)}  # the 8 s and the 3 s ones
    queue = regional_figures(rows, abandons, "general", {"eu"})
    assert (queue.abandoned, queue.short_abandoned, queue.abandoned_in_sl) == (2, 1, 2)
    assert queue.abandonment_rate == pytest.approx(2 / 3)


# -- the setting ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["121", "-1", '"5"'])
def test_a_threshold_out_of_bounds_is_a_fault_naming_queue_and_field(
    tmp_path: Path, value: str
) -> None:
    text = DEFAULT.read_text().replace(
        "wrap_up_s = 10\n", f"wrap_up_s = 10\nshort_abandon_s = {value}\n", 1
    )
    path = tmp_path / "node.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    shown = value.strip('"')
    found = f"'{shown}'" if value.startswith('"') else shown
    assert (
        f"{path}: queues[0].short_abandon_s: expected a number >= 0 and <= 120, found {found}"
        in str(refused.value).splitlines()
    )


def test_the_threshold_is_read_and_off_by_default(tmp_path: Path) -> None:
    assert all(queue.short_abandon_s == 0 for queue in load_settings(DEFAULT).queues)
    text = DEFAULT.read_text().replace(
        "wrap_up_s = 10\n", "wrap_up_s = 10\nshort_abandon_s = 5\n", 1
    )
    path = tmp_path / "node.toml"
    path.write_text(text)
    assert load_settings(path).queues[0].short_abandon_s == 5.0


async def test_an_admin_sets_the_threshold_within_its_bounds(redis_url: str) -> None:
    """Over HTTP, with the OpenAPI bounds: 400 naming the field, and the queue unchanged."""
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with running_node(redis_url, users=admin) as node, http_session(node) as http:
        adm = await login(http, "adm", "admin-secret-1")
        put = await http.put(
            "/api/v1/admin/queues/refunds", json={"short_abandon_s": 7}, headers=adm
        )
        assert put.ok, await put.text()
        assert node.router.queues["refunds"].short_abandon_s == 7.0
        rules = await node.store.client.hgetall(node.store.keys.queue_config("refunds"))
        assert rules["short_abandon_s"] == "7.0"
        got = await (await http.get("/api/v1/admin/queues/refunds", headers=adm)).json()
        assert got["short_abandon_s"] == 7.0
        too_long = await http.put(
            "/api/v1/admin/queues/refunds", json={"short_abandon_s": 121}, headers=adm
        )
        assert too_long.status == 400
        assert (await too_long.json())["field"] == "$.short_abandon_s"
        assert node.router.queues["refunds"].short_abandon_s == 7.0
        spec = await (await http.get("/api/v1/openapi.json")).json()
    field = spec["components"]["schemas"]["QueueDefinition"]["properties"]["short_abandon_s"]
    assert (field["minimum"], field["maximum"], field["default"]) == (0, 120, 0.0)


# -- on the real Redis: the counters, the records, the report ------------------------------


def gauges(text: str, name: str) -> dict[str, float]:
    return {
        sample.labels["queue"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
    }


async def test_a_chat_left_after_1_s_is_short_and_one_after_8_s_an_abandon(
    redis_url: str, tmp_path: Path
) -> None:
    settings = load_settings(DEFAULT)
    queues = [
        dataclasses.replace(queue, short_abandon_s=5) if queue.name == "general" else queue
        for queue in settings.queues
    ]
    now = now_ms()
    day = utc_day_start_ms(now)
    if now - day < 40 * S:  # the day's first seconds: the contacts must be today's, past
        await asyncio.sleep((day + 40 * S - now) / 1000)
        now = now_ms()
    t0 = max(day, now - 60 * S)
    sup = [("sup", Role.SUPERVISOR, "sup-secret-1")]
    ana = Agent("ana", "default", {"general": 3}, ["en"])
    async with (
        running_node(redis_url, users=sup, agents=[ana], queues=queues) as node,
        http_session(node) as http,
    ):
        router = node.router
        await router.set_presence("ana", Presence.AVAILABLE, at_ms=t0)

        def chat(customer: str) -> NewContact:
            return NewContact(Channel.CHAT, "general", "en", customer_id=customer)

        served = await router.create_contact(chat("c-served"), at_ms=t0)
        await router.accept(served.contact_id, "ana", at_ms=t0 + 2 * S)
        await router.complete(served.contact_id, at_ms=t0 + 20 * S)
        await router.set_presence("ana", Presence.NOT_READY, "break", at_ms=t0 + 20 * S)
        misdial = await router.create_contact(chat("c-misdial"), at_ms=t0 + 21 * S)
        gave_up = await router.create_contact(chat("c-gave-up"), at_ms=t0 + 21 * S)
        left = await router.abandon(misdial.contact_id, "customer_left", at_ms=t0 + 22 * S)
        gone = await router.abandon(gave_up.contact_id, "customer_left", at_ms=t0 + 29 * S)
        assert (left.state.value, gone.state.value) == ("abandoned", "abandoned")
        flags = [
            await node.store.client.hget(node.store.keys.contact(c.contact_id), "short_abandon")
            for c in (misdial, gave_up)
        ]
        assert flags == ["1", None]

        # An admin turns the threshold off afterwards: the past keeps its mark.
        off = dataclasses.replace(router.queues["general"], short_abandon_s=0)
        await router.define_queue(off)

        sup_auth = await login(http, "sup", "sup-secret-1")
        board = await (await http.get("/api/v1/wallboard", headers=sup_auth)).json()
        queues_api = await (await http.get("/api/v1/queues", headers=sup_auth)).json()
        metrics = await (await http.get("/metrics")).text()

    card = next(q for q in board["queues"] if q["queue"] == "general")["today"]
    assert (card["answered"], card["abandoned"], card["short_abandoned"]) == (1, 1, 1)
    assert card["abandonment_rate"] == 0.5
    assert card["service_level"] == 1.0 and card["service_level_with_abandons"] == 1.0
    listed = queues_api["queues"] if isinstance(queues_api, dict) else queues_api
    today = next(q for q in listed if q["queue"] == "general")["today"]
    assert (today["abandoned"], today["short_abandoned"], today["abandonment_rate"]) == (1, 1, 0.5)
    rows = {(r["region"], r["queue"]): r for r in board["by_region_and_queue"]}
    general = rows[("default", "general")]
    assert (general["closed"], general["answered"], general["abandoned"]) == (3, 1, 1)
    assert general["short_abandoned"] == 1 and general["abandonment_rate"] == 0.5
    assert gauges(metrics, "switchboard_queue_abandoned_today")["general"] == 1.0
    assert gauges(metrics, "switchboard_queue_short_abandoned_today")["general"] == 1.0
    assert gauges(metrics, "switchboard_queue_abandonment_rate_today")["general"] == 0.5

    out = tmp_path / "report.csv"
    date = dt.datetime.fromtimestamp(t0 / 1000, dt.UTC).date().isoformat()
    config = config_for(redis_url, tmp_path)
    argv = ["report", "--config", str(config), "--from", date, "--to", date, "--by", "queue"]
    assert await run_cli([*argv, "--out", str(out)]) == 0
    by_queue = {row["queue"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    report = by_queue["general"]
    assert (report["volume"], report["answered"], report["abandoned"]) == ("3", "1", "1")
    assert report["short_abandoned"] == "1" and report["abandonment_rate"] == "0.5"
    assert report["service_level"] == "1"
    assert by_queue["all"]["short_abandoned"] == "1"
