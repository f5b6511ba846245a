"""Parsing and checking of API query parameters; every problem is a :class:`ParameterError`.

Messages follow the package style, "Expected X, got Y", and name the parameter, so that a
400 answer tells the caller exactly what to fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from stations.model import LANGUAGES  # the languages the API accepts in ``lang``

from ._errors import ParameterError

__all__ = [
    "LANGUAGES",
    "parse_bbox",
    "parse_choices",
    "parse_int",
    "parse_lang",
    "parse_lonlat",
    "parse_lonlat_pair",
    "parse_minutes",
    "parse_open_at",
]

_UTC = ZoneInfo("UTC")


def _float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        msg = f"Expected {name} to be a number, got {raw!r}"
        raise ParameterError(msg) from None
    if not math.isfinite(value):
        msg = f"Expected {name} to be a finite number, got {raw!r}"
        raise ParameterError(msg)
    return value


def _check_lon(name: str, value: float) -> float:
    if not -180.0 <= value <= 180.0:
        msg = f"Expected {name} (longitude) in [-180, 180], got {value:g}"
        raise ParameterError(msg)
    return value


def _check_lat(name: str, value: float) -> float:
    if not -90.0 <= value <= 90.0:
        msg = f"Expected {name} (latitude) in [-90, 90], got {value:g}"
        raise ParameterError(msg)
    return value


def _required(args: Mapping[str, str], name: str) -> str:
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        msg = f"Expected parameter {name!r}, got nothing"
        raise ParameterError(msg)
    return raw.strip()


def parse_lonlat(args: Mapping[str, str]) -> tuple[float, float]:
    """``lon`` and ``lat`` (WGS-84 degrees), both required."""
    lon = _check_lon("lon", _float("lon", _required(args, "lon")))
    lat = _check_lat("lat", _float("lat", _required(args, "lat")))
    return lon, lat


def parse_lonlat_pair(args: Mapping[str, str], name: str) -> tuple[float, float]:
    """A required ``lon,lat`` pair such as ``from=24.94,60.17``."""
    raw = _required(args, name)
    parts = raw.split(",")
    if len(parts) != 2:
        msg = f"Expected {name} as 'lon,lat', got {raw!r}"
        raise ParameterError(msg)
    lon = _check_lon(name, _float(name, parts[0]))
    lat = _check_lat(name, _float(name, parts[1]))
    return lon, lat


def parse_bbox(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """Optional ``bbox=minlon,minlat,maxlon,maxlat`` (WGS-84, min before max)."""
    raw = args.get("bbox")
    if raw is None or raw.strip() == "":
        return None
    parts = raw.split(",")
    if len(parts) != 4:
        msg = f"Expected bbox as 'minlon,minlat,maxlon,maxlat' (4 numbers), got {raw!r}"
        raise ParameterError(msg)
    minlon, minlat, maxlon, maxlat = (_float("bbox", p) for p in parts)
    for v in (minlon, maxlon):
        _check_lon("bbox", v)
    for v in (minlat, maxlat):
        _check_lat("bbox", v)
    if minlon > maxlon or minlat > maxlat:
        msg = (
            "Expected bbox as 'minlon,minlat,maxlon,maxlat' with min <= max, got "
            f"{raw!r} (are the corners swapped?)"
        )
        raise ParameterError(msg)
    return minlon, minlat, maxlon, maxlat


def parse_int(
    args: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int
) -> int:
    """An optional integer parameter within ``[minimum, maximum]``."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        msg = f"Expected {name} to be an integer, got {raw!r}"
        raise ParameterError(msg) from None
    if not minimum <= value <= maximum:
        msg = f"Expected {name} in [{minimum}, {maximum}], got {value}"
        raise ParameterError(msg)
    return value


def _split(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def parse_choices(values: Sequence[str], name: str, valid: Iterable[str]) -> list[str]:
    """Repeated and/or comma-separated values, each one of ``valid`` (order kept, no repeats)."""
    allowed = list(valid)
    chosen: list[str] = []
    for value in _split(values):
        if value not in allowed:
            msg = f"Expected {name} to be one of {', '.join(allowed)}, got {value!r}"
            raise ParameterError(msg)
        if value not in chosen:
            chosen.append(value)
    return chosen


def parse_open_at(args: Mapping[str, str]) -> datetime | None:
    """Optional ``open_at`` as an ISO 8601 date-time (``2026-01-15T08:30``) or ``now``.

    Without an offset the time is the local wall-clock time at each station; with one (``+``
    may arrive as a space from an unencoded query string) it is converted to the station's
    time zone. ``now`` is the current instant.
    """
    raw = args.get("open_at")
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if text.lower() == "now":
        return datetime.now(_UTC).replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    except ValueError:
        msg = (
            "Expected open_at as an ISO 8601 date-time like '2026-01-15T08:30' or 'now', "
            f"got {raw!r}"
        )
        raise ParameterError(msg) from None
    if value.tzinfo is not None:  # opening-hours-py wants a named zone, not a fixed offset
        value = value.astimezone(_UTC)
    return value


def parse_lang(args: Mapping[str, str]) -> str | None:
    """Optional ``lang`` (zh, en, ja, ko); ``None`` when absent."""
    raw = args.get("lang")
    if raw is None or raw.strip() == "":
        return None
    lang = raw.strip().lower().split("-")[0]
    if lang not in LANGUAGES:
        msg = f"Expected lang to be one of {', '.join(LANGUAGES)}, got {raw!r}"
        raise ParameterError(msg)
    return lang


def parse_minutes(args: Mapping[str, str], *, maximum: int = 60) -> list[int]:
    """``minutes=5,10,15``: 1 to 6 distinct whole minutes in ``[1, maximum]``, sorted."""
    raw = args.get("minutes")
    if raw is None or raw.strip() == "":
        return [5, 10, 15]
    values: list[int] = []
    for part in _split([raw]):
        try:
            value = int(part)
        except ValueError:
            msg = f"Expected minutes as comma-separated whole numbers like '5,10,15', got {raw!r}"
            raise ParameterError(msg) from None
        if not 1 <= value <= maximum:
            msg = f"Expected each of minutes in [1, {maximum}], got {value}"
            raise ParameterError(msg)
        values.append(value)
    values = sorted(set(values))
    if not 1 <= len(values) <= 6:
        msg = f"Expected 1 to 6 values in minutes, got {len(values)}"
        raise ParameterError(msg)
    return values
