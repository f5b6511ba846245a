"""Read riders (CSV, Excel or GeoJSON points) and fleets (CSV or Excel), reporting every bad row.

Riders CSV / ``.xlsx`` (first sheet, header row first): ``id, lon, lat`` required; optional
``workplace_lon, workplace_lat`` (both or neither), ``deadline`` (``HH:MM``, arrival at work),
``evening_departure`` (``HH:MM``, when the bus home leaves work: the shift end),
``max_ride_min`` (both directions), ``district``.
Riders GeoJSON: Point features with the same properties (``id`` may also be the feature id).
Fleet CSV / ``.xlsx``: ``type, seats, count, fixed_cost, cost_per_km, cost_per_hour``.
Homes copied from Chinese map apps are GCJ-02 (Amap, Tencent) or BD-09 (Baidu): declare them
with ``crs`` (converted to WGS-84); given an Area, undeclared homes that fit the map much
better in one of those systems are refused with the evidence (:func:`read_riders`).

Readers are all-or-nothing: one malformed row raises :class:`ShuttleInputError` listing every
problem as (row, field, problem), so nothing is dropped silently. Rows count data rows from 1
(the header is row 0); GeoJSON rows count features from 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routing.coords import check_crs, to_wgs84
from routing.datum import check_offset
from routing.problems import RowProblem

from ._errors import ShuttleInputError, ShuttleSettingsError, ShuttleWarning
from .model import BusType, Fleet, Rider
from .settings import parse_clock

if TYPE_CHECKING:
    from routing.area import Area

__all__ = [
    "convert_riders",
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


def _cell(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (times as ``HH:MM``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (
            value.strftime("%H:%M") if value.date() == dt.date(1899, 12, 30) else value.isoformat()
        )
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of the first sheet of an ``.xlsx`` workbook."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency of the project
        msg = "Expected openpyxl to read .xlsx files; install it or save the sheet as CSV"
        raise ShuttleInputError(msg) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        msg = f"Expected an existing file, got {str(path)!r}"
        raise ShuttleInputError(msg) from None
    except Exception as exc:  # openpyxl raises many types for a corrupt workbook
        msg = f"Expected an Excel workbook (.xlsx) in {path.name}, got an unreadable file ({exc})"
        raise ShuttleInputError(msg) from None
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True)) if book.worksheets else []
    finally:
        book.close()
    if not rows:
        return [], []
    header = [_cell(h).strip() for h in rows[0]]
    out = []
    for values in rows[1:]:
        cells = [_cell(v) for v in values]
        if not any(c.strip() for c in cells):
            continue  # spreadsheets keep empty rows below the data
        out.append({h: c for h, c in zip(header, cells, strict=False) if h})
    return header, out


def _read_table(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8) or Excel (``.xlsx``) file, checked for the required columns."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        header, rows = _xlsx_rows(path)
    else:
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
        reader.fieldnames = header
        rows = [{k: v for k, v in rec.items() if k is not None} for rec in reader]
    missing = [c for c in required if c not in header]
    if missing:
        msg = f"Expected columns {list(required)} in {path.name}, missing {missing}"
        raise ShuttleInputError(msg)
    return rows


def read_riders(
    path: str | Path, *, crs: str | None = None, area: Area | None = None
) -> list[Rider]:
    """Read riders from a CSV or Excel file, or a GeoJSON FeatureCollection of points.

    The format follows the suffix (``.geojson`` / ``.json`` GeoJSON, ``.xlsx`` Excel, anything
    else CSV).

    Parameters
    ----------
    path
        The file.
    crs
        The coordinate system of the homes: ``wgs84`` (as GPS and OSM), ``gcj02`` (Amap,
        Tencent) or ``bd09`` (Baidu); converted to WGS-84. ``None``: WGS-84, undeclared.
    area
        With an Area, the homes are compared with its streets and buildings
        (:func:`routing.datum.check_offset`): undeclared points that fit the map much better
        read as GCJ-02 or BD-09 are refused with the evidence (declare ``crs``); declared
        ones that look wrong only warn (:class:`ShuttleWarning`).
    """
    declared = check_crs(crs) if crs is not None else None
    p = Path(path)
    if p.suffix.lower() in (".geojson", ".json"):
        riders = riders_from_records(_geojson_records(p))
    else:
        riders = riders_from_records(_read_table(p, ("id", "lon", "lat")))
    return convert_riders(riders, crs=declared, area=area)


def convert_riders(
    riders: list[Rider], *, crs: str | None = None, area: Area | None = None
) -> list[Rider]:
    """Riders' homes (and own workplaces) converted from ``crs`` to WGS-84, checked against
    ``area`` when given (see :func:`read_riders`)."""
    declared = check_crs(crs) if crs is not None else None
    if riders and area is not None:
        verdict = check_offset(
            [r.lon for r in riders], [r.lat for r in riders], area, declared=declared
        )
        if verdict.refused:
            raise ShuttleInputError(verdict.message(), [verdict.problem()])  # type: ignore[list-item]
        if verdict.suspicious:
            warnings.warn(verdict.message(), ShuttleWarning, stacklevel=3)
    if declared in (None, "wgs84") or not riders:
        return riders
    lon, lat = to_wgs84([r.lon for r in riders], [r.lat for r in riders], declared)
    out = []
    for r, x, y in zip(riders, lon.tolist(), lat.tolist(), strict=True):
        wp = r.workplace
        if wp is not None:
            wx, wy = to_wgs84([wp[0]], [wp[1]], declared)
            wp = (round(float(wx[0]), 7), round(float(wy[0]), 7))
        out.append(replace(r, lon=round(x, 7), lat=round(y, 7), workplace=wp))
    return out


def _geojson_records(p: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"Expected an existing file, got {str(p)!r}"
        raise ShuttleInputError(msg) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
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
    return records


def read_fleet(path: str | Path) -> Fleet:
    """Read a fleet CSV or Excel file (one bus type per row). Reports every bad row and field."""
    rows = _read_table(Path(path), FLEET_FIELDS)
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
