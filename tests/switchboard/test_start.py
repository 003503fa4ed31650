"""Start-up is all or nothing: every fault of the file in one report before anything runs,
and a start that fails half-way leaves no process behind."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.embedded import running_embedded_url
from tests.nodes import ROOT


def serve(config: Path, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "serve", "--config", str(config), *extra],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def valkeys_for(data_dir: Path) -> list[str]:
    """valkey-server processes serving `data_dir` (found by their command line)."""
    found = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "valkey" in line and str(data_dir) in line]


def test_every_fault_of_the_file_is_reported_at_once_and_nothing_starts(tmp_path: Path) -> None:
    text = (ROOT / "config" / "default.toml").read_text()
    text = text.replace("[routing]\n", "[routing]\nmax_chat = 3\n", 1)  # a typo of max_chats
    text = text.replace('strategy = "most_skilled"', 'strategy = "best"', 1)  # a core fault
    text = text.replace('data_dir = "var/redis"', f'data_dir = "{tmp_path / "redis"}"')
    text += '\n[privacy]\nretention_days = -4\n\n[sip]\nworkers = "many"\n'
    text = text.replace("\n[sip]\n", "\n[sip_old]\n", 1)  # the shipped [sip] stays, renamed
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = serve(config, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert any(
        "routing.max_chat: unknown key (did you mean routing.max_chats?)" in line for line in lines
    )
    assert any("privacy.retention_days: expected a number >= 1" in line for line in lines)
    assert any("sip.workers: expected an integer" in line for line in lines)
    assert any("sip_old: unknown key" in line for line in lines)
    assert any("queues[1].strategy: expected one of" in line for line in lines)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "redis").exists() and not valkeys_for(tmp_path)


def test_a_start_that_fails_after_starting_redis_stops_it_again(tmp_path: Path) -> None:
    text = (ROOT / "config" / "regions-3.toml").read_text()
    text = text.replace('data_dir = "var/redis"', f'data_dir = "{tmp_path / "redis"}"')
    config = tmp_path / "node.toml"
    config.write_text(text)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(
            config, tmp_path, "--region", "asia-east", "--node", "a1", "--http-port", str(port)
        )
    assert result.returncode == 1 and "cannot start node a1" in result.stderr, result.stderr
    assert (tmp_path / "redis").exists()  # the embedded server did start
    assert not valkeys_for(tmp_path)  # and was stopped


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_sip_port_taken_is_named_and_the_node_stops_cleanly(tmp_path: Path) -> None:
    """Kamailio failing to bind the node's SIP port ended `switchboard serve` in a
    traceback; now the node says which port and Kamailio's reason, exits 1 and leaves no
    worker or Redis behind."""
    kamailio = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin:/sbin")
    if kamailio is None:
        pytest.skip("kamailio is not installed (make system-deps)")
    text = (ROOT / "config" / "default.toml").read_text()
    text = text.replace('data_dir = "var/redis"', f'data_dir = "{tmp_path / "redis"}"')
    text = text.replace('kamailio = "kamailio"', f'kamailio = "{kamailio}"')
    text = text.replace("workers = 0 ", "workers = 1 ", 1)
    text = text.replace("worker_port_base = 5100", f"worker_port_base = {_free_port()}")
    text = text.replace("rtp_port_base = 20000", f"rtp_port_base = {_free_port()}")
    config = tmp_path / "node.toml"
    config.write_text(text)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        sip_port = taken.getsockname()[1]
        text = text.replace("port = 5060 ", f"port = {sip_port} ", 1)
        config.write_text(text)
        result = serve(config, tmp_path, "--http-port", str(_free_port()))
    assert result.returncode == 1, result.stderr
    assert "cannot start node" in result.stderr and "Traceback" not in result.stderr
    assert f"SIP port 127.0.0.1:{sip_port}" in result.stderr
    assert "Address already in use" in result.stderr
    left = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    assert not [line for line in left.splitlines() if str(config) in line]  # no worker
    assert not valkeys_for(tmp_path)


DEFAULT_CONFIG = ROOT / "config" / "default.toml"


def test_without_config_serve_reads_the_projects_file_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found from the package, not the working folder: the fault named is the file's own
    # (a region it does not have), not "no such configuration file"; nothing starts.
    from switchboard.cli import build_parser, main

    monkeypatch.chdir(tmp_path)
    assert build_parser().parse_args(["serve"]).config == DEFAULT_CONFIG
    assert main(["serve", "--no-voice", "--region", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert f"{DEFAULT_CONFIG}: --region: expected one of the [[regions]]" in err
    assert "no such configuration file" not in err and "Traceback" not in err
    assert not (tmp_path / "var").exists()


def test_the_help_names_the_default_config(capsys: pytest.CaptureFixture[str]) -> None:
    from switchboard.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    # argparse wraps help at the terminal's width, a long path too: compare without spaces
    assert str(DEFAULT_CONFIG) in "".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("fault", "line"),
    [
        (
            PermissionError(13, "Permission denied", "/srv/plans/week.csv"),
            "switchboard: error: /srv/plans/week.csv: Permission denied",
        ),
        (
            UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte"),
            "switchboard: error: input is not UTF-8 text (invalid continuation byte)",
        ),
    ],
)
def test_a_file_fault_no_reader_named_is_still_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault: Exception,
    line: str,
) -> None:
    from switchboard.cli import main

    def failing(args: object) -> int:
        raise fault

    monkeypatch.setattr("scheduler.cli._check", failing)
    assert main(["schedule", "check", "--schedule", "s.csv", "--agents", "a.csv"]) == 2
    assert capsys.readouterr().err == line + "\n"


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.cli import main

    def failing(args: object) -> int:
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr("scheduler.cli._check", failing)
    with pytest.raises(KeyError):
        main(["schedule", "check", "--schedule", "s.csv", "--agents", "a.csv"])


SERVE = [sys.executable, "-m", "switchboard.cli", "serve"]


def _valkey_children(pid: int) -> list[int]:
    """The valkey-server processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rpartition(")")[2]
        if "valkey" in name and int(fields.split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie, ended but not yet reaped, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("when", ["server started", "server answering"])
def test_sigterm_during_start_up_stops_what_the_start_started(tmp_path: Path, when: str) -> None:
    """A SIGTERM during start-up cancels the start: one log line, exit 0, no server left.
    Sent as soon as the embedded server's process exists (the node still waiting for it
    to answer, in a thread), or once it answers (the node waiting out the previous run's
    heartbeat, still alive)."""
    import json
    import os
    import signal
    import time

    import redis

    from switchboard.embedded import EmbeddedRedis, free_port

    data_dir = tmp_path / "redis"
    # The previous run's heartbeat, still alive: the start waits for it to expire (up
    # to the TTL), so the node is still starting when the signal comes.
    with EmbeddedRedis(data_dir, die_with_parent=True) as previous:
        payload: dict[str, object] = {
            "node_id": "node-1",
            "region": "default",
            "http": "http://x",
            "run": "old",
        }
        payload |= {"started_at": time.time(), "last_seen": time.time(), "load": {}}
        with redis.Redis.from_url(previous.url) as client:
            client.set("sb:node:node-1", json.dumps(payload), px=120_000)
    text = DEFAULT_CONFIG.read_text()
    text = text.replace(
        'data_dir = "var/redis"', f'data_dir = "{data_dir}"\nappendfsync = "always"'
    )
    text = text.replace("[routing]\n", "[routing]\nheartbeat_ttl_s = 60\n", 1)
    config = tmp_path / "node.toml"
    config.write_text(text)
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as err:
        node = subprocess.Popen(
            [*SERVE, "--config", str(config), "--no-voice", "--http-port", str(free_port())],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
    valkeys: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not valkeys and node.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
            valkeys = _valkey_children(node.pid)
        assert valkeys, f"no embedded server started: {stderr.read_text()}"
        cmdline = Path(f"/proc/{valkeys[0]}/cmdline").read_bytes().split(b"\0")
        assert cmdline[cmdline.index(b"--appendfsync") + 1] == b"always"  # [redis] appendfsync
        while when == "server answering" and not (data_dir / "port").exists():
            assert node.poll() is None and time.monotonic() < deadline, stderr.read_text()
            time.sleep(0.01)
        node.send_signal(signal.SIGTERM)
        assert node.wait(30) == 0, stderr.read_text()
        log = stderr.read_text()
        assert "node-1: SIGTERM during start-up: start cancelled" in log, log
        assert "Traceback" not in log, log
        assert not any(_alive(pid) for pid in valkeys)
        assert running_embedded_url(data_dir) is None  # the port it keeps answers nothing
    finally:
        if node.poll() is None:
            node.kill()
            node.wait()
        for pid in valkeys:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
