"""The OpenAPI document served at /api/v1/openapi.json, built from a compact table."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_INT = {"type": "integer"}

# (method, path, summary, request body schema or None, auth required)
_OPERATIONS: list[tuple[str, str, str, dict[str, Any] | None, bool]] = [
    ("get", "/healthz", "200 when the node can serve (Redis reachable)", None, False),
    ("get", "/metrics", "Prometheus text: queue depth, EWT, service level, agents", None, False),
    (
        "post",
        "/api/v1/agents/login",
        "Log in; returns a bearer token",
        {
            "type": "object",
            "required": ["agent_id", "password"],
            "properties": {
                "agent_id": _STR,
                "password": _STR,
                "sip_uri": _STR,
                "channels": {
                    "type": "object",
                    "properties": {"voice": _INT, "chat": _INT},
                },
            },
        },
        False,
    ),
    (
        "put",
        "/api/v1/agents/{agent_id}/state",
        "Set an agent's state (its own, or any for supervisors)",
        {
            "type": "object",
            "required": ["state"],
            "properties": {
                "state": {"enum": ["available", "not_ready", "offline"]},
                "reason": _STR,
            },
        },
        True,
    ),
    ("get", "/api/v1/agents", "Agents with state, load, skills", None, True),
    ("get", "/api/v1/agents/{agent_id}", "One agent", None, True),
    ("get", "/api/v1/agents/{agent_id}/events", "WebSocket of the agent's events", None, True),
    (
        "post",
        "/api/v1/contacts",
        "Create a chat contact; returns contact_id and a customer_token",
        {
            "type": "object",
            "required": ["channel", "queue", "language", "customer"],
            "properties": {
                "channel": {"enum": ["chat"]},
                "queue": _STR,
                "language": _STR,
                "customer": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": _STR, "tier": _STR},
                },
                "region": _STR,
                "priority": {"type": "integer", "minimum": 0, "maximum": 9},
            },
        },
        False,
    ),
    (
        "get",
        "/api/v1/contacts/{contact_id}",
        "A contact with state, outcome, explanation",
        None,
        False,
    ),
    ("post", "/api/v1/contacts/{contact_id}/accept", "The offered agent accepts", None, True),
    ("post", "/api/v1/contacts/{contact_id}/decline", "The offered agent declines", None, True),
    ("post", "/api/v1/contacts/{contact_id}/complete", "The agent completes", None, True),
    ("post", "/api/v1/contacts/{contact_id}/abandon", "The customer leaves", None, False),
    (
        "post",
        "/api/v1/contacts/{contact_id}/messages",
        "A chat message, translated for the reader when needed",
        {"type": "object", "required": ["text"], "properties": {"text": _STR}},
        False,
    ),
    ("get", "/api/v1/contacts/{contact_id}/messages", "The chat's messages", None, False),
    ("get", "/api/v1/contacts/{contact_id}/events", "WebSocket for the customer", None, False),
    ("get", "/api/v1/queues", "Every queue: waiting, EWT, service level", None, False),
    ("get", "/api/v1/queues/{queue}", "One queue", None, False),
    ("get", "/api/v1/regions", "Nodes per region with health and load", None, False),
    (
        "post",
        "/api/v1/contacts/{contact_id}/rating",
        "The customer rates a finished chat 1-5 (customer token)",
        {
            "type": "object",
            "required": ["score"],
            "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}},
        },
        False,
    ),
    ("get", "/wallboard", "The supervisors' wallboard page (HTML)", None, False),
    ("get", "/api/v1/wallboard", "Wallboard snapshot: queues, regions, agents, alerts", None, True),
    ("get", "/api/v1/wallboard/events", "Server-sent events of wallboard snapshots", None, True),
]


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body, auth in _OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad request: names the JSON path of the bad field"},
                "404": {"description": "Unknown id"},
                "503": {"description": "State store unreachable; Retry-After given"},
            },
        }
        parameters = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": _STR}
            for part in path.split("/")
            if part.startswith("{")
        ]
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        if auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
