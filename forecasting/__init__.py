"""Forecasting: contact volume per queue and interval, from history to the weeks ahead.

Importing the package puts numpy's BLAS on one thread for the whole process (the CLI, a
node, a test run) unless the environment sets the thread count itself. The model's
matrix products are small (weekdays × intervals of a day), so a second BLAS thread gains
nothing, and where another process holds a core OpenBLAS's second thread spins waiting
for it: a year of 5-minute history forecast one week ahead beside a running backtest took
38 s instead of 5.3-6.9 s, two such forecasts at once 12.9 s each instead of 6.9 s, the
same forecast to the byte (docs/forecasting.md, "Measured").
`threadpoolctl` does what `OPENBLAS_NUM_THREADS=1` would, after numpy loaded its BLAS.
"""

import os

import numpy  # noqa: F401  (loads the BLAS that threadpoolctl then finds and limits)
from threadpoolctl import threadpool_limits

# an operator's own choice of BLAS threads wins
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if not any(os.environ.get(name) for name in THREAD_VARIABLES):
    threadpool_limits(limits=1, user_api="blas")
