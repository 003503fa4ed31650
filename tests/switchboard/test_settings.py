"""The core sections of the configuration file, read into Settings."""

from __future__ import annotations

from pathlib import Path

from switchboard.settings import load_settings

FILE = """
[node]
id = "n1"
region = "eu"
{routing}
[[regions]]
name = "eu"
timezone = "Europe/Paris"

[[queues]]
name = "booking"
ring_s = 20

[[queues]]
name = "general"
"""


def test_a_queue_without_ring_s_rings_for_offer_timeout_s(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(FILE.format(routing="[routing]\noffer_timeout_s = 25\n"))
    settings = load_settings(path)
    assert settings.routing.offer_timeout_s == 25.0
    assert {q.name: q.ring_s for q in settings.queues} == {"booking": 20.0, "general": 25.0}


def test_offer_timeout_s_defaults_to_15_s(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(FILE.format(routing=""))
    settings = load_settings(path)
    assert settings.routing.offer_timeout_s == 15.0
    general = settings.queue("general")
    assert general is not None and general.ring_s == 15.0
