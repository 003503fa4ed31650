"""A report's period and zone as an analyst types them, the same over the CLI and HTTP
(`router/reports/periods.py` `report_period`): "everything" is a wide range, not a
traceback (a probe's `--from 1900-01-01` sent a negative id to the stream read, its
`--to 9999-12-31` overflowed the date), and a zone in another letter case (`utc`) is
the zone it names. Also what `/metrics` says its abandonment rate is.

The day: 2026-11-20, one chat in `general` answered 10 s after it arrived at 09:00 UTC
and completed a minute later, on the real (embedded) Redis.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from router.metrics import Metrics
from router.model import Agent, Channel, NewContact, Presence, QueueConfig, Role
from router.reports.periods import PeriodRefused, report_period
from router.service import QueueStatus, Router
from router.stats import QueueFigures
from router.store import RoutingStore
from switchboard.common.hours import UnknownTimezone, check_timezone, timezone_named
from switchboard.node import Node
from tests.nodes import http_session, login, running_node
from tests.router.report_cli import config_for, run_cli

T0 = int(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC).timestamp() * 1000)
S = 1000
NOW = T0 + 3_600 * S
PASSWORD = "report-bounds-pw-1"
TOO_FAR = "expected a period that ends before the calendar's last day, 9999-12-31"


async def play_day(client: aioredis.Redis) -> None:
    router = Router(RoutingStore(client), [general()], node_id="n1", region="eu")
    await router.publish_configuration(["eu"])
    await router.store.upsert_agent(Agent("ana", "eu", {"general": 3}, ["en"]), at_ms=T0 - S)
    await router.set_presence("ana", Presence.AVAILABLE, at_ms=T0 - S)
    contact = await router.create_contact(
        NewContact(Channel.CHAT, "general", "en", customer_id="cust-1"), at_ms=T0
    )
    await router.accept(contact.contact_id, "ana", at_ms=T0 + 10 * S)
    await router.complete(contact.contact_id, at_ms=T0 + 70 * S)


def general() -> QueueConfig:
    return QueueConfig(name="general", skill="general", wrap_up_s=0, answer_within_s=60)


def total(out: Path) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    return rows[-1]


@pytest.fixture
async def config(redis_url: str, redis_client: aioredis.Redis, tmp_path: Path) -> Path:
    await play_day(redis_client)
    return config_for(redis_url, tmp_path)


# -- a wide range ----------------------------------------------------------------------------


async def test_everything_from_before_1970_is_read_from_1970(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all.csv"
    wide = ["report", "--from", "1900-01-01", "--to", "2026-12-07", "--config", str(config)]
    assert await run_cli([*wide, "--out", str(out)]) == 0, capsys.readouterr().err
    assert (total(out)["volume"], total(out)["answered"]) == ("1", "1")
    new_york = ["--from", "0001-01-01", "--tz", "America/New_York", "--out", str(out)]
    assert await run_cli([*wide, *new_york]) == 0, capsys.readouterr().err
    assert total(out)["volume"] == "1"
    assert await run_cli([*wide, "--contacts", "--out", str(out)]) == 0
    assert [line["queue"] for line in csv.DictReader(out.open())] == ["general"]
    assert await run_cli([*wide, "--sla", "queue", "--out", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err


async def test_a_period_past_the_calendars_last_day_is_one_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "far.csv"
    for extra in ([], ["--sla", "queue"], ["--contacts"]):
        argv = ["report", "--from", "2026-01-01", "--to", "9999-12-31", *extra]
        assert await run_cli([*argv, "--config", str(config), "--out", str(out)]) == 2
        error = capsys.readouterr().err
        said = f"switchboard: error: --to: {TOO_FAR} (this one runs past it), found '9999-12-31'"
        assert error == said + "\n", error
    past = ["--to", "9999-12-31T00:00:01Z"]  # a time past the last day's midnight too
    assert await run_cli(["report", "--from", "2026-01-01", *past, "--config", str(config)]) == 2
    assert f"--to: {TOO_FAR}" in capsys.readouterr().err
    latest = ["report", "--from", "2026-01-01", "--to", "9999-12-30", "--config", str(config)]
    assert await run_cli([*latest, "--by", "queue", "--out", str(out)]) == 0
    assert total(out)["volume"] == "1"


async def test_an_end_before_1970_is_not_after_the_start(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--from", "1900-01-01", "--to", "1900-01-02", "--config", str(config)]
    assert await run_cli(argv) == 2
    error = capsys.readouterr().err
    assert error.startswith("switchboard: error: --to: expected a date or time after --from")
    assert "(from 1970-01-01T00:00:00+00:00)" in error and error.count("\n") == 1


# -- time zones ------------------------------------------------------------------------------


async def test_a_zone_in_another_letter_case_is_the_zone_it_names(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "day.csv"
    day = ["report", "--from", "2026-11-20", "--to", "2026-11-20", "--config", str(config)]
    by_hour = ["--by", "interval", "--interval", "1h", "--out", str(out)]
    assert await run_cli([*day, "--tz", "utc", *by_hour]) == 0, capsys.readouterr().err
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["interval"] == "2026-11-20T00:00:00+00:00" and len(rows) == 25
    assert await run_cli([*day, "--tz", "europe/madrid", *by_hour]) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["interval"] == "2026-11-20T00:00:00+01:00"
    assert [row["volume"] for row in rows if row["interval"].startswith("2026-11-20T10")] == ["1"]
    capsys.readouterr()
    assert await run_cli([*day, "--tz", "Europe/Madird"]) == 2
    assert capsys.readouterr().err == (
        "switchboard: error: --tz: expected an IANA time zone like Europe/Paris (did you "
        "mean Europe/Madrid?), found 'Europe/Madird'\n"
    )
    assert await run_cli([*day, "--tz", "Mars/Olympus"]) == 2
    assert capsys.readouterr().err == (
        "switchboard: error: --tz: expected an IANA time zone like Europe/Paris, found "
        "'Mars/Olympus'\n"
    )


def test_zone_names_people_type() -> None:
    """Lenient for what a person types; a configuration keeps its name as written, and
    opens it by that name again, so it must be spelled exactly."""
    assert timezone_named("utc").key == "UTC"
    assert timezone_named("europe/madrid").key == "Europe/Madrid"
    assert timezone_named(" America/New_York ").key == "America/New_York"
    assert timezone_named("EST").key == "EST"
    with pytest.raises(UnknownTimezone) as unknown:
        timezone_named("madrid")
    assert unknown.value.expected.endswith("(did you mean Europe/Madrid?)")
    with pytest.raises(UnknownTimezone):
        timezone_named("../../etc/passwd")
    with pytest.raises(UnknownTimezone):
        check_timezone("utc")


def test_one_rule_for_every_reader_of_a_period() -> None:
    period = report_period("1900-01-01", None, "Utc", now_ms=NOW)
    assert (period.start_ms, period.end_ms, period.zone.key) == (0, NOW, "UTC")
    for start, end, bound in (
        ("2026-11-20", "9999-12-31", "to"),
        ("2026-13-01", "2026-11-20", "from"),
        ("", "2026-11-20", "from"),
        ("2026-11-20", "2026-11-19", "to"),
    ):
        with pytest.raises(PeriodRefused) as refused:
            report_period(start, end, "UTC", now_ms=NOW)
        assert refused.value.bound == bound, (start, end)


# -- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(
        redis_url, users=[("sup", Role.SUPERVISOR, PASSWORD)], agents=[]
    ) as node:
        yield node


async def test_the_http_reports_read_a_period_as_the_cli(node: Node) -> None:
    async with http_session(node) as http:
        sup = await login(http, "sup", PASSWORD)

        async def sla(**query: str) -> tuple[int, dict[str, Any]]:
            answer = await http.get("/api/v1/reports/sla", params=query, headers=sup)
            return answer.status, dict(await answer.json())

        status, body = await sla(**{"from": "2026-11-20", "to": "2026-11-20", "tz": "utc"})
        assert status == 200 and body["from"] == "2026-11-20T00:00:00+00:00", body
        status, body = await sla(**{"from": "2026-11-20", "tz": "europe/madrid"})
        assert status == 200 and body["from"] == "2026-11-19T23:00:00+00:00", body
        status, body = await sla(**{"from": "1900-01-01", "to": "2026-11-20"})
        assert status == 200 and body["from"] == "1970-01-01T00:00:00+00:00", body
        status, body = await sla(**{"from": "2026-11-20", "tz": "Europe/Madird"})
        assert status == 400 and body["field"] == "query.tz", body
        assert "did you mean Europe/Madrid?" in body["message"], body
        status, body = await sla(**{"from": "2026-11-20", "to": "9999-12-31T12:00:00Z"})
        assert status == 400 and body["field"] == "query.to", body
        assert "calendar's last day" in body["expected"], body


# -- /metrics --------------------------------------------------------------------------------


def test_the_abandonment_gauge_says_what_it_divides() -> None:
    """4 offered, 2 answered, 1 abandoned (1 waiting): 1/3, not 1/4 as "over offered"."""
    figures = QueueFigures(
        offered=4,
        answered=2,
        answered_in_sl=2,
        abandoned=1,
        abandoned_in_sl=0,
        failed=0,
        handled=2,
        wait_ms=0,
        handle_ms=0,
    )
    status = QueueStatus("baggage", 1, 5.0, 10.0, 1, 0.0, figures, figures, 0.8, 30.0)
    metrics = Metrics("n1")
    metrics.queues.update([status], [], NOW)
    families = {
        family.name: family
        for family in text_string_to_metric_families(metrics.exposition().decode())
    }
    rate = families["switchboard_queue_abandonment_rate_today"]
    assert rate.samples[0].value == pytest.approx(1 / 3)
    assert rate.documentation.startswith("Abandoned over answered plus abandoned")
    assert "over offered" not in rate.documentation
