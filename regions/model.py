"""A region as configured: where it is, when it is open, and who its neighbours are."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.common.hours import OpeningHours


@dataclass(frozen=True)
class RegionConfig:
    name: str
    timezone: str
    open: str = "00:00"
    close: str = "24:00"
    neighbours: tuple[str, ...] = ()

    @property
    def hours(self) -> OpeningHours:
        return OpeningHours(self.timezone, self.open, self.close)
