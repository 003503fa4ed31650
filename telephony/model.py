"""Plain data of the voice side: SIP settings, IVR flows and the IVR's actions (no I/O)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum

from i18n.prompts import DEFAULT_RATE
from switchboard.common.hours import OpeningHours


@dataclass(frozen=True)
class SipConfig:
    """The `[sip]` section: the front door, the worker pool and the waiting experience."""

    host: str = "127.0.0.1"
    port: int = 5060
    # SIP over TCP on `port` as well as UDP (RFC 3261 section 18: a server must take TCP;
    # a client sends a request of more than ~1300 bytes over it).
    tcp: bool = True
    # "kamailio": Kamailio's dispatcher on `port` spreads calls over `workers` processes;
    # "none": one worker listens on `port` itself (capacity: one worker's callers).
    front_door: str = "kamailio"
    kamailio: str = "kamailio"
    # 0 = one worker per core (telephony.capacity.sized fills it in).
    workers: int = 0
    # 0 = the installed pjsua2 build's limit (256 from scripts/build-pjsua2.sh, 4 from
    # PyPI). A caller also needs a slot for its agent leg, so a worker admits
    # calls_per_worker // 2 callers.
    calls_per_worker: int = 0
    worker_port_base: int = 5100
    rtp_port_base: int = 20000
    # 0 = two per call (RTP and RTCP) and a few spare.
    rtp_ports_per_worker: int = 0
    retry_after_s: int = 5
    poll_ms: int = 100
    restart_delay_s: float = 1.0
    prompt_cache_dir: str = "var/prompts"
    music: str = ""
    # The prompts' speed in words a minute (espeak-ng's -s); the default is espeak-ng's own.
    voice_rate: int = DEFAULT_RATE
    # Numbers outside the center are dialled as this URI ("sip:{number}@trunk.example");
    # empty: a transfer to a number is refused.
    outside_uri: str = ""
    # The INVITE of an offer asks the agent's phone to answer it itself (Call-Info
    # answer-after=0, Alert-Info alert-autoanswer): headset agents on desk phones and
    # softphones set to honour it press nothing for each call (docs/telephony.md).
    agent_auto_answer: bool = False
    # The senders whose P-Asserted-Identity names the caller (RFC 3325's trust domain: the
    # carriers' SBCs, a PBX), addresses or CIDR networks; from others From alone does.
    # Empty: PAI is believed from anyone (telephony.callerid).
    trusted_peers: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @property
    def transports(self) -> tuple[str, ...]:
        """What the node's SIP port takes (Kamailio, or the one worker without it)."""
        return ("udp", "tcp") if self.tcp else ("udp",)

    # The SIP domain (and digest realm) of the softphones' accounts; empty: `host`.
    domain: str = ""
    # The node's secret SIP passwords are derived from (telephony.softphones); empty:
    # `sip-secret` in the node's telephony work directory, made on first start.
    secret_file: str = ""

    @property
    def callers_per_worker(self) -> int:
        return max(1, self.calls_per_worker // 2)

    @property
    def capacity(self) -> int:
        """Concurrent callers the node admits."""
        workers = self.workers if self.front_door == "kamailio" else 1
        return workers * self.callers_per_worker


@dataclass(frozen=True)
class RecordingConfig:
    """The `[recording]` section: which calls are recorded, where, and for how long."""

    directory: str = "var/recordings"
    # Every call of these queues is recorded from the moment an agent answers.
    queues: tuple[str, ...] = ()
    # Before recording, the caller hears that the call is recorded, in their language.
    consent: bool = True
    # Recordings older than this are deleted (0 = kept); defaults to [privacy] retention_days.
    retention_days: float = 0.0
    # A recording is not started with less free space than this on its disk.
    min_free_mb: int = 100
    # A recording paused longer than this (s) resumes by itself (0: it stays paused).
    pause_max_s: float = 180.0


# A region's opening hours: the one definition placement, SLAs and the IVR share.
Hours = OpeningHours


@dataclass(frozen=True)
class Reason:
    """One reason-menu entry: press `digit` for `name`, routed to `queue`."""

    digit: str
    name: str
    queue: str
    skill: str = ""
    priority: int = 0
    # Emergency reasons are offered and routed even when the center is closed.
    emergency: bool = False


@dataclass(frozen=True)
class IvrFlow:
    """The IVR for one dialled number (`number = "*"` catches every other number)."""

    number: str
    region: str
    languages: tuple[str, ...]
    reasons: tuple[Reason, ...]
    default_queue: str
    default_language: str = "en"
    digit_timeout_s: float = 5.0
    max_tries: int = 3
    hours: Hours = field(default_factory=Hours)
    announce_every_s: float = 30.0
    callback_digit: str = "1"
    callback: bool = True

    def queue_uses(self, queue: str) -> list[str]:
        """Where this number sends callers to `queue` (a reason, the default)."""
        where = f"[[ivr]] number {self.number}"
        uses = [f"{where} reason {r.name}" for r in self.reasons if r.queue == queue]
        if self.default_queue == queue:
            uses.append(f"{where} default_queue")
        return uses


class MonitorMode(StrEnum):
    """How a supervisor joins a live call."""

    LISTEN = "listen"  # hears both sides
    WHISPER = "whisper"  # hears both, heard by the agent only
    BARGE = "barge"  # hears both, heard by both


# IVR actions: what the state machine asks its driver to do, in order.


@dataclass(frozen=True)
class Prompt:
    """One catalog prompt (`key`) in `language`, with values for its placeholders."""

    key: str
    language: str
    values: tuple[tuple[str, str | int], ...] = ()


@dataclass(frozen=True)
class Play:
    """Play these prompts one after the other; `collect` means a digit may interrupt."""

    prompts: tuple[Prompt, ...]
    collect: bool = False


@dataclass(frozen=True)
class WaitDigit:
    """After the last Play ends, wait this long for a digit, then call `timeout()`."""

    timeout_s: float


@dataclass(frozen=True)
class Route:
    """The IVR is done: create a contact in `queue`."""

    queue: str
    skill: str
    language: str
    priority: int
    reason: str
    emergency: bool = False
    defaulted: bool = False


@dataclass(frozen=True)
class Hangup:
    """Play nothing more and end the call (after any Play before it finishes)."""

    reason: str


Action = Play | WaitDigit | Route | Hangup
