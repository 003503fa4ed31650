"""An offer to a softphone registered over TCP whose connection died (the phone crashed,
the laptop closed: no un-REGISTER) ends as the phone being unreachable, not as the
agent's no answer (Kamailio answers the worker 477); and Kamailio opens no new connection
to the registered address (it connected to the dead connection's port, where whatever
listened then got the INVITE). Real SIP: Kamailio, a worker, sipp as the phone that
registers over TCP and is gone."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from router.service import Router
from telephony.service import VoiceFrontDoor

from .conftest import add_agent, free_sip_port, run_sipp, until
from .test_softphones import (  # noqa: F401  (front_door: the fixture)
    _tcp_connections,
    caller_in_queue,
    contacts,
    front_door,
    offer_ended_unreachable,
    pytestmark,
    staff,
)


async def test_an_offer_to_a_phone_whose_tcp_connection_died_is_unreachable(
    front_door: VoiceFrontDoor,  # noqa: F811  (the fixture imported above)
    router: Router,
    parties: Callable[..., Any],
    tmp_path: Path,
) -> None:
    voice = front_door
    ana = await staff(voice, "ana")
    port = free_sip_port()  # the phone's connection comes from this port
    phone = ("-p", str(port), "-key", "phone_port", str(port))
    credentials = ("-s", "ana", "-au", "ana", "-ap", ana.password)
    code = await run_sipp(
        voice.sip.port, "softphone_refresh.xml", tmp_path, transport="t1", extra=phone + credentials
    )
    assert code == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
    assert f"sip:127.0.0.1:{port};transport=tcp" in await contacts(voice)  # kept: gone
    await until(lambda: _no_connection(voice))  # without a word

    # Something else listens where the phone's connection came from.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen(4)
        squatter.setblocking(False)
        await add_agent(router, "ana", ana.uri, {"booking": 2})
        await caller_in_queue(voice, parties)
        pool = voice.pool
        assert pool is not None
        contact_id = await until(lambda: next(iter(pool.owner), None))

        await offer_ended_unreachable(router, "ana", contact_id)
        try:
            squatter.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
        assert not reached, "Kamailio opened a connection to the gone phone's address"


async def _no_connection(voice: VoiceFrontDoor) -> bool:
    return not await _tcp_connections(voice)
