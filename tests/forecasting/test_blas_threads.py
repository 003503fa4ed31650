"""A process that forecasts runs numpy's BLAS on one thread (forecasting/__init__.py):
where another process holds a core, OpenBLAS's extra thread spins for it and a forecast
takes up to seven times as long (docs/forecasting.md, "Measured"). An operator who sets
the thread count in the environment keeps it."""

from __future__ import annotations

import os
import subprocess
import sys

from threadpoolctl import threadpool_info

from forecasting import THREAD_VARIABLES

SHOW_THREADS = (
    "import forecasting\n"
    "from threadpoolctl import threadpool_info\n"
    "print(sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))"
)


def _blas_threads_in_new_process(**variables: str) -> str:
    """What a fresh interpreter (as `switchboard forecast` starts) has after the import."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES} | variables
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_THREADS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return shown.stdout.strip()


def test_importing_forecasting_leaves_every_blas_on_one_thread() -> None:
    import forecasting  # noqa: F401  (already imported by the suite: the limit holds)

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas, "numpy's BLAS not found: nothing was limited"
    assert [pool["num_threads"] for pool in blas] == [1] * len(blas)


def test_a_new_process_gets_the_limit_from_the_import_alone() -> None:
    assert _blas_threads_in_new_process() == "[1]"


def test_the_environments_thread_count_is_kept() -> None:
    assert _blas_threads_in_new_process(OPENBLAS_NUM_THREADS="2") == "[2]"
