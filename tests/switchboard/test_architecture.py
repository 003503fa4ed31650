"""The house rules that keep one home for each thing, checked on the source itself.

- Imports run one way, top to bottom: the shared kernel (`switchboard.common`), then the
  domain packages, then regions and telephony, then the wiring (`switchboard`, and every
  package's `cli.py`); nothing imports sideways or upwards, so there is no cycle.
- Only a package's store modules (`store.py`, `*_store.py`) name a Redis key or call a
  Redis client; everything else goes through them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "regions", "telephony", "forecasting", "scheduler", "i18n", "switchboard")
# The main modules of processes other than the node: wiring, like each package's cli.
ENTRY_POINTS = {"telephony.worker"}

# Lower layers first; a unit may import its own modules and those of lower layers only.
LAYERS = (
    {"kernel"},
    {"router", "forecasting", "scheduler", "i18n"},
    {"regions", "telephony"},
    {"wiring"},
)


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if module == "switchboard.common" or module.startswith("switchboard.common."):
        return "kernel"
    if parts[0] == "switchboard" or parts[-1] == "cli" or module in ENTRY_POINTS:
        return "wiring"
    return parts[0]


def layer_of(unit: str) -> int:
    return next(index for index, units in enumerate(LAYERS) if unit in units)


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((name.removesuffix(".__init__"), path))
    return found


def imports(path: Path) -> list[tuple[int, str]]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append((node.lineno, node.module))
    return names


def test_imports_run_one_way_from_the_wiring_down_to_the_kernel() -> None:
    wrong = []
    for module, path in modules():
        source = unit_of(module)
        assert source is not None
        for line, imported in imports(path):
            target = unit_of(imported)
            if target is None or target == source:
                continue
            if layer_of(target) >= layer_of(source):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {source} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_layer_rule_catches_a_sideways_and_an_upward_import() -> None:
    """The rule above can fail: a domain importing the wiring, and regions importing
    telephony, are both refused."""
    assert layer_of(unit_of("switchboard.settings") or "") > layer_of(unit_of("router.model") or "")
    assert layer_of(unit_of("telephony.pool") or "") == layer_of(unit_of("regions.store") or "")
    assert unit_of("router.cli") == "wiring" and unit_of("switchboard.common.hours") == "kernel"


STORE = re.compile(r"(^|_)store\.py$")
# Connecting to Redis is the wiring's job; the test harness of the kernel starts servers;
# the kernel's batcher sends whatever commands a store gives it, naming no key.
CONNECTION_MODULES = {
    "switchboard/redisconn.py",
    "switchboard/embedded.py",
    "switchboard/common/batching.py",
}
REDIS_CALLS = {
    "hset", "hget", "hgetall", "hmget", "hsetnx", "hdel", "hincrby", "set", "get", "delete",
    "exists", "expire", "pexpire", "incr", "sadd", "srem", "smembers", "zadd", "zrem", "zrange",
    "zrank", "zcard", "zrangebyscore", "zremrangebyscore", "xadd", "xrange", "xrevrange",
    "xlen", "lrange", "rpush", "ltrim", "publish", "pubsub", "pipeline", "fcall",
    "function_load", "register_script", "eval", "evalsha", "ping", "flushall",
}  # fmt: skip
KEY_TEXT = re.compile(r"\{\{rt\}\}|\{(?:self\.)?(?:prefix|tag)\}:")


def redis_uses(path: Path) -> list[str]:
    """Calls of Redis commands on something named like a client, and key names built
    from the prefix, in one module."""
    text = path.read_text(encoding="utf-8")
    found = [
        f"line {n}: builds a key"
        for n, line in enumerate(text.splitlines(), 1)
        if KEY_TEXT.search(line)
    ]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            if node.func.attr in REDIS_CALLS and re.search(r"client|redis|pipe\b", receiver):
                found.append(f"line {node.lineno}: {receiver}.{node.func.attr}()")
    return found


@pytest.mark.parametrize("module,path", modules(), ids=[name for name, _ in modules()])
def test_only_stores_touch_redis(module: str, path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if STORE.search(path.name) or relative in CONNECTION_MODULES:
        return
    assert not redis_uses(path), f"{relative}: {redis_uses(path)}"


def test_the_store_rule_sees_a_client_call_and_a_key(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text('async def f(self):\n    await self.client.hget(f"{self.prefix}:x", "y")\n')
    assert len(redis_uses(leaky)) == 2
