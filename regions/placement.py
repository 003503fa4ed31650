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
    others = [v for v in views if v.name != home and v.open and v.healthy and v.can_serve]
    best_other = min(others, key=lambda v: v.predicted_wait_s, default=None)
    if home_view is None:
        chosen, reason = home, f"home region {home} (not in this node's configuration)"
    elif (not home_view.open or not home_view.healthy) and best_other is not None:
        why = "closed" if not home_view.open else "unhealthy"
        chosen, reason = best_other.name, f"home region {home} {why}; placed in {best_other.name}"
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
