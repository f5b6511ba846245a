"""Locator query checking, filters and the words of an empty result."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from ._errors import StationValueError
from .model import ACCESS, AMENITIES, KINDS

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .model import Station

__all__ = ["MAX_K", "Query", "check_query", "describe_empty", "format_distance", "parse_open_at"]

#: Largest ``k`` a query may ask for.
MAX_K = 100

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_UTC = ZoneInfo("UTC")
#: Years an ``open_at`` may fall in: opening hours say nothing about other centuries, and
#: far dates cannot be moved to a station's time zone (year 1 at +14:00 is before year 1 UTC).
OPEN_AT_YEARS = (1900, 2199)
_LEAP_SECOND = re.compile(r"(T\d{2}:\d{2}):60")


@dataclass(frozen=True)
class Query:
    """A checked locator query (filters only; the origin is checked apart)."""

    k: int
    kind: str | None
    amenities: tuple[str, ...]
    open_at: datetime | None
    max_minutes: float | None
    access: str | None

    @property
    def amenity_mask(self) -> int:
        """Bit mask of the required amenities (bit ``i`` is ``AMENITIES[i]``)."""
        return amenity_mask(self.amenities)

    @property
    def budget_s(self) -> float:
        """Total walking-time budget in seconds (``inf`` without ``max_minutes``)."""
        return math.inf if self.max_minutes is None else self.max_minutes * 60.0


def amenity_mask(amenities: Iterable[str]) -> int:
    """Bit mask of amenity names (bit ``i`` is ``AMENITIES[i]``)."""
    mask = 0
    for name in amenities:
        mask |= 1 << AMENITIES.index(name)
    return mask


def parse_open_at(value: datetime | str | None, *, now: datetime | None = None) -> datetime | None:
    """Read an ``open_at`` value: the one grammar of the library, the CLI and the HTTP API.

    Accepted: a ``datetime``; ``now`` (the current instant, UTC); ``HH:MM`` (that time today,
    ``now``'s date, default the local date); ISO 8601 text (``2026-01-15T08:30``, with an
    optional offset or ``Z``; a ``+`` that arrived as a space from an unencoded query string
    is restored). Naive results are local time at each station (see
    :meth:`stations.model.Station.is_open`); aware ones are converted to UTC as a named zone,
    which opening-hours-py needs.

    Raises
    ------
    StationValueError
        For anything else, naming ``open_at`` and the accepted forms.
    """
    if value is None or isinstance(value, datetime):
        return _named_zone(value)
    if not isinstance(value, str):
        msg = f"Expected open_at as a datetime, ISO 8601 text, HH:MM or now, got {value!r}"
        raise StationValueError(msg, field="open_at")
    text = value.strip()
    if text.lower() == "now":
        return (now or datetime.now(_UTC)).astimezone(_UTC).replace(microsecond=0)
    match = _HHMM.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            msg = (
                "Expected open_at as ISO 8601 (2024-01-15T12:30), HH:MM or now, with hours 0-24 "
                f"and minutes 0-59, got {value!r}"
            )
            raise StationValueError(msg, field="open_at")
        base = (now or datetime.now()).replace(second=0, microsecond=0)
        day = datetime.combine(base.date(), time(0, 0), tzinfo=base.tzinfo)
        return day + timedelta(hours=hour, minutes=minute)
    text = text.upper()  # RFC 3339 allows "t" and "z"
    if "T" in text and " " in text:  # "2026-01-15T08:30 08:00": an unencoded "+"
        text = text.replace(" ", "+")
    text = _LEAP_SECOND.sub(r"\1:59", text)  # 23:59:60 (RFC 3339): the second before
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        msg = f"Expected open_at as ISO 8601 (2024-01-15T12:30), HH:MM or now, got {value!r}"
        raise StationValueError(msg, field="open_at") from None
    return _named_zone(parsed)


def _named_zone(value: datetime | None) -> datetime | None:
    """Aware datetimes in UTC as a zoneinfo zone (opening-hours-py rejects fixed offsets).

    Raises :class:`StationValueError` outside :data:`OPEN_AT_YEARS`.
    """
    if value is None:
        return value
    first, last = OPEN_AT_YEARS
    if not first <= value.year <= last:
        msg = f"Expected open_at in the years {first}-{last}, got {value.isoformat()!r}"
        raise StationValueError(msg, field="open_at")
    if value.tzinfo is None:
        return value
    return value.astimezone(_UTC)


def check_query(
    *,
    k: int,
    kind: str | None,
    amenities: Iterable[str] | str,
    open_at: datetime | str | None,
    max_minutes: float | None,
    access: str | None,
) -> Query:
    """Validate locator options; raise ``ValueError`` saying what is wrong."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_K:
        msg = f"Expected k in [1, {MAX_K}], got {k!r}"
        raise ValueError(msg)
    if kind is not None and kind not in KINDS:
        msg = f"Expected kind to be one of {', '.join(KINDS)}; got {kind!r}"
        raise StationValueError(msg, field="kind")
    if isinstance(amenities, str):
        amenities = [amenities]
    wanted: list[str] = []
    for item in amenities:
        name = str(item).strip().lower().replace("-", "_").replace(" ", "_")
        if name not in AMENITIES:
            msg = f"Expected amenities from {', '.join(AMENITIES)}; got {item!r}"
            raise StationValueError(msg, field="amenities")
        if name not in wanted:
            wanted.append(name)
    if max_minutes is not None:
        try:
            minutes = float(max_minutes)
        except (TypeError, ValueError):
            minutes = math.nan
        if not math.isfinite(minutes) or minutes <= 0:
            msg = f"Expected max_minutes > 0, got {max_minutes!r}"
            raise ValueError(msg)
        max_minutes = minutes
    if access is not None and access not in ACCESS:
        msg = f"Expected access to be one of {', '.join(ACCESS)}; got {access!r}"
        raise StationValueError(msg, field="access")
    return Query(
        k=int(k),
        kind=kind,
        amenities=tuple(wanted),
        open_at=parse_open_at(open_at),
        max_minutes=max_minutes,
        access=access,
    )


def format_distance(metres: float) -> str:
    """``730 m`` or ``1.2 km``."""
    if metres >= 1000:
        return f"{metres / 1000:.1f} km"
    return f"{metres:.0f} m"


def describe_empty(query: Query, *, registry_empty: bool = False) -> str:
    """Why a query found nothing, in the query's own terms."""
    if registry_empty:
        what = f"of kind {query.kind} " if query.kind else ""
        return f"no station {what}in the registry (reachable from the walk network)".replace(
            "  ", " "
        )
    parts = ["no station"]
    if query.kind:
        parts.append(f"of kind {query.kind}")
    if query.amenities:
        parts.append(f"with amenities {', '.join(query.amenities)}")
    if query.access:
        parts.append(f"with {query.access} access")
    if query.open_at is not None:
        parts.append(f"open at {query.open_at.isoformat(sep=' ', timespec='minutes')}")
    if query.max_minutes is not None:
        parts.append(f"within {query.max_minutes:g} minutes")
    else:
        parts.append("reachable on foot")
    return " ".join(parts)


class StationFilter:
    """Which station slots pass a query's filters; opening hours evaluated lazily, memoised."""

    def __init__(
        self,
        query: Query,
        stations: list[Station | None],
        amenity_bits: NDArray[np.int64],
        public: NDArray[np.bool_],
    ) -> None:
        self.query = query
        self._stations = stations
        self._mask = np.int64(query.amenity_mask)
        self._amen = amenity_bits
        self._public = public
        # Opening state per slot: -1 not evaluated yet, 0 closed or unknown, 1 open.
        self._open = np.full(len(stations), -1, dtype=np.int8)

    def __call__(self, slots: NDArray[np.int32]) -> NDArray[np.bool_]:
        """Boolean per slot (``-1`` never passes)."""
        slots = np.asarray(slots)
        ok = slots >= 0
        safe = np.where(ok, slots, 0)
        if self._mask:
            ok &= (self._amen[safe] & self._mask) == self._mask
        if self.query.access is not None:
            want_public = self.query.access == "public"
            ok &= self._public[safe] == want_public
        if self.query.open_at is not None and ok.any():
            need = np.unique(safe[ok])
            need = need[self._open[need] < 0]
            at = self.query.open_at
            for slot in need.tolist():
                station = self._stations[slot]
                self._open[slot] = station is not None and station.is_open(at) is True
            ok &= self._open[safe] == 1
        return ok
