"""`switchboard agents import` holds a row to the rules the rest of the system holds it
to (the admin API's languages and ids, the scheduler's time zones and hours): a row any
of them would refuse is refused, naming file, row and field, and nothing is loaded. A
skill no queue routes on is imported with a warning: its queue may come later."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
HEADER = "agent_id,region,timezone,skills,languages,min_hours,max_hours\n"


def config_for(tmp_path: Path, redis_url: str) -> Path:
    text = (ROOT / "config" / "default.toml").read_text()
    path = tmp_path / "node.toml"
    path.write_text(text.replace('data_dir = "var/redis"', f'url = "{redis_url}"'))
    return path


def import_roster(tmp_path: Path, redis_url: str, *rows: str) -> subprocess.CompletedProcess[str]:
    roster = tmp_path / "agents.csv"
    roster.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    config = config_for(tmp_path, redis_url)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "agents",
            "import",
            str(roster),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("row", "fault"),
    [
        (
            "yan,default,Mars/X,bookng:3,xx,20,40",  # the operator's row: its first fault
            "row 3: field timezone: expected an IANA time zone like Europe/Berlin, found 'Mars/X'",
        ),
        (
            "yan,default,UTC,booking:3,en;xx,20,40",
            "row 3: field languages: expected language tags babel knows, like es or pt-BR, "
            "found 'xx'",
        ),
        (
            "yan,default,UTC,book ing:3,en,20,40",
            "row 3: field skills: expected skill names of letters, digits, _ . - (at most 64), "
            "found 'book ing'",
        ),
        (
            "y an,default,UTC,booking:3,en,20,40",
            "row 3: field agent_id: expected an id of printable characters: no spaces, "
            "controls, invisible formatting characters (zero-width, bidi marks) or / ? # % \\ "
            "(it goes into URLs) (at most 128), found 'y an'",
        ),
        (
            "yan,default,UTC,booking:3,en,40,20",
            "row 3: field max_hours: expected at least min_hours (40), found '20'",
        ),
        ("yan,default,UTC,booking:3,en,-1,20", "row 3: field min_hours: expected a number >= 0"),
    ],
    ids=["timezone", "language", "skill name", "agent id", "hours", "negative hours"],
)
def test_a_row_the_rest_would_refuse_is_refused_and_nothing_loaded(
    tmp_path: Path, redis_url: str, row: str, fault: str
) -> None:
    result = import_roster(tmp_path, redis_url, "ana,default,UTC,booking:4,en,20,40", row)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"switchboard: error: {tmp_path / 'agents.csv'}: {fault}")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    client = redis.Redis.from_url(redis_url)
    assert not client.exists("sb:{rt}:agent:ana") and not client.exists("sb:{rt}:agent:yan")


def test_a_skill_no_queue_routes_on_is_imported_with_a_warning(
    tmp_path: Path, redis_url: str
) -> None:
    result = import_roster(
        tmp_path,
        redis_url,
        "ana,default,UTC,booking:4,en,20,40",
        "yan,default,Europe/Madrid,bookng:3;cargo,es-MX;iw,,",
    )
    assert result.returncode == 0, result.stderr
    where = f"{tmp_path / 'agents.csv'}: row 3: field skills"
    assert result.stderr.splitlines() == [
        f"switchboard: warning: {where}: 'bookng' is no queue's skill (did you mean booking?); "
        "imported, but no contact reaches the agent by it until a queue routes on it",
        f"switchboard: warning: {where}: 'cargo' is no queue's skill (the queues': baggage, "
        "booking, emergency, general, senior); imported, but no contact reaches the agent by "
        "it until a queue routes on it",
    ]
    assert "imported 2 agents" in result.stdout
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    assert client.hget("sb:{rt}:agent:yan", "skills") == '{"bookng": 3, "cargo": 3}'


def test_the_admin_api_says_what_it_expected_without_pydantics_prefix() -> None:
    """The HTTP API's 400 is built from pydantic's first error: "a language tag babel
    knows", not "Value error, a language tag babel knows"."""
    from pydantic import ValidationError

    from switchboard.common.ids import first_fault
    from switchboard.http.schemas import AgentDefinition

    with pytest.raises(ValidationError) as failure:
        AgentDefinition.model_validate(
            {"region": "default", "skills": {"booking": 3}, "languages": ["en", "xx"]}
        )
    fault = first_fault(failure.value, "$")
    assert (fault.path, fault.expected, fault.found) == (
        "$.languages[1]",
        "a language tag babel knows, like es or pt-BR",
        "xx",
    )
