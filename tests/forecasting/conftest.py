"""Shared fixtures: a seeded synthetic center written as a history CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting import files, synthetic


@pytest.fixture(scope="session")
def center() -> synthetic.Synthetic:
    """Eight weeks of a two-queue center at 30-minute intervals."""
    return synthetic.generate(days=56, width_min=30, seed=11)


@pytest.fixture(scope="session")
def history_csv(center: synthetic.Synthetic, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "history.csv"
    files.write_history(path, center.rows)
    return path
