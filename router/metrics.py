"""Prometheus text exposition of queue and agent figures (plain data in, text out)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from router.model import Agent
from router.service import QueueStatus


def _line(name: str, labels: dict[str, str], value: float | None) -> str:
    rendered = ",".join(f'{key}="{_escape(val)}"' for key, val in sorted(labels.items()))
    shown = "NaN" if value is None else repr(float(value))
    return f"{name}{{{rendered}}} {shown}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(statuses: Iterable[QueueStatus], agents: Iterable[Agent], now_ms: int, node: str) -> str:
    lines = [
        "# HELP switchboard_queue_waiting Contacts waiting in the queue.",
        "# TYPE switchboard_queue_waiting gauge",
    ]
    statuses = list(statuses)
    series = [
        ("switchboard_queue_waiting", lambda s: s.waiting),
        ("switchboard_queue_longest_wait_seconds", lambda s: s.longest_wait_s),
        ("switchboard_queue_ewt_seconds", lambda s: s.ewt_s),
        ("switchboard_queue_occupancy", lambda s: s.occupancy),
        ("switchboard_queue_service_level_today", lambda s: s.today.service_level),
        ("switchboard_queue_service_level_30m", lambda s: s.last_30_min.service_level),
        ("switchboard_queue_abandonment_rate_today", lambda s: s.today.abandonment_rate),
        ("switchboard_queue_offered_today", lambda s: s.today.offered),
        ("switchboard_queue_answered_today", lambda s: s.today.answered),
        ("switchboard_queue_abandoned_today", lambda s: s.today.abandoned),
    ]
    for index, (name, value) in enumerate(series):
        if index:
            lines.append(f"# TYPE {name} gauge")
        lines.extend(_line(name, {"queue": s.name, "node": node}, value(s)) for s in statuses)
    by_state = Counter((agent.region, agent.state(now_ms).value) for agent in agents)
    lines.append("# HELP switchboard_agents Agents by region and routing state.")
    lines.append("# TYPE switchboard_agents gauge")
    lines.extend(
        _line("switchboard_agents", {"region": region, "state": state}, count)
        for (region, state), count in sorted(by_state.items())
    )
    return "\n".join(lines) + "\n"
