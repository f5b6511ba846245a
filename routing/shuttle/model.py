"""Data model of the shuttle planner: what goes in (riders, fleet, stops) and what comes out.

Times are integer seconds since midnight (``format_hms`` renders them as ``HH:MM:SS``);
distances are metres; coordinates are WGS-84 lon/lat. Every class is a frozen dataclass with a
``to_dict`` giving JSON-friendly values, so plans can be written, read back and compared.

A :class:`Plan` accounts for every rider exactly once: either in ``assignments`` (one line,
one stop) or in ``unserved`` with a reason code from :data:`UNSERVED_REASONS`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ShuttleInputError
from .settings import ShuttleSettings, format_hms

if TYPE_CHECKING:
    from shapely.geometry import LineString, Polygon

__all__ = [
    "UNSERVED_REASONS",
    "Assignment",
    "BusType",
    "CandidateStop",
    "District",
    "Fleet",
    "Line",
    "Plan",
    "Rider",
    "StopSource",
    "StopVisit",
    "Unserved",
    "UnservedReason",
    "format_hms",
]

StopSource = Literal["bus_stop", "district_access", "given"]

UnservedReason = Literal[
    "off_map",
    "too_far_to_walk",
    "unreachable",
    "ride_limit_shorter_than_direct_drive",
    "deadline_too_early",
    "fleet_too_small",
    "no_feasible_line",
]

#: Reason code -> what it means (the human message of an :class:`Unserved` adds the numbers).
UNSERVED_REASONS: dict[str, str] = {
    "off_map": "the home is not on (or near) the Area's walk graph",
    "too_far_to_walk": "no candidate stop lies within the maximum walk of the home",
    "unreachable": "no stop within walking distance can be reached by bus from the workplace's "
    "road network",
    "ride_limit_shorter_than_direct_drive": "even a direct bus from the nearest usable stop "
    "takes longer than the rider's maximum ride time",
    "deadline_too_early": "no bus leaving after the earliest departure reaches work by the "
    "deadline",
    "fleet_too_small": "the optimiser left the rider out: not enough buses or seats to serve "
    "everyone",
    "no_feasible_line": "the optimiser found no feasible line for the rider within its time limit",
}


@dataclass(frozen=True)
class Rider:
    """One commuter.

    Attributes
    ----------
    id
        Unique rider id (any string).
    lon, lat
        Home.
    workplace
        ``(lon, lat)`` of the workplace; ``None`` means the plan's workplace.
    deadline
        Latest arrival at work in seconds since midnight; ``None`` means the settings' deadline.
    max_ride_s
        Personal maximum ride (boarding to arrival); ``None`` means the settings' default.
    district
        District id if known in advance (otherwise districts are derived from land use).
    """

    id: str
    lon: float
    lat: float
    workplace: tuple[float, float] | None = None
    deadline: int | None = None
    max_ride_s: int | None = None
    district: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (``deadline`` as ``HH:MM:SS``)."""
        return {
            "id": self.id,
            "lon": self.lon,
            "lat": self.lat,
            "workplace": list(self.workplace) if self.workplace else None,
            "deadline": format_hms(self.deadline) if self.deadline is not None else None,
            "max_ride_s": self.max_ride_s,
            "district": self.district,
        }


@dataclass(frozen=True)
class BusType:
    """A kind of bus in the fleet. Costs are in one currency unit (e.g. yuan)."""

    name: str
    seats: int
    count: int
    fixed_cost: float = 0.0
    cost_per_km: float = 0.0
    cost_per_hour: float = 0.0

    def __post_init__(self) -> None:
        if not self.name:
            msg = "Expected a bus type name, got an empty string"
            raise ShuttleInputError(msg)
        for name in ("seats", "count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"Expected {name} of bus type {self.name!r} as an integer >= 0, got {value!r}"
                raise ShuttleInputError(msg)
        for name in ("fixed_cost", "cost_per_km", "cost_per_hour"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                msg = f"Expected {name} of bus type {self.name!r} as a number >= 0, got {value!r}"
                raise ShuttleInputError(msg)

    def trip_cost(self, distance_m: float, duration_s: float) -> float:
        """Cost of one trip of this bus type."""
        return (
            self.fixed_cost
            + self.cost_per_km * distance_m / 1000.0
            + self.cost_per_hour * duration_s / 3600.0
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "type": self.name,
            "seats": self.seats,
            "count": self.count,
            "fixed_cost": self.fixed_cost,
            "cost_per_km": self.cost_per_km,
            "cost_per_hour": self.cost_per_hour,
        }


@dataclass(frozen=True)
class Fleet:
    """The buses available: one :class:`BusType` per kind, names unique."""

    types: tuple[BusType, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(self.types))
        names = [t.name for t in self.types]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            msg = f"Expected unique bus type names, got duplicates {dupes}"
            raise ShuttleInputError(msg)

    def __iter__(self) -> Iterator[BusType]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def __getitem__(self, name: str) -> BusType:
        for t in self.types:
            if t.name == name:
                return t
        msg = f"Expected a bus type among {[t.name for t in self.types]}, got {name!r}"
        raise KeyError(msg)

    @property
    def total_buses(self) -> int:
        """Number of buses of all types."""
        return sum(t.count for t in self.types)

    @property
    def total_seats(self) -> int:
        """Seats over all buses."""
        return sum(t.count * t.seats for t in self.types)

    @property
    def max_seats(self) -> int:
        """Seats of the largest bus type that has at least one bus (0 if none)."""
        return max((t.seats for t in self.types if t.count > 0), default=0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {"types": [t.to_dict() for t in self.types]}


@dataclass(frozen=True)
class District:
    """A residential district (小区) and the riders living in it.

    ``polygon`` is the land-use polygon in lon/lat (``None`` for grid-cell districts);
    ``centroid`` is ``(lon, lat)``.
    """

    id: str
    name: str
    centroid: tuple[float, float]
    rider_ids: tuple[str, ...] = ()
    polygon: Polygon | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (without the polygon)."""
        return {
            "id": self.id,
            "name": self.name,
            "centroid": list(self.centroid),
            "riders": len(self.rider_ids),
        }


@dataclass(frozen=True)
class CandidateStop:
    """A place where a bus may pick riders up.

    ``node`` is the drive-graph node the bus stops at (``-1`` when not known, e.g. in synthetic
    instances); ``source`` says whether it is an existing bus stop, a district access point or
    given by the caller.
    """

    id: str
    lon: float
    lat: float
    node: int = -1
    source: StopSource = "given"
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "id": self.id,
            "lon": self.lon,
            "lat": self.lat,
            "node": self.node,
            "source": self.source,
            "name": self.name,
        }


@dataclass(frozen=True)
class StopVisit:
    """A line's call at a stop: the bus arrives, waits ``departure_s - arrival_s``, leaves.

    ``boarding`` riders board here; ``load_after`` is the number on board when it leaves.
    """

    stop_id: str
    lon: float
    lat: float
    arrival_s: int
    departure_s: int
    boarding: int
    load_after: int
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict with times as ``HH:MM:SS``."""
        return {
            "stop_id": self.stop_id,
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "arrival": format_hms(self.arrival_s),
            "departure": format_hms(self.departure_s),
            "boarding": self.boarding,
            "load_after": self.load_after,
        }


@dataclass(frozen=True)
class Line:
    """One bus trip: ordered stops ending at the workplace.

    Attributes
    ----------
    id
        Line id, unique in the plan (``L001``...).
    bus_type
        Name of the :class:`BusType` running it.
    stops
        The calls in driving order (the workplace is not a stop; see ``arrival_s``).
    path
        Driven geometry (lon/lat) along the drive graph, first stop to workplace; ``None`` in
        synthetic instances without a graph.
    distance_m, duration_s
        Driven distance and time from the first stop's arrival to the workplace arrival.
    workplace
        ``(lon, lat)`` where the line ends.
    arrival_s
        Arrival at the workplace.
    deadline_s
        The deadline of the wave the line belongs to.
    cost
        Cost of the trip under its bus type's costs.
    """

    id: str
    bus_type: str
    stops: tuple[StopVisit, ...]
    distance_m: float
    duration_s: int
    workplace: tuple[float, float]
    arrival_s: int
    deadline_s: int
    cost: float = 0.0
    path: LineString | None = field(default=None, compare=False)

    @property
    def riders(self) -> int:
        """Riders on board at the workplace."""
        return sum(v.boarding for v in self.stops)

    @property
    def departure_s(self) -> int:
        """Arrival at the first stop (``arrival_s`` if the line has no stops)."""
        return self.stops[0].arrival_s if self.stops else self.arrival_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict; ``path`` as a list of ``[lon, lat]``."""
        return {
            "id": self.id,
            "bus_type": self.bus_type,
            "stops": [v.to_dict() for v in self.stops],
            "distance_m": self.distance_m,
            "duration_s": self.duration_s,
            "workplace": list(self.workplace),
            "arrival": format_hms(self.arrival_s),
            "deadline": format_hms(self.deadline_s),
            "riders": self.riders,
            "cost": self.cost,
            "path": [list(c) for c in self.path.coords] if self.path is not None else None,
        }


@dataclass(frozen=True)
class Assignment:
    """Where and when one rider is picked up and delivered."""

    rider_id: str
    line_id: str
    stop_id: str
    walk_m: float
    board_time_s: int
    arrival_time_s: int

    @property
    def ride_s(self) -> int:
        """Ride time: boarding to arrival at work."""
        return self.arrival_time_s - self.board_time_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict with times as ``HH:MM:SS``."""
        return {
            "rider_id": self.rider_id,
            "line_id": self.line_id,
            "stop_id": self.stop_id,
            "walk_m": round(self.walk_m, 1),
            "board_time": format_hms(self.board_time_s),
            "arrival_time": format_hms(self.arrival_time_s),
        }


@dataclass(frozen=True)
class Unserved:
    """A rider the plan does not serve, with a reason code and a message with the numbers."""

    rider_id: str
    reason: UnservedReason
    message: str = ""

    def __post_init__(self) -> None:
        if self.reason not in UNSERVED_REASONS:
            msg = f"Expected a reason among {sorted(UNSERVED_REASONS)}, got {self.reason!r}"
            raise ValueError(msg)
        if not self.message:
            object.__setattr__(self, "message", UNSERVED_REASONS[self.reason])

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {"rider_id": self.rider_id, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class Plan:
    """The result of planning (or evaluating) shuttle lines.

    Attributes
    ----------
    lines
        The bus trips.
    assignments
        One per served rider.
    unserved
        One per rider not served, with the reason.
    kpis
        Key figures (see :func:`routing.shuttle.kpi.compute_kpis`), JSON-friendly.
    settings
        Settings used.
    workplace
        The plan's default workplace ``(lon, lat)``.
    deadline
        The plan's default deadline, seconds since midnight.
    riders
        The riders planned for (so a plan can be checked on its own).
    fleet
        The fleet planned with.
    stops
        Candidate stops that were considered (served ones are in the lines).
    area
        Name of the Area (empty for synthetic instances).
    meta
        Solver figures: runtime, iterations, time to the first feasible plan, seed, version...
    districts
        The residential districts riders were grouped into (with land-use polygons where
        known); empty for synthetic instances.
    """

    lines: tuple[Line, ...]
    assignments: tuple[Assignment, ...]
    unserved: tuple[Unserved, ...]
    kpis: dict[str, Any]
    settings: ShuttleSettings
    workplace: tuple[float, float]
    deadline: int
    riders: tuple[Rider, ...] = ()
    fleet: Fleet | None = None
    stops: tuple[CandidateStop, ...] = ()
    area: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    districts: tuple[District, ...] = field(default=(), compare=False)

    def line(self, line_id: str) -> Line:
        """The line with id ``line_id``."""
        for ln in self.lines:
            if ln.id == line_id:
                return ln
        msg = f"Expected a line id among {[ln.id for ln in self.lines][:10]}..., got {line_id!r}"
        raise KeyError(msg)

    def unserved_by_reason(self) -> dict[str, int]:
        """Count of unserved riders per reason code."""
        out: dict[str, int] = {}
        for u in self.unserved:
            out[u.reason] = out.get(u.reason, 0) + 1
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary: KPIs plus workplace, deadline and settings."""
        return {
            "area": self.area,
            "workplace": list(self.workplace),
            "deadline": format_hms(self.deadline),
            "kpis": self.kpis,
            "settings": self.settings.to_dict(),
            "meta": self.meta,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-friendly."""
        out = self.summary()
        out["lines"] = [ln.to_dict() for ln in self.lines]
        out["assignments"] = [a.to_dict() for a in self.assignments]
        out["unserved"] = [u.to_dict() for u in self.unserved]
        out["fleet"] = self.fleet.to_dict() if self.fleet is not None else None
        return out


def rider_index(riders: Iterable[Rider]) -> dict[str, Rider]:
    """Riders by id; raises :class:`ShuttleInputError` on a duplicate id."""
    out: dict[str, Rider] = {}
    for r in riders:
        if r.id in out:
            msg = f"Expected unique rider ids, got {r.id!r} twice"
            raise ShuttleInputError(msg)
        out[r.id] = r
    return out


def effective_limits(
    rider: Rider, settings: ShuttleSettings, deadline: int | None = None
) -> tuple[int, int]:
    """``(deadline_s, max_ride_s)`` of a rider after applying the defaults."""
    d = (
        rider.deadline
        if rider.deadline is not None
        else (deadline if deadline is not None else settings.deadline_s)
    )
    lim = rider.max_ride_s if rider.max_ride_s is not None else settings.default_max_ride_s
    return int(d), int(lim)
