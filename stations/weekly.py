"""Coverage by hour of the week: where can a night-shift cleaner go at 3 a.m.?

Stations have opening hours (``Station.is_open``: OSM syntax, local time at the station,
public holidays of its country). :func:`coverage_by_hour` evaluates a reference week — the
seven days from a Monday, by default this week's — hour by hour (at the full hour). The 168
hours rarely mean 168 different sets of open stations: the distinct open-sets are found
first and each is covered once, moving from one set to the next through the incremental
:class:`~stations.coverage.CoverageModel` when few stations change.

Stations whose hours are unknown count as closed unless ``assume_open_unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import StationValueError
from .coverage import CoverageModel, _number, select_stations

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from routing.area import Area

    from ._demand import DemandPoints
    from .model import Station

__all__ = ["DAYS", "HourTable", "coverage_by_hour", "open_matrix", "parse_week_time", "week_of"]

#: Day abbreviations of OSM ``opening_hours``, Monday first.
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_NAMES = {
    **{d.lower(): i for i, d in enumerate(DAYS)},
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}
_WEEK_TIME = re.compile(r"^\s*([A-Za-z]+)\.?\s+(\d{1,2}):(\d{2})\s*$")


def week_of(day: date | None = None) -> date:
    """The Monday of ``day``'s week (default: today)."""
    day = day or date.today()
    return day - timedelta(days=day.weekday())


def parse_week_time(text: str | datetime, *, week: date | None = None) -> datetime:
    """A moment of the reference week: ``"Tu 12:00"``, ``"Saturday 03:00"`` or ISO 8601.

    Weekday forms fall in the week starting on Monday ``week`` (default: this week); ISO
    text and datetimes are taken as they are. Naive results are local time at each station.

    Raises
    ------
    StationValueError
        Anything else, naming the accepted forms.
    """
    if isinstance(text, datetime):
        return text
    match = _WEEK_TIME.match(str(text))
    if match:
        day = _DAY_NAMES.get(match.group(1).lower())
        hour, minute = int(match.group(2)), int(match.group(3))
        if day is not None and hour < 24 and minute < 60:
            monday = week_of(week)
            return datetime.combine(monday + timedelta(days=day), datetime.min.time()).replace(
                hour=hour, minute=minute
            )
    try:
        return datetime.fromisoformat(str(text).strip())
    except ValueError:
        pass
    msg = (
        "Expected a time of the week like 'Tu 12:00' or 'Sa 03:00' (days Mo-Su, 24-hour "
        f"clock) or ISO 8601 (2026-01-13T12:00), got {text!r}"
    )
    raise StationValueError(msg, field="at")


def open_matrix(
    stations: Sequence[Station], hours: Sequence[datetime], *, assume_open_unknown: bool = False
) -> NDArray[np.bool_]:
    """``(len(hours), len(stations))``: which station is open at which hour.

    Stations sharing an expression and a place (coordinates to ~1 km, which fixes their
    time zone and holiday calendar) are evaluated once.
    """
    out = np.zeros((len(hours), len(stations)), dtype=bool)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, s in enumerate(stations):
        groups.setdefault((s.opening_hours, round(s.lat, 2), round(s.lon, 2)), []).append(i)
    for members in groups.values():
        first = stations[members[0]]
        column = []
        for at in hours:
            state = first.is_open(at)
            column.append(assume_open_unknown if state is None else bool(state))
        out[:, members] = np.asarray(column, dtype=bool)[:, None]
    return out


@dataclass(frozen=True)
class HourTable:
    """Coverage per hour of a reference week.

    Attributes
    ----------
    week
        The Monday the week starts on.
    minutes
        The budgets.
    shares
        Layer -> array ``(len(minutes), 7, 24)`` of covered shares.
    units, totals
        Per layer.
    open_stations
        ``(7, 24)`` stations open at each hour.
    distinct_sets
        How many different open-sets the 168 hours had (searches done).
    """

    week: date
    minutes: tuple[float, ...]
    shares: dict[str, NDArray[np.float64]]
    units: dict[str, str]
    totals: dict[str, float]
    open_stations: NDArray[np.int64]
    distinct_sets: int

    def share(self, layer: str, minutes: float, day: int | str, hour: int) -> float:
        """Covered share of ``layer`` within ``minutes`` on ``day`` (0 = Monday or ``"Mo"``)."""
        d = DAYS.index(day) if isinstance(day, str) else int(day)
        return float(self.shares[layer][self.minutes.index(float(minutes)), d, hour])

    def to_dict(self) -> dict[str, Any]:
        """JSON form: per layer and budget a 7 x 24 table of shares (rows Monday first)."""
        return {
            "week": self.week.isoformat(),
            "days": list(DAYS),
            "minutes": [_number(m) for m in self.minutes],
            "distinct_open_sets": self.distinct_sets,
            "open_stations": self.open_stations.tolist(),
            "layers": [
                {
                    "layer": name,
                    "unit": self.units[name],
                    "total": round(self.totals[name], 3),
                    "budgets": [
                        {"minutes": _number(m), "share": np.round(table[b], 6).tolist()}
                        for b, m in enumerate(self.minutes)
                    ],
                }
                for name, table in self.shares.items()
            ],
        }


def coverage_by_hour(
    area: Area,
    stations: Iterable[Station],
    *,
    minutes: Iterable[float] | float = (5, 10, 15),
    demand: Iterable[str | Path | DemandPoints] | str = ("streets",),
    kind: str | Sequence[str] | None = None,
    week: date | None = None,
    assume_open_unknown: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> HourTable:
    """Coverage at every full hour of the week starting on Monday ``week``.

    Parameters
    ----------
    area, stations, minutes, demand, kind
        As for :func:`stations.coverage.coverage`.
    week
        Any day of the reference week (default: this week); holidays follow its dates.
    assume_open_unknown
        Count stations with unknown hours as open.
    on_progress
        Called with ``(done, total)`` distinct open-sets.
    """
    chosen = select_stations(stations, kind=kind)
    monday = week_of(week)
    hours = [
        datetime.combine(monday + timedelta(days=d), datetime.min.time()).replace(hour=h)
        for d in range(7)
        for h in range(24)
    ]
    is_open = open_matrix(chosen, hours, assume_open_unknown=assume_open_unknown)
    model = CoverageModel(area, [], minutes=minutes, demand=demand)
    model._add_slots(chosen)
    model._active[:] = False
    packed = np.packbits(is_open, axis=1) if chosen else np.zeros((168, 1), dtype=np.uint8)
    sets, inverse = np.unique(packed, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    results = {}
    # visit the sets in the week's order, so that consecutive hours change little
    order = list(dict.fromkeys(inverse.tolist()))
    for done, index in enumerate(order, start=1):
        members = np.flatnonzero(is_open[int(np.flatnonzero(inverse == index)[0])])
        model.use(chosen[i].id for i in members)
        results[index] = model.result()
        if on_progress is not None:
            on_progress(done, len(order))
    first = results[order[0]] if order else model.result()
    shares = {}
    for name in first.layers:
        table = np.zeros((len(model.minutes), 168))
        for h in range(168):
            table[:, h] = results[int(inverse[h])].layers[name].share
        shares[name] = table.reshape(len(model.minutes), 7, 24)
    return HourTable(
        week=monday,
        minutes=model.minutes,
        shares=shares,
        units={n: layer.unit for n, layer in first.layers.items()},
        totals={n: layer.total for n, layer in first.layers.items()},
        open_stations=is_open.sum(axis=1).reshape(7, 24).astype(np.int64),
        distinct_sets=int(sets.shape[0]),
    )
