"""Callbacks: the caller leaves the queue keeping the place; when an agent is free, the
agent is called first, then the customer, and the two are bridged."""

from __future__ import annotations

import logging
from typing import Any

from telephony.calls.call import Call, CallState, Role
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError, uri_user
from telephony.model import Prompt
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)


def plain_uri(uri: str) -> str:
    """`"A" <sip:x@h:p;ob>` -> `sip:x@h:p`."""
    inner = uri.split("<", 1)[1].split(">", 1)[0] if "<" in uri else uri
    return inner.split(";", 1)[0].strip()


class CallbackController:
    def __init__(self, voice: Voice) -> None:
        self.voice = voice

    async def take(self, call: Call) -> None:
        """The caller pressed the callback digit while queued."""
        voice = self.voice
        await voice.routing.request_callback(call.contact_id, plain_uri(call.contact_uri))
        call.state = CallState.CALLBACK
        voice.table.release(call)
        voice.report({"type": "contact_closed", "contact_id": call.contact_id})
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
            voice.table.release(call)

    async def dial_customer(self, call: Call) -> None:
        """The agent answered and the router accepted: now call the customer back."""
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

    async def customer_answered(self, call: Call) -> None:
        call.customer_answered = True
        if call.agent_leg is None:
            await self.voice.hangup(call.leg)
            return
        await self.voice.offers.connect(call)
