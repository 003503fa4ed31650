"""Placement and heir choice: pure policy on plain data."""

from __future__ import annotations

import datetime as dt
import math

from regions.model import RegionConfig
from regions.placement import RegionView, choose_heir, place


def view(
    name: str, wait: float, *, open: bool = True, healthy: bool = True, serve: bool = True
) -> RegionView:
    return RegionView(name, open, healthy, serve, wait)


def test_home_region_by_default() -> None:
    placement = place("eu", [view("eu", 30), view("asia", 5)], placement_threshold_s=60)
    assert placement.region == "eu" and not placement.open_regions


def test_closed_home_goes_to_the_region_that_predicts_least() -> None:
    views = [view("eu", 5, open=False), view("asia", 40), view("us", 20)]
    placement = place("eu", views, placement_threshold_s=None)
    assert placement.region == "us" and "closed" in placement.reason


def test_unhealthy_home_moves() -> None:
    placement = place("eu", [view("eu", 5, healthy=False), view("us", 20)], None)
    assert placement.region == "us" and "unhealthy" in placement.reason


def test_long_home_wait_moves_only_when_another_region_predicts_less() -> None:
    assert place("eu", [view("eu", 200), view("us", 50)], 120).region == "us"
    assert place("eu", [view("eu", 200), view("us", 300)], 120).region == "eu"
    assert place("eu", [view("eu", 200), view("us", 50, serve=False)], 120).region == "eu"


def test_a_home_region_nobody_serves_is_said_so_not_as_an_infinite_wait() -> None:
    placement = place("asia", [view("asia", math.inf, serve=False), view("eu", 180)], 30)
    assert placement.region == "eu"
    assert placement.reason == "home region asia has no agent ready for it; eu predicts 180s"


def test_overflow_threshold_opens_every_region() -> None:
    placement = place("eu", [view("eu", 200), view("us", math.inf, serve=False)], None, 90)
    assert (
        placement.region == "eu" and placement.open_regions and "every region" in placement.reason
    )


def test_heir_same_region_first_then_neighbours() -> None:
    alive = [("us-1", "us"), ("asia-1", "asia"), ("eu-2", "eu"), ("eu-3", "eu")]
    neighbours = {"eu": ["asia", "us"]}
    assert choose_heir("eu", alive, neighbours) == "eu-2"
    assert choose_heir("eu", alive[:2], neighbours) == "asia-1"
    assert choose_heir("eu", [], neighbours) is None


def test_business_hours_in_the_regions_time_zone() -> None:
    paris = RegionConfig("eu", "Europe/Paris", "07:00", "22:00")
    assert paris.hours.is_open(dt.datetime(2026, 1, 5, 6, 30, tzinfo=dt.UTC))  # 07:30 in Paris
    assert not paris.hours.is_open(dt.datetime(2026, 1, 5, 21, 30, tzinfo=dt.UTC))  # 22:30


def test_a_region_open_overnight_is_open_for_chat_placement_at_night() -> None:
    """The same hours mean the same for chat placement as for the IVR: 22:00-06:00 is
    open at 23:30 and 02:00 local, closed at noon (string comparison said never)."""
    night = RegionConfig("apac-night", "Asia/Tokyo", "22:00", "06:00")
    assert night.hours.is_open(dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC))  # 23:30 Tokyo
    assert night.hours.is_open(dt.datetime(2026, 1, 5, 17, 0, tzinfo=dt.UTC))  # 02:00
    assert not night.hours.is_open(dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC))  # 12:00
