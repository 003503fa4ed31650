"""Who may scrape /metrics: the node's own host without a token (the design's
`GET /metrics`), anyone else with the scrape token or a supervisor's session; a request
forwarded by a proxy is never taken for the host's own."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from switchboard.common.errors import ConfigError
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, new_chat, running_node

TOKEN = "scrape-token-for-tests"


def _metric_names(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


async def test_the_nodes_host_scrapes_without_a_token(redis_url: str) -> None:
    async with running_node(redis_url) as node, http_session(node) as http:
        await new_chat(http, queue="baggage", customer="scraped-1")
        response = await http.get("/metrics")
        assert response.status == 200
        text = await response.text()
        assert "switchboard_queue_waiting" in _metric_names(text)
        assert 'switchboard_queue_waiting{node="node-1",queue="baggage"} 1.0' in text


async def test_a_forwarded_scrape_is_not_the_hosts_own(redis_url: str) -> None:
    """A reverse proxy on the node's host, not listed in trusted_proxies, forwards the
    world's requests from 127.0.0.1: those need the token."""
    async with (
        running_node(redis_url, metrics_token=TOKEN) as node,
        http_session(node) as http,
    ):
        for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
            assert (await http.get("/metrics", headers=header)).status == 401
        with_token = {"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {TOKEN}"}
        assert (await http.get("/metrics", headers=with_token)).status == 200


async def test_behind_a_trusted_proxy_the_forwarded_client_decides(redis_url: str) -> None:
    """The proxy on the node's host is trusted; scrapes from the monitoring network
    10.9.0.0/16 need no token. What decides is the client the proxy names, by either
    header, never the proxy itself, and never a header the client wrote."""
    here = (ipaddress.ip_network("127.0.0.1/32"),)
    monitoring = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.9.0.0/16"))
    async with (
        running_node(redis_url, trusted_proxies=here, metrics_open_to=monitoring) as node,
        http_session(node) as http,
    ):

        async def status(headers: dict[str, str]) -> int:
            return (await http.get("/metrics", headers=headers)).status

        assert await status({}) == 200  # the host itself, not forwarded
        assert await status({"X-Forwarded-For": "10.9.0.5"}) == 200
        assert await status({"Forwarded": "for=10.9.0.5"}) == 200
        assert await status({"X-Forwarded-For": "203.0.113.9"}) == 401
        assert await status({"Forwarded": "for=203.0.113.9"}) == 401
        # no client named beyond the proxy itself: unknown, not the host
        assert await status({"X-Forwarded-For": "127.0.0.1"}) == 401
        assert await status({"X-Forwarded-For": ""}) == 401
        assert await status({"Forwarded": "for=_hidden"}) == 401
        # a proxy that writes Forwarded passes on the client's own X-Forwarded-For
        both = {"X-Forwarded-For": "10.9.0.5", "Forwarded": "for=203.0.113.9"}
        assert await status(both) == 401


async def test_with_no_open_clients_every_scrape_shows_the_token(redis_url: str) -> None:
    async with (
        running_node(redis_url, metrics_token=TOKEN, metrics_open_to=()) as node,
        http_session(node) as http,
    ):
        assert (await http.get("/metrics")).status == 401
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status == 200
        assert "switchboard_queue_waiting" in _metric_names(await response.text())


def test_the_open_clients_are_configured_and_checked(tmp_path: Path) -> None:
    default = (ROOT / "config" / "default.toml").read_text(encoding="utf-8")
    assert load_settings(ROOT / "config" / "default.toml").metrics_open_to == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1"),
    )
    config = tmp_path / "closed.toml"
    config.write_text(default.replace("[http]\n", "[http]\nmetrics_open_to = []\n", 1))
    assert load_settings(config).metrics_open_to == ()
    config.write_text(default.replace("[http]\n", '[http]\nmetrics_open_to = ["here"]\n', 1))
    with pytest.raises(ConfigError, match="metrics_open_to"):
        load_settings(config)
