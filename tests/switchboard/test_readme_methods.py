"""What the README says a route answers, it answers: "`GET|PUT|DELETE
/api/v1/admin/queues/{queue}` …, `/api/v1/admin/agents/{agent}`" read as a GET of an
agent's definition, which answered 405 (an integrator's probe, its finding 8).
`test_readme.py` checks every path is a route; this checks every method named with one."""

from __future__ import annotations

import re

from switchboard.http.api import API
from switchboard.http.app import FEATURES
from tests.switchboard.test_readme import README, route_of

assert FEATURES  # every route declared

METHODS = "GET|PUT|POST|PATCH|DELETE"
# `GET /api/v1/audit`, `GET|PUT|DELETE /api/v1/admin/queues/{queue}`
NAMED = re.compile(rf"`((?:{METHODS})(?:\|(?:{METHODS}))*) (/api/v1/[^`\s]+)`")


def test_the_readme_names_methods_with_routes() -> None:
    assert len(NAMED.findall(README)) >= 10


def test_every_method_the_readme_names_is_a_routes() -> None:
    declared = {(op.method, op.path) for op in API.operations}
    named = {
        (method, route_of(path.split("?")[0]))
        for methods, path in NAMED.findall(README)
        for method in methods.split("|")
    }
    assert named - declared == set()


def test_the_admin_routes_for_agents_and_users_are_named_with_their_methods() -> None:
    for route in ("/api/v1/admin/agents/{agent}", "/api/v1/admin/users/{user}"):
        assert f"`PUT|DELETE {route}`" in README
        assert ("GET", route) not in {(op.method, op.path) for op in API.operations}
