"""A queue's fields have one validator (`QueueDefinition`) and one set of defaults
(`QueueConfig`, filled in by `router.definitions.queue_from`), for the node's file and the
admin API alike: a queue the file defines GETs back in a body that a PUT takes unchanged,
and a file value beyond the API's bounds is a fault naming the file's key (it loaded
before, and its GET body then came back 400)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from router.definitions import agent_capacity, queue_from
from router.model import QueueConfig, Role
from switchboard.common.errors import ConfigError
from switchboard.http.schemas import QueueDefinition
from switchboard.settings import load_settings
from tests.nodes import ROOT, http_session, login, running_node

NODE = '[node]\nid = "n1"\nregion = "default"\n[[regions]]\nname = "default"\ntimezone = "UTC"\n'


def queue_file(tmp_path: Path, **fields: Any) -> Path:
    """A node's file of one queue `q` with `fields` (TOML values as Python writes them)."""
    lines = [f"{key} = {_toml(value)}" for key, value in fields.items()]
    path = tmp_path / "node.toml"
    path.write_text(NODE + '[[queues]]\nname = "q"\n' + "\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return repr(value).lower() if isinstance(value, bool) else repr(value)


def file_takes(tmp_path: Path, field: str, value: Any) -> bool:
    try:
        load_settings(queue_file(tmp_path, **{field: value}))
    except ConfigError:
        return False
    return True


def api_takes(field: str, value: Any) -> bool:
    try:
        QueueDefinition.model_validate({field: value})
    except ValidationError:
        return False
    return True


PROBES = (-1, 0, 0.5, 1, 5, 6, 10, 11, 100, 101, 120, 121, 600, 601, 86_400, 86_401, "x y")


@pytest.mark.parametrize(
    "field", [name for name in QueueDefinition.model_fields if name != "overflow_queue"]
)
def test_the_file_takes_what_the_api_takes(tmp_path: Path, field: str) -> None:
    """Each field at and past each bound the API has: the file refuses exactly what the
    API refuses (`overflow_queue` must also name a queue of the file: not probed)."""
    probes = (
        [["en"], ["en", "es-MX"], ["xx"]]
        if field == "fallback_languages"
        else ["longest_idle", "fastest"]
        if field == "strategy"
        else [*PROBES, "sales"]
    )
    differ = [v for v in probes if file_takes(tmp_path, field, v) != api_takes(field, v)]
    assert not differ, f"{field}: the file and the API disagree on {differ}"


def test_a_file_value_beyond_the_apis_bound_is_a_fault_naming_its_key(tmp_path: Path) -> None:
    path = queue_file(tmp_path, priority=150, ring_s=900, min_proficiency=6, skill="a b")
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    lines = str(refused.value).splitlines()
    assert f"{path}: queues[0].priority: expected an integer >= 0 and <= 100, found 150" in lines
    assert f"{path}: queues[0].ring_s: expected a number >= 1 and <= 600, found 900" in lines
    assert f"{path}: queues[0].min_proficiency: expected an integer >= 1 and <= 5, found 6" in lines
    assert any(line.startswith(f"{path}: queues[0].skill: expected a name of") for line in lines)


def test_the_defaults_are_the_queues_own_and_the_nodes(tmp_path: Path) -> None:
    """A queue the file defines by its name alone is the one an admin's PUT of `{}` makes:
    `QueueConfig`'s defaults, its name as skill, and `[routing].offer_timeout_s`."""
    path = queue_file(tmp_path)
    path.write_text(path.read_text() + "[routing]\noffer_timeout_s = 25\n")
    from_file = load_settings(path).queues[0]
    from_api = queue_from("q", QueueDefinition().model_dump(exclude_unset=True), 25.0)
    assert from_file == from_api == QueueConfig(name="q", skill="q", ring_s=25.0)
    # what the OpenAPI document shows as each field's default is what is applied
    shown = QueueDefinition().model_dump()
    applied = from_api.as_json()
    assert {key: shown[key] for key in shown if key not in ("skill", "ring_s")} == {
        key: applied[key] for key in shown if key not in ("skill", "ring_s")
    }
    assert agent_capacity(5) == {"voice": 1, "chat": 5}
    assert agent_capacity(5, {"voice": 0}) == {"voice": 0, "chat": 5}


async def test_a_file_queues_get_body_puts_back_unchanged(redis_url: str, tmp_path: Path) -> None:
    """Over HTTP on a real node: every queue of the shipped file, and one at the API's
    bounds, GETs back in a body that the PUT takes and that leaves it as it was."""
    text = (ROOT / "config" / "default.toml").read_text()
    edge = (
        '[[queues]]\nname = "edge"\npriority = 100\nring_s = 600\nmin_proficiency = 5\n'
        "answer_within_s = 86400\nmax_wait_s = 86400\ncallback_attempts = 10\n"
        'short_abandon_s = 120\nfallback_languages = ["en", "es-MX", "es"]\n'
    )
    path = tmp_path / "node.toml"
    path.write_text(text + "\n" + edge)
    settings = load_settings(path)
    admin = [("adm", Role.ADMIN, "admin-secret-1")]
    async with (
        running_node(redis_url, path, users=admin) as node,
        http_session(node) as http,
    ):
        adm = await login(http, "adm", "admin-secret-1")
        for queue in settings.queues:
            url = f"/api/v1/admin/queues/{queue.name}"
            body = await (await http.get(url, headers=adm)).json()
            put = await http.put(url, json=body, headers=adm)
            assert put.status == 200, (queue.name, await put.text())
            assert await (await http.get(url, headers=adm)).json() == body
            assert node.router.queues[queue.name] == dataclasses.replace(queue)
