"""The node's aiohttp application: every declared operation, the middlewares, the access log."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from yarl import URL

from regions.service import Regions
from router.admin import Administration
from router.advisories.service import Advisories
from router.agents import Agents
from router.calls import LiveCalls
from router.cases.service import Cases
from router.cases.webhooks import WebhookDelivery
from router.contacts import Contacts
from router.desk import DeskConfig
from router.events import EventHub
from router.metrics import Metrics
from router.reports.service import Reports
from router.service import Router
from router.sessions import Sessions
from switchboard.http import admin as admin_api
from switchboard.http import advisories as advisories_api
from switchboard.http import agents as agents_api
from switchboard.http import calls as calls_api
from switchboard.http import cases as cases_api
from switchboard.http import chat as chat_api
from switchboard.http import contacts as contacts_api
from switchboard.http import desk as desk_api
from switchboard.http import health as health_api
from switchboard.http import regions as regions_api
from switchboard.http import reports as reports_api
from switchboard.http import webhooks as webhooks_api
from switchboard.http.api import API
from switchboard.http.base import (
    ADMIN,
    AGENTS,
    BACKGROUND,
    CALLS,
    CONTACTS,
    DESK,
    HUB,
    METRICS,
    METRICS_OPEN_TO,
    NODE_ID,
    PARSER_REFUSED,
    REGIONS,
    REPORTS,
    ROUTER,
    SCRAPE_TOKEN,
    SESSIONS,
    STREAM_ROUTES,
    TRUSTED_PROXIES,
    Network,
    cancel_background,
    json_errors,
    measured,
    redis_outage,
)
from switchboard.http.idempotency import IDEMPOTENCY
from switchboard.http.idempotency_store import IdempotencyStore
from switchboard.http.public import (
    BUDGET,
    PUBLIC_CONCURRENCY,
    PUBLIC_GATE,
    RequestBudget,
    cross_origin,
    request_budget,
)
from switchboard.http.streams import OPEN_SOCKETS, close_open_sockets
from switchboard.logs import escape_controls
from switchboard.settings import RoutingConfig
from switchboard.web import pages as pages_web
from switchboard.web import wallboard as wallboard_page

# Importing a feature module declares its operations on API.
FEATURES = (
    admin_api,
    advisories_api,
    agents_api,
    calls_api,
    cases_api,
    chat_api,
    contacts_api,
    desk_api,
    health_api,
    pages_web,
    regions_api,
    reports_api,
    wallboard_page,
    webhooks_api,
)

MAX_BODY_BYTES = 256 * 1024
# Query parameters whose value is a credential: an agent's or customer's token, a signed
# identity (the chat page's `?identity=`).
SECRET_PARAMETERS = frozenset({"token", "customer_token", "identity"})


def redact(path_qs: str) -> str:
    """A request target percent-decoded, so that the masking filter sees phone numbers as
    they are (`%2B34…` is `+34…`), with its tokens and signed identity hidden. The query
    is parsed as the handlers read it (`request.query`), so a parameter is hidden by its
    decoded name: `?%74oken=…` is the `token` a handler reads, and is hidden too."""
    path, question, query_string = path_qs.partition("?")
    if not question:
        return unquote(path)
    try:
        query = URL.build(query_string=query_string, encoded=True).query
    except ValueError:  # no query the handlers could read either: hide it whole
        return f"{unquote(path)}?[redacted]"
    parameters = "&".join(
        f"{name}={'[redacted]' if _secret(name) else value}" for name, value in query.items()
    )
    return f"{unquote(path)}?{parameters}"


def _secret(name: str) -> bool:
    """A credential's parameter, also in another case or encoded once more (`%2574oken`):
    no handler reads those, but the value may still be a client's token."""
    for _ in range(3):
        if name.strip().lower() in SECRET_PARAMETERS:
            return True
        name = unquote(name)
    return False


class AccessLogger(AbstractAccessLogger):
    """One line per request, tokens in query strings replaced by [redacted]. What the
    client sent is written with its control characters escaped (`%0a` in a path is
    `\\n`, not a line break), so a request cannot add a line of its own to the log. A
    request the parser refused has its own line (`runner.RefusingProtocol`) instead."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.get(PARSER_REFUSED):  # logged as a warning already, once
            return
        self.logger.info(
            '%s "%s %s" %s %.1fms',
            escape_controls(str(request.remote)),
            escape_controls(request.method),
            escape_controls(redact(request.path_qs)),
            response.status,
            time * 1000,
        )


def build_app(
    *,
    router: Router,
    contacts: Contacts,
    agents: Agents,
    sessions: Sessions,
    reports: Reports,
    regions: Regions,
    hub: EventHub,
    metrics: Metrics,
    admin: Administration,
    desk: DeskConfig,
    node_id: str,
    scrape_token: str = "",
    cases: Cases | None = None,
    webhooks: WebhookDelivery | None = None,
    advisories: Advisories | None = None,
    calls: LiveCalls | None = None,
    routing: RoutingConfig | None = None,
    trusted_proxies: tuple[Network, ...] = (),
    metrics_open_to: tuple[Network, ...] = (),
    public_concurrency: int = PUBLIC_CONCURRENCY,
) -> web.Application:
    # Outermost first. An unreachable Redis is answered (503) inside `json_errors`, which
    # turns every other failure into its JSON answer (an unforeseen one: a JSON 500).
    app = web.Application(
        middlewares=[measured, cross_origin, request_budget, json_errors, redis_outage],
        client_max_size=MAX_BODY_BYTES,
    )
    app[METRICS] = metrics
    app[ADMIN] = admin
    app[DESK] = desk
    app[TRUSTED_PROXIES] = trusted_proxies
    app[METRICS_OPEN_TO] = metrics_open_to
    app[BUDGET] = RequestBudget(desk.public_requests_per_minute)
    app[PUBLIC_GATE] = asyncio.Semaphore(public_concurrency)
    app[BACKGROUND] = set()
    app.on_cleanup.append(cancel_background)
    app[OPEN_SOCKETS] = set()
    app.on_shutdown.append(close_open_sockets)  # a stopping node's WebSockets: 1001 at once
    app[ROUTER] = router
    app[IDEMPOTENCY] = IdempotencyStore(router.store.client, router.store.prefix)
    app[CONTACTS] = contacts
    app[CALLS] = calls or LiveCalls(contacts)
    app[AGENTS] = agents
    app[SESSIONS] = sessions
    app[REPORTS] = reports
    app[REGIONS] = regions
    app[HUB] = hub
    app[NODE_ID] = node_id
    app[SCRAPE_TOKEN] = scrape_token
    if routing is not None:
        app[admin_api.ROUTING] = routing
    if cases is not None:
        app[cases_api.CASES] = cases
    if webhooks is not None:
        app[webhooks_api.WEBHOOKS] = webhooks
    if advisories is not None:
        app[advisories_api.ADVISORIES] = advisories
    app.on_response_prepare.append(pages_web.deny_framing)
    app.add_routes(API.routes)
    app[STREAM_ROUTES] = frozenset(
        (op.method, op.path) for op in API.operations if op.websocket or op.stream
    )
    return app
