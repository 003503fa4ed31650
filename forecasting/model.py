"""Plain data of the forecasting package: history on a grid, events, forecasts, peaks.

Times inside the package are local wall-clock times (naive datetimes): a contact
center's day, its opening hours and its weekly rhythm follow the clock on the wall,
not UTC. The offset is put back only when a file is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = np.ndarray  # day indices and weekdays (numpy's integer kinds vary by platform)

MINUTES_PER_DAY = 1440
ALLOWED_WIDTHS = (5, 10, 15, 20, 30, 60)


@dataclass(frozen=True)
class HistoryRow:
    """One row of the history CSV: contacts that arrived in one interval of one queue."""

    interval_start: datetime  # aware, as read
    queue: str
    contacts: float
    aht_s: float | None = None
    row: int = 0  # row number in the file it came from (header = 1)


@dataclass
class History:
    """Contacts per queue on a regular grid of local days × intervals.

    `contacts[q, d, s]` counts contacts of queue q on day d (from `first_day`) in slot s;
    `aht_s` is the mean handle time there (NaN where no contacts or no AHT was given).
    `present[d, s]` says whether any queue had a row: a missing row means closed.
    `end` is the first local time after the history (exclusive), so a history that ends
    in the middle of a day knows where "today's actuals so far" stop.

    A day is the center's working day: `first_day` is the midnight of its date, and its
    slots start `day_offset` from there (0, or hours either way for a center whose day
    runs across midnight on the history's clock: open 11:00-01:00 is one day, not two),
    plus the minutes its grid is moved by (60-minute intervals from :30 on the clock of
    an export in UTC of a center at +05:30).
    """

    queues: list[str]
    width_min: int
    first_day: datetime
    contacts: FloatArray
    aht_s: FloatArray
    present: BoolArray
    end: datetime
    tz: tzinfo
    day_offset: timedelta = timedelta(0)
    # the file's own clock (one offset) when `tz` was read from the hours' switches:
    # the forecast is written on it, as the history was
    file_clock: tzinfo | None = None
    # columns of the file that were not read (an export's `site`, `channel`)
    unread_columns: tuple[str, ...] = ()

    @property
    def slots_per_day(self) -> int:
        return MINUTES_PER_DAY // self.width_min

    @property
    def days(self) -> int:
        return int(self.contacts.shape[1])

    def date_of(self, day: int) -> date:
        """The date a day is the center's working day of (its weekday, its holidays)."""
        return (self.first_day + timedelta(days=day)).date()

    def day_start(self, day: int) -> datetime:
        """The local time a day's first slot starts."""
        return self.first_day + timedelta(days=day) + self.day_offset

    @property
    def across_midnight(self) -> bool:
        """Whether the working day starts hours from midnight (not only the minutes by
        which the grid is moved: 60-minute intervals from :30)."""
        return self.day_offset // timedelta(hours=1) != 0

    def weekday(self, day: int) -> int:
        return self.date_of(day).weekday()

    def index_of(self, moment: datetime) -> tuple[int, int]:
        """(day, slot) of a local time; the day may lie outside the history."""
        minutes = int((moment - self.day_start(0)).total_seconds() // 60)
        day, minute = divmod(minutes, MINUTES_PER_DAY)
        return day, minute // self.width_min

    def end_index(self) -> tuple[int, int]:
        return self.index_of(self.end)

    def cut(self, end: datetime) -> History:
        """The history as it was known at local time `end` (for rolling origins)."""
        day, slot = self.index_of(end)
        days = min(self.days, day + (1 if slot else 0))
        contacts = self.contacts[:, :days].copy()
        aht = self.aht_s[:, :days].copy()
        present = self.present[:days].copy()
        if slot and day < self.days:
            contacts[:, day, slot:] = 0.0
            aht[:, day, slot:] = np.nan
            present[day, slot:] = False
        return replace(self, contacts=contacts, aht_s=aht, present=present, end=min(end, self.end))


@dataclass(frozen=True)
class Event:
    """A known disturbance: a storm at a hub, mass cancellations, a campaign.

    `region` and `queue` None mean every region and every queue. `factor` is the
    planner's multiplier, used when the history holds no past event of this kind.
    """

    start: datetime  # local
    end: datetime  # local, exclusive
    kind: str
    region: str | None = None
    queue: str | None = None
    factor: float | None = None
    row: int = 0


@dataclass(frozen=True)
class ForecastRow:
    interval_start: datetime  # local (fold 1: the second time of an hour the clocks repeat)
    queue: str
    contacts: float
    aht_s: float
    low: float
    high: float


@dataclass(frozen=True)
class Peak:
    """An interval likely to exceed the threshold, known `lead` ahead of it.

    `probability` is the model's P(contacts > threshold); an alert is raised when it
    reaches the alert probability calibrated on held-out weeks (see selection): one for
    the rest of today after an intraday update, one for later days."""

    interval_start: datetime  # local (fold 1: the second time of an hour the clocks repeat)
    queue: str
    contacts: float
    threshold: float
    lead: timedelta
    probability: float = 1.0


@dataclass
class Forecast:
    """A forecast run: the rows, the uplift applied per event kind, and the peaks."""

    rows: list[ForecastRow]
    width_min: int
    origin: datetime
    uplift: dict[str, float] = field(default_factory=dict)
    peaks: list[Peak] = field(default_factory=list)
    alert_probability: float = 0.3  # P(exceed) at which a peak of a later day is flagged
    alert_probability_today: float = 0.3  # the same for the rest of a partial day
    notes: list[str] = field(default_factory=list)  # holidays inferred or not forecast
    closed_days: list[date] = field(default_factory=list)  # closed by holidays
    choice: dict[str, object] = field(default_factory=dict)  # model choice per queue
    closed_why: dict[date, str] = field(default_factory=dict)  # which holiday, and why closed
