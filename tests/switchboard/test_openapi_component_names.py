"""The published OpenAPI document names each schema as its class is named: two request
bodies of one class name (a contact's and a case's `WrapUp`) made pydantic name them by
module path (`switchboard__http__cases__WrapUp`), which client generators turn into type
names."""

from __future__ import annotations

from switchboard.http.api import API
from switchboard.http.app import FEATURES
from switchboard.http.openapi import document


def test_no_component_name_is_a_module_path() -> None:
    assert FEATURES  # importing the app registers every route
    names = list(document(API.operations)["components"]["schemas"])
    assert names, "the document has components"
    assert [name for name in names if "__" in name] == []
    assert {"CaseWrapUp", "ContactWrapUp"} <= set(names)
