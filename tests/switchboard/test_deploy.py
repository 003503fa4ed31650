"""The shipped systemd units pass `systemd-analyze verify` (with the install path set to
this checkout, whose virtualenv holds the switchboard command) and start after their
documented install: the sysusers and tmpfiles snippets create the user they run as and
the var/ they write, handed back to that user after `make run` as root. The Grafana
dashboard only charts metrics a node exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from router.metrics import Metrics
from tests.nodes import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service"))
SYSUSERS = SYSTEMD / "switchboard.sysusers.conf"
TMPFILES = SYSTEMD / "switchboard.tmpfiles.conf"


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


def directives(unit: Path) -> list[tuple[str, str]]:
    lines = [line.strip() for line in unit.read_text().splitlines()]
    return [
        (key, value)
        for key, _, value in (line.partition("=") for line in lines)
        if value and not key.startswith("#")
    ]


def configuration_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_unit_runs_as_the_shipped_user_and_writes_only_var(unit: Path) -> None:
    found = directives(unit)
    assert ("User", "switchboard") in found and ("Group", "switchboard") in found
    assert ("WorkingDirectory", "/opt/switchboard") in found
    # A missing var/ must not fail the unit before the node can say so (226/NAMESPACE).
    assert ("ReadWritePaths", "-/opt/switchboard/var") in found
    assert ("ProtectSystem", "strict") in found
    # var/ made and handed to the user as root, before the sandbox, at every start.
    assert ("ExecStartPre", "-+/usr/bin/systemd-tmpfiles --create switchboard.conf") in found
    text = unit.read_text()
    for step in ("switchboard.sysusers.conf", "switchboard.tmpfiles.conf", "make run"):
        assert step in text, f"{unit.name}'s install steps do not name {step}"


def test_the_node_template_is_for_one_voice_node_per_host() -> None:
    text = (SYSTEMD / "switchboard-node@.service").read_text()
    assert "One voice node per host" in text and "var/telephony" in text
    assert "--no-voice" in text


def test_sysusers_creates_the_units_user_and_group() -> None:
    assert configuration_lines(SYSUSERS) == [
        'u switchboard - "Switchboard contact center" /opt/switchboard /usr/sbin/nologin'
    ]


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="no systemd-sysusers")
def test_sysusers_snippet_parses(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", "--dry-run", str(SYSUSERS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Creating user 'switchboard'" in result.stdout + result.stderr


def test_tmpfiles_makes_var_and_hands_it_to_the_user() -> None:
    assert configuration_lines(TMPFILES) == [
        "d /opt/switchboard/var 0750 switchboard switchboard -",
        "Z /opt/switchboard/var - switchboard switchboard -",
    ]


@pytest.mark.skipif(shutil.which("systemd-tmpfiles") is None, reason="no systemd-tmpfiles")
@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_tmpfiles_gives_back_what_root_wrote_in_var(tmp_path: Path) -> None:
    """In a scratch root (--root): var/redis as `make run` left it, owned by root."""
    (tmp_path / "etc" / "tmpfiles.d").mkdir(parents=True)
    (tmp_path / "etc" / "passwd").write_text("switchboard:x:4242:4242::/opt/switchboard:/x\n")
    (tmp_path / "etc" / "group").write_text("switchboard:x:4242:\n")
    (tmp_path / "etc" / "tmpfiles.d" / "switchboard.conf").write_text(TMPFILES.read_text())
    redis = tmp_path / "opt" / "switchboard" / "var" / "redis"
    redis.mkdir(parents=True)
    (redis / "appendonly.aof").write_text("")
    result = subprocess.run(
        ["systemd-tmpfiles", f"--root={tmp_path}", "--create", "switchboard.conf"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for path in (redis.parent, redis, redis / "appendonly.aof"):
        assert (path.stat().st_uid, path.stat().st_gid) == (4242, 4242), path
    assert redis.parent.stat().st_mode & 0o777 == 0o750


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
