"""CANCELs at the front door (Kamailio): one that crosses the 200 OK changes nothing, not
even the call's dispatcher slot (it freed the slot of a call that went on, so `maxload`
no longer counted it, and its BYE logged `ERROR ... ds_load_remove(): cannot find
load`); one that matches no transaction is answered 481 (RFC 3261 9.2), not left to be
retransmitted for 32 s. Real SIP: sipp callers, Kamailio, a worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telephony.service import VoiceFrontDoor

from .conftest import run_sipp, until
from .test_frontdoor_log import _loads, _no_load
from .test_softphones import front_door, pytestmark  # noqa: F401  (front_door: the fixture)


async def test_a_cancel_crossing_the_answer_leaves_the_call_its_slot(
    front_door: VoiceFrontDoor,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    voice = front_door
    assert voice.front_door is not None
    call = asyncio.get_running_loop().create_task(
        run_sipp(voice.sip.port, "frontdoor_cancel_after_answer.xml", tmp_path)
    )
    await until(lambda: (tmp_path / "answered").exists() or call.done(), timeout=20)
    assert await _loads(voice) == [1]  # the call, still up, holds its worker's slot
    assert not (tmp_path / "hanging_up").exists(), "read after the call: inconclusive"
    assert await call == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
    assert await until(_no_load(voice))  # its BYE freed it
    await asyncio.sleep(0.5)  # Kamailio's last lines reach its log
    log = (voice.front_door.workdir / "kamailio.log").read_text(errors="replace")
    assert [line for line in log.splitlines() if "ERROR" in line] == []


async def test_a_cancel_matching_no_transaction_is_answered_481(
    front_door: VoiceFrontDoor,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    code = await run_sipp(front_door.sip.port, "frontdoor_stray_cancel.xml", tmp_path)
    assert code == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
