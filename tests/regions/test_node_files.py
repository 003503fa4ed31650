"""Nodes started from configuration files that disagree, on one real Redis: every node
answers alike (the deployment's shared queues and regions), the node whose file differs
says so, and the wallboard shows it while the live nodes' files differ."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import aiohttp
import pytest

from regions.model import RegionConfig
from router.definitions import Definitions
from router.model import QueueConfig, Role
from switchboard.settings import load_settings
from switchboard.web.wallboard import file_alerts
from tests.nodes import ROOT, http_session, login, running_node

SUP = ("sup", Role.SUPERVISOR, "sup-secret-1")
DEFAULT = load_settings(ROOT / "config" / "default.toml")


def newer_file() -> dict[str, Any]:
    """The settings a rolling change brings: a queue `vip`, a region `asia-east`, and
    booking's wrap-up at 5 s."""
    queues = [
        dataclasses.replace(queue, wrap_up_s=5.0) if queue.name == "booking" else queue
        for queue in DEFAULT.queues
    ]
    asia = RegionConfig("asia-east", "Asia/Shanghai", "07:00", "08:00")
    return {
        "queues": [*queues, QueueConfig("vip", "vip")],
        "regions": [*DEFAULT.regions, asia],
    }


async def until(check: Any) -> None:
    """Wait (bounded) for another node's start to reach this one through Redis."""
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never came true")


async def chat_status(http: aiohttp.ClientSession, **fields: str) -> tuple[int, str]:
    body = {"channel": "chat", "queue": "booking", "language": "en", **fields}
    response = await http.post("/api/v1/contacts", json=body)
    return response.status, await response.text()


async def config_alerts(http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    sup = await login(http, "sup", "sup-secret-1")
    body = await (await http.get("/api/v1/wallboard", headers=sup)).json()
    return [alert for alert in body["alerts"] if alert["kind"] == "config_differs"]


async def test_a_running_node_takes_up_what_a_newer_file_published(redis_url: str) -> None:
    """eu-1 refused `vip` (400) while eu-3 took it (201), though Redis held it; booking's
    wrap-up changed under eu-1 without it knowing."""
    async with running_node(redis_url, node_id="eu-1") as first:
        assert "vip" not in first.router.queues
        async with (
            running_node(redis_url, node_id="eu-3", **newer_file()) as second,
            http_session(first) as one,
            http_session(second) as other,
        ):

            async def taken_up() -> bool:
                return "vip" in first.router.queues

            await until(taken_up)
            assert first.router.queues["booking"].wrap_up_s == 5.0
            for http in (one, other):
                assert (await chat_status(http, queue="vip"))[0] == 201
            # a region only the newer file lists: the same answer from both nodes
            for http in (one, other):
                assert (await chat_status(http, region="asia-east"))[0] == 201
            assert first.router.known_regions == ("asia-east", "default")
            # and an unknown one is refused by both, naming the deployment's regions
            for http in (one, other):
                status, text = await chat_status(http, region="nowhere")
                assert status == 400 and "asia-east, default" in text


async def test_the_node_whose_file_differs_warns_naming_the_keys(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_node(redis_url, node_id="eu-1"):
        with caplog.at_level(logging.WARNING, logger="switchboard.node"):
            async with running_node(redis_url, node_id="eu-3", **newer_file()):
                pass
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    mine = [text for text in said if text.startswith("node eu-3: this file's routing")]
    assert len(mine) == 1, said
    assert "booking.wrap_up_s: 10.0 vs 5.0" in mine[0]
    assert "queue vip: absent vs defined" in mine[0]
    assert "region asia-east: absent vs listed" in mine[0]
    # the running node heard it too, with what changed for it
    theirs = [text for text in said if text.startswith("node eu-3 started from a file")]
    assert theirs and "booking.wrap_up_s: 10.0 vs 5.0" in theirs[0]


async def test_same_file_again_warns_of_nothing(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_node(redis_url, node_id="eu-1"):
        with caplog.at_level(logging.WARNING, logger="switchboard.node"):
            async with running_node(redis_url, node_id="eu-2"):
                pass
    assert not [r for r in caplog.records if "differ" in r.getMessage()]


async def test_a_rollback_keeps_the_newer_queue_and_says_so(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A queue only the newer file has is not taken from its contacts by an older file's
    start: it stays, and the older file's node names it."""
    async with running_node(redis_url, node_id="eu-3", **newer_file()):
        with caplog.at_level(logging.WARNING, logger="switchboard.node"):
            async with running_node(redis_url, node_id="eu-1") as older:
                assert "vip" in older.router.queues
                assert older.router.queues["booking"].wrap_up_s == 10.0  # the last start's
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "queue vip: defined vs absent" in said


async def test_wallboard_alert_while_live_nodes_run_differing_files(redis_url: str) -> None:
    async with (
        running_node(redis_url, node_id="eu-1", users=[SUP]) as first,
        running_node(redis_url, node_id="eu-3", **newer_file()) as second,
        http_session(first) as http,
        http_session(second) as http_second,
    ):
        expected = {
            "level": "warning",
            "kind": "config_differs",
            "nodes": ["eu-1"],
            "message": "node eu-1 started from a configuration file that differs from that "
            "of eu-3 in booking.wrap_up_s, queue vip, region asia-east; every node follows "
            "the file of eu-3, started last",
        }
        assert await config_alerts(http) == [expected]
        assert await config_alerts(http_second) == [expected]
        # eu-1 restarted from the newer file (a rolling change): they agree
        await first.stop()
        async with (
            running_node(redis_url, node_id="eu-1", **newer_file()) as again,
            http_session(again) as http_again,
        ):
            assert await config_alerts(http_again) == []
            assert await config_alerts(http_second) == []


async def test_a_stopped_node_s_file_no_longer_counts(redis_url: str) -> None:
    async with (
        running_node(redis_url, node_id="eu-1", users=[SUP]) as first,
        http_session(first) as http,
    ):
        async with running_node(redis_url, node_id="eu-3", **newer_file()):
            assert len(await config_alerts(http)) == 1
        assert await config_alerts(http) == []


def test_alert_per_file_other_than_the_last_started() -> None:
    """Three files: each of the two older ones gets its alert, naming its nodes."""
    base = Definitions.of(DEFAULT.queues, ["default"])
    wider = Definitions.of(DEFAULT.queues, ["default", "asia-east"])
    vip = Definitions.of([*DEFAULT.queues, QueueConfig("vip", "vip")], ["default"])
    files = {"a": (base, 1), "b": (base, 2), "c": (wider, 3), "d": (vip, 4), "gone": (base, 9)}
    found = file_alerts(files, ["a", "b", "c", "d", "x"])
    assert [(alert["nodes"], alert["message"].split(" in ")[1]) for alert in found] == [
        (["a", "b"], "queue vip; every node follows the file of d, started last"),
        (["c"], "queue vip, region asia-east; every node follows the file of d, started last"),
    ]
    assert file_alerts(files, ["a", "b", "gone"]) == []
