"""`[sip] trusted_peers`: P-Asserted-Identity names the caller only when the INVITE came
from one of those addresses or networks (RFC 3325's trust domain), else From does; empty,
PAI is believed from anyone (as before). Real SIP: a sipp trunk withholding the number
(From `anonymous`) and asserting +15551230007, against one worker in this process and
through Kamailio, whose `X-Switchboard-Source` tells the worker who sent the INVITE (one
the sender wrote itself is replaced)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest

from router.identity import ANONYMOUS_PREFIX
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from telephony.callerid import address_of, sender, trusted
from telephony.config import read_sip

from .conftest import HERE, run_sipp, running_worker, until, worker_endpoint
from .test_pool import _stop_front_doors  # noqa: F401 (its autouse fixture stops nodes)
from .test_pool import make_front_door as make_front_door  # the fixture: a node's voice

ASSERTED = "+15551230007"  # peer_withheld_asserted.xml's P-Asserted-Identity
SCENARIO = "peer_withheld_asserted.xml"


def scenario(tmp_path: Path, *, forging: str = "", proxied: bool = False) -> str:
    """The trunk's scenario (its file's path): with an `X-Switchboard-Source` of its own
    naming `forging` (a caller posing as a trusted peer); `proxied`: its requests within
    the call follow the Record-Route of Kamailio (to the 200 OK's Contact, by way of the
    front door)."""
    text = (HERE / "sipp" / SCENARIO).read_text()
    if forging:
        header = f"Privacy: id\n      X-Switchboard-Source: {forging}\n"
        text = text.replace("Privacy: id\n", header, 1)
    if proxied:
        text = text.replace(
            '<recv response="200" rtd="true"/>', '<recv response="200" rrs="true" rtd="true"/>'
        )
        text = re.sub(
            r"(ACK|INFO|BYE) sip:\[service\]@\[remote_ip\]:\[remote_port\] SIP/2.0",
            r"\1 [next_url] SIP/2.0\n      [routes]",
            text,
        )
    path = tmp_path / f"trunk-{forging or 'plain'}-{'proxied' if proxied else 'direct'}.xml"
    path.write_text(text)
    return str(path)


async def customers(router: Router, count: int) -> list[str]:
    """The customer of each routed call, in order, once `count` calls have their IVR
    outcome (the scenario routes, then hangs up)."""
    reports = Reports(RecordStore(router.store))

    async def routed() -> list[dict[str, str]] | None:
        records = await reports.ivr_outcomes(0)
        return records if len(records) == count else None

    records = await until(routed)
    assert [r["outcome"] for r in records] == ["routed"] * count, records
    return [(await router.get_contact(r["contact_id"])).customer_id for r in records]


def test_addresses_are_read_as_pjsip_and_kamailio_write_them() -> None:
    v4, v6 = ipaddress.ip_address("192.0.2.7"), ipaddress.ip_address("2001:db8::7")
    assert address_of("192.0.2.7:5060") == (v4, 5060)
    assert address_of("[2001:db8::7]:5060") == (v6, 5060)
    assert address_of("2001:db8::7") == (v6, None)
    assert address_of("[::ffff:192.0.2.7]:5060") == (v4, 5060)
    assert address_of("trunk.example:5060") == (None, None)


def test_the_source_header_is_believed_from_the_front_door_alone() -> None:
    invite = "INVITE sip:1@x SIP/2.0\r\nX-Switchboard-Source: 203.0.113.9\r\n\r\nv=0\r\n"
    door = "127.0.0.1:5060"
    assert sender(invite, "127.0.0.1:5060", door) == ipaddress.ip_address("203.0.113.9")
    # From anyone else (the worker's port reached directly) the packet's source counts.
    assert sender(invite, "127.0.0.1:40000", door) == ipaddress.ip_address("127.0.0.1")
    assert sender(invite, "198.51.100.1:5060", door) == ipaddress.ip_address("198.51.100.1")
    assert sender(invite, "198.51.100.1:5060") == ipaddress.ip_address("198.51.100.1")
    # A front door on every address (0.0.0.0) is known by its port.
    assert sender(invite, "10.1.2.3:5060", "0.0.0.0:5060") == ipaddress.ip_address("203.0.113.9")
    # From the front door without the header: nobody known, nobody trusted.
    assert sender("INVITE sip:1@x SIP/2.0\r\n\r\n", "127.0.0.1:5060", door) is None


def test_no_trusted_peers_trusts_anyone_and_a_list_only_its_own() -> None:
    peers = (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("2001:db8::/32"))
    assert trusted(ipaddress.ip_address("198.51.100.1"), ())
    assert trusted(None, ())
    assert trusted(ipaddress.ip_address("203.0.113.9"), peers)
    assert trusted(ipaddress.ip_address("2001:db8::1"), peers)
    assert not trusted(ipaddress.ip_address("198.51.100.1"), peers)
    assert not trusted(None, peers)


def test_trusted_peers_are_read_and_each_bad_one_is_named(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[sip]\ntrusted_peers = ["203.0.113.0/24", "192.0.2.7", "2001:db8::/32"]\n')
    reader = ConfigReader.open(good)
    assert [str(peer) for peer in read_sip(reader).trusted_peers] == [
        "203.0.113.0/24",
        "192.0.2.7/32",
        "2001:db8::/32",
    ]
    reader.faults.raise_if_any()
    bad = tmp_path / "bad.toml"
    bad.write_text('[sip]\ntrusted_peers = ["10.0.0.1/8", "sbc.example", "192.0.2.7"]\n')
    reader = ConfigReader.open(bad)
    assert [str(peer) for peer in read_sip(reader).trusted_peers] == ["192.0.2.7/32"]
    with pytest.raises(ConfigError) as caught:
        reader.faults.raise_if_any()
    lines = str(caught.value).splitlines()
    assert len(lines) == 2 and all(": sip.trusted_peers: expected" in line for line in lines)
    assert "10.0.0.1/8" in lines[0] and "sbc.example" in lines[1]


async def test_a_worker_believes_the_asserted_identity_of_its_trusted_peers_alone(
    router: Router, prompt_cache: Path, tmp_path: Path
) -> None:
    """No front door: the INVITE's source address decides. The trunk (127.0.0.1) outside
    the list: the caller is anonymous, also when it claims a trusted sender in the
    front door's header; inside it: the asserted caller."""
    elsewhere = (ipaddress.ip_network("192.0.2.0/24"),)
    endpoint = worker_endpoint(trusted_peers=elsewhere)
    async with running_worker(router, prompt_cache, endpoint=endpoint) as calls:
        port = calls.engine.config.sip_port
        assert await run_sipp(port, SCENARIO, tmp_path) == 0
        assert await run_sipp(port, scenario(tmp_path, forging="192.0.2.1"), tmp_path) == 0
        first, second = await customers(router, 2)
    assert first.startswith(ANONYMOUS_PREFIX) and second.startswith(ANONYMOUS_PREFIX)

    loopback = (ipaddress.ip_network("127.0.0.0/8"),)
    endpoint = worker_endpoint(trusted_peers=loopback)
    async with running_worker(router, prompt_cache, endpoint=endpoint) as calls:
        assert await run_sipp(calls.engine.config.sip_port, SCENARIO, tmp_path) == 0
        *_, third = await customers(router, 3)
    assert third == ASSERTED


async def test_through_kamailio_the_sender_it_names_decides(
    make_front_door: Any, router: Router, tmp_path: Path
) -> None:
    """`trusted_peers = ["127.0.0.2"]`: the trunk on 127.0.0.1 is not believed, even
    when it names 127.0.0.2 in `X-Switchboard-Source` itself (Kamailio puts the real
    sender there); the same trunk on 127.0.0.2 is."""
    voice = await make_front_door(workers=1, sip='trusted_peers = ["127.0.0.2"]')
    port, trunk = voice.sip.port, scenario(tmp_path, proxied=True)
    assert await run_sipp(port, trunk, tmp_path) == 0
    assert (
        await run_sipp(port, scenario(tmp_path, forging="127.0.0.2", proxied=True), tmp_path) == 0
    )
    assert await run_sipp(port, trunk, tmp_path, extra=("-i", "127.0.0.2")) == 0
    first, second, third = await customers(router, 3)
    assert first.startswith(ANONYMOUS_PREFIX) and second.startswith(ANONYMOUS_PREFIX)
    assert third == ASSERTED
