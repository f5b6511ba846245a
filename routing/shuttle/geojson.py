"""The one Plan -> GeoJSON encoder: the plan directory's ``lines.geojson``, ``/api/lines``.

Every line is one RFC 7946 LineString Feature (lon/lat, 7 decimals) with the properties

``line_id, direction, vehicle_id, bus_type, seats, riders, distance_m, duration_s,
departure, arrival, deadline, cost, workplace, geometry_source, stops``

where ``direction`` is ``to_work`` or ``from_work`` (a ride home), ``vehicle_id`` the bus
running the trip (``null`` when the plan has no buses), ``riders`` the number of riders
carried, ``departure`` the start of the trip (the first stop, or leaving work), ``stops`` the
ordered calls ``{stop_id, name, lon, lat, arrival, departure, boarding, load}`` (``boarding``:
riders getting on to work or off at home; ``load``: riders on board after the call) and
times are ``HH:MM:SS`` (hours may pass 23, as in GTFS). The geometry is the driven path
along the drive graph where the plan has one (``geometry_source: "drive_graph"``), else
straight legs through the stops (``"straight"``), in driving order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import format_hms

if TYPE_CHECKING:
    from .model import Line, Plan

__all__ = ["LINE_PROPERTIES", "line_coordinates", "line_feature", "lines_feature_collection"]

#: Properties of a line Feature, in the order they are written.
LINE_PROPERTIES = (
    "line_id",
    "direction",
    "vehicle_id",
    "bus_type",
    "seats",
    "riders",
    "distance_m",
    "duration_s",
    "departure",
    "arrival",
    "deadline",
    "cost",
    "workplace",
    "geometry_source",
    "stops",
)


def line_coordinates(line: Line) -> tuple[list[list[float]], str]:
    """A line's LineString positions (7 decimals) and where they came from.

    The drive-graph path when the line has one (``"drive_graph"``), else straight legs from
    stop to stop to the workplace, or from the workplace on a trip home (``"straight"``),
    always at least two positions, in driving order.
    """
    if line.path is not None and not line.path.is_empty and len(line.path.coords) >= 2:
        return [[round(x, 7), round(y, 7)] for x, y, *_ in line.path.coords], "drive_graph"
    calls = [[v.lon, v.lat] for v in line.stops]
    coords = [*calls, list(line.workplace)] if line.to_work else [list(line.workplace), *calls]
    if len(coords) < 2:  # RFC 7946: a LineString needs two positions
        coords.append(list(coords[0]))
    return [[round(x, 7), round(y, 7)] for x, y in coords], "straight"


def line_feature(line: Line, *, seats: int | None = None) -> dict[str, Any]:
    """One line as a GeoJSON Feature (``seats``: those of its bus type, if known)."""
    coords, source = line_coordinates(line)
    stops = [
        {
            "stop_id": v.stop_id,
            "name": v.name,
            "lon": round(v.lon, 7),
            "lat": round(v.lat, 7),
            "arrival": format_hms(v.arrival_s),
            "departure": format_hms(v.departure_s),
            "boarding": v.boarding,
            "load": v.load_after,
        }
        for v in line.stops
    ]
    values = {
        "line_id": line.id,
        "direction": line.direction,
        "vehicle_id": line.vehicle_id or None,
        "bus_type": line.bus_type,
        "seats": seats,
        "riders": line.riders,
        "distance_m": float(line.distance_m),
        "duration_s": int(line.duration_s),
        "departure": format_hms(line.departure_s),
        "arrival": format_hms(line.arrival_s),
        "deadline": format_hms(line.deadline_s),
        "cost": float(line.cost),
        "workplace": [round(float(c), 7) for c in line.workplace],
        "geometry_source": source,
        "stops": stops,
    }
    return {
        "type": "Feature",
        "id": line.id,
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {name: values[name] for name in LINE_PROPERTIES},
    }


def lines_feature_collection(plan: Plan) -> dict[str, Any]:
    """The plan's lines as a FeatureCollection (what ``lines.geojson`` holds)."""
    seats = {t.name: t.seats for t in plan.fleet} if plan.fleet is not None else {}
    return {
        "type": "FeatureCollection",
        "features": [line_feature(line, seats=seats.get(line.bus_type)) for line in plan.lines],
    }
