"""Cases composed into a node: the case service hooked into contact creation and chat
messages, emotion reactions, the timer task, the routing-event follower and webhooks;
and disruption advisories, which warn customers through the same webhook outbox and
see every new contact after the cases do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from i18n.chinese import for_reader
from i18n.language import match_language
from i18n.pages import reading_tag
from router.advisories.model import Readers
from router.advisories.service import Advisories
from router.advisories.store import AdvisoryStore
from router.cases.config import read_case_settings
from router.cases.emotion import Emotions
from router.cases.model import CaseSettings
from router.cases.reactions import EmotionReactions
from router.cases.service import Cases
from router.cases.store import CaseStore
from router.cases.webhooks import WebhookDelivery
from router.contacts import Contacts
from router.events import EventHub
from router.model import LoopFailed, uncounted
from router.reports.service import Reports
from router.service import Router
from scheduler.staffing import agents_needed
from switchboard.settings import Settings

log = logging.getLogger(__name__)


def read_settings(settings: Settings) -> CaseSettings:
    """The file's case sections, faults in the file's list (reported with the rest)."""
    hours = {region.name: region.hours for region in settings.regions}
    return read_case_settings(settings.reader, hours, [queue.name for queue in settings.queues])


@dataclass
class Casework:
    cases: Cases
    webhooks: WebhookDelivery
    advisories: Advisories

    @classmethod
    def build(
        cls,
        client: Any,
        settings: Settings,
        case_settings: CaseSettings,
        router: Router,
        contacts: Contacts,
        hub: EventHub,
        reports: Reports,
    ) -> Casework:
        store = CaseStore(client, settings.redis.key_prefix)
        cases = Cases(
            store,
            router,
            case_settings,
            hub,
            audit=reports,
            node_id=settings.node_id,
            dispositions=contacts.desk.disposition,  # a case's wrap-up codes, as a contact's
            redactor=contacts.chat.redactor,  # notes masked and counted as messages are
        )
        emotion = case_settings.emotion
        if emotion is not None:
            emotions = Emotions(emotion.lexicons, emotion.always)
            cases.reactions = EmotionReactions(emotions, emotion, router, store, hub, cases)
        router.add_intake(cases)
        contacts.observer = cases
        reports.observer = cases  # wrap-ups and ratings, for the webhooks
        webhooks = WebhookDelivery(store, case_settings.webhooks, node_id=settings.node_id)
        advisories = Advisories(
            AdvisoryStore(client, settings.redis.key_prefix),
            router,
            contacts,
            cases,
            hub,
            # the pages' and chats' language rules; Cantonese reads written Chinese
            Readers(match_language, for_reader, reading_tag),
            staffing=agents_needed,
            audit=reports,
        )
        router.add_intake(advisories)  # after the cases: a boost adds to a case's priority
        webhooks.observer = advisories  # counts its warnings' deliveries
        return cls(cases, webhooks, advisories)

    def tasks(
        self, hub: EventHub, stop: asyncio.Event, failed: LoopFailed = uncounted
    ) -> list[Coroutine[Any, Any, None]]:
        """What runs while the node runs: timers, the routing-event follower, webhooks."""
        work = [self.cases.run_timers(stop, failed), self._follow(hub, stop)]
        if self.webhooks.webhooks:
            work.append(self.webhooks.run(stop))
        return work

    async def _follow(self, hub: EventHub, stop: asyncio.Event) -> None:
        """Answered calls, owners and ended contacts, from the routing events."""
        async with hub.listen() as events:
            while not stop.is_set():
                event = await events.get()
                try:
                    await self.cases.routing_event(event)
                except Exception as failure:  # Redis down: the next event may pass
                    log.warning("case follow-up of %s failed: %s", event.get("type"), failure)
