"""The voice use cases of one worker: IVR, waiting, offers, bridging, hang-up outcomes,
and the post-call survey.

`VoiceCalls` reacts to two event streams: the endpoint's (incoming call, digit,
answer, hang-up...) and the router's (`offer`, `offer_revoked` for contacts this
worker created). It owns no pj object; it commands the `PjEngine` by leg number and
talks to routing through `RoutingPort` only (survey ratings through `RatingPort`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from router.model import Channel, NewContact
from router.reports.survey import SurveyConfig, SurveySession, SurveyTurn
from telephony.endpoint import Event, PjEngine, uri_user
from telephony.ivr import IvrSession, flow_for
from telephony.model import Hangup, IvrFlow, Play, Prompt, Route, WaitDigit
from telephony.prompts import PromptRenderer, static_prompts
from telephony.routing import RatingPort, RoutingPort

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


def guess_languages(number: str, supported: list[str]) -> list[str]:
    """Languages likely spoken at this number (i18n's guess; none when it is not there)."""
    try:
        from i18n.language import guess_languages_for_number

        return list(guess_languages_for_number(number, supported))
    except Exception:
        return []


@dataclass
class Call:
    """A caller's call, from INVITE to hang-up, with its agent leg once offered."""

    leg: int
    from_uri: str
    contact_uri: str
    from_user: str
    dialled: str
    flow: IvrFlow | None
    timestamps: dict[str, int] = field(default_factory=dict)
    state: str = "ivr"  # ivr, queued, offered, talking, survey, ended
    contact_id: str = ""
    queue: str = ""
    language: str = "en"
    media: asyncio.Event = field(default_factory=asyncio.Event)
    digits: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    played: dict[int, asyncio.Event] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    agent_leg: int | None = None
    agent_id: str = ""
    agent_answered: bool = False
    revoked: bool = False
    callback: bool = False  # this call is the customer leg of a callback
    customer_answered: bool = True  # False until a called-back customer picks up
    ivr: IvrSession | None = None
    survey: SurveySession | None = None


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
        music: Path | None = None,
        queues: set[str] | None = None,
        report: Callable[[dict[str, Any]], None] | None = None,
        surveys: Mapping[str, SurveyConfig] | None = None,
        ratings: RatingPort | None = None,
    ) -> None:
        self.engine = engine_factory(self._on_engine_event)
        self.routing = routing
        self.flows = flows
        self.prompts = prompts
        self.node_id = node_id
        self.music = music
        self.queues = queues or set()
        self.report = report or (lambda event: None)
        # Post-call survey per queue (`[[surveys]]` with voice = true); none without a store.
        self.surveys = dict(surveys or {}) if ratings is not None else {}
        self.ratings = ratings
        self.calls: dict[int, Call] = {}  # caller leg -> call
        self.by_contact: dict[str, Call] = {}
        self.agent_legs: dict[int, Call] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._early: dict[str, dict[str, Any]] = {}

    async def start(self) -> None:
        await self.engine.start()
        if self.music is not None:
            await self.engine.set_music_file(str(self.music))
        await asyncio.get_running_loop().run_in_executor(None, self._prerender)

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            if call.task is not None:
                call.task.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.engine.stop()

    def _prerender(self) -> None:
        """Render the fixed prompts of every flow now, so the first caller does not wait."""
        for prompt in static_prompts(self.flows, self.surveys.values()):
            self.prompts.path(prompt)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    # ------------------------------------------------------------------ engine events
    def _on_engine_event(self, event: Event) -> None:
        kind = event["type"]
        leg = event.get("leg", -1)
        if kind == "incoming":
            self._incoming(event)
        elif kind == "media":
            call = self.calls.get(leg)
            if call is not None:
                call.media.set()
        elif kind == "dtmf":
            call = self.calls.get(leg)
            if call is not None:
                call.digits.put_nowait(event["digit"])
        elif kind == "played":
            for call in self.calls.values():
                done = call.played.get(event["player"])
                if done is not None:
                    done.set()
        elif kind == "answered":
            agent_call = self.agent_legs.get(leg)
            if agent_call is not None:
                self._spawn(self._agent_answered(agent_call, leg))
            call = self.calls.get(leg)
            if call is not None and call.callback:
                self._spawn(self._customer_answered(call))
        elif kind == "hangup":
            if leg in self.calls:
                self._spawn(self._caller_gone(self.calls.pop(leg), event))
            elif leg in self.agent_legs:
                self._spawn(self._agent_gone(self.agent_legs.pop(leg), leg, event))
        elif kind == "refer":
            agent_call = self.agent_legs.get(leg)
            if agent_call is not None:
                self._spawn(self._transfer(agent_call, event["target"]))

    def _incoming(self, event: Event) -> None:
        arrived = now_ms()
        flow = flow_for(self.flows, event["to_user"])
        call = Call(
            leg=event["leg"],
            from_uri=event["from"],
            contact_uri=event.get("contact", "") or event["from"],
            from_user=event["from_user"],
            dialled=event["to_user"],
            flow=flow,
        )
        call.timestamps["arrived"] = arrived
        self.calls[call.leg] = call
        call.task = self._spawn(self._caller_script(call))

    # ------------------------------------------------------------------ the IVR
    async def _caller_script(self, call: Call) -> None:
        await call.media.wait()
        if call.flow is None:
            await self.engine.hangup(call.leg, 404)
            return
        supported = list(call.flow.languages)
        guessed = await asyncio.get_running_loop().run_in_executor(
            None, guess_languages, call.from_user, supported
        )
        session = IvrSession(call.flow, guessed, datetime.now(UTC))
        call.ivr = session
        call.language = session.language
        actions = session.start()
        while actions:
            following: list[Any] = []
            for action in actions:
                if isinstance(action, Play):
                    digit = await self._play(call, action.prompts, action.collect)
                    if digit is not None:
                        following = session.digit(digit)
                        break
                elif isinstance(action, WaitDigit):
                    digit = await self._next_digit(call, action.timeout_s)
                    following = session.digit(digit) if digit else session.timeout()
                    break
                elif isinstance(action, Route):
                    call.language = action.language
                    try:
                        await self._enqueue(call, action)
                    except asyncio.CancelledError:
                        raise
                    except Exception as error:
                        # Routing unreachable: end the call rather than leave it in silence.
                        log.error("enqueue failed for leg %d: %s", call.leg, error)
                        if not call.contact_id:
                            call.state = "ended"
                            await self.engine.hangup(call.leg, 500)
                    return
                elif isinstance(action, Hangup):
                    call.state = "ended"
                    await self.engine.hangup(call.leg, 200)
                    return
            actions = following

    async def _play(self, call: Call, prompts: tuple[Prompt, ...], collect: bool) -> str | None:
        """Play prompts; with `collect`, a digit interrupts and is returned."""
        if not prompts:
            return None
        loop = asyncio.get_running_loop()
        paths = [str(p) for p in await loop.run_in_executor(None, self._paths, prompts)]
        if collect and not call.digits.empty():
            return call.digits.get_nowait()
        if not collect:
            self._drain(call)
        player = await self.engine.play(call.leg, paths)
        done = asyncio.Event()
        call.played[player] = done
        waits: set[asyncio.Task[Any]] = {loop.create_task(done.wait())}
        digit_task = loop.create_task(call.digits.get()) if collect else None
        if digit_task is not None:
            waits.add(digit_task)
        try:
            finished, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if digit_task is not None and digit_task in finished:
                return digit_task.result()
            return None
        finally:
            for task in waits:
                task.cancel()
            call.played.pop(player, None)
            with contextlib.suppress(Exception):
                await self.engine.stop_play(player)

    def _paths(self, prompts: tuple[Prompt, ...]) -> list[Path]:
        return [self.prompts.path(prompt) for prompt in prompts]

    @staticmethod
    def _drain(call: Call) -> None:
        while not call.digits.empty():
            call.digits.get_nowait()

    @staticmethod
    async def _next_digit(call: Call, timeout_s: float) -> str | None:
        try:
            return await asyncio.wait_for(call.digits.get(), timeout_s)
        except TimeoutError:
            return None

    # ------------------------------------------------------------------ waiting
    async def _enqueue(self, call: Call, route: Route) -> None:
        assert call.flow is not None
        call.timestamps["ivr_done"] = now_ms()
        new = NewContact(
            channel=Channel.VOICE,
            queue=route.queue,
            language=route.language,
            customer_id=call.from_user,
            priority=route.priority,
            region=call.flow.region,
            node=self.node_id,
        )
        if route.skill and "skill" in {f.name for f in dataclasses.fields(NewContact)}:
            new = dataclasses.replace(new, skill=route.skill)  # type: ignore[call-arg]
        contact = await self.routing.create_contact(new)
        call.contact_id = contact.contact_id
        call.queue = contact.queue
        call.timestamps["queued"] = now_ms()
        call.state = "queued"
        self.by_contact[call.contact_id] = call
        self.report(
            {
                "type": "contact_open",
                "contact_id": call.contact_id,
                "leg": call.leg,
                "timestamps": dict(call.timestamps),
            }
        )
        early = self._early.pop(call.contact_id, None)
        if early is not None:
            self._spawn(self.handle_router_event(early))
        await self._play(call, (Prompt("ivr.queued", call.language),), collect=False)
        await self._wait(call)

    async def _wait(self, call: Call) -> None:
        """Music, and every N seconds the position, EWT and the callback offer."""
        assert call.flow is not None
        flow = call.flow
        while call.state == "queued" or call.state == "offered":
            with contextlib.suppress(Exception):
                await self.engine.music(call.leg, True)
            digit = await self._next_digit(call, flow.announce_every_s)
            if call.state not in ("queued", "offered"):
                return
            if digit is None:
                digit = await self._announce(call)
            wants_callback = flow.callback and digit == flow.callback_digit
            if wants_callback and call.state == "queued":
                await self._take_callback(call)
                return

    async def _announce(self, call: Call) -> str | None:
        assert call.flow is not None
        try:
            where = await self.routing.position(call.contact_id)
        except Exception:
            log.exception("position of %s failed", call.contact_id)
            return None
        if call.state != "queued":
            return None
        minutes = max(1, round(float(where.ewt_s) / 60))
        prompts = [
            Prompt(
                "queue.position",
                call.language,
                (("position", int(where.position)), ("minutes", minutes)),
            )
        ]
        if call.flow.callback:
            prompts.append(
                Prompt(
                    "queue.callback_offer", call.language, (("digit", call.flow.callback_digit),)
                )
            )
        return await self._play(call, tuple(prompts), collect=True)

    async def _take_callback(self, call: Call) -> None:
        uri = _plain_uri(call.contact_uri)
        await self.routing.request_callback(call.contact_id, uri)
        call.state = "callback"
        self.by_contact.pop(call.contact_id, None)
        self.report({"type": "contact_closed", "contact_id": call.contact_id})
        await self._play(call, (Prompt("queue.callback_confirmed", call.language),), False)
        await self.engine.hangup(call.leg, 200)

    # ------------------------------------------------------------------ offers
    async def handle_router_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        contact_id = str(event.get("contact_id", ""))
        call = self.by_contact.get(contact_id)
        if kind == "offer" and event.get("channel", "voice") == "voice":
            if call is not None:
                await self._offer(call, event)
            elif event.get("callback_uri"):
                await self._callback_offer(event)
            else:
                # The router may offer before `create_contact` has returned to us.
                self._early[contact_id] = event
                while len(self._early) > 64:
                    self._early.pop(next(iter(self._early)))
        elif (
            kind == "offer_revoked"
            and call is not None
            and call.agent_id == event.get("agent_id")
            and not call.agent_answered
        ):
            call.revoked = True
            if call.agent_leg is not None:
                await self.engine.hangup(call.agent_leg, 487)

    async def _offer(self, call: Call, event: dict[str, Any]) -> None:
        if call.state != "queued":
            return
        call.state = "offered"
        call.agent_id = str(event["agent_id"])
        call.agent_answered = False
        call.revoked = False
        call.timestamps["offered"] = now_ms()
        try:
            leg = await self.engine.call(str(event["sip_uri"]))
        except Exception as error:
            log.warning("calling agent %s failed: %s", call.agent_id, error)
            call.state = "queued"
            with contextlib.suppress(Exception):
                await self.routing.decline(call.contact_id, call.agent_id, reason="unreachable")
            return
        call.agent_leg = leg
        self.agent_legs[leg] = call

    async def _agent_answered(self, call: Call, leg: int) -> None:
        if call.agent_leg != leg or call.revoked or call.state == "ended":
            await self.engine.hangup(leg, 200)
            return
        try:
            await self.routing.accept(call.contact_id, call.agent_id)
        except Exception as error:
            log.info("accept of %s refused (%s): dropping the agent leg", call.contact_id, error)
            call.revoked = True
            await self.engine.hangup(leg, 200)
            return
        call.agent_answered = True
        if call.agent_leg is None and call.state == "queued" and not call.callback:
            # The agent hung up while the router accepted (a decline then finds the contact
            # connected): the conversation is over before it began; end it as a hang-up.
            if call.task is not None:
                call.task.cancel()
            call.state = "talking"
            await self._agent_left(call)
            return
        call.state = "talking"
        call.timestamps["answered"] = now_ms()
        if call.callback:
            # Agent first, then the customer: dial the number left in the queue.
            customer = await self.engine.call(call.contact_uri)
            call.leg = customer
            self.calls[customer] = call
            return
        if call.task is not None:
            call.task.cancel()  # stop any announcement before the bridge
        await self.engine.bridge(call.leg, leg)

    async def _agent_gone(self, call: Call, leg: int, event: Event) -> None:
        if call.agent_leg != leg:
            return
        call.agent_leg = None
        if call.state == "talking":
            await self._agent_left(call)
            return
        if call.state == "offered":
            call.state = "queued"
            if not call.revoked:
                code = int(event.get("code", 0))
                reason = "rejected" if code in (486, 600, 603) else "no_answer"
                with contextlib.suppress(Exception):
                    await self.routing.decline(call.contact_id, call.agent_id, reason=reason)
            if call.callback:
                self.by_contact.pop(call.contact_id, None)
            else:
                self._ensure_waiting(call)

    async def _agent_left(self, call: Call) -> None:
        """The agent hung up a connected call: complete it, then survey or end the call."""
        self._drain(call)  # keys pressed from now on answer the survey
        completed = False
        try:
            await self._finish(call, "agent_hangup")
            completed = True
        finally:
            if completed and self._survey_offered(call):
                call.state = "survey"
                call.task = self._spawn(self._survey(call))
            else:
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call.leg, 200)

    async def _caller_gone(self, call: Call, event: Event) -> None:
        if call.task is not None and not call.callback:
            call.task.cancel()
        state, call.state = call.state, "ended"
        call.timestamps.setdefault("ended", now_ms())
        if state == "survey":
            # The contact was completed when the agent left; leaving the survey rates nothing.
            if call.task is not None:
                call.task.cancel()
            return
        if state in ("queued", "offered"):
            if call.agent_leg is not None:
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call.agent_leg, 487)
            await self.routing.abandon(call.contact_id, reason="caller_hangup")
            self._closed(call, "abandoned")
        elif state == "talking" and not call.customer_answered:
            # A called-back customer who did not pick up: the agent is released.
            if call.agent_leg is not None:
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call.agent_leg, 200)
            await self.routing.fail(call.contact_id, "callback_unanswered")
            self._closed(call, "failed")
        elif state == "talking":
            await self._finish(call, "caller_hangup")
            if call.agent_leg is not None:
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call.agent_leg, 200)

    async def _finish(self, call: Call, why: str) -> None:
        if call.contact_id not in self.by_contact:
            return
        call.state = "ended"
        call.timestamps.setdefault("ended", now_ms())
        await self.routing.complete(call.contact_id, call.agent_id)
        self._closed(call, "completed")

    # ------------------------------------------------------------------ post-call survey
    def _survey_offered(self, call: Call) -> bool:
        """After the agent hung up: is this caller, still on the line, asked to rate?"""
        survey = self.surveys.get(call.queue)
        return (
            survey is not None
            and survey.offered("voice", call.language)
            and call.leg in self.calls
            and call.customer_answered
            and bool(call.contact_id)
        )

    async def _survey(self, call: Call) -> None:
        """Question, one key 1-5 (re-asked after a wrong key), thanks, hang-up.

        The contact is already `completed`; the rating joins it through the rating store.
        Silence or a hang-up leaves it unrated. Timeout and tries follow the call's flow.
        """
        timeout_s = call.flow.digit_timeout_s if call.flow is not None else 6.0
        session = SurveySession(call.language, digit_timeout_s=timeout_s)
        call.survey = session
        turn = session.start()
        try:
            while True:
                digit = await self._play(call, self._survey_prompts(call, turn), not turn.done)
                if turn.done:
                    break
                if digit is None:
                    digit = await self._next_digit(call, turn.wait_digit_s or timeout_s)
                turn = session.digit(digit) if digit else session.timeout()
                if turn.rating is not None:
                    await self._store_rating(call, turn.rating)
        finally:
            if call.state == "survey":
                call.state = "ended"
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call.leg, 200)

    @staticmethod
    def _survey_prompts(call: Call, turn: SurveyTurn) -> tuple[Prompt, ...]:
        return tuple(Prompt(key, call.language) for key in turn.prompts)

    async def _store_rating(self, call: Call, score: int) -> None:
        assert self.ratings is not None
        try:
            stored = await self.ratings.add(call.contact_id, score, Channel.VOICE.value)
        except Exception as error:  # the caller still hears thanks; the node logs why
            log.warning("rating %d of %s not stored: %s", score, call.contact_id, error)
            return
        self.report(
            {"type": "rating", "contact_id": call.contact_id, "score": score, "stored": stored}
        )

    def _closed(self, call: Call, outcome: str) -> None:
        self.by_contact.pop(call.contact_id, None)
        self.report(
            {
                "type": "contact_closed",
                "contact_id": call.contact_id,
                "outcome": outcome,
                "timestamps": call.timestamps,
            }
        )

    # ------------------------------------------------------------------ callbacks, transfer
    async def _callback_offer(self, event: dict[str, Any]) -> None:
        """An offer for a contact whose caller chose a callback: agent first, then customer."""
        contact_id = str(event["contact_id"])
        try:
            contact = await self.routing.get_contact(contact_id)
        except Exception:
            return
        uri = getattr(contact, "callback_uri", "") or str(event.get("callback_uri", ""))
        if not uri:
            return
        call = Call(
            leg=-1,
            from_uri=uri,
            contact_uri=uri,
            from_user=uri_user(uri),
            dialled="",
            flow=None,
            state="queued",
            contact_id=contact_id,
            language=contact.language,
            queue=contact.queue,
            callback=True,
            customer_answered=False,
        )
        self.by_contact[contact_id] = call
        self.report({"type": "contact_open", "contact_id": contact_id, "leg": -1})
        await self._offer(call, event)
        if call.state != "offered":
            self.by_contact.pop(contact_id, None)

    async def _customer_answered(self, call: Call) -> None:
        call.customer_answered = True
        if call.agent_leg is None:
            await self.engine.hangup(call.leg, 200)
            return
        await self.engine.bridge(call.leg, call.agent_leg)

    async def _transfer(self, call: Call, target: str) -> None:
        """Blind transfer asked by the agent (REFER): to a queue by name, else to an agent id."""
        if call.state != "talking":
            return
        name = uri_user(target) or target
        to_queue = name if name in self.queues else None
        to_agent = None if to_queue else name
        old_leg, old_agent = call.agent_leg, call.agent_id
        # Back to waiting before the router hears of it: its next offer may come at once.
        call.state = "queued"
        call.agent_leg = None
        call.agent_answered = False
        if old_leg is not None:
            self.agent_legs.pop(old_leg, None)
        try:
            await self.routing.transfer(
                call.contact_id, old_agent, to_queue=to_queue, to_agent=to_agent
            )
        except Exception as error:
            log.warning("transfer of %s to %s refused: %s", call.contact_id, target, error)
            if call.state == "queued":
                call.state, call.agent_leg, call.agent_answered = "talking", old_leg, True
                if old_leg is not None:
                    self.agent_legs[old_leg] = call
            return
        if to_queue is not None:
            call.queue = to_queue  # the survey (if any) is the last queue's
        if old_leg is not None:
            with contextlib.suppress(Exception):
                await self.engine.hangup(old_leg, 200)
        self._ensure_waiting(call)

    def _ensure_waiting(self, call: Call) -> None:
        """Music and announcements again for a caller back in queue (after RONA, transfer)."""
        if call.callback or call.state not in ("queued", "offered"):
            return
        if call.task is None or call.task.done():
            call.task = self._spawn(self._wait(call))


def _plain_uri(uri: str) -> str:
    """`"A" <sip:x@h:p;ob>` -> `sip:x@h:p`."""
    inner = uri.split("<", 1)[1].split(">", 1)[0] if "<" in uri else uri
    return inner.split(";", 1)[0].strip()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("voice task failed", exc_info=task.exception())
