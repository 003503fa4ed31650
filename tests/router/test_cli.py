"""The roster, users and history commands, run as a person runs them."""

from __future__ import annotations

import csv
import getpass
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from router.auth import verify_password

ROOT = Path(__file__).resolve().parents[2]


def config_for(tmp_path: Path, redis_url: str) -> Path:
    text = (ROOT / "config" / "default.toml").read_text()
    text = text.replace('data_dir = "var/redis"', f'url = "{redis_url}"')
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


def switchboard(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def add_agent_user(config: Path, user_id: str) -> subprocess.CompletedProcess[str]:
    """`switchboard users add` of an agent, its password on standard input."""
    argv = ["users", "add", "--id", user_id, "--role", "agent", "--password-stdin"]
    return switchboard(*argv, "--config", str(config), stdin="long-enough-secret\n")


def test_agents_import_users_add(tmp_path: Path, redis_url: str) -> None:
    config = config_for(tmp_path, redis_url)
    roster = tmp_path / "agents.csv"
    roster.write_text(  # as a spreadsheet saves it: a byte-order mark first
        "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"
        "a1,default,UTC,booking:4;baggage:2,en;zh,20,40\n"
        "a2,default,UTC,general,es,20,40\n",
        encoding="utf-8-sig",
    )
    result = switchboard("agents", "import", str(roster), "--config", str(config))
    assert result.returncode == 0, result.stderr
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.hget("sb:{rt}:agent:a1", "skills") == '{"booking": 4, "baggage": 2}'
    assert client.hget("sb:{rt}:agent:a2", "skills") == '{"general": 3}'

    result = add_agent_user(config, "a1")
    assert result.returncode == 0, result.stderr
    stored = client.hget("sb:user:a1", "password")
    assert isinstance(stored, str)  # the client decodes: redis's types also allow bytes, None
    assert verify_password("long-enough-secret", stored)
    assert not verify_password("wrong", stored)
    # an admin's commands are audited like the admin API's calls, by the OS user
    audit = client.xrange("sb:audit")
    assert audit is not None
    entries = []
    for _, fields in audit:
        assert fields is not None
        entries.append(fields)
    assert [e["action"] for e in entries] == ["admin.agents.import", "admin.user.put"]
    assert all(e["actor"] == getpass.getuser() for e in entries)
    assert '"agents": 2' in entries[0]["detail"] and '"user_id": "a1"' in entries[1]["detail"]
    # an id the admin API would refuse (a zero-width space: blank on the wallboard)
    refused = add_agent_user(config, "a\u200b1")
    assert refused.returncode == 2 and "--id: expected an id of printable" in refused.stderr
    assert not client.exists("sb:user:a\u200b1")


def test_bad_roster_row_is_named_and_nothing_loaded(tmp_path: Path, redis_url: str) -> None:
    config = config_for(tmp_path, redis_url)
    roster = tmp_path / "agents.csv"
    roster.write_text(
        "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"
        "a1,default,UTC,booking:4,en,20,40\n"
        "a2,default,UTC,booking:9,en,20,40\n"
    )
    result = switchboard("agents", "import", str(roster), "--config", str(config))
    assert result.returncode == 2
    assert "row 3: field skills" in result.stderr and "Traceback" not in result.stderr
    assert redis.Redis.from_url(redis_url).exists("sb:{rt}:agent:a1") == 0


def test_bad_config_lists_every_fault(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[node]\nid = "n"\nregion = "nowhere"\n[[regions]]\nname = "eu"\ntimezone = "Mars/Base"\n'
        '[[queues]]\nname = "q"\nstrategy = "fastest"\nring_s = "ten"\n'
    )
    result = switchboard("serve", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any("regions[0].timezone: expected an IANA time zone" in line for line in lines)
    assert any("queues[0].strategy: expected one of longest_idle" in line for line in lines)
    assert any(
        "queues[0].ring_s: expected a number >= 1 and <= 600, found 'ten'" in line for line in lines
    )
    assert any("node.region: expected one of the [[regions]]" in line for line in lines)
    # the region given on the command line is named as such, not as the file's key
    flagged = switchboard("serve", "--config", str(path), "--region", "europe").stderr
    assert "--region: expected one of the [[regions]] (eu), found 'europe'" in flagged
    assert "node.region" not in flagged


def test_history_export_counts_contacts_per_interval(tmp_path: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    base = 1_700_000_000_000 - 1_700_000_000_000 % 1_800_000
    for offset_s, state, talk_s in (
        (10, "completed", 100),
        (20, "completed", 200),
        (40, "abandoned", 0),
    ):
        queued = base + offset_s * 1000
        client.xadd(
            "sb:{rt}:records",
            {
                "contact_id": f"c{offset_s}",
                "queue": "booking",
                "state": state,
                "queued_at": queued,
                "answered_at": queued + 5000 if talk_s else "",
                "ended_at": queued + 5000 + talk_s * 1000,
            },
        )
    out = tmp_path / "history.csv"
    result = switchboard(
        "history", "export", "--out", str(out), "--config", str(config_for(tmp_path, redis_url))
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows == [
        {
            "interval_start": "2023-11-14T22:00:00+00:00",
            "queue": "booking",
            "contacts": "3",
            "aht_s": "150.0",
        }
    ]


ROSTER_HEADER = "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"


def import_from_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, roster: bytes, *extra: str
) -> int:
    """`agents import` in-process from a folder other than the project's, without --config:
    the project's config/default.toml is found all the same."""
    from switchboard.cli import main

    path = tmp_path / "agents.csv"
    path.write_bytes(roster)
    monkeypatch.chdir(tmp_path)
    return main(["agents", "import", str(path), *extra])


@pytest.mark.parametrize(
    ("roster", "message"),
    [
        (
            b"a1,default,UTC,booking,en,20,40\na2,default,UTC,baggage,fr\xe9,20,40\n",
            "row 3: not UTF-8 text (save it as UTF-8)",
        ),
        (
            b"a1,default,UTC,booking,en,20,40,extra\n",
            "row 2: expected 7 fields "
            "(agent_id,region,timezone,skills,languages,min_hours,max_hours), found 8",
        ),
        (  # the default configuration's one region: it was found and read
            b"a1,mars,UTC,booking,en,20,40\n",
            "row 2: field region: expected one of default, found 'mars'",
        ),
    ],
)
def test_a_bad_roster_is_one_line_and_status_2_from_any_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    roster: bytes,
    message: str,
) -> None:
    assert import_from_elsewhere(tmp_path, monkeypatch, ROSTER_HEADER.encode() + roster) == 2
    err = capsys.readouterr().err
    assert err == f"switchboard: error: {tmp_path / 'agents.csv'}: {message}\n"
    assert not (tmp_path / "var").exists()  # refused before any Redis was started


def test_a_command_with_no_node_running_on_its_store_says_which_it_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run from another folder than the node's, the relative data_dir is nobody's: the
    import reported success into a store no node used, and said nothing (an ops probe)."""
    roster = ROSTER_HEADER + "a1,default,UTC,booking:4,en,20,40\n"
    assert import_from_elsewhere(tmp_path, monkeypatch, roster.encode()) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        f"switchboard: no node's Redis is running on {tmp_path / 'var' / 'redis'}"
    )
    assert "give a running node's --config" in err


def test_a_folder_as_roster_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from switchboard.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["agents", "import", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err == f"switchboard: error: {tmp_path}: cannot read: Is a directory\n"
    )


def test_history_export_to_a_missing_folder_is_one_line(
    tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from switchboard.cli import main

    out = tmp_path / "missing" / "history.csv"
    config = config_for(tmp_path, redis_url)
    assert main(["history", "export", "--out", str(out), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == f"switchboard: error: {out}: cannot write: No such file or directory\n"
    assert not out.parent.exists()
