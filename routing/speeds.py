"""Edge speeds and travel times: ``maxspeed`` parsing with fallbacks.

OSM ``maxspeed`` is free text in the wild: ``"50"``, ``"30 mph"``, ``"70|100"`` (per lane),
``"50;70"`` (list), ``"CN:urban"`` (a country's implicit limit), ``"signals"``, ``"none"``,
and typos. :func:`parse_maxspeed` turns what it can into km/h and returns ``None`` for the
rest, which then falls back to the highway-class default of :class:`~routing.AreaSettings`.
Values above ``AreaSettings.max_speed_kmh`` are rejected too (osmnx #934 produced 10,000 km/h
from an unparsed value).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

    from .settings import AreaSettings

__all__ = ["add_travel_times", "parse_maxspeed"]

logger = logging.getLogger(__name__)

MPH = 1.609344
KNOT = 1.852

#: Implicit limits by zone suffix (``"CN:urban"`` -> ``"urban"``), km/h.
_ZONE_SPEEDS = {
    "urban": 50.0,
    "rural": 80.0,
    "motorway": 120.0,
    "trunk": 100.0,
    "living_street": 20.0,
    "bicycle_road": 30.0,
    "pedestrian_zone": 7.0,
    "school": 30.0,
    "walk": 7.0,
}
#: Country-specific implicit limits that differ from the generic table.
_COUNTRY_ZONE_SPEEDS = {
    "RU:urban": 60.0,
    "UA:urban": 50.0,
    "CN:rural": 70.0,
    "CN:motorway": 120.0,
    "DE:rural": 100.0,
    "AT:rural": 100.0,
    "CH:rural": 80.0,
    "GB:nsl_single": 60 * MPH,
    "GB:nsl_dual": 70 * MPH,
    "GB:motorway": 70 * MPH,
    "UK:nsl_single": 60 * MPH,
    "UK:nsl_dual": 70 * MPH,
}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|km|mph|knots?|kn)?\s*$", re.IGNORECASE)
_ZONE = re.compile(r"^\s*([A-Za-z]{2})[:\-]([A-Za-z_]+?)(\d+)?\s*$")


def parse_maxspeed(value: Any, *, max_speed: float = 130.0) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h, or ``None`` when it gives no usable speed.

    Parameters
    ----------
    value
        A tag value (``"50"``, ``"30 mph"``, ``"70|100"``, ``"50;70"``, ``"CN:urban"``,
        ``"DE:zone30"``, ``"walk"``), a number, or a list of such values (osmnx merges the
        values of simplified edges into a list).
    max_speed
        Values above this (km/h) are treated as errors and give ``None``.

    Returns
    -------
    float or None
        The speed in km/h. Lanes (``|``) and lists (``;`` or a Python list) give their mean.
        ``"none"``, ``"signals"``, ``"variable"``, empty and unparsable text give ``None``.
    """
    if value is None:
        return None
    if isinstance(value, list | tuple):
        parts = [parse_maxspeed(v, max_speed=max_speed) for v in value]
        found = [p for p in parts if p is not None]
        return sum(found) / len(found) if found else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        speed = float(value)
        return speed if math.isfinite(speed) and 0 < speed <= max_speed else None
    text = str(value).strip()
    if not text:
        return None
    if "|" in text or ";" in text:
        return parse_maxspeed(re.split(r"[|;]", text), max_speed=max_speed)
    parsed = _parse_one(text)
    if parsed is None or not math.isfinite(parsed) or parsed <= 0 or parsed > max_speed:
        return None
    return parsed


def _parse_one(text: str) -> float | None:
    lowered = text.lower()
    if lowered == "walk":
        return _ZONE_SPEEDS["walk"]
    match = _NUMBER.match(text)
    if match:
        speed = float(match.group(1).replace(",", "."))
        unit = (match.group(2) or "").lower()
        if unit == "mph":
            return speed * MPH
        if unit.startswith("kn"):
            return speed * KNOT
        return speed
    zone = _ZONE.match(text)
    if zone:
        country, kind, number = zone.group(1).upper(), zone.group(2).lower(), zone.group(3)
        if number is not None:  # "DE:zone30", "DE:zone:30" handled below
            return float(number)
        key = f"{country}:{kind}"
        if key in _COUNTRY_ZONE_SPEEDS:
            return _COUNTRY_ZONE_SPEEDS[key]
        if kind.startswith("zone"):
            return None
        return _ZONE_SPEEDS.get(kind)
    zone_colon = re.match(r"^\s*[A-Za-z]{2}:zone:?(\d+)\s*$", text)
    if zone_colon:
        return float(zone_colon.group(1))
    return None


def _highway_default(highway: Any, settings: AreaSettings) -> float:
    if isinstance(highway, list | tuple):
        speeds = [settings.speed_for_highway(str(h)) for h in highway]
        return sum(speeds) / len(speeds) if speeds else settings.fallback_speed_kmh
    if highway is None or (isinstance(highway, float) and math.isnan(highway)):
        return settings.fallback_speed_kmh
    return settings.speed_for_highway(str(highway))


def add_travel_times(G: nx.MultiDiGraph, *, network: str, settings: AreaSettings) -> dict[str, Any]:
    """Set ``speed_kph`` and ``travel_time`` (seconds) on every edge, in place.

    Parameters
    ----------
    G
        Graph whose edges carry ``length`` in metres.
    network
        ``"walk"``: every edge at ``settings.walk_speed_kmh``. ``"drive"``: car speed from
        ``maxspeed`` or the highway-class default (kept as ``car_speed_kph``), times
        ``settings.bus_factor``.
    settings
        The build settings.

    Returns
    -------
    dict
        What was fixed: ``maxspeed_unparsed`` (count of edges whose non-empty ``maxspeed`` was
        unusable) and ``maxspeed_unparsed_values`` (the most common such values).
    """
    if network not in ("walk", "drive"):
        msg = f"Expected network 'walk' or 'drive', got {network!r}"
        raise ValueError(msg)
    unparsed: Counter[str] = Counter()
    for _u, _v, data in G.edges(data=True):
        length = float(data.get("length", 0.0) or 0.0)
        if not math.isfinite(length) or length < 0:
            length = 0.0
            data["length"] = 0.0
        if network == "walk":
            speed = settings.walk_speed_kmh
        else:
            raw = data.get("maxspeed")
            car = parse_maxspeed(raw, max_speed=settings.max_speed_kmh)
            if car is None:
                if raw not in (None, "") and not (isinstance(raw, float) and math.isnan(raw)):
                    unparsed[str(raw)] += 1
                car = _highway_default(data.get("highway"), settings)
            data["car_speed_kph"] = car
            speed = car * settings.bus_factor
        data["speed_kph"] = speed
        data["travel_time"] = length / (speed / 3.6)
    if unparsed:
        logger.info(
            "%d edges had an unusable maxspeed, e.g. %s",
            sum(unparsed.values()),
            unparsed.most_common(3),
        )
    return {
        "maxspeed_unparsed": int(sum(unparsed.values())),
        "maxspeed_unparsed_values": dict(unparsed.most_common(10)),
    }
