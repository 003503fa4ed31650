"""The shipped systemd units pass `systemd-analyze verify` (with the install path set to
this checkout, whose virtualenv holds the switchboard command), and the Grafana
dashboard only charts metrics a node exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from router.metrics import Metrics
from tests.nodes import ROOT

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    text = unit.read_text().replace("/opt/switchboard", str(ROOT))
    name = unit.name.replace("@.service", "@node-1.service")
    (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr


def test_dashboard_charts_exported_metrics() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "switchboard.json").read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert len(expressions) >= 8
    metrics = Metrics("n")
    exported = {metric.name for metric in metrics.registry.collect()}
    exported |= {f"{name}_total" for name in exported} | {f"{name}_bucket" for name in exported}
    for expression in expressions:
        for name in re.findall(r"\b(switchboard_\w+|process_\w+)", expression):
            assert name in exported, f"{name} in {expression!r} is not exported"
