"""SIP peers the node was not built against (carriers, SBCs, PBXs, softphones), played by
sipp against one worker: a late offer, codecs, SIP INFO digits as PBXs write them, a
CANCEL or a BYE at awkward moments, session refreshes, INVITEs to refuse. Each test reads
what sipp saw (its exit code: every response and check its scenario asks for) and what
the router recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from router.identity import ANONYMOUS_PREFIX
from router.model import Contact, NewContact
from router.service import Router
from telephony.calls import VoiceCalls

from .conftest import run_sipp, running_worker, terminal, until

BUILT_PJSUA2 = getattr(__import__("pjsua2"), "PJSUA_MAX_CALLS", 4) != 4
"""scripts/build-pjsua2.sh built the module: it answers in the node's codec order (the
PyPI wheel answers in the offerer's, pjsip's default)."""


class Made:
    """The router as the worker sees it, noting each contact it makes; `reply_delay_s`
    holds each answer back (a busy node: the contact is made, its id still on its way)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.contacts: list[str] = []
        self.reply_delay_s = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.router, name)

    async def create_contact(self, new: NewContact) -> Contact:
        contact = await self.router.create_contact(new)
        self.contacts.append(contact.contact_id)
        await asyncio.sleep(self.reply_delay_s)
        return contact


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    async with running_worker(router, prompt_cache) as calls:
        yield calls


@pytest.fixture
def made(worker: VoiceCalls, router: Router) -> Made:
    spy = Made(router)
    worker.voice.routing = spy
    return spy


async def sipp(worker: VoiceCalls, scenario: str, tmp_path: Path) -> int:
    return await run_sipp(worker.engine.config.sip_port, scenario, tmp_path)


async def one_outcome(router: Router, made: Made) -> Contact:
    """The one contact the call made, once it has its outcome."""
    assert len(made.contacts) == 1, made.contacts
    contact: Contact = await until(lambda: terminal(router, made.contacts[0]))
    return contact


async def idle(worker: VoiceCalls) -> None:
    """Every call gone and its slots given back (a leak would refuse callers later)."""
    engine = worker.engine
    await until(lambda: not worker.calls and engine.leg_count == 0 and engine.inbound_count == 0)


async def test_a_late_offer_is_answered_in_the_ack_and_the_caller_reaches_the_menus(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """Cisco CUCM and SBCs send INVITEs without SDP: the node offers in its 200 OK,
    takes the answer from the ACK, and the IVR runs (digits by SIP INFO)."""
    assert await sipp(worker, "peer_late_offer.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == ("booking", "fr", "abandoned")
    assert contact.customer_id == "+15551230001"


@pytest.mark.skipif(
    not BUILT_PJSUA2,
    reason="the PyPI wheel (scripts/build-pjsua2.sh could not build) offers pjsip's 120",
)
async def test_a_late_offer_answered_with_the_callers_own_event_type_hears_its_digits(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """The caller's ACK answers telephone-event on 101 whatever the node offered, and
    its RFC 2833 digits come on 101: French, emergency (with pjsip's default offer, 120,
    the digits were not heard and the caller went to the default queue)."""
    assert await sipp(worker, "peer_late_offer_own_event_pt.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language) == ("emergency", "fr")


@pytest.mark.parametrize(
    ("scenario", "language"),
    [
        ("peer_pcma_only.xml", "fr"),
        ("peer_unknown_codec.xml", "en"),
        ("peer_g722_only.xml", "fr"),
        pytest.param(
            "peer_g722_first.xml",
            "fr",
            marks=pytest.mark.skipif(
                not BUILT_PJSUA2, reason="the PyPI wheel answers in the offerer's order"
            ),
        ),
    ],
)
async def test_a_caller_offering_one_codec_or_codecs_we_lack_gets_ours_and_its_digits_heard(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path, scenario: str, language: str
) -> None:
    """sipp checks the codec of the answer (PCMA alone: PCMA; G.722 alone: G.722; Opus and
    G.729 before PCMU: PCMU; G.722 before G.711: PCMU, the node's first, which the 8 kHz
    bridge carries as it is); RFC 2833 digits pick language and reason."""
    assert await sipp(worker, scenario, tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == (
        "emergency",
        language,
        "abandoned",
    )


async def test_sip_info_digits_are_read_as_pbxs_write_them(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """A hook flash (`Signal=16`) is no key, `Signal= 2` is 2, `Signal=10` is '*' (the
    reason menu again): French, baggage. pjsua alone reads 16 and 10 as '1' (English,
    then '1' in queue: a callback the caller never asked for)."""
    assert await sipp(worker, "peer_sip_info.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == ("baggage", "fr", "abandoned")
    assert not contact.callback_uri


async def test_a_withheld_number_asserted_by_the_trunk_names_the_customer(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """From is `anonymous` (RFC 3323), P-Asserted-Identity names the caller: the contact
    is theirs (their history, their cases, a callback to their number)."""
    assert await sipp(worker, "peer_withheld_asserted.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == ("booking", "fr", "abandoned")
    assert contact.customer_id == "+15551230007"


async def test_callers_who_withhold_their_number_are_each_anonymous(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """Two callers withholding their number, nothing asserted: each contact is an
    anonymous customer of its own (one `anonymous` customer shared every such caller's
    history and live case with the next)."""
    for _ in range(2):
        assert await sipp(worker, "peer_withheld.xml", tmp_path) == 0
    assert len(made.contacts) == 2
    first, second = [await until(partial(terminal, router, c)) for c in made.contacts]
    assert first.customer_id.startswith(ANONYMOUS_PREFIX)
    assert second.customer_id.startswith(ANONYMOUS_PREFIX)
    assert first.customer_id != second.customer_id
    assert (second.queue, second.language, second.state.value) == ("booking", "fr", "abandoned")


async def test_sip_info_digits_pjsua_refuses_are_heard_too(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """Asterisk's `dtmfmode=shortinfo` (`application/dtmf`, the key alone) and a
    lowercase `signal=`: pjsua answers them 500 and 400 and reports no digit; the node
    reads them itself: French, the reason menu again, baggage."""
    assert await sipp(worker, "peer_short_info.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == ("baggage", "fr", "abandoned")


async def test_a_cancel_crossing_the_answer_opens_no_contact_and_waits_for_the_ack(
    worker: VoiceCalls, made: Made, tmp_path: Path
) -> None:
    """The node answers at once, so a caller's CANCEL crosses the 200 OK. Until the
    caller's ACK the call is not set up: no IVR (a caller that never ACKs would otherwise
    go through the menus, unheard, into a queue, until pjsip gives up 32 s later)."""
    run = asyncio.create_task(sipp(worker, "peer_cancel.xml", tmp_path))
    call = await until(lambda: next(iter(worker.calls.values()), None))
    await asyncio.sleep(1.0)  # the 200 OK is retransmitted, not yet acknowledged
    assert call.ivr is None and not call.heard
    assert await run == 0
    await idle(worker)
    assert not made.contacts


async def test_a_bye_in_the_greeting_opens_no_contact_and_frees_the_call(
    worker: VoiceCalls, made: Made, tmp_path: Path
) -> None:
    """The contact is made when the IVR routes the call: a caller gone before that has
    none (nothing to abandon), and the worker keeps no trace of the call."""
    assert await sipp(worker, "peer_bye_in_ivr.xml", tmp_path) == 0
    await idle(worker)
    assert not made.contacts


async def test_a_hangup_while_the_contact_is_made_is_its_one_outcome(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """The caller picks a reason and hangs up while the router's answer is on its way:
    the contact made meanwhile is abandoned, not left queued for an agent to ring."""
    made.reply_delay_s = 1.0
    assert await sipp(worker, "peer_hangup_at_route.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.state.value) == ("baggage", "abandoned")
    await idle(worker)
    assert not worker.by_contact


async def test_a_session_refresh_while_queued_keeps_the_call_and_its_one_contact(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """RFC 4028 refreshes (a re-INVITE with the same SDP, version bumped; an UPDATE)
    while the caller waits: both 200, the call stays up, the contact is not made twice."""
    opened: list[str] = []
    worker.report = lambda event: (
        opened.append(event["contact_id"]) if event["type"] == "contact_open" else None
    )
    assert await sipp(worker, "peer_session_refresh.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert opened == made.contacts
    assert (contact.queue, contact.language, contact.state.value) == ("baggage", "en", "abandoned")


async def test_a_caller_whose_session_timer_expires_is_no_abandon(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """A trunk asks for session timers (refresher=uac) and never refreshes: the node ends
    the call (its BYE after 58 s). The contact fails with `session_expired`: no customer
    gave up (it was `abandoned`/`caller_hangup`, counted in the queue's abandonment)."""
    run = run_sipp(worker.engine.config.sip_port, "peer_session_expires.xml", tmp_path, timeout=90)
    assert await run == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.state.value, contact.reason) == (
        "baggage",
        "failed",
        "session_expired",
    )
    await idle(worker)


async def test_a_call_that_begins_on_hold_reaches_the_menus_once_resumed(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """The INVITE offers sendonly (a PBX handing over a caller it held), a re-INVITE
    resumes: the menus start then and hear the digits. They used to wait for audio that,
    begun on hold, was never reported as started: the caller sat in silence."""
    assert await sipp(worker, "peer_held_at_start.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == ("baggage", "en", "abandoned")


async def test_invites_to_refuse_get_a_clear_4xx_and_the_next_caller_is_served(
    worker: VoiceCalls, router: Router, made: Made, tmp_path: Path
) -> None:
    """A To tag naming no dialog: 481; SDP that does not parse: 400; a body that is no
    SDP: 415; G.729 alone: 488. sipp checks each code and ACKs it; no call starts (no
    contact, no slot kept); then a plain caller is served."""
    refused = (
        "peer_to_tag.xml",
        "peer_bad_sdp.xml",
        "peer_not_sdp.xml",
        "peer_no_common_codec.xml",
    )
    for scenario in refused:
        assert await sipp(worker, scenario, tmp_path) == 0, scenario
    await idle(worker)
    assert await sipp(worker, "ivr_dtmf.xml", tmp_path) == 0
    contact = await one_outcome(router, made)
    assert (contact.queue, contact.language, contact.state.value) == ("baggage", "en", "abandoned")
