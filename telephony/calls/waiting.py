"""Waiting in queue: the contact is made, then music, and every `announce_every_s` the
caller's position, the estimated wait and the callback offer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from router.model import Channel, Contact, NewContact
from telephony.calls.call import WAITING, Call, CallState
from telephony.calls.voice import Voice
from telephony.endpoint import EngineError
from telephony.model import Prompt, Route
from telephony.routing import ROUTING_REFUSALS

log = logging.getLogger(__name__)


def position_prompt(language: str, position: str, ewt_s: float | None) -> Prompt:
    """The caller's place and wait, in whole minutes, at least one (as i18n's spoken
    durations round); the place alone when there is no wait to promise (`ewt_s` None:
    nobody can serve the queue, and "about 2 minutes" would be a guess as if one did)."""
    if ewt_s is None:
        return Prompt("queue.position_no_wait", language, (("position", position),))
    minutes = max(1, round(float(ewt_s) / 60))
    return Prompt("queue.position", language, (("position", position), ("minutes", minutes)))


class WaitingController:
    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self._early: dict[str, dict[str, Any]] = {}

    async def enqueue(self, call: Call, route: Route) -> None:
        """The IVR is done: create the contact (routed by the reason's skill when it has
        one), then wait. Raises the router's refusal when the contact cannot be made."""
        voice = self.voice
        assert call.flow is not None
        call.timestamps["ivr_done"] = voice.clock()
        new = NewContact(
            channel=Channel.VOICE,
            queue=route.queue,
            language=route.language,
            customer_id=call.caller,
            priority=route.priority,
            region=call.flow.region,
            node=voice.node_id,
            skill=route.skill,
        )
        contact = await self._create(call, new)
        call.contact_id = contact.contact_id
        call.queue = contact.queue
        voice.ivr.routed(call)
        call.region = contact.region
        call.timestamps["queued"] = voice.clock()
        call.state = CallState.QUEUED
        voice.table.own(call)
        voice.report(
            {
                "type": "contact_open",
                "contact_id": call.contact_id,
                "leg": call.leg,
                "timestamps": dict(call.timestamps),
            }
        )
        early = self._early.pop(call.contact_id, None)
        if early is not None:
            voice.spawn(voice.offers.on_offer(call, early))
        await voice.prompter.play(call, (Prompt("ivr.queued", call.language),))
        await voice.recording.announce(call)
        await self.wait(call)

    async def _create(self, call: Call, new: NewContact) -> Contact:
        """Make the contact. A hang-up meanwhile cancels the IVR's task, not the making:
        the router's answer is awaited apart and that contact abandoned, never left
        queued (an agent rung, RONA after RONA, for a caller long gone)."""
        making = asyncio.ensure_future(self.voice.routing.create_contact(new))
        try:
            return await asyncio.shield(making)
        except asyncio.CancelledError:
            self.voice.spawn(self._abandon_made(call, making))
            raise

    async def _abandon_made(self, call: Call, making: asyncio.Future[Contact]) -> None:
        """The caller hung up while their contact was being made: its one outcome."""
        try:
            contact = await making
        except ROUTING_REFUSALS as error:
            self.voice.ivr.failed(call, "contact_refused", error)  # none was made
            return
        call.contact_id = contact.contact_id
        call.queue = contact.queue
        # Routed: the IVR's outcome; the caller's hang-up is the contact's (abandoned).
        self.voice.ivr.routed(call)
        try:
            await self.voice.routing.abandon(contact.contact_id, reason="caller_hangup")
        except ROUTING_REFUSALS as error:
            log.warning("abandon of %s not recorded: %s", contact.contact_id, error)
        self.voice.closed(call, "abandoned")

    def hold_early_offer(self, contact_id: str, event: dict[str, Any]) -> None:
        """The router may offer before `create_contact` has returned to us: keep it."""
        self._early[contact_id] = event
        while len(self._early) > 64:
            self._early.pop(next(iter(self._early)))

    async def wait(self, call: Call) -> None:
        """Music, and every N seconds the position, EWT and the callback offer."""
        assert call.flow is not None
        flow = call.flow
        prompter = self.voice.prompter
        while call.state in WAITING:
            await self._music(call, True)
            digit = await prompter.next_digit(call, flow.announce_every_s)
            if call.state not in WAITING:
                return
            if digit is None:
                digit = await self._announce(call)
            wants_callback = flow.callback and digit == flow.callback_digit
            if wants_callback and call.state == CallState.QUEUED:
                await self.voice.callback.take(call)
                return

    def resume(self, call: Call) -> None:
        """Music and announcements again for a caller back in queue (after RONA, transfer);
        music alone for a called-back customer (no place to announce: they have their call)."""
        if call.calling_back or call.state not in WAITING:
            return
        if call.callback:
            self.voice.spawn(self.hold(call))
            return
        if call.script is None or call.script.done():
            call.script = self.voice.spawn(self.wait(call))

    async def hold(self, call: Call) -> None:
        """Music only (a warm transfer's hold): no announcements, no callback offer."""
        await self._music(call, True)

    async def _music(self, call: Call, on: bool) -> None:
        try:
            await self.voice.engine.music(call.leg, on)
        except EngineError as error:  # the caller went meanwhile
            log.debug("music for leg %d: %s", call.leg, error)

    async def _announce(self, call: Call) -> str | None:
        assert call.flow is not None
        try:
            where = await self.voice.routing.position(call.contact_id)
        except ROUTING_REFUSALS as error:
            log.warning("position of %s unknown: %s", call.contact_id, error)
            return None
        if call.state != CallState.QUEUED:
            return None
        # The position is said as the caller's locale writes numbers.
        position = self.voice.styles(call.region, call.language).number(int(where.position))
        prompts = [position_prompt(call.language, position, where.ewt_s)]
        if call.flow.callback:
            prompts.append(
                Prompt(
                    "queue.callback_offer", call.language, (("digit", call.flow.callback_digit),)
                )
            )
        return await self.voice.prompter.play(call, tuple(prompts), collect=True)
