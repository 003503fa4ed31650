"""What every call controller of a worker shares: the engine, the router, the prompts,
the call table, the clock, and each other.

`VoiceCalls` builds one `Voice` and the controllers on it; a controller reaches another
through it (`self.voice.waiting.resume(call)`), so each stays a small class with one job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telephony.calls.call import Call, CallTable
from telephony.calls.prompter import Prompter
from telephony.endpoint import EngineError, PjEngine
from telephony.ivr import IvrStyle
from telephony.routing import RoutingPort
from telephony.style import no_style

if TYPE_CHECKING:
    from telephony.calls.callback import CallbackController
    from telephony.calls.menus import IvrController
    from telephony.calls.monitor import MonitorController
    from telephony.calls.offers import OfferController
    from telephony.calls.recording import RecordingController
    from telephony.calls.survey import SurveyController
    from telephony.calls.transfer import TransferController
    from telephony.calls.waiting import WaitingController

log = logging.getLogger(__name__)

Clock = Callable[[], int]  # milliseconds since the epoch
Report = Callable[[dict[str, Any]], None]
StyleOf = Callable[[str, str], IvrStyle]  # (region, language) -> how the IVR speaks


@dataclass
class Voice:
    engine: PjEngine
    routing: RoutingPort
    prompter: Prompter
    table: CallTable
    clock: Clock
    report: Report
    node_id: str
    queues: frozenset[str]
    styles: StyleOf = no_style
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # The controllers, set once by VoiceCalls.
    ivr: IvrController = field(init=False)
    waiting: WaitingController = field(init=False)
    offers: OfferController = field(init=False)
    callback: CallbackController = field(init=False)
    transfer: TransferController = field(init=False)
    survey: SurveyController = field(init=False)
    recording: RecordingController = field(init=False)
    monitor: MonitorController = field(init=False)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """A task of this worker: kept until done, cancelled at stop, its failure logged."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    async def hangup(self, leg: int | None, code: int = 200) -> None:
        """Hang a leg up; one already gone is fine (its own hang-up event says so)."""
        if leg is None:
            return
        try:
            await self.engine.hangup(leg, code)
        except EngineError as error:
            log.debug("hang-up of leg %d: %s", leg, error)

    def released(self, call: Call) -> None:
        """The worker lets the contact go without an outcome (a caller who chose a
        callback, a callback offer that did not ring): the node no longer ties it to this
        worker, and counts no call for it."""
        self.table.release(call)
        self.report({"type": "contact_released", "contact_id": call.contact_id})

    def closed(self, call: Call, outcome: str) -> None:
        """The contact has its outcome: the node stops tracking it for this worker."""
        self.table.release(call)
        self.report(
            {
                "type": "contact_closed",
                "contact_id": call.contact_id,
                "outcome": outcome,
                "timestamps": call.timestamps,
            }
        )


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("voice task failed", exc_info=task.exception())
