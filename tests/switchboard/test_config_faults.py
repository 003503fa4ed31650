"""Faults of the node's file that once ended in a traceback, a failed bind or silence: each
is now a line of the one report (file, key, expected, found), exit status 2, and nothing
starts. Run as an operator runs them: `switchboard serve` and `switchboard voice check`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.nodes import ROOT

DEFAULT = (ROOT / "config" / "default.toml").read_text()


def switchboard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def config(tmp_path: Path, *changes: tuple[str, str], extra: str = "") -> Path:
    """config/default.toml with each (old, new) replaced once, its embedded Redis kept in
    `tmp_path` (so that "nothing started" is seen: no such directory)."""
    text = DEFAULT.replace('data_dir = "var/redis"', f'data_dir = "{tmp_path / "redis"}"')
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "node.toml"
    path.write_text(text + textwrap.dedent(extra))
    return path


def refused(result: subprocess.CompletedProcess[str], tmp_path: Path) -> list[str]:
    """The report's lines, once sure it is one: status 2, no traceback, nothing started."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "redis").exists() and not (tmp_path / "var").exists()
    return result.stderr.strip().removeprefix("switchboard: error: ").splitlines()


def serve(path: Path, tmp_path: Path, *extra: str) -> list[str]:
    return refused(
        switchboard("serve", "--config", str(path), "--no-voice", *extra, cwd=tmp_path), tmp_path
    )


def voice_check(path: Path, tmp_path: Path) -> list[str]:
    return refused(switchboard("voice", "check", "--config", str(path), cwd=tmp_path), tmp_path)


# -- a [[queues]] or [[regions]] table without a name -----------------------------------


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        (('name = "baggage"\nskill', 'nme = "baggage"\nskill'), "expected a string, found nothing"),
        (('name = "booking"\nskill', "name = 5\nskill"), "expected a string, found 5"),
    ],
    ids=["misspelled", "a number"],
)
def test_a_queue_without_a_name_is_a_fault_of_the_report(
    tmp_path: Path, change: tuple[str, str], fault: str
) -> None:
    path = config(tmp_path, change)
    index = 1 if "nme" in change[1] else 0
    for lines in (serve(path, tmp_path), voice_check(path, tmp_path)):
        assert f"{path}: queues[{index}].name: {fault}" in lines
    if "nme" in change[1]:
        assert f"{path}: queues[1].nme: unknown key (did you mean queues[1].name?)" in lines


def test_a_queue_calling_back_no_time_or_without_a_pause_is_a_fault(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        ("callback_attempts = 3 ", "callback_attempts = 0 "),
        ("callback_retry_s = 300 ", "callback_retry_s = 0 "),
    )
    lines = serve(path, tmp_path)
    assert (
        f"{path}: queues[0].callback_attempts: expected an integer >= 1 and <= 10, found 0" in lines
    )
    assert (
        f"{path}: queues[0].callback_retry_s: expected a number >= 1 and <= 86400, found 0" in lines
    )


def test_a_region_without_a_name_is_a_fault_of_the_report(tmp_path: Path) -> None:
    path = config(tmp_path, ('name = "default"\ntimezone', "timezone"))
    for lines in (serve(path, tmp_path), voice_check(path, tmp_path)):
        assert f"{path}: regions[0].name: expected a string, found nothing" in lines
        assert (
            f"{path}: node.region: expected one of the [[regions]] (none has a name), "
            "found 'default'"
        ) in lines


# -- ports ------------------------------------------------------------------------------


def test_an_http_port_past_65535_is_a_fault(tmp_path: Path) -> None:
    path = config(tmp_path, ("port = 8080", "port = 99999"))
    lines = serve(path, tmp_path)
    assert f"{path}: http.port: expected an integer >= 0 and <= 65535, found 99999" in lines


@pytest.mark.parametrize("port", ["70000", "-5", "http"])
def test_an_http_port_flag_out_of_range_is_refused_before_anything(
    tmp_path: Path, port: str
) -> None:
    path = config(tmp_path)
    result = switchboard(
        "serve", "--config", str(path), "--no-voice", "--http-port", port, cwd=tmp_path
    )
    lines = refused(result, tmp_path)
    assert lines[-1] == (
        "switchboard serve: error: argument --http-port: expected a port 1-65535 "
        f"(0: any free port), found '{port}'"
    )


def test_sip_ports_past_65535_are_faults_of_voice_check(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        ("port = 5060 ", "port = 70000 "),
        ("workers = 0 ", "workers = 4 "),
        ("worker_port_base = 5100", "worker_port_base = 65534"),
    )
    lines = voice_check(path, tmp_path)
    assert f"{path}: sip.port: expected an integer >= 1 and <= 65535, found 70000" in lines
    assert (
        f"{path}: sip.worker_port_base: expected a base whose 4 workers' ports end by 65535 "
        "(the last is 65537), found 65534"
    ) in lines
    assert lines == serve(path, tmp_path)


# -- [redis] url ------------------------------------------------------------------------

REDIS_EXPECTED = (
    "expected a Redis URL: redis://host:port/db, rediss://host:port/db, "
    "unix:///path/to/socket, redis+sentinel://host:port[,host:port]/service[/db] or "
    "redis+cluster://host:port"
)


@pytest.mark.parametrize(
    ("url", "problem", "shown"),
    [
        (
            "redis+sentinal://127.0.0.1:26379/mymaster/0",
            "unknown scheme 'redis+sentinal'",
            "redis+sentinal://127.0.0.1:26379/mymaster/0",
        ),
        (
            "rediss+sentinel://ops:s3cret@127.0.0.1:26379/mymaster/0",
            "unknown scheme 'rediss+sentinel'",
            "rediss+sentinel://***@127.0.0.1:26379/mymaster/0",
        ),
        (
            "redis+sentinel://127.0.0.1:26379",
            "no service name after the Sentinels",
            "redis+sentinel://127.0.0.1:26379",
        ),
        (
            "redis+sentinel://127.0.0.1:26379,127.0.0.1:x/mymaster",
            "a Sentinel at host:port, found '127.0.0.1:x'",
            "redis+sentinel://127.0.0.1:26379,127.0.0.1:x/mymaster",
        ),
        ("redis://127.0.0.1:99999/0", "a port 1-65535", "redis://127.0.0.1:99999/0"),
        ("127.0.0.1:6379", "no scheme", "127.0.0.1:6379"),
    ],
)
def test_a_redis_url_of_no_known_shape_is_a_fault_before_anything(
    tmp_path: Path, url: str, problem: str, shown: str
) -> None:
    path = config(tmp_path, ('data_dir = "', f'url = "{url}"\ndata_dir = "'))
    lines = serve(path, tmp_path)
    assert lines == [f"{path}: redis.url: {REDIS_EXPECTED} ({problem}), found '{shown}'"]
    assert "s3cret" not in "\n".join(lines)  # the report is a log line too


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://user:pw@redis.example:6380",
        "unix:///run/redis/redis.sock",
        "redis+sentinel://10.0.0.1:26379,10.0.0.2/mymaster/2",
        "redis+cluster://127.0.0.1:7000",
    ],
)
def test_the_shapes_redisconn_reads_pass(tmp_path: Path, url: str) -> None:
    from switchboard.settings import load_settings

    path = config(tmp_path, ('data_dir = "', f'url = "{url}"\ndata_dir = "'))
    assert load_settings(path).redis.url == url


# -- keys and languages voice check and serve did not check alike -------------------------


def test_voice_check_reports_unknown_keys_as_serve_does(tmp_path: Path) -> None:
    path = config(tmp_path, ("calls_per_worker = 0 ", "calls_per_workr = 0 "))
    lines = voice_check(path, tmp_path)
    assert lines == [
        f"{path}: sip.calls_per_workr: unknown key (did you mean sip.calls_per_worker?)"
    ]
    assert lines == serve(path, tmp_path)


def test_an_ivr_language_without_prompts_is_a_fault(tmp_path: Path) -> None:
    path = config(tmp_path, ('languages = ["en", "fr", "de"]', 'languages = ["en", "xx"]'))
    lines = voice_check(path, tmp_path)
    assert lines == [
        f"{path}: ivr[0].languages: expected languages with IVR prompts (ar, de, en, es, fr, "
        "he, hi, id, it, ja, ko, ms, nl, pl, pt, ru, th, tr, vi, yue, zh), found 'xx'"
    ]
    assert lines == serve(path, tmp_path)


def test_a_survey_of_an_unknown_queue_is_one_fault(tmp_path: Path) -> None:
    path = config(tmp_path, ('[[surveys]]\nqueue = "baggage"', '[[surveys]]\nqueue = "bagage"'))
    for lines in (voice_check(path, tmp_path), serve(path, tmp_path)):
        assert lines == [
            f"{path}: surveys[0].queue: expected one of booking, baggage, emergency, general, "
            "senior, found 'bagage'"
        ]


def test_the_shipped_file_passes_voice_check(tmp_path: Path) -> None:
    result = switchboard("voice", "check", "--config", str(config(tmp_path)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "number *: languages en/fr/de" in result.stdout


def test_voice_check_of_a_file_without_sip_says_voice_is_off(tmp_path: Path) -> None:
    """`serve` starts no SIP without a [sip] section (config/regions-3.toml): the check
    said "SIP udp+tcp:127.0.0.1:5060" and a capacity all the same."""
    path = ROOT / "config" / "regions-3.toml"
    result = switchboard("voice", "check", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == f"{path}: no [sip] section: voice is off (serve takes chats only)"
    )
