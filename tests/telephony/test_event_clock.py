"""A caller that offers telephone-event only at a clock the answer cannot carry (48000
beside PCMU: a WebRTC gateway, an Opus-first SBC) is answered without it (RFC 4733: the
events run at the audio's clock), so its keys are never heard and the IVR routes it as
a caller who pressed nothing. The worker says so once, naming the call: it said nothing.
Real SIP: sipp against one worker."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from router.service import Router
from telephony.calls import VoiceCalls
from telephony.endpoint import unheard_event_clocks

from .conftest import run_sipp, running_worker

UNHEARD = "its keys will not be heard"


@pytest.fixture
async def worker(router: Router, prompt_cache: Path) -> AsyncIterator[VoiceCalls]:
    async with running_worker(router, prompt_cache) as calls:
        yield calls


@pytest.mark.parametrize(("clock", "warned"), [("48000", True), ("8000", False)])
async def test_telephone_event_at_a_clock_the_answer_cannot_carry_is_logged(
    clock: str,
    warned: bool,
    worker: VoiceCalls,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="telephony.endpoint")
    port = worker.engine.config.sip_port
    extra = ("-key", "clock", clock, "-trace_logs", "-log_file", str(tmp_path / "sipp.log"))
    assert await run_sipp(port, "peer_event_clock.xml", tmp_path, extra=extra) == 0
    answer = (tmp_path / "sipp.log").read_text().split("RTP/AVP", 1)[1].split()
    assert answer == (["0"] if warned else ["0", "96"])  # PCMU, telephone-event at 8000
    lines = [r for r in caplog.records if UNHEARD in r.getMessage()]
    if not warned:
        assert lines == []
        return
    (line,) = lines
    assert line.levelname == "WARNING"
    assert re.search(r"call 1-\d+@127\.0\.0\.1 ", line.getMessage())  # sipp's Call-ID
    assert "48000 Hz" in line.getMessage()


@pytest.mark.parametrize(
    ("sdp", "unheard"),
    [
        ("a=rtpmap:96 telephone-event/48000\r\n", ["48000"]),
        ("a=rtpmap:96 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\n", []),
        ("a=rtpmap:0 PCMU/8000\r\n", []),  # no telephone-event: keys by INFO, if any
        ("", []),  # a late offer
    ],
)
def test_the_offer_s_event_clocks_are_read_from_its_body(sdp: str, unheard: list[str]) -> None:
    invite = "INVITE sip:1000@node SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n" + sdp
    assert unheard_event_clocks(invite if sdp else invite.rsplit("\r\n\r\n", 1)[0]) == unheard
