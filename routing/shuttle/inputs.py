"""Read riders (CSV or GeoJSON points) and fleets (CSV), reporting every bad row.

Riders CSV: ``id, lon, lat`` required; optional ``workplace_lon, workplace_lat`` (both or
neither), ``deadline`` (``HH:MM``, arrival at work), ``evening_departure`` (``HH:MM``, when
the bus home leaves work: the shift end), ``max_ride_min`` (both directions), ``district``.
Riders GeoJSON: Point features with the same properties (``id`` may also be the feature id).
Fleet CSV: ``type, seats, count, fixed_cost, cost_per_km, cost_per_hour``.

Readers are all-or-nothing: one malformed row raises :class:`ShuttleInputError` listing every
problem as (row, field, problem), so nothing is dropped silently. Rows count data rows from 1
(the header is row 0); GeoJSON rows count features from 1.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from routing.problems import RowProblem

from ._errors import ShuttleInputError, ShuttleSettingsError
from .model import BusType, Fleet, Rider
from .settings import parse_clock

__all__ = [
    "read_fleet",
    "read_riders",
    "riders_from_records",
    "write_fleet_csv",
    "write_riders_csv",
]

RIDER_FIELDS = (
    "id",
    "lon",
    "lat",
    "workplace_lon",
    "workplace_lat",
    "deadline",
    "max_ride_min",
    "district",
    "evening_departure",
)
FLEET_FIELDS = ("type", "seats", "count", "fixed_cost", "cost_per_km", "cost_per_hour")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _number(
    rec: Mapping[str, Any],
    name: str,
    row: int,
    problems: list[RowProblem],
    *,
    lo: float | None = None,
    hi: float | None = None,
    required: bool = True,
) -> float | None:
    v = rec.get(name)
    if _blank(v):
        if required:
            problems.append(RowProblem(row, name, "missing"))
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        problems.append(RowProblem(row, name, f"expected a number, got {v!r}"))
        return None
    if not math.isfinite(x):
        problems.append(RowProblem(row, name, f"expected a finite number, got {v!r}"))
        return None
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        problems.append(RowProblem(row, name, f"expected a value in [{lo}, {hi}], got {v!r}"))
        return None
    return x


def riders_from_records(records: Iterable[Mapping[str, Any]]) -> list[Rider]:
    """Riders from dict-like records (CSV rows, GeoJSON properties plus lon/lat).

    Raises :class:`ShuttleInputError` listing every bad row and field.
    """
    problems: list[RowProblem] = []
    riders: list[Rider] = []
    seen: dict[str, int] = {}
    for row, rec in enumerate(records, start=1):
        n_before = len(problems)
        rid = rec.get("id")
        if _blank(rid):
            problems.append(RowProblem(row, "id", "missing"))
        else:
            rid = str(rid).strip()
            if rid in seen:
                problems.append(RowProblem(row, "id", f"duplicate of row {seen[rid]}"))
            else:
                seen[rid] = row
        lon = _number(rec, "lon", row, problems, lo=-180, hi=180)
        lat = _number(rec, "lat", row, problems, lo=-90, hi=90)
        wlon = _number(rec, "workplace_lon", row, problems, lo=-180, hi=180, required=False)
        wlat = _number(rec, "workplace_lat", row, problems, lo=-90, hi=90, required=False)
        if (wlon is None) != (wlat is None) and len(problems) == n_before:
            problems.append(
                RowProblem(
                    row, "workplace_lon", "give both workplace_lon and workplace_lat, or neither"
                )
            )
        clocks: dict[str, int | None] = {"deadline": None, "evening_departure": None}
        for name in clocks:
            if not _blank(rec.get(name)):
                try:
                    clocks[name] = parse_clock(str(rec[name]).strip(), name=name)
                except ShuttleSettingsError as exc:
                    problems.append(RowProblem(row, name, str(exc)))
        ride = _number(rec, "max_ride_min", row, problems, lo=0, required=False)
        if ride is not None and ride <= 0:
            problems.append(RowProblem(row, "max_ride_min", f"expected > 0, got {ride}"))
        district = rec.get("district")
        if len(problems) > n_before:
            continue
        assert lon is not None and lat is not None
        riders.append(
            Rider(
                id=str(rid),
                lon=lon,
                lat=lat,
                workplace=(wlon, wlat) if wlon is not None and wlat is not None else None,
                deadline=clocks["deadline"],
                max_ride_s=round(ride * 60) if ride is not None else None,
                district=None if _blank(district) else str(district).strip(),
                evening_departure=clocks["evening_departure"],
            )
        )
    if problems:
        msg = f"Expected valid riders, got {len(problems)} problem(s)"
        raise ShuttleInputError(msg, problems)
    return riders


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        msg = f"Expected an existing file, got {str(path)!r}"
        raise ShuttleInputError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"Expected UTF-8 text in {str(path)!r}, got {exc.reason}"
        raise ShuttleInputError(msg) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        msg = f"Expected columns {list(required)} in {str(path)!r}, missing {missing}"
        raise ShuttleInputError(msg)
    reader.fieldnames = header
    return [{k: v for k, v in rec.items() if k is not None} for rec in reader]


def read_riders(path: str | Path) -> list[Rider]:
    """Read riders from a CSV file or a GeoJSON FeatureCollection of points.

    The format follows the suffix (``.geojson`` / ``.json`` is GeoJSON, anything else CSV).
    """
    p = Path(path)
    if p.suffix.lower() in (".geojson", ".json"):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            msg = f"Expected an existing file, got {str(p)!r}"
            raise ShuttleInputError(msg) from None
        except json.JSONDecodeError as exc:
            msg = f"Expected GeoJSON in {str(p)!r}, got invalid JSON: {exc}"
            raise ShuttleInputError(msg) from None
        feats = data.get("features") if isinstance(data, dict) else None
        if not isinstance(feats, list):
            msg = f"Expected a GeoJSON FeatureCollection in {str(p)!r}"
            raise ShuttleInputError(msg)
        records: list[dict[str, Any]] = []
        problems: list[RowProblem] = []
        for row, f in enumerate(feats, start=1):
            geom = (f or {}).get("geometry") or {}
            props = dict((f or {}).get("properties") or {})
            coords = geom.get("coordinates")
            if geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
                problems.append(
                    RowProblem(row, "geometry", f"expected a Point, got {geom.get('type')!r}")
                )
                continue
            props.setdefault("id", f.get("id"))
            props["lon"], props["lat"] = coords[0], coords[1]
            records.append(props)
        if problems:
            msg = f"Expected valid riders, got {len(problems)} problem(s)"
            raise ShuttleInputError(msg, problems)
        return riders_from_records(records)
    return riders_from_records(_read_csv(p, ("id", "lon", "lat")))


def read_fleet(path: str | Path) -> Fleet:
    """Read a fleet CSV (one bus type per row). Reports every bad row and field."""
    rows = _read_csv(Path(path), FLEET_FIELDS)
    problems: list[RowProblem] = []
    types: list[BusType] = []
    first_row: dict[str, int] = {}
    for row, rec in enumerate(rows, start=1):
        n_before = len(problems)
        name = (rec.get("type") or "").strip()
        if not name:
            problems.append(RowProblem(row, "type", "missing"))
        elif name in first_row:
            problems.append(
                RowProblem(row, "type", f"duplicate of bus type {name!r} in row {first_row[name]}")
            )
        else:
            first_row[name] = row
        ints: dict[str, int] = {}
        for f in ("seats", "count"):
            v = _number(rec, f, row, problems, lo=0)
            if v is not None:
                if v != int(v):
                    problems.append(RowProblem(row, f, f"expected a whole number, got {v}"))
                ints[f] = int(v)
        costs = {
            f: _number(rec, f, row, problems, lo=0)
            for f in ("fixed_cost", "cost_per_km", "cost_per_hour")
        }
        if len(problems) > n_before:
            continue
        types.append(
            BusType(
                name,
                ints["seats"],
                ints["count"],
                float(costs["fixed_cost"] or 0.0),
                float(costs["cost_per_km"] or 0.0),
                float(costs["cost_per_hour"] or 0.0),
            )
        )
    if problems:
        msg = f"Expected a valid fleet, got {len(problems)} problem(s)"
        raise ShuttleInputError(msg, problems)
    if not types:
        msg = f"Expected at least one bus type in {str(path)!r}, got none"
        raise ShuttleInputError(msg)
    return Fleet(tuple(types))


def write_riders_csv(riders: Iterable[Rider], path: str | Path) -> None:
    """Write riders in the CSV format :func:`read_riders` reads."""
    from .settings import format_hms

    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(RIDER_FIELDS)
        for r in riders:
            w.writerow(
                [
                    r.id,
                    r.lon,
                    r.lat,
                    r.workplace[0] if r.workplace else "",
                    r.workplace[1] if r.workplace else "",
                    format_hms(r.deadline) if r.deadline is not None else "",
                    f"{r.max_ride_s / 60:g}" if r.max_ride_s is not None else "",
                    r.district or "",
                    format_hms(r.evening_departure) if r.evening_departure is not None else "",
                ]
            )


def write_fleet_csv(fleet: Fleet, path: str | Path) -> None:
    """Write a fleet in the CSV format :func:`read_fleet` reads."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(FLEET_FIELDS)
        for t in fleet:
            w.writerow([t.name, t.seats, t.count, t.fixed_cost, t.cost_per_km, t.cost_per_hour])
