"""The node's SIP front door: Kamailio's dispatcher in front of the worker pool.

We generate Kamailio's configuration from the pool (one destination per worker,
`maxload` = callers per worker) and run it as a child process. The choices, all
measured (docs/telephony.md): algorithm 10 (call load) rather than round robin,
retransmitted INVITEs absorbed by their transaction before a worker is chosen (and
after it has gone, for as long as a caller may resend one: RELAYED),
`record_route()` so BYEs pass here and `ds_load_update()` frees the slot (of a caller's
call only: a Record-Route parameter marks the calls that took one), OPTIONS
probing so a dead worker leaves the rotation, and a 503 with Retry-After when
every worker is full. A call's slot is freed by its BYE, or by the failure route when
its INVITE ends without a 2xx (cancelled in time, refused): never by the CANCEL itself,
which may cross the 200 OK of a call that goes on. `ds_load_unset()` is only called
once no destination is left: calling it before `ds_next_dst()` breaks failover.

It is also the registrar of the staff's softphones (telephony/softphones.py): REGISTER
is challenged (digest, qop=auth) and checked against the HA1 the node put into the
`sipreg` htable over JSON-RPC (kept while the user is signed out: the phone keeps its
registration); the contact is kept in memory (usrloc db_mode 0). A
worker calling a person (its INVITE carries `X-Switchboard-Dial`) at the account of a
user signed in here (`sipauth`) is relayed to the contact that user's softphone
registered (`lookup`), or answered 480 "Softphone not registered" (404 for a name with
no account signed in here);
a worker's call to the node itself without that header (the loop of a REFER, from
`switchboard-wN`) goes back to that worker; every other INVITE goes to the workers,
with its sender's address in `X-Switchboard-Source` (telephony.callerid: whether its
P-Asserted-Identity is believed, `[sip] trusted_peers`).

It takes SIP over TCP as well as UDP on the same port (`[sip] tcp`); the workers stay on
UDP and Kamailio bridges the two (`record_route()` puts one Record-Route per socket when
the transports differ). A TCP peer is reached again over the connection it opened: its
REGISTER keeps the connection's address (`fix_nated_register`), its INVITE's Contact
gets an `;alias=` of it (`set_contact_alias`), which `handle_ruri_alias()` turns back
into the destination of the requests sent to it within the call. Towards such a
peer Kamailio sends only over a connection that is open (`set_forward_no_connect`):
a dead one's address is an old ephemeral port, where anything may listen now, so the
send fails (the worker reads 477 as the phone unreachable). An idle connection lives a
little longer than the longest registration.

Each call a worker answers (a caller's, once its 200 OK names the worker) or places to a
softphone is a dialog (module dialog), in the profile WORKER_PROFILE under that worker's
SIP port. When a worker dies the pool asks `end_calls`: Kamailio sends a BYE both ways
for each of its answered calls (dlg.end_dlg) and a CANCEL for a phone still ringing
(tm.cancel), so that its callers and agents are not left in silence, and the caller's
call-load slot is freed as the caller's own BYE would have freed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import select
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from telephony.callerid import SOURCE_HEADER
from telephony.softphones import REGISTERING, SIGNED_IN, KamailioRegistrar

log = logging.getLogger(__name__)

# Destinations kept per call for failover. Each is an xavp in shared memory for the
# life of the transaction; keeping the whole pool (150+ workers) per call ran
# Kamailio out of shared memory under load, and every failure then leaked a
# call-load slot until the dispatcher's 30 s expiry.
FAILOVER_DESTINATIONS = 4
# Shared memory: the base, plus room per worker for its pings and call-load entries, and
# per caller a worker takes for the calls' dialogs (measured: 2.8 KB a held caller's call
# with its dialog and slot entry, 0.6 KB without; the worker's call to the agent's phone is
# a dialog too).
SHM_BASE_MB = 64
SHM_PER_WORKER_MB = 1
SHM_PER_CALLER_KB = 8

# What a worker's INVITE to a person carries; Kamailio trusts it only from a worker.
DIAL_HEADER = "X-Switchboard-Dial"
# The From user of a worker's own calls (`switchboard-w3`, telephony.endpoint.OWN_USER):
# one to the node itself is a REFER's loop, sent back to the worker that placed it.
LOOP_USER = "^switchboard-w[0-9]+$"

# The longest registration a softphone gets (seconds); an idle TCP connection outlives it
# a little, so that a registered phone's connection is still there to be called over.
MAX_EXPIRES_S = 3600
TCP_LIFETIME_S = MAX_EXPIRES_S + 5
# The workers take SIP over UDP only, and pjsip drops a datagram above its packet limit
# (PJSIP_MAX_PKT_LEN, 4000 bytes in both builds) without a word. A request that would not
# fit once Kamailio has added its Via and Record-Routes (a few hundred bytes) is answered
# 513 here, rather than timing out at a worker and taking the worker out of rotation.
WORKER_PACKET_LIMIT = 4000
HEADROOM = 600
MAX_REQUEST_BYTES = WORKER_PACKET_LIMIT - HEADROOM
# How long Kamailio may take to come up (forking its children and binding its sockets).
START_WAIT_S = 20.0
# The branch flag of a contact registered from behind NAT or over TCP (kept by usrloc).
NAT_BRANCH_FLAG = 6
# A caller's INVITE dispatched to a worker took a call-load slot: DS_LOAD_PARAM on its
# Record-Route marks it, and its BYE frees the slot (an INVITE ending without a 2xx frees
# it in the failure route). The workers' own calls (to softphones, a REFER's loop) take
# none; freeing one for them logged `ERROR ... ds_load_remove(): cannot find load`, as
# did the BYE of a call whose CANCEL, crossing the 200 OK, had freed it already.
DS_LOAD_PARAM = "dsl=1"
# The INVITEs that started a call (Call-ID, From tag, CSeq), kept in this htable for
# RELAYED_FOR_S: a caller that missed the 200 OK may resend its INVITE until its timer B
# (32 s) runs out, after Kamailio has forgotten the transaction (5 s after its answer);
# that copy is absorbed, never dispatched again as a new call. The htable's own expiry
# check runs every 20 s, so an entry lives 64 to 84 s.
RELAYED = "invites"
RELAYED_FOR_S = 64
# The dialog profile of the calls each worker holds through here, valued by the worker's
# SIP port (every worker listens on the node's host): a caller's call dispatched to it
# (added at its 200 OK, so after a failover it names the worker that answered) and a call
# it placed to a softphone. A REFER's loop (the worker to itself) is not tracked.
WORKER_PROFILE = "worker"
# A dialog whose BYE never passes (lost) is forgotten after this long; nothing is sent
# then (no `timeout_bye`): a longer call goes on, it only loses its hang-up should its
# worker die after that. Kamailio's default is 12 h.
DIALOG_TIMEOUT_S = 4 * 3600
# The callers' calls that hold a call-load slot (answered), by Call-ID: the first BYE of
# the call frees the slot, a caller's or a worker's passing the request route, or one the
# front door sends itself (a dead worker's call ended by `end_calls`), which does not pass
# it. Kept as long as the dispatcher keeps a slot without a BYE (its ds_hash_expire).
SLOTS = "slots"
SLOT_EXPIRE_S = 7200
# The dialog module's states (its README, "Dialog states"): not answered yet (a phone
# ringing), answered and acknowledged (what `end_calls` ends with `dlg.end_dlg`; an
# answer whose ACK has not passed yet, state 3, is a moment's state, left), and ended.
DIALOG_RINGING = (1, 2)
DIALOG_ANSWERED = (4,)

MODULE_DIRS = (
    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
    "/usr/lib/aarch64-linux-gnu/kamailio/modules",
    "/usr/lib/kamailio/modules",
    "/usr/local/lib64/kamailio/modules",
    "/usr/local/lib/kamailio/modules",
)


def fifo_rpc(fifo: Path, method: str, params: list[Any], wait_s: float = 5.0) -> Any:
    """One JSON-RPC call over Kamailio's FIFO (jsonrpcs): the answer comes back whole
    through a FIFO of our own beside it, however long (a datagram's stops at 64 KB, some
    70 dialogs). Blocking: run it in a thread. OSError when Kamailio does not read its
    FIFO (ENXIO: not running) or does not answer within `wait_s`; RuntimeError with
    Kamailio's message for an error answer."""
    name = f"reply-{secrets.token_hex(8)}"
    reply = fifo.parent / name
    os.mkfifo(reply, 0o600)
    try:
        # Our end open before the request goes: Kamailio opens it to write the answer.
        reader = os.open(reply, os.O_RDONLY | os.O_NONBLOCK)
        try:
            request = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(writer, (json.dumps({**request, "reply_name": name}) + "\n").encode())
            finally:
                os.close(writer)
            answer = json.loads(_read_until_closed(reader, wait_s))
        finally:
            os.close(reader)
    finally:
        reply.unlink(missing_ok=True)
    if "error" in answer:
        raise RuntimeError(f"kamailio {method}: {answer['error'].get('message')}")
    return answer.get("result")


def _read_until_closed(reader: int, wait_s: float) -> bytes:
    """All a FIFO's writer writes, up to its close. On Linux a FIFO whose writer has not
    opened it yet polls as neither readable nor hung up: the wait is for Kamailio."""
    poller = select.poll()
    poller.register(reader, select.POLLIN)
    deadline = time.monotonic() + wait_s
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"Kamailio did not answer over its FIFO within {wait_s} s")
        if not poller.poll(left * 1000):
            continue
        data = os.read(reader, 1 << 16)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


class FrontDoorFailed(OSError):
    """Kamailio refused its configuration or did not come up (a SIP port taken, say).
    An OSError, as a port taken by the node's own listeners is: `switchboard serve` says
    which node could not start and why, and exits 1, without a traceback."""


def _kamailio_errors(output: str) -> str:
    """Kamailio's ERROR lines of `output` (the bind that failed, the line of the
    configuration it refused), else the output's tail: what the operator must read."""
    errors = [line.strip() for line in output.splitlines() if "ERROR" in line]
    return "; ".join(errors[-3:]) if errors else output.strip()[-800:]


@dataclass(frozen=True)
class Destination:
    duid: str
    host: str
    port: int
    maxload: int


def module_dir() -> str:
    for candidate in MODULE_DIRS:
        if Path(candidate, "dispatcher.so").exists():
            return candidate
    raise FileNotFoundError("Kamailio's dispatcher module (dispatcher.so) was not found")


def shm_mb(destinations: list[Destination]) -> int:
    """Kamailio's shared memory (`-m`, MB) for this pool."""
    callers = sum(dest.maxload for dest in destinations)
    per_worker = SHM_PER_WORKER_MB * len(destinations)
    return SHM_BASE_MB + per_worker + -(-callers * SHM_PER_CALLER_KB // 1024)


def dispatcher_list(destinations: list[Destination]) -> str:
    """Set 1 holds every worker; `duid` and `maxload` drive the call-load algorithm."""
    lines = ["# generated by switchboard: one line per telephony worker"]
    for dest in destinations:
        lines.append(f"1 sip:{dest.host}:{dest.port} 0 0 duid={dest.duid};maxload={dest.maxload}")
    return "\n".join(lines) + "\n"


def kamailio_cfg(
    *,
    host: str,
    port: int,
    list_file: Path,
    modules: str,
    retry_after_s: int,
    control: Path,
    rpc: Path,
    fifo: Path,
    realm: str,
    tcp: bool = True,
    children: int = 2,
) -> str:
    return f"""#!KAMAILIO
# Generated by switchboard (telephony/frontdoor.py); edits are overwritten at start.
debug=1
log_stderror=yes
fork=yes
children={children}
auto_aliases=no
{_listen(host, port, tcp)}
mpath="{modules}"

loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "sanity.so"
loadmodule "xlog.so"
loadmodule "dispatcher.so"
loadmodule "ctl.so"
loadmodule "jsonrpcs.so"
loadmodule "kex.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "nathelper.so"
loadmodule "dialog.so"

modparam("ctl", "binrpc", "unix:{control}")
# JSON-RPC over a datagram socket, and over a FIFO for an answer too long for a datagram
# (64 KB: a worker's dialogs, `end_calls`).
modparam("jsonrpcs", "transport", 6)
modparam("jsonrpcs", "dgram_socket", "{rpc}")
modparam("jsonrpcs", "fifo_name", "{fifo}")
modparam("jsonrpcs", "fifo_reply_dir", "{fifo.parent}/")
modparam("htable", "htable", "{REGISTERING}=>size=10;")
modparam("htable", "htable", "{SIGNED_IN}=>size=10;")
modparam("htable", "htable", "{RELAYED}=>size=12;autoexpire={RELAYED_FOR_S};")
modparam("htable", "htable", "{SLOTS}=>size=12;autoexpire={SLOT_EXPIRE_S};")
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 0)
modparam("usrloc", "nat_bflag", {NAT_BRANCH_FLAG})
modparam("registrar", "max_expires", {MAX_EXPIRES_S})
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
# Each call a worker answered or placed is a dialog, in the profile `{WORKER_PROFILE}`
# under that worker's SIP port: a dead worker's calls are ended by RPC (end_calls).
modparam("dialog", "profiles_with_value", "{WORKER_PROFILE}")
modparam("dialog", "default_timeout", {DIALOG_TIMEOUT_S})
# One Record-Route per socket when a call crosses from TCP to UDP (the default, said
# here because the TCP callers and softphones depend on it).
modparam("rr", "enable_double_rr", 1)
modparam("tm", "fr_timer", 2000)
modparam("tm", "fr_inv_timer", 60000)
modparam("dispatcher", "list_file", "{list_file}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_hash_size", 10)
modparam("dispatcher", "ds_hash_initexpire", 30)
modparam("dispatcher", "ds_hash_expire", {SLOT_EXPIRE_S})
modparam("dispatcher", "ds_hash_check_interval", 5)
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 3)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_reply_codes", "class=2;class=4")
modparam("dispatcher", "ds_ping_from", "sip:frontdoor@{host}")

request_route {{
    # Malformed requests (a Content-Length the body does not have, bad CSeq, Via or
    # URI...) get their 4xx here and never reach a worker (RFC 3261 section 18.3).
    if (!sanity_check("17895", "7")) {{
        exit;
    }}
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if ($ml > {MAX_REQUEST_BYTES}) {{
        sl_send_reply("513", "Message Too Large");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            # Once: the front door may have sent its own BYE for the call already (its
            # worker died), which freed the slot (event_route[tm:local-request]).
            if (is_method("BYE") && check_route_param("{DS_LOAD_PARAM}")
                    && $sht({SLOTS}=>$ci) != $null) {{
                $sht({SLOTS}=>$ci) = $null;
                ds_load_update();
            }}
            # Towards a peer on TCP (or behind NAT): the connection its Contact's alias
            # names, if it is still open; never a new one to its old ephemeral port.
            if (!isdsturiset()) {{
                handle_ruri_alias();
                if (isdsturiset()) {{
                    set_forward_no_connect();
                }}
            }}
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not Here");
        exit;
    }}
    # A CANCEL goes the way of its INVITE and frees no call-load slot: it may cross the
    # 200 OK of a call that goes on (an INVITE ending without a 2xx frees its slot in the
    # failure route). One matching no transaction is answered 481 (RFC 3261 9.2), not
    # left to be retransmitted for 32 s.
    if (is_method("CANCEL")) {{
        if (!t_check_trans()) {{
            sl_send_reply("481", "Call/Transaction Does Not Exist");
            exit;
        }}
        t_relay();
        exit;
    }}
    if (is_method("OPTIONS")) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (is_method("REGISTER")) {{
        route(REGISTRAR);
    }}
    if (!is_method("INVITE")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    # A retransmitted INVITE belongs to its transaction: absorb it before choosing a
    # worker, so that it never books a call-load slot of its own.
    if (t_precheck_trans()) {{
        t_check_trans();
        exit;
    }}
    t_check_trans();
    # An INVITE relayed before whose transaction is gone (Kamailio forgets one 5 s after
    # its final answer, tm's wait_timer; RFC 6026 has a proxy keep it 32 s after a 2xx):
    # a caller that missed the 200 OK resends it. Absorbed, as its transaction would
    # have: the worker retransmits the 200 until the ACK. Dispatched again, it booked a
    # second call-load slot for one Call-ID (ERROR lines) and reached a worker anew.
    if ($sht({RELAYED}=>$ci::$ft::$cs) != $null) {{
        exit;
    }}
    # A caller on TCP (or behind NAT): the requests of the call sent to it (a worker's
    # BYE) go back over the connection (or the address) its INVITE came from.
    if ((proto != UDP || nat_uac_test("19")) && is_first_hop()) {{
        set_contact_alias();
    }}
    record_route();
    if (is_present_hf("{DIAL_HEADER}") && ds_is_from_list("1")) {{
        route(SOFTPHONE);
    }}
    # A worker's call to one of the node's own names is the loop of a REFER its agent's
    # phone sent: back to that worker, which holds it until the transfer is decided and
    # answers it with the outcome (the phone's NOTIFY). It books no call-load slot.
    if ($fU =~ "{LOOP_USER}" && ds_is_from_list("1")) {{
        $du = "sip:" + $si + ":" + $sp;
        route(RELAY);
    }}
    # Who sent the INVITE, for the worker (it sees Kamailio's address): `[sip]
    # trusted_peers` decides by it whether P-Asserted-Identity is believed. The sender's
    # own header of that name goes first: it cannot name itself a trusted peer.
    remove_hf("{SOURCE_HEADER}");
    append_hf("{SOURCE_HEADER}: $si\\r\\n");
    if (!ds_select_dst("1", "10", "{FAILOVER_DESTINATIONS}")) {{
        append_to_reply("Retry-After: {retry_after_s}\\r\\n");
        sl_send_reply("503", "Service Unavailable");
        exit;
    }}
    add_rr_param(";{DS_LOAD_PARAM}");
    dlg_manage();
    t_on_failure("NEXT_WORKER");
    t_on_reply("INVITE_REPLY");
    route(RELAY);
}}

# An INVITE that starts a call, relayed statefully, then remembered for RELAYED_FOR_S so
# that a copy resent after its transaction has gone is absorbed (request_route). One
# answered here without a transaction (503, 480, 404) is not: its copy gets that answer
# again.
route[RELAY] {{
    if (!t_relay()) {{
        sl_reply_error();
        exit;
    }}
    $sht({RELAYED}=>$ci::$ft::$cs) = 1;
    exit;
}}

# A softphone registers as `<user>@<realm>` with the password of its account: challenged
# first, refused (403) for a user without an account here (never signed in here, removed,
# or given a new password since), challenged again (never saved) for a wrong password.
# A user signed out keeps registering: calls are what a sign-out stops (SOFTPHONE).
# Behind NAT the source address is kept as `received`.
route[REGISTRAR] {{
    if (!is_present_hf("Authorization")) {{
        auth_challenge("{realm}", "1");
        exit;
    }}
    if ($sht({REGISTERING}=>$au) == $null) {{
        sl_send_reply("403", "No SIP account for this user");
        exit;
    }}
    if (!pv_auth_check("{realm}", "$sht({REGISTERING}=>$au)", "1", "1")) {{
        auth_challenge("{realm}", "1");
        exit;
    }}
    consume_credentials();
    # Behind NAT or on TCP, the contact is reached at the address (on TCP: over the
    # connection) the REGISTER came from, not at the address its Contact names.
    if (proto != UDP || nat_uac_test("19")) {{
        fix_nated_register();
        setbflag({NAT_BRANCH_FLAG});
    }}
    if (!save("location")) {{
        sl_reply_error();
    }}
    exit;
}}

# A worker rings a person (an agent's offer, a colleague, a supervisor joining): a user
# signed in here is reached at their softphone's registered contact. A name with no
# account signed in here (a user signed out, whose phone stays registered) is refused
# (404): handed on, it came back to a worker (the From is the worker's own), which took
# it for a REFER's loop and answered it itself, so the caller was "connected" to nobody.
# A phone on TCP is reached over its open connection only: one whose connection died
# fails at once (477) rather than Kamailio connecting to its old ephemeral port.
route[SOFTPHONE] {{
    if ($sht({SIGNED_IN}=>$rU) == $null) {{
        sl_send_reply("404", "No softphone signed in by that name");
        exit;
    }}
    remove_hf("{DIAL_HEADER}");
    if (!lookup("location")) {{
        sl_send_reply("480", "Softphone not registered");
        exit;
    }}
    set_forward_no_connect();
    dlg_manage();
    set_dlg_profile("{WORKER_PROFILE}", "$sp");
    t_on_reply("SOFTPHONE_REPLY");
    route(RELAY);
}}

# The answer of a softphone registered over TCP (or from behind NAT): the worker's
# requests within the call (ACK, BYE) are sent back over the same connection.
onreply_route[SOFTPHONE_REPLY] {{
    if (isbflagset({NAT_BRANCH_FLAG}) && status =~ "[12][0-9][0-9]") {{
        set_contact_alias();
    }}
}}

# A caller's call is the answering worker's (after a failover too): its 200 OK says which.
onreply_route[INVITE_REPLY] {{
    if (status =~ "2[0-9][0-9]") {{
        ds_load_update();
        $sht({SLOTS}=>$ci) = 1;
        if (!is_in_profile("{WORKER_PROFILE}", "$sp")) {{
            set_dlg_profile("{WORKER_PROFILE}", "$sp");
        }}
    }}
}}

# A BYE of the front door's own (a dead worker's call ended, `end_calls`): one of the two
# it sends for a caller's call frees the call's slot.
event_route[tm:local-request] {{
    if (is_method("BYE") && $sht({SLOTS}=>$ci) != $null) {{
        $sht({SLOTS}=>$ci) = $null;
        ds_load_update();
    }}
}}

failure_route[NEXT_WORKER] {{
    if (t_is_canceled()) {{
        ds_load_unset();
        exit;
    }}
    if (t_check_status("408") || t_branch_timeout() || !t_branch_replied()) {{
        ds_mark_dst("ip");
    }}
    if (t_check_status("408|486|500|503") || t_branch_timeout()) {{
        if (ds_next_dst()) {{
            t_on_failure("NEXT_WORKER");
            t_on_reply("INVITE_REPLY");
            t_relay();
            exit;
        }}
        ds_load_unset();
        append_to_reply("Retry-After: {retry_after_s}\\r\\n");
        t_reply("503", "Service Unavailable");
        exit;
    }}
    ds_load_unset();
}}
"""


def _listen(host: str, port: int, tcp: bool) -> str:
    """The sockets: UDP, and TCP on the same port unless turned off. An idle TCP
    connection is closed after TCP_LIFETIME_S (Kamailio's default is 120 s)."""
    if not tcp:
        return f"disable_tcp=yes\nlisten=udp:{host}:{port}"
    return "\n".join(
        (
            f"listen=udp:{host}:{port}",
            f"listen=tcp:{host}:{port}",
            f"tcp_connection_lifetime={TCP_LIFETIME_S}",
        )
    )


class FrontDoor:
    """Writes the configuration into `workdir` and runs Kamailio in the foreground."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        destinations: list[Destination],
        workdir: Path,
        binary: str = "kamailio",
        retry_after_s: int = 5,
        realm: str = "",
        tcp: bool = True,
    ) -> None:
        self.realm = realm or host
        self.tcp = tcp
        self.host = host
        self.port = port
        self.destinations = destinations
        self.workdir = workdir
        self.binary = binary
        self.retry_after_s = retry_after_s
        self.process: asyncio.subprocess.Process | None = None
        self.log_file: BinaryIO | None = None
        # Per worker port, the dialogs (h_entry, h_id) `end_calls` ended that Kamailio
        # still lists: their BYE to the dead worker gets no answer, so they linger until
        # it times out, and ending one again is refused (an ERROR line in its log).
        self._ended: dict[int, set[tuple[str, str]]] = {}

    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    def write(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.fifo.parent.mkdir(mode=0o700, exist_ok=True)
        list_file = self.workdir / "dispatcher.list"
        list_file.write_text(dispatcher_list(self.destinations))
        cfg = self.workdir / "kamailio.cfg"
        cfg.write_text(
            kamailio_cfg(
                host=self.host,
                port=self.port,
                list_file=list_file.resolve(),
                modules=module_dir(),
                retry_after_s=self.retry_after_s,
                control=self.control.resolve(),
                rpc=self.rpc.resolve(),
                fifo=self.fifo.resolve(),
                realm=self.realm,
                tcp=self.tcp,
            )
        )
        return cfg

    @property
    def control(self) -> Path:
        """Kamailio's control socket: `kamcmd -s unix:PATH dispatcher.list` shows the pool."""
        return self.workdir / "kamailio.ctl"

    @property
    def rpc(self) -> Path:
        """Kamailio's JSON-RPC datagram socket (the softphones' HA1s go in through it)."""
        return self.workdir / "kamailio-rpc.sock"

    @property
    def fifo(self) -> Path:
        """Kamailio's JSON-RPC FIFO; the answers come back through FIFOs beside it."""
        return self.workdir / "rpc" / "kamailio-rpc.fifo"

    async def start(self) -> None:
        cfg = self.write()
        binary = shutil.which(self.binary) or self.binary
        check = await asyncio.create_subprocess_exec(
            binary,
            "-c",
            "-f",
            str(cfg),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await check.communicate()
        if check.returncode != 0:
            reason = _kamailio_errors(output.decode(errors="replace"))
            raise FrontDoorFailed(f"Kamailio refused its configuration {cfg}: {reason}")
        runtime = self.workdir / "run"
        runtime.mkdir(exist_ok=True)
        self.log_file = (self.workdir / "kamailio.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            binary,
            "-DD",
            "-E",
            "-f",
            str(cfg),
            "-Y",
            str(runtime),
            "-m",
            str(shm_mb(self.destinations)),
            "-M",
            "8",
            stdout=self.log_file,
            stderr=self.log_file,
            start_new_session=True,  # its own process group: `stop` ends its children too
        )
        if not await self._came_up(self.process):
            log_path = self.workdir / "kamailio.log"
            await self.stop()  # closes the log file; the process group may hold a child
            reason = _kamailio_errors(log_path.read_bytes()[-4000:].decode(errors="replace"))
            raise FrontDoorFailed(
                f"Kamailio did not come up on SIP port {self.host}:{self.port}: {reason}"
                f" (log: {log_path})"
            )
        log.info(
            "front door: Kamailio on %s:%s:%d over %d workers",
            "udp+tcp" if self.tcp else "udp",
            self.host,
            self.port,
            len(self.destinations),
        )

    async def end_calls(self, worker_port: int) -> int:
        """Hang up every call of the worker on `worker_port`, which died: Kamailio sends
        a BYE both ways for each call answered (the caller's, and the worker's own to a
        softphone; the BYE to the worker goes nowhere, or gets a 481 from its successor)
        and a CANCEL to a softphone still ringing. Without it the callers and the agents
        heard silence until they hung up themselves. The number of calls ended; one that
        ended meanwhile is passed over. OSError when Kamailio does not answer."""
        listed = await asyncio.to_thread(
            fifo_rpc, self.fifo, "dlg.profile_list", [WORKER_PROFILE, str(worker_port)]
        )
        rpc = KamailioRegistrar(self.rpc)
        ended = 0
        listed_ids = {(str(d.get("h_entry")), str(d.get("h_id"))) for d in listed or []}
        done = self._ended.setdefault(worker_port, set())
        done &= listed_ids  # those Kamailio forgot are forgotten here too
        for dialog in listed or []:
            state = int(dialog.get("state", 0))
            key = (str(dialog.get("h_entry")), str(dialog.get("h_id")))
            if key in done:
                continue  # ended before, its BYE to the dead worker still unanswered
            try:
                if state in DIALOG_ANSWERED:
                    await rpc.call("dlg.end_dlg", dialog["h_entry"], dialog["h_id"])
                elif state in DIALOG_RINGING:
                    caller = dialog.get("caller") or {}
                    await rpc.call("tm.cancel", dialog["call-id"], str(caller.get("cseq")))
                else:
                    continue  # ended already (its BYE passed), forgotten soon
            except RuntimeError as error:  # ended (or answered) in the meantime
                log.info("front door: call %s not ended: %s", dialog.get("call-id"), error)
                continue
            done.add(key)
            ended += 1
        return ended

    async def _came_up(self, process: asyncio.subprocess.Process) -> bool:
        """Whether Kamailio came up: it answers on its RPC socket, which it serves only
        after binding its SIP sockets. False when it exited first (a port taken, say) or
        did not answer within START_WAIT_S. A fixed wait before (0.3 s) called a Kamailio
        still binding, or one slow to fail on a loaded machine, started."""
        rpc = KamailioRegistrar(self.rpc)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_WAIT_S
        while process.returncode is None and loop.time() < deadline:
            if self.rpc.exists():
                with contextlib.suppress(OSError):  # a timeout or a refusal: not yet
                    await rpc.call("core.version")
                    return True
            await asyncio.sleep(0.05)
        return False

    async def stop(self) -> None:
        """SIGTERM to Kamailio's main process (it stops its children), then SIGKILL to
        whatever of its process group is left: a child stuck on a shared-memory lock
        outlives a main process that gave up on it (seen once in a test run)."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5)
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None
