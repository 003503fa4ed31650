"""`VoiceCalls`: one worker's calls. It builds the controllers and hands each event to the
one that owns it: the engine's (incoming call, digit, answer, hang-up, REFER), the
router's (`offer`, `offer_revoked` for contacts this worker created) and the node's
commands (transfers, recording, monitoring asked for from the desktop or the wallboard).
It owns no pj object; it commands the `PjEngine` by leg number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from router.reports.survey import SurveyConfig
from telephony.callerid import caller_customer_id
from telephony.calls.call import Call, CallState, CallTable, Role
from telephony.calls.callback import CallbackController
from telephony.calls.menus import IvrController, guess_languages
from telephony.calls.monitor import MonitorController
from telephony.calls.offers import OfferController, auto_answer_headers
from telephony.calls.prompter import Prompter
from telephony.calls.recording import RecordingController
from telephony.calls.survey import SurveyController
from telephony.calls.transfer import TransferController, node_names
from telephony.calls.voice import Clock, Report, StyleOf, Voice
from telephony.calls.waiting import WaitingController
from telephony.endpoint import Event, PjEngine
from telephony.ivr import flow_for
from telephony.model import IvrFlow, MonitorMode, RecordingConfig
from telephony.prompts import RINGBACK_FILE, PromptRenderer, make_ringback, static_prompts
from telephony.routing import RatingPort, RoutingPort
from telephony.style import no_style

log = logging.getLogger(__name__)


class UnknownCall(LookupError):
    """A command names a contact this worker does not hold (any more)."""


class VoiceCalls:
    """Per-worker controller; one instance per `PjEngine`."""

    def __init__(
        self,
        *,
        engine_factory: Callable[[Callable[[Event], None]], PjEngine],
        routing: RoutingPort,
        flows: list[IvrFlow],
        prompts: PromptRenderer,
        node_id: str,
        clock: Clock,
        music: Path | None = None,
        queues: Iterable[str] = (),
        report: Report | None = None,
        surveys: Mapping[str, SurveyConfig] | None = None,
        ratings: RatingPort | None = None,
        recording: RecordingConfig | None = None,
        own_addresses: Iterable[str] = (),
        outside_uri: str = "",
        styles: StyleOf = no_style,
        agent_auto_answer: bool = False,
    ) -> None:
        """`agent_auto_answer`: an offer's INVITE asks the agent's phone to answer it
        itself (`[sip] agent_auto_answer`, `offers.auto_answer_headers`)."""
        engine = engine_factory(self._on_engine_event)
        self.flows = flows
        self.music = music
        self.voice = Voice(
            engine=engine,
            routing=routing,
            prompter=Prompter(engine, prompts),
            table=CallTable(),
            clock=clock,
            report=report or (lambda event: None),
            node_id=node_id,
            queues=frozenset(queues),
            styles=styles,
        )
        voice = self.voice
        voice.ivr = IvrController(voice)
        voice.waiting = WaitingController(voice)
        ringing = auto_answer_headers(engine.config.sip_host) if agent_auto_answer else None
        voice.offers = OfferController(voice, ringing)
        voice.callback = CallbackController(voice, outside_uri)
        own = {*node_names(engine.config.sip_host, engine.config.sip_port), *own_addresses}
        voice.transfer = TransferController(voice, own, outside_uri)
        voice.survey = SurveyController(voice, surveys or {}, ratings)
        voice.recording = RecordingController(voice, recording or RecordingConfig())
        voice.monitor = MonitorController(voice)

    # ------------------------------------------------------------------ for the owner
    @property
    def engine(self) -> PjEngine:
        return self.voice.engine

    @property
    def report(self) -> Report:
        return self.voice.report

    @report.setter
    def report(self, report: Report) -> None:
        self.voice.report = report

    @property
    def calls(self) -> dict[int, Call]:
        """Caller leg -> call."""
        return self.voice.table.callers()

    @property
    def by_contact(self) -> dict[str, Call]:
        return self.voice.table.by_contact

    async def start(self) -> None:
        await self.engine.start()
        if self.music is not None:
            await self.engine.set_music_file(str(self.music))
        await asyncio.get_running_loop().run_in_executor(None, self._prerender)

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            if call.script is not None:
                call.script.cancel()
        for task in list(self.voice.tasks):
            task.cancel()
        await asyncio.gather(*self.voice.tasks, return_exceptions=True)
        await self.engine.stop()

    def _prerender(self) -> None:
        """Render the fixed prompts of every flow now, and load the phone number metadata,
        so that the first caller does not wait."""
        voice = self.voice
        make_ringback(voice.prompter.prompts.cache_dir / RINGBACK_FILE)
        surveys = voice.survey.surveys.values()
        for prompt in static_prompts(self.flows, surveys, voice.recording.config):
            voice.prompter.prompts.path(prompt)
        guess_languages("+14155550100", ["en", "fr"])

    # ------------------------------------------------------------------ engine events
    def _on_engine_event(self, event: Event) -> None:
        kind = event["type"]
        if kind == "incoming":
            self._incoming(event)
        elif kind == "played":
            self.voice.prompter.played(event["player"])
        elif kind == "refer":
            self._refer(event)
        elif kind == "loop":
            self.voice.transfer.loop_arrived(int(event["child"]), int(event["leg"]))
        else:
            entry = self.voice.table.get(event.get("leg", -1))
            if entry is not None:
                self._leg_event(kind, event, *entry)
            elif not event.get("deferred"):
                # A phone that answers at once (a softphone's auto-answer) can have its
                # answer here before the coroutine that placed the call has resumed and
                # put the leg in the table (its wake-up is queued behind this batch):
                # look again once that has run. Still unknown then: not ours, dropped.
                event["deferred"] = True
                asyncio.get_running_loop().call_soon(self._on_engine_event, event)

    def _incoming(self, event: Event) -> None:
        voice = self.voice
        call = Call(
            leg=event["leg"],
            caller=caller_customer_id(event["from_user"], event.get("asserted_user", "")),
            contact_uri=event.get("contact", "") or event["from"],
            dialled=event["to_user"],
            flow=flow_for(self.flows, event["to_user"]),
        )
        call.timestamps["arrived"] = voice.clock()
        voice.table.add(call.leg, call, Role.CALLER)
        call.script = voice.spawn(voice.ivr.run(call))

    def _refer(self, event: Event) -> None:
        entry = self.voice.table.get(event["leg"])
        call = entry[0] if entry is not None and entry[1] == Role.AGENT else None
        self.voice.transfer.referred(call, int(event["leg"]), event["target"], int(event["child"]))

    def _leg_event(self, kind: str, event: Event, call: Call, role: Role) -> None:
        voice = self.voice
        leg = int(event["leg"])
        if kind == "media" and role == Role.CALLER:
            call.media.set()
        elif kind == "dtmf" and role == Role.CALLER:
            call.digits.put_nowait(event["digit"])
        elif kind in ("held", "resumed") and role == Role.AGENT:
            voice.spawn(voice.offers.agent_holds(call, leg, kind == "held"))
        elif kind == "answered":
            if role == Role.CALLER:
                call.confirmed.set()
            answered = {
                Role.AGENT: voice.offers.agent_answered,
                Role.CONSULT: voice.transfer.consult_answered,
                Role.OUTSIDE: voice.transfer.outside_answered,
                Role.MONITOR: voice.monitor.answered,
            }.get(role)
            if answered is not None:
                voice.spawn(answered(call, leg))
            elif role == Role.LOOP:
                voice.spawn(voice.transfer.loop_answered(leg))
            elif role == Role.CALLER and call.callback:
                voice.spawn(voice.callback.customer_answered(call))
        elif kind == "hangup":
            voice.table.pop(leg)
            if role == Role.CALLER:
                voice.spawn(voice.offers.caller_gone(call, int(event.get("code", 0))))
            elif role == Role.AGENT:
                voice.spawn(voice.offers.agent_gone(call, leg, int(event.get("code", 0))))
            elif role == Role.CONSULT:
                voice.spawn(voice.transfer.consult_gone(call, leg))
            elif role == Role.OUTSIDE:
                voice.spawn(voice.transfer.outside_gone(call, leg, int(event.get("code", 0))))
            elif role == Role.MONITOR:
                voice.spawn(voice.monitor.gone(call, leg))
            elif role == Role.LOOP:
                voice.spawn(voice.transfer.loop_gone(leg))
            elif role == Role.LEAVING:
                voice.transfer.leaving_gone(call, leg)

    # ------------------------------------------------------------------ router events
    async def handle_router_event(self, event: dict[str, Any]) -> None:
        voice = self.voice
        kind = event.get("type")
        contact_id = str(event.get("contact_id", ""))
        call = voice.table.by_contact.get(contact_id)
        if kind == "offer" and event.get("channel", "voice") == "voice":
            if call is not None:
                await voice.offers.on_offer(call, event)
            elif event.get("callback_uri"):
                await voice.callback.on_offer(event)
            else:
                voice.waiting.hold_early_offer(contact_id, event)
        elif kind == "offer_revoked" and call is not None:
            await voice.offers.revoke(call, str(event.get("agent_id", "")))

    # ------------------------------------------------------------------ node commands
    async def handle_command(self, op: str, args: dict[str, Any]) -> Any:
        """A supervisor's or agent's request for a call of this worker
        (`telephony.pipe.COMMANDS`)."""
        voice = self.voice
        call = voice.table.by_contact.get(str(args.get("contact_id", "")))
        if call is None or call.state == CallState.ENDED:
            raise UnknownCall(f"no live call for contact {args.get('contact_id')!r} here")
        await self._settled(call)
        if op == "transfer":
            if args.get("warm"):
                await voice.transfer.consult(call, str(args["target"]))
            else:
                await voice.transfer.blind(call, str(args["target"]))
            return {"state": call.state.value}
        if op == "complete_transfer":
            await voice.transfer.complete(call)
            return {"state": call.state.value}
        if op == "cancel_transfer":
            await voice.transfer.cancel(call)
            return {"state": call.state.value}
        if op == "record":
            return {"file": await voice.recording.start_by_agent(call)}
        if op == "recording_pause":
            return await voice.recording.pause(call, str(args.get("by", "")))
        if op == "recording_resume":
            return await voice.recording.resume(call, str(args.get("by", "")))
        if op == "hold":
            await voice.offers.desk_holds(call, bool(args.get("on")))
            return {"on_hold": call.held_since is not None}
        if op == "monitor":
            mode = MonitorMode(str(args.get("mode", "listen")))
            leg = await voice.monitor.start(call, str(args["supervisor"]), str(args["uri"]), mode)
            return {"monitor": leg}
        if op == "monitor_mode":
            await voice.monitor.change(call, int(args["monitor"]), MonitorMode(str(args["mode"])))
            return {"monitor": int(args["monitor"]), "mode": str(args["mode"])}
        if op == "monitor_stop":
            await voice.monitor.stop(call, int(args["monitor"]))
            return {"monitor": int(args["monitor"])}
        raise ValueError(f"unknown command {op!r}")

    @staticmethod
    async def _settled(call: Call) -> None:
        """A command may come as the agent picks up, before the router's accept is back
        (the desktop saw the contact connected): wait for that, briefly."""
        deadline = asyncio.get_running_loop().time() + SETTLE_S
        while (
            call.state == CallState.OFFERED
            and call.agent is not None
            and call.agent.picked_up
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(0.02)


# How long a command waits for an accept in flight.
SETTLE_S = 3.0
