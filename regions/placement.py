"""Where a new contact waits, and who inherits a dead node. Pure policy, plain data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RegionView:
    """What placement knows of one region for one queue and language, right now."""

    name: str
    open: bool
    healthy: bool
    can_serve: bool  # an agent there with the skill and the language is ready or serving
    predicted_wait_s: float


@dataclass(frozen=True)
class Placement:
    region: str
    reason: str
    open_regions: bool = False


def place(
    home: str,
    views: Sequence[RegionView],
    placement_threshold_s: float | None,
    overflow_threshold_s: float | None = None,
) -> Placement:
    """Home region unless it is closed, unhealthy, or predicts more than the placement
    threshold while another region that can serve the contact predicts less. Where the
    chosen region still predicts more than the overflow threshold, agents of every region
    may take the contact from the start (cross-region overflow above an EWT)."""
    by_name = {view.name: view for view in views}
    home_view = by_name.get(home)
    best_other = _best_other(home, views)
    moved = elsewhere(home, views)
    if home_view is None:
        chosen, reason = home, f"home region {home} (not in this node's configuration)"
    elif moved is not None:
        chosen, reason = moved.region, moved.reason
    elif (
        placement_threshold_s is not None
        and home_view.predicted_wait_s > placement_threshold_s
        and best_other is not None
        and best_other.predicted_wait_s < home_view.predicted_wait_s
    ):
        chosen = best_other.name
        home_says = (
            f"predicts {home_view.predicted_wait_s:.0f}s > {placement_threshold_s:.0f}s"
            if math.isfinite(home_view.predicted_wait_s)
            else "has no agent ready for it"
        )
        reason = (
            f"home region {home} {home_says}; {chosen} predicts {best_other.predicted_wait_s:.0f}s"
        )
    else:
        chosen, reason = home, f"home region {home}"
    chosen_view = by_name.get(chosen)
    open_regions = (
        overflow_threshold_s is not None
        and chosen_view is not None
        and chosen_view.predicted_wait_s > overflow_threshold_s
    )
    if open_regions:
        reason += f"; EWT above {overflow_threshold_s:.0f}s: open to every region"
    return Placement(chosen, reason, open_regions)


def elsewhere(home: str, views: Sequence[RegionView]) -> Placement | None:
    """Where a contact of `home` waits instead while `home` is closed or unhealthy (no
    live node): the open, healthy region with an agent who can serve it that predicts the
    shortest wait. None while home is open and healthy, unknown to this node's
    configuration, or no other region can serve it. A new chat's placement and the
    adoption of a region's last node both follow it, so a waiting chat fails over as a
    new one would be placed."""
    home_view = next((view for view in views if view.name == home), None)
    best_other = _best_other(home, views)
    if home_view is None or best_other is None or (home_view.open and home_view.healthy):
        return None
    why = "closed" if not home_view.open else "unhealthy"
    return Placement(best_other.name, f"home region {home} {why}; placed in {best_other.name}")


def _best_other(home: str, views: Sequence[RegionView]) -> RegionView | None:
    """The region other than home, open and healthy, that can serve the contact and
    predicts the shortest wait."""
    others = [v for v in views if v.name != home and v.open and v.healthy and v.can_serve]
    return min(others, key=lambda v: v.predicted_wait_s, default=None)


def choose_heir(
    dead_region: str,
    alive: Sequence[tuple[str, str]],
    neighbours: Mapping[str, Sequence[str]],
) -> str | None:
    """The node that adopts a dead node's contacts: same region first, then the nearest
    region in the dead region's neighbour order, then any; lowest id within a region so
    that every node reaches the same answer without talking."""
    by_region: dict[str, list[str]] = {}
    for node_id, region in alive:
        by_region.setdefault(region, []).append(node_id)
    for region in [dead_region, *neighbours.get(dead_region, ())]:
        if by_region.get(region):
            return min(by_region[region])
    return min((node_id for node_id, _ in alive), default=None)
