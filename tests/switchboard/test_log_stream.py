"""The logging set up once per process writes to the stderr of the moment, masked."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from switchboard.logs import configure_logging


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_records_go_to_the_stderr_of_the_moment_not_a_closed_one(
    root_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Set up under one stderr (a test's capture, closed after it), written under the
    next: the record reaches the new one instead of raising "closed file"."""
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    configure_logging("INFO")
    first.close()
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    logging.getLogger("switchboard.test").info("queue booking opened")
    assert second.getvalue().endswith("INFO switchboard.test: queue booking opened\n")


def test_phone_numbers_are_masked_in_json_lines(
    root_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    configure_logging("INFO", "json")
    logging.getLogger("switchboard.test").info("caller +14155550123 waiting")
    line = out.getvalue().strip()
    assert '"level": "INFO"' in line and "+14155550123" not in line


def test_the_translation_engine_never_logs_chat_text(
    root_restored: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """argostranslate logs each message it translates at INFO (its paragraphs, its
    tokens): not even at DEBUG does that reach the node's log."""
    out = io.StringIO()
    monkeypatch.setattr("sys.stderr", out)
    configure_logging("DEBUG")
    engine = logging.getLogger("argostranslate.utils")
    engine.setLevel(logging.INFO)  # as the module does when imported
    engine.info("('paragraphs:', ['mi número es 612345678'])")
    engine.warning("model missing")
    assert "612345678" not in out.getvalue() and "model missing" in out.getvalue()
