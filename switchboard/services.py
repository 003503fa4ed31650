"""The service layer on one Redis, composed once: for a node and for one-off commands.

`Node` adds what only a running node has (the event hub, chat translation, placement,
voice); commands such as `agents import`, `users add`, `report` and `privacy retain`
use the same services through `services_for_command`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from router.cases.store import CaseStore
from router.metrics import Metrics
from router.reports.service import Reports
from router.reports.store import RecordStore
from router.service import Router
from router.sessions import Sessions
from router.store import RoutingStore
from router.users_store import UserStore
from switchboard.redisconn import redis_for_command
from switchboard.settings import Settings


@dataclass
class Services:
    store: RoutingStore
    router: Router
    sessions: Sessions
    reports: Reports
    metrics: Metrics

    @classmethod
    def build(cls, client: Any, settings: Settings) -> Services:
        metrics = Metrics(settings.node_id)
        store = RoutingStore(client, settings.redis.key_prefix, observe=metrics.observe_call)
        router = Router(
            store,
            settings.queues,
            node_id=settings.node_id,
            region=settings.region,
            hours={region.name: region.hours for region in settings.regions},
        )
        sessions = Sessions(
            UserStore(client, settings.redis.key_prefix), store, settings.auth, presences=router
        )
        cases = CaseStore(client, settings.redis.key_prefix)
        reports = Reports(RecordStore(store), scrubbers=(cases,))
        return cls(store, router, sessions, reports, metrics)


@contextlib.asynccontextmanager
async def services_for_command(settings: Settings) -> AsyncIterator[Services]:
    """The services on the configured Redis, or the running node's embedded server, or
    an embedded server started just for the command on the same data."""
    async with redis_for_command(settings) as client:
        yield Services.build(client, settings)
