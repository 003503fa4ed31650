"""`[sip]` and `[[ivr]]` reading: the shipped example loads, faults are all reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from telephony.config import read_flows, read_sip
from telephony.frontdoor import Destination, dispatcher_list
from telephony.model import Hours

REPO = Path(__file__).resolve().parents[2]
QUEUES = ["booking", "baggage", "emergency", "general"]


def test_the_shipped_example_reads_without_fault() -> None:
    reader = ConfigReader.open(REPO / "config" / "default.toml")
    sip = read_sip(reader)
    flows = read_flows(reader, queues=QUEUES, regions={"default": Hours()})
    reader.faults.raise_if_any()
    assert sip.front_door == "kamailio" and sip.callers_per_worker == 2
    assert sip.capacity == sip.workers * 2
    (flow,) = flows
    assert [r.digit for r in flow.reasons] == ["1", "2", "9"]
    assert [r.emergency for r in flow.reasons] == [False, False, True]


def test_every_fault_is_reported_with_file_key_expected_and_found(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
[sip]
front_door = "asterisk"
calls_per_worker = 1

[[ivr]]
number = "1"
region = "mars"
default_queue = "nowhere"
open = "25:00"

[[ivr.reasons]]
digit = "12"
queue = "booking"
"""
    )
    reader = ConfigReader.open(path)
    read_sip(reader)
    read_flows(reader, queues=QUEUES, regions={"default": Hours()})
    with pytest.raises(ConfigError) as caught:
        reader.faults.raise_if_any()
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    for key in (
        "sip.front_door",
        "sip.calls_per_worker",
        "ivr[0].region",
        "ivr[0].default_queue",
        "ivr[0].open",
        "ivr[0].reasons[0].digit",
    ):
        assert any(f": {key}: expected" in line for line in lines), key


def test_dispatcher_list_caps_each_worker_at_its_callers() -> None:
    text = dispatcher_list([Destination("w0", "127.0.0.1", 5100, 2)])
    assert "1 sip:127.0.0.1:5100 0 0 duid=w0;maxload=2" in text
