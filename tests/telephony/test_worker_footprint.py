"""A node runs many workers: each must stay small and quick to start."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("aiohttp", "redis", "numpy", "ortools", "argostranslate")


def test_worker_imports_no_http_redis_or_numerics() -> None:
    probe = (
        f"import sys, telephony.worker; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "", f"a worker process imports {loaded}"
