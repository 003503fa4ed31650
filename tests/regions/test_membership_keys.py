"""The membership store names each of its keys once (a key method each), as every other
store does: a key spelled twice can drift. Checked on the source; the keys' names are
what tests/regions/test_stop_not_down.py and test_outage.py read on the real Redis."""

from __future__ import annotations

import re
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "regions" / "store.py"


def test_each_membership_key_is_built_once() -> None:
    built = re.findall(r"\{self\.prefix\}:(\w+)", STORE.read_text(encoding="utf-8"))
    assert sorted(built) == sorted(set(built)) == ["adopt", "adoptions", "node", "nodes"]
