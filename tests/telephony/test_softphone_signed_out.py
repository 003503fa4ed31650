"""A signed-out user's softphone keeps its registration: its refreshes are answered 200
(a 403 let the binding run out, and several phones stop registering after one), no call
reaches it while the user is signed out (404), and signed in again they are called there
at once. A removed user (or a new password) loses it. Real SIP: Kamailio, a worker, a
pjsua2 softphone, sipp refreshing the phone's registration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from router.model import Presence
from router.service import Router
from telephony.service import VoiceFrontDoor

from .conftest import add_agent, run_sipp, until
from .test_softphones import (  # noqa: F401  (front_door: the fixture)
    caller_in_queue,
    contacts,
    front_door,
    offer_ended_unreachable,
    pytestmark,
    registered,
    softphone,
    staff,
)


async def test_a_signed_out_users_phone_keeps_registering_and_is_called_once_back(
    front_door: VoiceFrontDoor,  # noqa: F811  (the fixture imported above)
    router: Router,
    parties: Callable[..., Any],
    tmp_path: Path,
) -> None:
    voice = front_door
    assert voice.softphones is not None
    ana = await staff(voice, "ana")
    phone = await softphone(parties, ana, None, "--answer")
    assert (await registered(phone))["code"] == 200
    await add_agent(router, "ana", ana.uri, {"booking": 2})
    await voice.softphones.signed_out("ana")

    # The phone refreshes its registration (its Contact, its credentials) meanwhile.
    credentials = ("-s", "ana", "-au", "ana", "-ap", ana.password)
    refresh = ("-key", "phone_port", str(phone.port), *credentials)
    code = await run_sipp(voice.sip.port, "softphone_refresh.xml", tmp_path, extra=refresh)
    assert code == 0, (tmp_path / "sipp-errors.log").read_text(errors="replace")
    assert f"127.0.0.1:{phone.port}" in await contacts(voice)

    # No call reaches it while ana is signed out (the router here still offers her one).
    await caller_in_queue(voice, parties)
    pool = voice.pool
    assert pool is not None
    contact_id = await until(lambda: next(iter(pool.owner), None))
    await offer_ended_unreachable(router, "ana", contact_id)
    assert not [event for event in phone.events if event["type"] == "incoming"]

    # Signed in again: the caller waiting is put through to that phone at once.
    await voice.softphones.allow("ana")
    await router.set_presence("ana", Presence.AVAILABLE)
    await phone.wait_for("answered", timeout=20)

    # Removed (or given a new password): the registration goes, and refreshing fails.
    await voice.softphones.forget("ana")
    assert f"127.0.0.1:{phone.port}" not in await contacts(voice)
    assert (await registered(await softphone(parties, ana)))["code"] == 403
