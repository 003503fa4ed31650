"""The OpenAPI 3.1 document, generated from the declared operations and their schemas.

Bodies and query strings come from the pydantic models the handlers validate with
(`model_json_schema`), so the document cannot drift from what is enforced. OpenAPI has
no WebSocket; those operations are GETs answering 101, marked `x-websocket: true`. An
operation for some staff roles only lists them as `x-roles` (`[]`: the chat's customer's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from switchboard.http.api import Auth, Operation
from switchboard.http.idempotency import DESCRIPTION, HEADER, MAX_LENGTH, REPLAYED

_REF = "#/components/schemas/{model}"
_ERROR = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "JSON path of the bad field"},
        "expected": {"type": "string"},
        "found": {},
    },
}
# Answers every operation may give, besides its own.
_COMMON = {
    400: "Bad request: names the field, what was expected and what was found",
    405: "Method not allowed",
    413: "Body too large",
    429: "Too many requests (failed logins, or a client over its budget); Retry-After given",
    503: "State store unreachable; Retry-After given",
}
_SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    Auth.STAFF: [{"bearer": []}],
    Auth.PARTY: [{"bearer": []}, {"customerToken": []}, {"customerTokenQuery": []}],
    Auth.SCRAPE: [{"bearer": []}],
}


def document(operations: Sequence[Operation]) -> dict[str, Any]:
    models = (
        {op.body for op in operations if op.body}
        | {op.query for op in operations if op.query}
        | {op.path_names for op in operations if op.path_names}
    )
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    refs: dict[Any, Any] = {}
    if models:
        keyed, definitions = models_json_schema(
            [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
            ref_template=_REF,
        )
        schemas.update(_json_schema(definitions.get("$defs", {}), _NAMED))
        refs = {model: _json_schema(schema) for (model, _), schema in keyed.items()}
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(
            operation, refs, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard", "version": "1"},
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "customerToken": {"type": "apiKey", "in": "header", "name": "X-Customer-Token"},
                "customerTokenQuery": {"type": "apiKey", "in": "query", "name": "customer_token"},
            },
        },
        "paths": paths,
    }


# pydantic keeps the bounds of a `Field(ge=…, le=…)` laid over an annotated type that
# already has a validator (`Seconds`: `Number`'s finiteness check) under their Python
# names, which no JSON Schema reader knows: a client or validator would drop the bounds.
_KEYWORDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
# Keys whose value maps names to schemas (their keys are names, not keywords), and keys
# whose value is data (a property called `ge`, a default holding one, stays as it is).
_NAMED = "named"
_NAMES = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_DATA = frozenset({"default", "examples", "example", "const", "enum", "required"})


def _json_schema(node: Any, kind: str = "schema") -> Any:
    """A generated schema with pydantic's keywords in JSON Schema's words (`_KEYWORDS`);
    `kind` `_NAMED`: a map of names to schemas."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if kind == _NAMED:
        return {name: _json_schema(schema) for name, schema in node.items()}
    return {
        _KEYWORDS.get(key, key): (
            value if key in _DATA else _json_schema(value, _NAMED if key in _NAMES else "schema")
        )
        for key, value in node.items()
    }


def _operation(
    operation: Operation, refs: dict[Any, Any], schemas: dict[str, Any]
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "summary": operation.summary,
        "operationId": _operation_id(operation),
        "responses": _responses(operation),
    }
    named = schemas.get(operation.path_names.__name__, {}) if operation.path_names else {}
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": named.get("properties", {}).get(name, {"type": "string"}),
        }
        for name in re.findall(r"\{(\w+)\}", operation.path)
    ]
    if operation.query is not None:
        schema = schemas.get(operation.query.__name__, {})
        required = set(schema.get("required", []))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
        ]
    if operation.websocket or operation.stream:
        parameters.append(
            {
                "name": "token",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "the bearer token, where a browser cannot send headers",
            }
        )
    if operation.idempotent:
        parameters.append(_IDEMPOTENCY_KEY)
    if parameters:
        answer["parameters"] = parameters
    if operation.body is not None:
        answer["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[operation.body]}},
        }
    if operation.auth in _SECURITY:
        answer["security"] = _SECURITY[operation.auth]
    if operation.websocket:
        answer["x-websocket"] = True
    if operation.roles is not None:  # staff of another role: 403 before the body is read
        answer["x-roles"] = [role.value for role in operation.roles]
    return answer


def _implied(operation: Operation) -> dict[int, str]:
    """Answers that follow from the operation's shape: who may call it, whether it names
    a resource in its path, whether it changes state."""
    implied: dict[int, str] = {}
    if operation.auth != Auth.PUBLIC:
        implied[401] = ""
        implied[403] = ""
    if "{" in operation.path:
        implied[404] = ""
        if operation.method in ("POST", "PUT"):
            implied[409] = ""
    return implied


def _responses(operation: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    described = {**_COMMON, **_implied(operation), **operation.responses}
    if operation.idempotent:  # its own answers, besides the route's
        for status, text in _IDEMPOTENT.items():
            found = described[status] or _DEFAULT.get(status, "") if status in described else ""
            described[status] = f"{found}; {text}" if found else text
    for status, description in described.items():
        entry: dict[str, Any] = {"description": description or _DEFAULT.get(status, "")}
        if status >= 400:
            entry["content"] = {"application/json": {"schema": _ERROR}}
        elif status == 200 and operation.stream:
            entry["content"] = {operation.stream: {"schema": {"type": "string"}}}
        elif status in (200, 201):
            entry["content"] = {operation.content: {"schema": {}}}
        if operation.idempotent and 200 <= status < 300:
            entry["headers"] = {REPLAYED: _REPLAYED_HEADER}
        responses[str(status)] = entry
    return responses


# `idempotent` operations (switchboard.http.idempotency).
_IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "pattern": "^[!-~]+$"},
    "description": DESCRIPTION,
}
_IDEMPOTENT = {
    409: f"a request with this {HEADER} is still running",
    422: f"this {HEADER} came with another request (another body or route)",
}
_REPLAYED_HEADER = {
    "description": "`true` when this is the stored first answer to the key",
    "schema": {"type": "string", "enum": ["true"]},
}

_DEFAULT = {
    401: "No valid credentials",
    403: "The caller's relationship with this contact, agent or queue does not allow it",
    404: "Unknown id",
    409: "The contact's state does not allow it",
    429: "Too many failed logins; Retry-After given",
}


def _operation_id(operation: Operation) -> str:
    words = re.sub(r"[{}]", "", operation.path).strip("/").replace("/", "_").replace("-", "_")
    return f"{operation.method.lower()}_{words or 'root'}"
