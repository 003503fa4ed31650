"""How many calls a worker holds and how many workers a node runs, from the pjsua2 build.

pjsua2 fixes its call limit at compile time (`PJSUA_MAX_CALLS`) and silently lowers a
larger `maxCalls` to it. The wheel `scripts/build-pjsua2.sh` builds exports the figure as
`pjsua2.PJSUA_MAX_CALLS` (256); the PyPI `pjsua2-python` wheel does not, and keeps
pjsua.h's default of 4 (a 5th call gets 486 or `PJ_ETOOMANY`, measured). So the limit is
read from the installed module, never assumed from the configuration.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from telephony.model import SipConfig

log = logging.getLogger(__name__)

# pjsua.h's default, kept by the PyPI pjsua2-python wheel, which does not export it.
UPSTREAM_MAX_CALLS = 4
# RTP and RTCP take a port each per call; a few spare for a port still in TIME_WAIT.
RTP_PORTS_PER_CALL = 2
RTP_SPARE_PORTS = 8


def built_max_calls() -> int:
    """The installed pjsua2's compiled call limit per process."""
    import pjsua2

    return int(getattr(pjsua2, "PJSUA_MAX_CALLS", UPSTREAM_MAX_CALLS))


def sized(sip: SipConfig, max_calls: int, cores: int) -> SipConfig:
    """`[sip]` with its automatic figures (0) filled: calls per worker = the build's limit
    (a larger setting is lowered to it, with a warning), workers = one per core, RTP
    ports = two per call."""
    calls = sip.calls_per_worker or max_calls
    if calls > max_calls:
        log.warning(
            "[sip] calls_per_worker = %d, but this pjsua2 build holds %d calls per process "
            "(make pjsua2 builds the 256-call one): using %d",
            calls,
            max_calls,
            max_calls,
        )
        calls = max_calls
    return replace(
        sip,
        calls_per_worker=calls,
        workers=sip.workers or max(1, cores),
        rtp_ports_per_worker=sip.rtp_ports_per_worker
        or RTP_PORTS_PER_CALL * calls + RTP_SPARE_PORTS,
    )


def sized_for_this_machine(sip: SipConfig) -> SipConfig:
    return sized(sip, built_max_calls(), os.cpu_count() or 1)
