"""Callbacks: the caller leaves the queue keeping the place; when an agent is free, the
agent is called first, then the customer, and the two are bridged.

Where the customer is called back (`callback_uri`, kept on the contact when they ask): a
caller whose identity is a telephone number (`telephony.callerid`) is dialled through
`[sip] outside_uri`, as a transfer to a number is, when one is configured: a caller who
came through a trunk or a PBX has the trunk as Contact, not their own phone. Anyone else
is called at the Contact of their call, its URI whole (`;transport=tcp` above all: a
TCP caller is called back over TCP). The customer's phone rings for at most twice the
queue's ring time while the agent waits, hearing a ringing tone (`make_ringback`), as
from any phone dialling out; then the attempt ends unanswered (another later while the
queue's `callback_attempts` last, else `failed`/`callback_unanswered`) and the agent is
free again. A customer who picks up first hears who calls, in their language ("This is
Switchboard Airlines, calling you back as you asked. Connecting you to an agent now."),
the agent still hearing the ringing tone; then the two are bridged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
from typing import Any

from telephony.calls.call import OUTSIDE_RING_FACTOR, Call, CallState, Role
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError, uri_user
from telephony.model import Prompt
from telephony.prompts import CALLBACK_INTRO, RINGBACK_FILE, duration_s
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)

# A telephone number as a SIP user part: digits (4 to 15, E.164's most) and an optional
# leading `+`; the visual separators RFC 3966 allows are ignored.
_NUMBER = re.compile(r"\+?\d{4,15}")
_SEPARATORS = re.compile(r"[-.()\s]")
# URI parameters that name something of the call that ended, not where the caller is:
# Kamailio's `alias` (the TCP connection or NAT address of that call).
_CALL_ONLY_PARAMS = frozenset({"alias"})
# How much longer than its own length the introduction may take to play before the two
# are bridged all the same (a customer who hangs up during it takes its player with the
# leg, and the player's end never comes).
INTRO_GRACE_S = 5.0


def phone_number(user: str) -> str:
    """`user` as a telephone number (`+1 555-123` -> `+1555123`); '' when it is none."""
    number = _SEPARATORS.sub("", user)
    return number if _NUMBER.fullmatch(number) else ""


def contact_target(contact: str) -> str:
    """Where a Contact header value reaches its phone again: the URI with its own
    parameters (`<sip:x@h:p;transport=tcp>;expires=60` -> `sip:x@h:p;transport=tcp`),
    without the header's parameters nor those that named the call that ended."""
    contact = contact.strip()
    if "<" in contact:
        uri = contact.split("<", 1)[1].split(">", 1)[0]
    else:
        # RFC 3261 20.10: without angle brackets the parameters are the header's, but a
        # transport named there is meant for the URI (some phones write it so).
        uri, _, header = contact.partition(";")
        meant = [p for p in header.split(";") if p.strip().lower().startswith("transport=")]
        uri = ";".join([uri, *meant])
    base, *params = uri.strip().split(";")
    kept = [p for p in params if p and p.split("=", 1)[0].strip().lower() not in _CALL_ONLY_PARAMS]
    return ";".join([base, *kept])


class CallbackController:
    def __init__(self, voice: Voice, outside_uri: str = "") -> None:
        self.voice = voice
        # Where numbers are dialled out ("sip:{number}@trunk"); empty: none.
        self.outside_uri = outside_uri

    def callback_uri(self, call: Call) -> str:
        """Where to call the caller back (see the module's doc)."""
        number = phone_number(call.caller)
        if number and self.outside_uri:
            return self.outside_uri.format(number=number)
        return contact_target(call.contact_uri)

    async def take(self, call: Call) -> None:
        """The caller pressed the callback digit while queued."""
        voice = self.voice
        await voice.routing.request_callback(call.contact_id, self.callback_uri(call))
        call.state = CallState.CALLBACK
        # No outcome yet: the contact waits on, and any worker may call back.
        voice.released(call)
        await voice.prompter.play(call, (Prompt("queue.callback_confirmed", call.language),))
        await voice.hangup(call.leg)

    async def on_offer(self, event: dict[str, Any]) -> None:
        """An offer for a contact whose caller chose a callback: ring the agent first."""
        voice = self.voice
        contact_id = str(event["contact_id"])
        try:
            contact = await voice.routing.get_contact(contact_id)
        except ROUTING_REFUSALS as error:
            log.warning("callback offer for %s: contact not read: %s", contact_id, error)
            return
        uri = contact.callback_uri or str(event.get("callback_uri", ""))
        if not uri:
            return
        call = Call(
            leg=-1,
            caller=uri_user(uri),
            contact_uri=uri,
            dialled="",
            flow=None,
            state=CallState.QUEUED,
            contact_id=contact_id,
            language=contact.language,
            queue=contact.queue,
            region=contact.region,
            callback=True,
            customer_answered=False,
        )
        voice.table.own(call)
        voice.report({"type": "contact_open", "contact_id": contact_id, "leg": -1})
        await voice.offers.on_offer(call, event)
        if call.state != CallState.OFFERED:
            voice.released(call)

    async def dial_customer(self, call: Call) -> None:
        """The agent answered and the router accepted: now call the customer back, who
        may ring for twice the queue's ring time."""
        try:
            customer = await self.voice.engine.call(call.contact_uri)
        except EngineError as error:
            log.warning("calling back %s failed: %s", call.contact_id, error)
            call.state = CallState.ENDED
            try:
                await self.voice.routing.fail(call.contact_id, "callback_unreachable")
            except ROUTING_REFUSALS as refusal:
                log.warning("failure of %s not recorded: %s", call.contact_id, refusal)
            self.voice.closed(call, "failed")
            await self.voice.hangup(call.agent_leg)
            return
        call.leg = customer
        self.voice.table.add(customer, call, Role.CALLER)
        self.voice.spawn(self._ring_limit(call, customer, call.ring_s * OUTSIDE_RING_FACTOR))
        await self._ringback(call, True)

    async def _ringback(self, call: Call, on: bool) -> None:
        """The agent hears the customer's phone ring (a tone of ours: early media is not
        asked of the customer's phone), until they pick up. The tone's player goes with
        the agent's leg when that ends first (the attempt unanswered)."""
        engine = self.voice.engine
        try:
            if on and call.agent_leg is not None:
                tone = self.voice.prompter.prompts.cache_dir / RINGBACK_FILE
                call.ringback = await engine.loop_file(call.agent_leg, str(tone))
            elif not on and call.ringback is not None:
                player, call.ringback = call.ringback, None
                await engine.stop_play(player)
        except EngineError as error:  # the agent's leg went meanwhile
            log.debug("ringback of %s: %s", call.contact_id, error)

    async def _ring_limit(self, call: Call, customer: int, ring_s: float) -> None:
        """The customer did not pick up in time: their phone stops ringing, and the hang-up
        ends the callback as unanswered (the agent is released)."""
        await asyncio.sleep(ring_s)
        if call.leg == customer and not call.customer_answered and call.state != CallState.ENDED:
            log.info("callback of %s: no answer in %.0f s", call.contact_id, ring_s)
            await self.voice.hangup(customer, 487)

    async def customer_answered(self, call: Call) -> None:
        """The customer picked up: the contact is answered now (the agent's pick-up was no
        answer: nobody was on the line yet); they hear who calls, then are bridged to the
        agent, who hears the ringing tone until then. If the agent gave up meanwhile, the
        customer is hung up on: an attempt not answered."""
        if call.agent_leg is None:
            await self.voice.hangup(call.leg)
            return
        call.customer_answered = True
        try:
            await self.voice.routing.callback_answered(call.contact_id)
        except ROUTING_REFUSALS as error:  # ended meanwhile (a node taking over)
            log.warning("answer of callback %s not recorded: %s", call.contact_id, error)
        await self._introduce(call)
        await self._ringback(call, False)
        if call.state == CallState.TALKING and call.agent_leg is not None:
            # Not if either hung up meanwhile (the call is over), nor if the agent's desk
            # held or transferred the call: its hold's end or the next agent bridges it.
            await self.voice.offers.connect(call)

    async def _introduce(self, call: Call) -> None:
        """Who calls and why, in the customer's language, before the agent is put through
        (they were connected to the agent with not a word: a stranger's voice)."""
        prompter = self.voice.prompter
        prompts = tuple(Prompt(key, call.language) for key in CALLBACK_INTRO)
        try:
            paths = await asyncio.get_running_loop().run_in_executor(None, prompter.paths, prompts)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
            log.warning("callback of %s: no introduction (%s)", call.contact_id, error)
            return  # put through without it rather than not at all
        length = sum(duration_s(path) for path in paths)
        try:
            await asyncio.wait_for(prompter.play(call, prompts), length + INTRO_GRACE_S)
        except TimeoutError:
            log.info("callback of %s: introduction not finished, bridged", call.contact_id)
