"""The served OpenAPI document is OpenAPI 3.1 and its schemas speak JSON Schema: an
integrator's probe (its finding 10) found `QueueDefinition`'s seconds bounded by `ge`/`le`,
pydantic's names, which a generated client or validator ignores (the bounds were lost).
The document is checked against the OpenAPI 3.1 schema (the one schemathesis ships, run
by jsonschema_rs, both in the dev install), and every key of every schema object in it
against the JSON Schema 2020-12 vocabulary OpenAPI 3.1 uses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from switchboard.http.openapi import _json_schema
from switchboard.node import Node
from tests.nodes import http_session, running_node

# JSON Schema 2020-12 (core, applicator, unevaluated, validation, meta-data, format,
# content) and OpenAPI 3.1's own Schema Object fields; `x-` extensions besides.
JSON_SCHEMA_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary",
        "$comment", "$defs", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        "dependentSchemas", "prefixItems", "items", "contains", "properties",
        "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
        "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum",
        "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
        "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired", "title",
        "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
        "format", "contentEncoding", "contentMediaType", "contentSchema",
        "discriminator", "xml", "externalDocs", "example",
    }
)  # fmt: skip
_ONE = ("items", "contains", "not", "if", "then", "else", "additionalProperties",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema")  # fmt: skip
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "dependentSchemas")


def subschemas(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(place, schema object) of `schema` and of every schema inside it."""
    if not isinstance(schema, dict):
        return  # `true` / `false`
    yield where, schema
    for key in _ONE:
        if key in schema:
            yield from subschemas(schema[key], f"{where}.{key}")
    for key in _MANY:
        for index, item in enumerate(schema.get(key, [])):
            yield from subschemas(item, f"{where}.{key}[{index}]")
    for key in _NAMED:
        for name, item in schema.get(key, {}).items():
            yield from subschemas(item, f"{where}.{key}.{name}")


def schema_objects(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object of an OpenAPI document: components, parameters, bodies,
    answers and their headers."""
    for name, schema in document["components"]["schemas"].items():
        yield from subschemas(schema, f"components.schemas.{name}")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            at = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield from subschemas(parameter["schema"], f"{at} {parameter['name']}")
            for kind, media in operation.get("requestBody", {}).get("content", {}).items():
                yield from subschemas(media["schema"], f"{at} body {kind}")
            for status, answer in operation["responses"].items():
                for kind, media in answer.get("content", {}).items():
                    yield from subschemas(media["schema"], f"{at} {status} {kind}")
                for header, spec in answer.get("headers", {}).items():
                    yield from subschemas(spec["schema"], f"{at} {status} {header}")


@pytest.fixture
async def node(redis_url: str) -> AsyncIterator[Node]:
    async with running_node(redis_url) as node:
        yield node


@pytest.fixture
async def served(node: Node) -> dict[str, Any]:
    async with http_session(node) as http:
        answer = await http.get("/api/v1/openapi.json")
        assert answer.status == 200
        document: dict[str, Any] = await answer.json()
        return document


async def test_every_schema_keyword_is_json_schemas(served: dict[str, Any]) -> None:
    strange = [
        f"{where}: {key}"
        for where, schema in schema_objects(served)
        for key in schema
        if key not in JSON_SCHEMA_KEYWORDS and not key.startswith("x-")
    ]
    assert not strange, strange


async def test_the_queue_definitions_seconds_keep_their_bounds(served: dict[str, Any]) -> None:
    fields = served["components"]["schemas"]["QueueDefinition"]["properties"]
    assert fields["answer_within_s"]["minimum"] == 0
    assert fields["answer_within_s"]["maximum"] == 86_400
    [number, _] = fields["max_wait_s"]["anyOf"]
    assert (number["minimum"], number["maximum"]) == (0, 86_400)
    # pydantic's own form of the same bounds is unchanged
    assert fields["service_level_target"]["maximum"] == 1


async def test_the_document_is_openapi_3_1(served: dict[str, Any]) -> None:
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.Draft202012Validator(definitions.OPENAPI_31)
    errors = [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(served)]
    assert not errors, errors[:10]


def test_pydantics_bound_names_become_json_schemas_and_data_stays() -> None:
    """A property named `ge`, a default or an example holding one, stay as they are."""
    schema = {
        "type": "object",
        "properties": {"ge": {"type": "number", "ge": 0, "lt": 5}},
        "default": {"ge": 1},
        "examples": [{"le": 2}],
        "anyOf": [{"gt": 1, "le": 9}],
    }
    assert _json_schema(schema) == {
        "type": "object",
        "properties": {"ge": {"type": "number", "minimum": 0, "exclusiveMaximum": 5}},
        "default": {"ge": 1},
        "examples": [{"le": 2}],
        "anyOf": [{"exclusiveMinimum": 1, "maximum": 9}],
    }
