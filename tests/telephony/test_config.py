"""`[sip]` and `[[ivr]]` reading: the shipped example loads, faults are all reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from i18n.prompts import prompt_path
from switchboard.common.configfile import ConfigReader
from switchboard.common.errors import ConfigError
from telephony.capacity import UPSTREAM_MAX_CALLS, built_max_calls, sized
from telephony.config import read_flows, read_sip, read_voice
from telephony.frontdoor import Destination, dispatcher_list
from telephony.model import Hours, Prompt, SipConfig
from telephony.prompts import PromptRenderer, duration_s, prompt_text

REPO = Path(__file__).resolve().parents[2]
QUEUES = ["booking", "baggage", "emergency", "general"]


def test_the_shipped_example_reads_without_fault() -> None:
    reader = ConfigReader.open(REPO / "config" / "default.toml")
    voice = read_voice(reader, queues=QUEUES, regions={"default": Hours()})
    reader.faults.raise_if_any()
    sip, flows = voice.sip, voice.flows
    assert voice.recording.directory == "var/recordings" and voice.recording.consent
    # Workers, calls and RTP ports are worked out from the machine and the pjsua2 build.
    assert sip.front_door == "kamailio" and sip.tcp  # TCP beside UDP unless turned off
    assert (sip.workers, sip.calls_per_worker, sip.rtp_ports_per_worker) == (0, 0, 0)
    (flow,) = flows
    assert [r.digit for r in flow.reasons] == ["1", "2", "9"]
    assert [r.emergency for r in flow.reasons] == [False, False, True]


def test_every_fault_is_reported_with_file_key_expected_and_found(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
[sip]
front_door = "asterisk"
tcp = "yes"
calls_per_worker = 1
rtp_ports_per_worker = 3

[[ivr]]
number = "1"
region = "mars"
default_queue = "nowhere"
open = "25:00"

[[ivr.reasons]]
digit = "12"
queue = "booking"
"""
    )
    reader = ConfigReader.open(path)
    read_sip(reader)
    read_flows(reader, queues=QUEUES, regions={"default": Hours()})
    with pytest.raises(ConfigError) as caught:
        reader.faults.raise_if_any()
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    for key in (
        "sip.front_door",
        "sip.tcp",
        "sip.calls_per_worker",
        "sip.rtp_ports_per_worker",
        "ivr[0].region",
        "ivr[0].default_queue",
        "ivr[0].open",
        "ivr[0].reasons[0].digit",
    ):
        assert any(f": {key}: expected" in line for line in lines), key


def test_hold_music_and_the_recordings_directory_are_checked_before_start(
    tmp_path: Path,
) -> None:
    """A missing or unplayable music file and a recordings "directory" that is a file
    were accepted by `serve` and `voice check` (an ops probe): callers then waited in
    silence, recordings failed call by call."""
    not_wav, a_file = tmp_path / "music.txt", tmp_path / "recordings"
    not_wav.write_text("no audio here")
    a_file.write_text("")
    for music in (tmp_path / "missing.wav", not_wav):
        path = tmp_path / "bad.toml"
        path.write_text(f'[sip]\nmusic = "{music}"\n\n[recording]\ndirectory = "{a_file}"\n')
        reader = ConfigReader.open(path)
        read_voice(reader, queues=QUEUES, regions={"default": Hours()})
        with pytest.raises(ConfigError) as caught:
            reader.faults.raise_if_any()
        said = str(caught.value)
        assert f"sip.music: expected a 16-bit PCM WAV file, found '{music} (" in said, said
        assert "recording.directory: expected a directory" in said, said


def test_automatic_figures_follow_the_build_and_the_cores() -> None:
    dense = sized(SipConfig(), max_calls=256, cores=2)
    assert (dense.workers, dense.calls_per_worker, dense.callers_per_worker) == (2, 256, 128)
    assert dense.rtp_ports_per_worker >= 2 * 256 and dense.capacity == 256
    pypi = sized(SipConfig(), max_calls=4, cores=8)
    assert (pypi.workers, pypi.callers_per_worker, pypi.capacity) == (8, 2, 16)


def test_a_setting_above_the_build_is_lowered_to_it_and_a_lower_one_kept() -> None:
    asked = SipConfig(workers=3, calls_per_worker=512, rtp_ports_per_worker=40)
    assert sized(asked, max_calls=256, cores=2).calls_per_worker == 256
    kept = sized(replace(asked, calls_per_worker=4), max_calls=256, cores=2)
    assert (kept.workers, kept.calls_per_worker, kept.rtp_ports_per_worker) == (3, 4, 40)


def test_the_installed_build_exports_its_limit_or_is_the_upstream_four() -> None:
    import pjsua2

    limit = built_max_calls()
    assert limit == getattr(pjsua2, "PJSUA_MAX_CALLS", UPSTREAM_MAX_CALLS) and limit >= 4


def test_recording_reads_its_queues_and_takes_the_privacy_retention(tmp_path: Path) -> None:
    path = tmp_path / "rec.toml"
    path.write_text(
        '[recording]\nqueues = ["booking", "nowhere"]\nconsent = false\n'
        "[privacy]\nretention_days = 90\n"
    )
    reader = ConfigReader.open(path)
    voice = read_voice(reader, queues=QUEUES, regions={"default": Hours()})
    assert voice.recording.queues == ("booking",) and not voice.recording.consent
    assert voice.recording.retention_days == 90
    with pytest.raises(ConfigError, match=r"recording.queues: expected queue names"):
        reader.faults.raise_if_any()


def test_dispatcher_list_caps_each_worker_at_its_callers() -> None:
    text = dispatcher_list([Destination("w0", "127.0.0.1", 5100, 2)])
    assert "1 sip:127.0.0.1:5100 0 0 duid=w0;maxload=2" in text


def test_tcp_is_a_switch_and_a_mistyped_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "sip.toml"
    path.write_text("[sip]\ntcp = false\ntcp_port = 5061\n")
    reader = ConfigReader.open(path)
    assert not read_sip(reader).tcp
    reader.check_unknown_keys()
    with pytest.raises(ConfigError, match=r"sip\.tcp_port: unknown key"):
        reader.faults.raise_if_any()


@pytest.mark.parametrize(
    ("sip", "transports"),
    [
        (SipConfig(), ("udp", "tcp")),
        (SipConfig(tcp=False), ("udp",)),
        (SipConfig(front_door="none"), ("udp", "tcp")),  # the one worker on the port takes both
    ],
)
def test_the_transports_are_what_the_nodes_sip_port_takes(
    sip: SipConfig, transports: tuple[str, ...]
) -> None:
    assert sip.transports == transports


def test_voice_rate_is_the_speed_the_prompts_are_rendered_at(tmp_path: Path) -> None:
    path = tmp_path / "sip.toml"
    path.write_text("[sip]\nvoice_rate = 110\n")
    reader = ConfigReader.open(path)
    slow_rate = read_sip(reader).voice_rate
    reader.faults.raise_if_any()
    assert slow_rate == 110
    prompt = Prompt("ivr.queued", "en")
    cache = tmp_path / "prompts"
    usual = PromptRenderer(cache, SipConfig().voice_rate).path(prompt)
    slow = PromptRenderer(cache, slow_rate).path(prompt)
    # The default is espeak-ng's own speed, cached where `switchboard prompts build` puts it.
    assert usual == prompt_path(prompt_text(prompt), "en", cache)
    assert slow != usual and duration_s(slow) > 1.3 * duration_s(usual)


def test_flow_languages_are_tags_in_any_case(tmp_path: Path) -> None:
    """BCP 47 tags are case-insensitive: `DE` and `En` are the catalogs' `de` and `en`
    (they were faults), and the flow speaks them as the catalogs spell them."""
    path = tmp_path / "ivr.toml"
    path.write_text(
        '[[ivr]]\nnumber = "1"\nlanguages = ["DE", "En"]\ndefault_language = "EN"\n'
        'default_queue = "general"\n'
        '[[ivr.reasons]]\ndigit = "1"\nqueue = "booking"\n'
    )
    reader = ConfigReader.open(path)
    (flow,) = read_flows(reader, queues=QUEUES, regions={"default": Hours()})
    reader.faults.raise_if_any()
    assert flow.languages == ("de", "en") and flow.default_language == "en"


def test_a_flow_without_region_is_the_nodes_own(tmp_path: Path) -> None:
    """A call waits in its flow's region, else in the node's (docs/regions.md): a node of
    `eu` took the file's first region, and its callers heard Shanghai's hours."""
    path = tmp_path / "ivr.toml"
    path.write_text(
        '[[ivr]]\nnumber = "1"\ndefault_queue = "general"\n'
        '[[ivr.reasons]]\ndigit = "1"\nqueue = "booking"\n'
    )
    regions = {
        "asia": Hours("Asia/Shanghai", "07:00", "23:00"),
        "eu": Hours("Europe/Paris", "08:00", "20:00"),
    }
    reader = ConfigReader.open(path)
    (flow,) = read_flows(reader, queues=QUEUES, regions=regions, home="eu")
    reader.faults.raise_if_any()
    assert flow.region == "eu" and flow.hours == regions["eu"]
    (flow,) = read_flows(ConfigReader.open(path), queues=QUEUES, regions=regions)
    assert flow.region == "asia"  # no node region given (a check of the file): the first
