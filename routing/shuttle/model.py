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
    "DIRECTIONS",
    "UNSERVED_REASONS",
    "Assignment",
    "BusType",
    "CandidateStop",
    "Direction",
    "District",
    "Fleet",
    "Line",
    "Plan",
    "Rider",
    "StopSource",
    "StopVisit",
    "Unserved",
    "UnservedReason",
    "Vehicle",
    "format_hms",
]

StopSource = Literal["bus_stop", "district_access", "given"]

#: Which way a trip runs: to the workplace before the shift (pick-ups, then drop-off at
#: work) or home after it (pick-up at work, then drop-offs).
Direction = Literal["to_work", "from_work"]
DIRECTIONS: tuple[Direction, ...] = ("to_work", "from_work")

UnservedReason = Literal[
    "walks_to_work",
    "off_map",
    "too_far_to_walk",
    "unreachable",
    "ride_limit_shorter_than_direct_drive",
    "deadline_too_early",
    "fleet_too_small",
    "no_feasible_line",
    "over_cap",
]

#: Reason code -> what it means (the human message of an :class:`Unserved` adds the numbers).
UNSERVED_REASONS: dict[str, str] = {
    "walks_to_work": "the home is within the maximum walk of the workplace: the rider walks",
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
    "over_cap": "the cap on lines or buses leaves no room for the rider (the plan's cap report "
    "says what the cap costs)",
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
        Personal maximum ride, to work and home alike; ``None`` means the settings' default.
    district
        District id if known in advance (otherwise districts are derived from land use).
    evening_departure
        When the rider's bus home leaves the workplace (shift end), seconds since midnight;
        ``None`` means the settings' ``evening_departure`` (which may be none: no ride home).
    """

    id: str
    lon: float
    lat: float
    workplace: tuple[float, float] | None = None
    deadline: int | None = None
    max_ride_s: int | None = None
    district: str | None = None
    evening_departure: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (``deadline`` and ``evening_departure`` as ``HH:MM:SS``)."""
        return {
            "id": self.id,
            "lon": self.lon,
            "lat": self.lat,
            "workplace": list(self.workplace) if self.workplace else None,
            "deadline": format_hms(self.deadline) if self.deadline is not None else None,
            "max_ride_s": self.max_ride_s,
            "district": self.district,
            "evening_departure": (
                format_hms(self.evening_departure) if self.evening_departure is not None else None
            ),
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

    def running_cost(self, distance_m: float, duration_s: float) -> float:
        """Cost of driving ``distance_m`` in ``duration_s`` (no fixed cost)."""
        return self.cost_per_km * distance_m / 1000.0 + self.cost_per_hour * duration_s / 3600.0

    def trip_cost(self, distance_m: float, duration_s: float) -> float:
        """Cost of one trip run by a bus of its own: fixed plus running cost."""
        return self.fixed_cost + self.running_cost(distance_m, duration_s)

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
    """A place where a bus may pick riders up or set them down.

    ``lon``, ``lat`` is where the bus stops: on a drive-graph edge for stops the planner
    placed (``edge``: its index in the drive :class:`~routing.edges.EdgeTable`), ``-1`` when
    the stop is not on the drive graph or not known (synthetic instances). ``source`` says
    whether it is an existing bus stop, a district access point or given by the caller.
    ``name`` is a readable name (never an internal id where one can be made: see
    :mod:`routing.shuttle.names`); ``names`` holds it per language (``zh``, ``en``, ``ja``,
    ``ko``) where it differs.
    """

    id: str
    lon: float
    lat: float
    edge: int = -1
    source: StopSource = "given"
    name: str = ""
    names: dict[str, str] = field(default_factory=dict, compare=False)

    def name_in(self, lang: str | None) -> str:
        """The name in ``lang`` when known, else :attr:`name`."""
        return self.names.get(lang or "", "") or self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "id": self.id,
            "lon": self.lon,
            "lat": self.lat,
            "edge": self.edge,
            "source": self.source,
            "name": self.name,
            "names": dict(self.names),
        }


@dataclass(frozen=True)
class StopVisit:
    """A line's call at a stop: the bus arrives, waits ``departure_s - arrival_s``, leaves.

    ``boarding`` riders board here on a trip to work, or alight here on a trip home;
    ``load_after`` is the number on board when the bus leaves.
    """

    stop_id: str
    lon: float
    lat: float
    arrival_s: int
    departure_s: int
    boarding: int
    load_after: int
    name: str = ""
    names: dict[str, str] = field(default_factory=dict, compare=False)

    def name_in(self, lang: str | None) -> str:
        """The stop's name in ``lang`` when known, else :attr:`name`."""
        return self.names.get(lang or "", "") or self.name

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
    """One bus trip: to work (stops, then the workplace) or home (the workplace, then stops).

    Attributes
    ----------
    id
        Line id, unique in the plan (``L001``...).
    bus_type
        Name of the :class:`BusType` running it.
    stops
        The calls at stops in driving order (the workplace is not among them).
    distance_m, duration_s
        Driven distance and time of the trip: first stop to the workplace (to work), or the
        bus's arrival at the workplace to its departure from the last stop (home).
    workplace
        ``(lon, lat)`` where the line ends (to work) or starts (home).
    arrival_s
        Arrival of the bus at the workplace: riders alight (to work) or start boarding (home).
    deadline_s
        The wave's time: the arrival deadline (to work) or the shift end (home).
    cost
        Running cost of the trip (per km and per hour of its bus type); the fixed cost is
        counted once per bus in the KPIs.
    path
        Driven geometry (lon/lat) along the drive graph in driving order; ``None`` in
        synthetic instances without a graph.
    direction
        ``"to_work"`` or ``"from_work"``.
    workplace_departure_s
        Trips home: when the bus leaves the workplace (``None`` for trips to work).
    vehicle_id
        The bus (:class:`Vehicle`) that runs the trip; empty when each trip has its own bus.
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
    direction: Direction = "to_work"
    workplace_departure_s: int | None = None
    vehicle_id: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            msg = f"Expected a direction among {list(DIRECTIONS)}, got {self.direction!r}"
            raise ValueError(msg)

    @property
    def to_work(self) -> bool:
        """Whether the trip runs to the workplace."""
        return self.direction == "to_work"

    @property
    def riders(self) -> int:
        """Riders carried."""
        return sum(v.boarding for v in self.stops)

    @property
    def departure_s(self) -> int:
        """When the trip starts: the bus at its first stop (to work), or leaving work (home)."""
        if not self.to_work:
            return self.workplace_departure_s if self.workplace_departure_s is not None else 0
        return self.stops[0].arrival_s if self.stops else self.arrival_s

    @property
    def start_s(self) -> int:
        """The bus's first call of the trip: arrival at the first stop, or at the workplace."""
        if not self.to_work or not self.stops:
            return self.arrival_s
        return self.stops[0].arrival_s

    @property
    def end_s(self) -> int:
        """When the bus is free again: arrival at work, or departure from the last stop."""
        if self.to_work or not self.stops:
            return self.arrival_s if self.to_work else self.departure_s
        return self.stops[-1].departure_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict; ``path`` as a list of ``[lon, lat]``."""
        return {
            "id": self.id,
            "direction": self.direction,
            "vehicle_id": self.vehicle_id,
            "bus_type": self.bus_type,
            "stops": [v.to_dict() for v in self.stops],
            "distance_m": self.distance_m,
            "duration_s": self.duration_s,
            "workplace": list(self.workplace),
            "arrival": format_hms(self.arrival_s),
            "departure": format_hms(self.departure_s),
            "deadline": format_hms(self.deadline_s),
            "riders": self.riders,
            "cost": self.cost,
            "path": [list(c) for c in self.path.coords] if self.path is not None else None,
        }


@dataclass(frozen=True)
class Vehicle:
    """One bus and its day: the trips it runs in order and the empty runs between them.

    ``deadhead_m[k]`` / ``deadhead_s[k]`` is the drive from the end of trip ``k`` to the start
    of trip ``k + 1`` (the fastest drive on the drive graph).
    """

    id: str
    bus_type: str
    line_ids: tuple[str, ...]
    deadhead_m: tuple[float, ...] = ()
    deadhead_s: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.line_ids:
            msg = f"Expected a vehicle with at least one trip, got none for {self.id!r}"
            raise ValueError(msg)
        n = len(self.line_ids) - 1
        if len(self.deadhead_m) != n or len(self.deadhead_s) != n:
            msg = (
                f"Expected {n} deadhead runs for {len(self.line_ids)} trips of {self.id!r}, got "
                f"{len(self.deadhead_m)} distances and {len(self.deadhead_s)} durations"
            )
            raise ValueError(msg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "id": self.id,
            "bus_type": self.bus_type,
            "line_ids": list(self.line_ids),
            "deadhead_m": list(self.deadhead_m),
            "deadhead_s": list(self.deadhead_s),
        }


@dataclass(frozen=True)
class Assignment:
    """Where and when one rider is picked up and set down on one trip.

    To work, ``board_time_s`` is the start of the rider's boarding at the stop and
    ``arrival_time_s`` the arrival at work; home, ``board_time_s`` is the bus's departure from
    the workplace and ``arrival_time_s`` the start of the rider's alighting at the stop.
    """

    rider_id: str
    line_id: str
    stop_id: str
    walk_m: float
    board_time_s: int
    arrival_time_s: int
    direction: Direction = "to_work"

    @property
    def ride_s(self) -> int:
        """Ride time: boarding to arrival."""
        return self.arrival_time_s - self.board_time_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict with times as ``HH:MM:SS``."""
        return {
            "rider_id": self.rider_id,
            "direction": self.direction,
            "line_id": self.line_id,
            "stop_id": self.stop_id,
            "walk_m": round(self.walk_m, 1),
            "board_time": format_hms(self.board_time_s),
            "arrival_time": format_hms(self.arrival_time_s),
        }


@dataclass(frozen=True)
class Unserved:
    """A rider the plan does not serve in one direction, with a reason code and a message."""

    rider_id: str
    reason: UnservedReason
    message: str = ""
    direction: Direction = "to_work"

    def __post_init__(self) -> None:
        if self.reason not in UNSERVED_REASONS:
            msg = f"Expected a reason among {sorted(UNSERVED_REASONS)}, got {self.reason!r}"
            raise ValueError(msg)
        if self.direction not in DIRECTIONS:
            msg = f"Expected a direction among {list(DIRECTIONS)}, got {self.direction!r}"
            raise ValueError(msg)
        if not self.message:
            object.__setattr__(self, "message", UNSERVED_REASONS[self.reason])

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "rider_id": self.rider_id,
            "direction": self.direction,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(frozen=True)
class Plan:
    """The result of planning (or evaluating) shuttle lines.

    Attributes
    ----------
    lines
        The bus trips, both directions.
    assignments
        One per rider and direction served.
    unserved
        One per rider and direction not served, with the reason. Every rider needs a trip to
        work; a rider with an evening departure also needs one home.
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
    vehicles
        The buses and the trips each runs in order (a bus running several trips is one
        vehicle); empty when each line has its own bus (e.g. evaluated existing lines
        without blocks).
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
    vehicles: tuple[Vehicle, ...] = ()

    def line(self, line_id: str) -> Line:
        """The line with id ``line_id``."""
        for ln in self.lines:
            if ln.id == line_id:
                return ln
        msg = f"Expected a line id among {[ln.id for ln in self.lines][:10]}..., got {line_id!r}"
        raise KeyError(msg)

    def unserved_by_reason(self) -> dict[str, int]:
        """Count of unserved riders (per direction) per reason code."""
        out: dict[str, int] = {}
        for u in self.unserved:
            out[u.reason] = out.get(u.reason, 0) + 1
        return out

    def buses_by_type(self) -> dict[str, int]:
        """Buses per type: each vehicle, and each line on none (a bus of its own)."""
        out: dict[str, int] = {}
        for name in bus_types_of(self.lines, self.vehicles):
            out[name] = out.get(name, 0) + 1
        return out

    def vehicle_of(self) -> dict[str, str]:
        """Line id to the id of the bus running it (each line its own bus when no blocks)."""
        out = {ln.id: ln.vehicle_id or ln.id for ln in self.lines}
        for v in self.vehicles:
            for line_id in v.line_ids:
                out[line_id] = v.id
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
        out["vehicles"] = [v.to_dict() for v in self.vehicles]
        out["fleet"] = self.fleet.to_dict() if self.fleet is not None else None
        return out


def bus_types_of(lines: Iterable[Line], vehicles: Iterable[Vehicle]) -> list[str]:
    """The bus type of every bus: each vehicle, and each line on none (a bus of its own)."""
    vehicles = list(vehicles)
    on_vehicle = {lid for v in vehicles for lid in v.line_ids}
    return [v.bus_type for v in vehicles] + [ln.bus_type for ln in lines if ln.id not in on_vehicle]


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


def evening_departure(rider: Rider, settings: ShuttleSettings) -> int | None:
    """When the rider's bus home leaves work (``None``: the rider needs no ride home)."""
    if rider.evening_departure is not None:
        return int(rider.evening_departure)
    return settings.evening_departure_s


def unserved_both_ways(
    rider: Rider, reason: UnservedReason, message: str, *, settings: ShuttleSettings
) -> list[Unserved]:
    """``rider`` unserved to work and, when they have an evening departure, home too."""
    out = [Unserved(rider.id, reason, message, direction="to_work")]
    if evening_departure(rider, settings) is not None:
        out.append(Unserved(rider.id, reason, message, direction="from_work"))
    return out
