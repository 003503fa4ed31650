"""`history import --help` lists the interval widths the import accepts (planner probe 2,
finding 6: it listed 5m, 15m, 30m, 60m while 10m and 20m are accepted too)."""

from __future__ import annotations

import pytest

from forecasting.model import ALLOWED_WIDTHS
from switchboard.cli import main


def test_the_help_lists_every_accepted_width(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["history", "import", "--help"])
    assert raised.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines
    assert "interval width: 5m, 10m, 15m, 20m, 30m, 60m" in text
    assert ", ".join(f"{w}m" for w in ALLOWED_WIDTHS) in text
