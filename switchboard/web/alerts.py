"""The wallboard's alerts about cases and chats: cases whose SLA target passed
unanswered, and live chats whose customer's words triggered an emotion escalation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.access import Principal
from switchboard.http.cases import CASES

BREACHES_SHOWN = 200
FLAGGED_SHOWN = 100


async def case_alerts(request: web.Request, principal: Principal) -> list[dict[str, Any]]:
    """Alerts for the wallboard: cases whose SLA target passed unanswered, and chats whose
    customer's words triggered an emotion escalation, in the viewer's scope (the service
    reads past others' until it has its limit of the viewer's, and says when more are left
    out: one more alert says so)."""
    cases = request.app.get(CASES)
    if cases is None:
        return []
    found = []
    breached = await cases.breached_for(principal, BREACHES_SHOWN)
    for case in breached.items:
        late = [t.kind.replace("_", " ") for t in cases.timer_status(case) if t.breached_ms]
        found.append(
            {
                "level": "critical",
                "kind": "sla_breach",
                "queue": case.queue,
                "case_id": case.case_id,
                "message": f"{case.queue}: case {case.case_id[:8]} passed its "
                f"{' and '.join(late)} target ({case.region}, priority {case.priority})",
            }
        )
    if breached.truncated:
        found.append(
            {
                "level": "critical",
                "kind": "sla_breach_more",
                "message": f"more cases passed their targets than the {len(breached.items)} "
                "latest listed here",
            }
        )
    upset = await cases.upset_for(principal, FLAGGED_SHOWN)
    for chat in upset.items:
        contact = chat.contact
        words = ", ".join(dict.fromkeys(w for t in chat.triggers for w in t.get("words", [])))
        found.append(
            {
                "level": "warning",
                "kind": "emotion",
                "queue": contact.queue,
                "contact_id": contact.contact_id,
                "message": f"{contact.queue}: upset customer in chat {contact.contact_id[:8]} "
                f"({contact.state.value}; {words or 'low sentiment'})",
            }
        )
    if upset.truncated:
        found.append(
            {
                "level": "warning",
                "kind": "emotion_more",
                "message": "more customers are upset in live chats than the "
                f"{len(upset.items)} latest listed here",
            }
        )
    return found
