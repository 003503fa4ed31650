"""What a transfer dials out of the center: only a telephone number by the node's one
rule for them (`telephony.calls.callback.phone_number`: digits, 4 to 15, an optional
`+`), through `[sip] outside_uri`. A name that is neither a queue, an agent nor such a
number (a typo) is refused 404 and the caller stays with the agent. (With a trunk
configured, `sip:genral@node` was dialled to the carrier as a number, the phone told
200 and hung up.) A number the trunk refuses at once is noted `requeued`/`unreachable`,
as documented (it was noted `abandoned`/`caller_hangup` once the caller, served again,
hung up: the trunk's 404 came before the transfer's record was made). Real SIP: pjsua2
phones, a sipp trunk, a worker, the Router."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.service import Router
from telephony.calls.transfer import Destination, TransferController, TransferRefused

from .conftest import (
    Party,
    agent_talking,
    node_uri,
    recorded,
    refer_refused,
    start_sipp,
    terminal,
    tone_share,
    until,
)
from .test_controllers import FakeRouting, voice


@pytest.mark.parametrize("user", ["genral", "bob", "12a4", "123", "+1234567890123456"])
async def test_a_name_that_is_no_queue_agent_or_number_is_never_dialled(user: str) -> None:
    controller = TransferController(voice(FakeRouting()), {"10.0.0.1:5060"}, "sip:{number}@trunk")
    with pytest.raises(TransferRefused, match="neither a queue, an agent nor a telephone number"):
        await controller.destination(f"sip:{user}@10.0.0.1:5060")


@pytest.mark.parametrize(
    ("target", "uri"),
    [
        ("sip:+4930123456@10.0.0.1:5060", "sip:+4930123456@trunk"),
        ("sip:0800-123-456@10.0.0.1:5060", "sip:0800123456@trunk"),  # RFC 3966 separators
        ("tel:+44 20 7946 0958", "sip:+442079460958@trunk"),
    ],
)
async def test_a_number_is_dialled_as_the_node_writes_numbers(target: str, uri: str) -> None:
    controller = TransferController(voice(FakeRouting()), {"10.0.0.1:5060"}, "sip:{number}@trunk")
    assert await controller.destination(target) == Destination(uri=uri)


async def test_a_desktop_transfer_to_no_number_is_refused() -> None:
    controller = TransferController(voice(FakeRouting()), {"10.0.0.1:5060"}, "sip:{number}@trunk")
    with pytest.raises(TransferRefused, match="not a telephone number"):
        await controller.destination("tel:genral")


async def test_without_a_trunk_a_number_is_refused_saying_so() -> None:
    controller = TransferController(voice(FakeRouting()), {"10.0.0.1:5060"}, "")
    with pytest.raises(TransferRefused, match="is a number, but no \\[sip\\] outside_uri"):
        await controller.destination("sip:+4930123456@10.0.0.1:5060")


async def talking(caller: Party, tmp_path: Path) -> None:
    """Once the caller hears dave (1 kHz): the worker has bridged them, so a REFER from
    dave's phone finds the call talking (the router's `connected` comes a moment before)."""
    for attempt in range(10):
        heard = await recorded(caller, tmp_path / f"before{attempt}.wav", seconds=1.0)
        if tone_share(heard, 1000.0, last_s=0.5) > 0.5:
            return
    raise AssertionError("the caller never heard dave")


async def test_a_refer_to_a_typo_with_a_trunk_is_refused_and_nothing_is_dialled(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    trunk = await parties()  # would ring if the typo were dialled out
    voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{trunk.port}")
    dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
    await talking(caller, tmp_path)

    await refer_refused(
        voice, router, dave, caller, contact_id, "genral", tmp_path / "after.wav", agent_id="dave"
    )
    assert not [e for e in trunk.events if e["type"] == "incoming"]
    assert not [e for e in dave.events if e["type"] == "hangup"]  # the phone kept its call

    caller.send(cmd="hangup")
    contact = await until(lambda: terminal(router, contact_id))
    assert (contact.state.value, contact.agent_id) == ("completed", "dave")


async def test_a_number_the_trunk_refuses_at_once_is_noted_requeued_unreachable(
    node: Callable[..., Any],
    router: Router,
    parties: Callable[..., Any],
    tone_wav: Path,
    tmp_path: Path,
) -> None:
    port, trunk = await start_sipp("trunk_404.xml", tmp_path, log="trunk")  # the carrier's trunk
    try:
        voice = await node(outside_uri=f"sip:{{number}}@127.0.0.1:{port}")
        dave, caller, contact_id = await agent_talking(voice, router, parties, tone_wav, "dave")
        await talking(caller, tmp_path)

        dave.send(cmd="transfer", target=node_uri(voice, "+4930123456"))
        assert await asyncio.wait_for(trunk.wait(), 30) == 0, tmp_path / "trunk-errors.log"
        assert "INVITE sip:+4930123456@" in (tmp_path / "trunk-messages.log").read_text()

        async def requeued() -> Any:
            contact = await router.get_contact(contact_id)
            return contact.state.value == "queued" and contact.transfers

        (transfer,) = await until(requeued, timeout=20)
        assert (transfer["by"], transfer["to"]) == ("refer", f"sip:+4930123456@127.0.0.1:{port}")
        assert (transfer["outcome"], transfer["reason"]) == ("requeued", "unreachable")

        caller.send(cmd="hangup")  # back in the queue (or with dave again), hangs up
        contact = await until(lambda: terminal(router, contact_id))
        (transfer,) = contact.transfers  # noted once, with the trunk's answer
        assert (transfer["outcome"], transfer["reason"]) == ("requeued", "unreachable")
    finally:
        if trunk.returncode is None:
            trunk.kill()
            await trunk.wait()
