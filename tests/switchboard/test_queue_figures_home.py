"""A queue's live figures have one home, `router/queue_view.py` over `Router`: the queue
API and the wallboard page ask there. Checked on the source, as test_architecture does:
the JSON API imports no page module, no page or queue handler reads the routing store,
and the "last 30 min" window and the occupied states are written once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The modules that show queue figures (the page and the queue API).
SHOWING = [
    *sorted((ROOT / "switchboard" / "web").glob("*.py")),
    ROOT / "switchboard/http/regions.py",
]


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_json_api_imports_no_page_module() -> None:
    """The routes' composition (app.py) mounts the page; no handler computes with it."""
    handlers = sorted((ROOT / "switchboard" / "http").glob("*.py"))
    wrong = [
        path.name
        for path in handlers
        if path.name != "app.py" and "switchboard.web.wallboard" in imported(path)
    ]
    assert not wrong


def test_no_page_or_queue_handler_reads_the_routing_store() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in SHOWING
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "store"
    ]
    assert not wrong


def test_the_recent_window_and_the_occupied_states_are_written_once() -> None:
    sources = [
        path.read_text(encoding="utf-8")
        for package in ("router", "switchboard", "regions")
        for path in (ROOT / package).rglob("*.py")
    ]
    windows = sum(len(re.findall(r"\b1_?800_?000\b", text)) for text in sources)
    occupied = sum(
        len(re.findall(r"AgentState\.BUSY,\s*AgentState\.RESERVED[)}]", text)) for text in sources
    )
    assert (windows, occupied) == (1, 1)
