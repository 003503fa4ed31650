"""A caller that resends its INVITE after the 200 OK (a lost answer on UDP) at the front
door (Kamailio): the INVITE past its transaction is absorbed there, as RFC 6026 has a
proxy do for 32 s after a 2xx, and the worker's 200 retransmissions carry the answer.
(Kamailio forgets a transaction 5 s after its answer: the INVITE was then dispatched
again, as a new call, and the log had `ERROR ... ds_load_add(): cannot add load`, then
`ds_load_remove(): cannot find load`; a normal day's log has no ERROR line.) Real SIP:
a sipp caller, Kamailio, a worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telephony.service import VoiceFrontDoor

from .conftest import run_sipp, until
from .test_frontdoor_log import _loads, _no_load
from .test_softphones import front_door, pytestmark  # noqa: F401  (front_door: the fixture)


async def test_an_invite_resent_after_the_answer_is_absorbed_and_logs_no_error(
    front_door: VoiceFrontDoor,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """The caller (`sipp/frontdoor_invite_after_answer.xml`) aborts on any answer to its
    late INVITE: a second transaction's `100 trying` is one."""
    voice = front_door
    assert voice.front_door is not None
    code = await run_sipp(voice.sip.port, "frontdoor_invite_after_answer.xml", tmp_path)
    await asyncio.sleep(0.5)  # Kamailio's last lines reach its log
    log = (voice.front_door.workdir / "kamailio.log").read_text(errors="replace")
    assert [line for line in log.splitlines() if "ERROR" in line] == []
    assert code == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
    await until(lambda: _loads(voice))
    assert await until(_no_load(voice))  # its BYE freed the one slot it took
