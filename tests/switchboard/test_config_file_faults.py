"""The node's file as an integrator's probe wrote it (its findings 6 and 7): a byte-order
mark first (Windows Notepad's "UTF-8 with BOM") was "not valid TOML: Invalid statement
(at line 1, column 1)", `fallback_languages = ["xx"]` passed `voice check`, and two
queues of one name were a fault followed by lists naming that queue twice. Run as an
operator runs them: `switchboard voice check`."""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import load_settings
from tests.switchboard.test_config_faults import config, switchboard, voice_check

BOM = b"\xef\xbb\xbf"


def test_a_file_starting_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = config(tmp_path)
    path.write_bytes(BOM + path.read_bytes())
    result = switchboard("voice", "check", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "not valid TOML" not in result.stderr
    settings = load_settings(path)  # the one reader of every TOML file
    assert settings.queue("booking") is not None


def test_a_byte_order_mark_does_not_move_the_place_of_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_bytes(BOM + b'[node]\nid = "n1"\nregion = \n')
    lines = voice_check(path, tmp_path)
    assert lines == [f"{path}: not valid TOML: Invalid value (at line 3, column 10)"]


def test_a_fallback_language_babel_does_not_know_is_a_fault(tmp_path: Path) -> None:
    path = config(tmp_path, ('fallback_languages = ["en"]', 'fallback_languages = ["en", "xx"]'))
    lines = voice_check(path, tmp_path)
    assert (
        f"{path}: queues[0].fallback_languages[1]: expected a language tag babel knows, like es "
        "or pt-BR, found 'xx'"
    ) in lines
    # a tag babel knows is read as its language, as the admin API reads it
    path = config(tmp_path, ('fallback_languages = ["en"]', 'fallback_languages = ["es-MX"]'))
    settings = load_settings(path)
    assert settings.queues[0].fallback_languages == ("es",)


def test_two_queues_of_one_name_are_one_fault_naming_both(tmp_path: Path) -> None:
    path = config(tmp_path, ('name = "baggage"', 'name = "booking"'))
    lines = voice_check(path, tmp_path)
    assert lines[0] == (
        f"{path}: queues[1].name: expected a name no other of the [[queues]] has "
        "(queues[0] has it), found 'booking'"
    )
    # the lists of queues in other faults name each queue once
    assert not [line for line in lines if "booking, booking" in line]


def test_two_regions_of_one_name_are_one_fault_naming_both(tmp_path: Path) -> None:
    region = '[[regions]]\nname = "default"\ntimezone = "UTC"\n'
    path = config(tmp_path, extra=region)
    lines = voice_check(path, tmp_path)
    assert [line for line in lines if "regions[" in line and ".name" in line] == [
        f"{path}: regions[1].name: expected a name no other of the [[regions]] has "
        "(regions[0] has it), found 'default'"
    ]
