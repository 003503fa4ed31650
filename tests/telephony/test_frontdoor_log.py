"""Kamailio's log on a normal day has no ERROR: the calls the workers place to agents'
softphones (an offer rung out and cancelled, an offer answered and hung up) never took a
dispatcher call-load slot, so their CANCEL and BYE free none. (They were run through
`ds_load_update()` all the same, and each logged `ERROR ... ds_load_remove(): cannot find
load for (<Call-ID>)`: an operator grepping for ERROR chased them.) The callers' calls,
which did take a slot, still free it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.model import Presence
from router.service import Router
from telephony.service import VoiceFrontDoor

from .conftest import add_agent, connected_contact, node_uri, run_sipp, terminal, until
from .test_softphones import (  # noqa: F401  (front_door: the fixture)
    front_door,
    pytestmark,
    registered,
    softphone,
    staff,
)


async def _loads(voice: VoiceFrontDoor) -> list[int]:
    """Each worker's call load in Kamailio's dispatcher (its `DLGLOAD`)."""
    assert voice.softphones is not None
    listed = str(await voice.softphones.registrar.call("dispatcher.list"))  # type: ignore[attr-defined]
    return [int(n) for n in re.findall(r"'DLGLOAD': (\d+)", listed)]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_the_workers_calls_to_softphones_log_no_error_in_kamailio(
    transport: str,
    front_door: VoiceFrontDoor,  # noqa: F811  (the fixture imported above)
    router: Router,
    parties: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """A pjsua2 caller over UDP who hangs up, or a sipp caller over TCP (Kamailio then puts
    two Record-Routes, one per socket) whom the agent hangs up on."""
    voice = front_door
    assert voice.front_door is not None
    ana = await staff(voice, "ana")
    ringing = await softphone(parties, ana)  # registered, never answers: rung out, cancelled
    assert (await registered(ringing))["code"] == 200
    await add_agent(router, "ana", ana.uri, {"booking": 2})
    ben = await staff(voice, "ben")
    answering = await softphone(parties, ben, None, "--answer")
    assert (await registered(answering))["code"] == 200

    stop = asyncio.Event()
    timers = asyncio.get_running_loop().create_task(router.run_timers(0.25, stop))
    try:
        if transport == "tcp":  # picks booking, hangs up on the agent's BYE
            scenario = "ivr_agent_hangs_up.xml"
            sipp = asyncio.get_running_loop().create_task(
                run_sipp(voice.sip.port, scenario, tmp_path, transport="t1")
            )
        else:
            caller = await parties()
            caller.send(cmd="call", uri=node_uri(voice))
            await caller.wait_for("media", timeout=20)
            caller.send(cmd="dtmf", digits="1")  # booking
        await ringing.wait_for("incoming", timeout=20)
        assert (await ringing.wait_for("hangup", timeout=20))["code"] == 487  # the CANCEL
        await add_agent(router, "ben", ben.uri, {"booking": 2})
        await answering.wait_for("answered", timeout=20)
        contact_id = await connected_contact(voice, router)
        assert await _loads(voice) == [1]  # the caller's call holds its slot
        if transport == "tcp":
            answering.send(cmd="hangup")  # its BYE, then the worker's to the caller
            assert await sipp == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
        else:
            caller.send(cmd="hangup")
            await answering.wait_for("hangup")  # the worker's BYE, via Kamailio
        contact = await until(lambda: terminal(router, contact_id))
        assert (contact.state.value, contact.agent_id) == ("completed", "ben")
        assert (await router.get_agent("ana")).presence == Presence.NOT_READY  # rung out
    finally:
        stop.set()
        await timers

    await until(lambda: _loads(voice))
    assert await until(_no_load(voice))  # the caller's BYE freed its slot
    await asyncio.sleep(0.5)  # Kamailio's last lines reach its log
    log = (voice.front_door.workdir / "kamailio.log").read_text(errors="replace")
    assert "cannot find load" not in log
    assert [line for line in log.splitlines() if "ERROR" in line] == []


def _no_load(voice: VoiceFrontDoor) -> Callable[[], Any]:
    async def check() -> bool:
        loads = await _loads(voice)
        return bool(loads) and not any(loads)

    return check
