"""Import and export of stations: CSV, GeoJSON, GeoPackage (and OSM POIs via :mod:`.osm`).

Imports are all-or-nothing. :func:`read_stations` reads and validates every row and returns an
:class:`ImportReport` listing each problem by row and field; :func:`import_stations` writes the
stations to a store in one transaction only when there is no problem at all, and otherwise
raises :class:`~stations._errors.StationImportError` carrying the report, leaving the store
untouched.

Coordinates are declared, not guessed: ``crs="wgs84"`` (OSM, GPS), ``"gcj02"`` (Amap, Tencent,
Google China) or ``"bd09"`` (Baidu); they are converted to WGS-84 on import. When an Area is
given, :func:`stations.coords.check_offset` compares the points with its walk network and a
:class:`~stations._errors.CoordinateOffsetWarning` is issued if another reading fits markedly
better (the typical undeclared GCJ-02 list).

CSV columns: ``id`` (optional: a stable id is derived from kind, name and position when
missing), ``kind``, ``name``, ``name_zh``/``name_en``/``name_ja``/``name_ko`` (or ``name:xx``),
``address``, ``lon``/``lat`` (also ``lng``/``longitude``/``latitude``), ``host_type``,
``amenities`` and ``seven_have`` (``;``-separated), ``opening_hours``, ``access``,
``capacity``, ``certification``, ``contact``, ``notes``, ``source``, ``updated_at``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from routing.problems import format_problems, problems_to_dicts

from . import _readers
from ._errors import (
    CoordinateOffsetWarning,
    FileFormatError,
    StationImportError,
    StationValueError,
)
from ._readers import Problem, RawRow
from .coords import OffsetCheck, check_crs, check_offset, to_wgs84
from .model import KINDS, LANGUAGES, RECORD_FIELDS, SEVEN_HAVE, Station
from .store import GeoPackageStore, StationStore

if TYPE_CHECKING:
    from routing.area import Area

__all__ = [
    "CSV_COLUMNS",
    "ImportReport",
    "Problem",
    "export_stations",
    "import_stations",
    "read_stations",
    "stations_from_records",
]

logger = logging.getLogger(__name__)

#: Column order of exported CSV files: the record fields, with ``names`` spread over one
#: ``name_<lang>`` column per language.
CSV_COLUMNS = tuple(
    column
    for name in RECORD_FIELDS
    for column in ([f"name_{lang}" for lang in LANGUAGES] if name == "names" else [name])
)
_PREFIX = {"warm_station": "ws", "nursing_room": "nr", "shuttle_stop": "ss"}
# Stand-ins used to keep validating a row after a field failed, to report every problem.
_NEUTRAL: dict[str, Any] = {
    "id": "x",
    "kind": "warm_station",
    "name": "x",
    "lon": 0.0,
    "lat": 0.0,
    "names": None,
    "address": None,
    "host_type": None,
    "amenities": None,
    "opening_hours": None,
    "access": "public",
    "capacity": None,
    "certification": None,
    "seven_have": None,
    "contact": None,
    "notes": None,
    "source": None,
    "updated_at": None,
}


@dataclass
class ImportReport:
    """What an import read, what was wrong with it (row by row) and what it wrote.

    Attributes
    ----------
    source
        Where the rows came from (file path or ``osm:<layer>``).
    format
        ``csv``, ``geojson``, ``gpkg`` or ``osm``.
    crs
        The declared coordinate system the points were converted from.
    rows
        Records read.
    stations
        The valid stations (all of them converted to WGS-84).
    problems
        Errors: any one makes :func:`import_stations` refuse the whole import.
    warnings
        Things fixed or ignored (unknown columns, dropped OSM hours, offset suspicion, ...).
    offset
        The coordinate-offset check, when an Area was given.
    added, updated
        What was written (after a successful :func:`import_stations`).
    """

    source: str
    format: str
    crs: str = "wgs84"
    rows: int = 0
    stations: list[Station] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    offset: OffsetCheck | None = None
    added: int = 0
    updated: int = 0
    station_rows: list[int] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """No problems: the import can be written."""
        return not self.problems

    def summary(self) -> str:
        """One line: rows read, valid, problems, written."""
        bad_rows = len({p.row for p in self.problems if p.row is not None})
        text = (
            f"{self.source}: {self.rows} rows, {len(self.stations)} valid, "
            f"{len(self.problems)} problems in {bad_rows} rows"
        )
        if self.added or self.updated:
            text += f"; added {self.added}, updated {self.updated}"
        return text

    def __str__(self) -> str:
        parts = [
            self.summary(),
            format_problems(self.problems, label="error", limit=None),
            format_problems(self.warnings, label="warning", limit=None),
        ]
        return "\n".join(part for part in parts if part)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stations by id only)."""
        return {
            "source": self.source,
            "format": self.format,
            "crs": self.crs,
            "rows": self.rows,
            "valid": len(self.stations),
            "ok": self.ok,
            "added": self.added,
            "updated": self.updated,
            "problems": problems_to_dicts(self.problems),
            "warnings": problems_to_dicts(self.warnings),
            "offset": None
            if self.offset is None
            else {
                "declared": self.offset.declared,
                "likely": self.offset.likely,
                "median_distance_m": {
                    k: (None if math.isnan(v) else round(v, 1))
                    for k, v in self.offset.median_distance.items()
                },
                "points": self.offset.n_points,
            },
        }


# --- building stations from raw rows ----------------------------------------------------------


def stable_id(kind: str, name: str, lon: float, lat: float) -> str:
    """An id derived from kind, name and position (to ~0.1 m), stable across re-imports."""
    key = f"{kind}|{name.strip()}|{lon:.6f}|{lat:.6f}".encode()
    return f"{_PREFIX.get(kind, 'st')}-{hashlib.sha1(key, usedforsecurity=False).hexdigest()[:12]}"


def _build(values: dict[str, Any]) -> tuple[Station | None, list[tuple[str | None, str]]]:
    """Validate one row, collecting every field problem (not just the first)."""
    trial = dict(values)
    found: list[tuple[str | None, str]] = []
    for _ in range(len(_NEUTRAL) + 1):
        try:
            station = Station(**trial)
        except StationValueError as exc:
            found.append((exc.field, str(exc)))
            if exc.field not in _NEUTRAL or trial.get(exc.field) == _NEUTRAL[exc.field]:
                return None, found
            trial[exc.field] = _NEUTRAL[exc.field]
        except TypeError as exc:  # unexpected keyword: should not happen after readers
            found.append((None, str(exc)))
            return None, found
        else:
            return (station if not found else None), found
    return None, found


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def stations_from_records(
    records: Iterable[RawRow | Mapping[str, Any]],
    *,
    crs: str = "wgs84",
    source: str = "records",
    format: str = "records",
    area: Area | None = None,
    default_source: str | None = None,
    bad_hours: Literal["error", "drop"] = "error",
) -> ImportReport:
    """Validate raw records into stations (converting coordinates), reporting every problem.

    Parameters
    ----------
    records
        Dicts with the fields of :class:`~stations.model.Station` (``names`` as a dict or
        ``name_xx`` keys), or :class:`RawRow` objects from the file readers.
    crs
        Declared coordinate system of ``lon``/``lat``: ``wgs84``, ``gcj02`` or ``bd09``.
    source, format
        Recorded in the report.
    area
        When given, run the coordinate-offset check against its walk network (see
        :func:`stations.coords.check_offset`) and warn about points outside its bounds.
    default_source
        ``source`` field for stations whose record has none.
    bad_hours
        ``"error"``: unparsable opening hours are a problem of that row. ``"drop"``: the hours
        are dropped (unknown) and the row gets a warning instead (for messy OSM tags).

    Returns
    -------
    ImportReport
    """
    declared = check_crs(crs)
    report = ImportReport(source=source, format=format, crs=declared)
    rows = [
        r if isinstance(r, RawRow) else RawRow(i, _readers.gather(dict(r)))
        for i, r in enumerate(records, start=1)
    ]
    report.rows = len(rows)
    for r in rows:
        report.problems.extend(r.problems)
    # Coordinates: parse and convert all valid points in one vectorised call.
    lon = np.array([_float(r.values.get("lon")) for r in rows], dtype=float)
    lat = np.array([_float(r.values.get("lat")) for r in rows], dtype=float)
    usable = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    wlon, wlat = lon.copy(), lat.copy()
    if usable.any():
        wlon[usable], wlat[usable] = to_wgs84(lon[usable], lat[usable], declared)
    seen: dict[str, int] = {}
    for i, r in enumerate(rows):
        if any(p.field == "geometry" for p in r.problems):
            continue
        values = dict(r.values)
        for key in ("lon", "lat"):
            if key not in values:
                values[key] = None
        if usable[i]:
            values["lon"], values["lat"] = float(wlon[i]), float(wlat[i])
        if default_source and not values.get("source"):
            values["source"] = default_source
        for key in ("kind", "name"):
            values.setdefault(key, None)
        if not values.get("id"):
            if values.get("kind") in KINDS and values.get("name") and usable[i]:
                values["id"] = stable_id(
                    str(values["kind"]), str(values["name"]), values["lon"], values["lat"]
                )
            else:  # the row fails on kind/name/position anyway; no separate id complaint
                values["id"] = _NEUTRAL["id"]
        station, found = _build(values)
        if bad_hours == "drop" and found and all(f == "opening_hours" for f, _ in found):
            report.warnings.append(Problem(r.row, "opening_hours", f"dropped: {found[0][1]}"))
            values["opening_hours"] = None
            station, found = _build(values)
        swapped = abs(lat[i]) > 90 and abs(lat[i]) <= 180 and abs(lon[i]) <= 90
        hint = " (lon and lat swapped? longitude comes first)" if swapped else ""
        report.problems.extend(
            Problem(r.row, f, msg + (hint if f == "lat" else "")) for f, msg in found
        )
        if station is None:
            continue
        first = seen.setdefault(station.id, r.row)
        if first != r.row:
            msg = f"Expected unique ids, got {station.id!r} again (first on row {first})"
            report.problems.append(Problem(r.row, "id", msg))
            continue
        report.stations.append(station)
        report.station_rows.append(r.row)
    if area is not None and usable.any():
        _check_against_area(report, lon[usable], lat[usable], wlon[usable], wlat[usable], area)
    return report


def _check_against_area(
    report: ImportReport,
    lon: np.ndarray,
    lat: np.ndarray,
    wlon: np.ndarray,
    wlat: np.ndarray,
    area: Area,
) -> None:
    report.offset = check_offset(lon, lat, area, declared=report.crs)
    if report.offset.suspicious:
        report.warnings.append(Problem(None, "lon", report.offset.message()))
    x0, y0, x1, y1 = area.bounds
    margin = 0.01  # ~1 km
    outside = ~(
        (wlon >= x0 - margin)
        & (wlon <= x1 + margin)
        & (wlat >= y0 - margin)
        & (wlat <= y1 + margin)
    )
    if outside.any():
        report.warnings.append(
            Problem(
                None,
                "lon",
                f"{int(outside.sum())} of {outside.size} points lie outside area "
                f"{area.name!r} (bounds {x0:.4f}, {y0:.4f}, {x1:.4f}, {y1:.4f})",
            )
        )


# --- files ------------------------------------------------------------------------------------


def read_stations(
    path: str | os.PathLike[str],
    *,
    crs: str = "wgs84",
    format: str | None = None,
    area: Area | None = None,
    layer: str | None = None,
) -> ImportReport:
    """Read and validate a CSV, GeoJSON or GeoPackage file of stations without writing.

    Parameters
    ----------
    path
        The file; the format comes from its suffix (``.csv``, ``.geojson``/``.json``,
        ``.gpkg``) unless ``format`` is given.
    crs
        Declared coordinate system (``wgs84``, ``gcj02``, ``bd09``).
    area
        Check the points against this Area (offset warning, points outside its bounds).
    layer
        GeoPackage layer (default ``stations``, or the only layer).

    Returns
    -------
    ImportReport
        With ``problems`` listing every bad row; check ``report.ok``.

    Raises
    ------
    FileFormatError
        The file is missing or not the format it claims (e.g. GeoJSON that is not a
        FeatureCollection).
    """
    file = Path(path)
    if not file.is_file():
        msg = f"Expected a station file, got {str(file)!r} (not found)"
        raise FileFormatError(msg)
    fmt = _readers.detect_format(file, format)
    if fmt == "csv":
        rows, problems, notes = _readers.read_csv(file)
    elif fmt == "geojson":
        rows, problems, notes = _readers.read_geojson(file)
    else:
        rows, problems, notes = _readers.read_gpkg(file, layer=layer)
    report = stations_from_records(
        rows, crs=crs, source=str(file), format=fmt, area=area, default_source=file.name
    )
    report.problems[:0] = problems
    report.warnings[:0] = notes
    return report


def import_stations(
    source: str | os.PathLike[str] | ImportReport,
    store: StationStore,
    *,
    crs: str = "wgs84",
    format: str | None = None,
    area: Area | None = None,
    replace: bool = False,
    layer: str | None = None,
) -> ImportReport:
    """Import a file (or an already-read report) into ``store``, all or nothing.

    Parameters
    ----------
    source
        A file path (see :func:`read_stations`) or an :class:`ImportReport` from
        :func:`read_stations` / :func:`stations.osm.stations_from_pois`.
    store
        Where to write.
    crs, format, area, layer
        As for :func:`read_stations` (ignored when ``source`` is a report).
    replace
        Update stations whose id is already stored. Otherwise a taken id is a problem of
        its row and nothing is written.

    Returns
    -------
    ImportReport
        With ``added``/``updated`` filled in.

    Raises
    ------
    StationImportError
        Any row has a problem; ``exc.report`` lists them all; the store is untouched.
    """
    if isinstance(source, ImportReport):
        report = source
    else:
        report = read_stations(source, crs=crs, format=format, area=area, layer=layer)
    if report.offset is not None and report.offset.suspicious:
        warnings.warn(report.offset.message(), CoordinateOffsetWarning, stacklevel=2)
    with store.transaction():
        if not replace:
            rows: list[int | None] = list(report.station_rows) or [None] * len(report.stations)
            report.problems.extend(
                Problem(row, "id", f"Expected a new id, got {s.id!r} already in the store")
                for s, row in zip(report.stations, rows, strict=False)
                if s.id in store
            )
        if not report.ok:
            msg = (
                f"Expected a clean import, got {len(report.problems)} problems "
                f"(nothing written):\n{format_problems(report.problems, limit=5)}"
            )
            raise StationImportError(msg, report=report)
        if replace:
            report.added, report.updated = store.upsert(report.stations)
        else:
            report.added = store.add(report.stations)
    logger.info("%s", report.summary())
    return report


def export_stations(
    stations: StationStore | Iterable[Station],
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    precision: int = 7,
    overwrite: bool = True,
) -> int:
    """Write stations to CSV, GeoJSON (RFC 7946) or GeoPackage; return how many.

    Parameters
    ----------
    stations
        A store (all its stations) or any iterable of stations.
    path
        The file; format from its suffix unless ``format`` is given. Written to a temporary
        file first and moved into place, so a failed export never leaves half a file.
    precision
        Decimal places of coordinates in CSV/GeoJSON (7 = ~1 cm; RFC 7946 suggests 6).
    overwrite
        Replace an existing file (else raise ``FileExistsError``).
    """
    file = Path(path)
    fmt = _readers.detect_format(file, format)
    items = stations.all() if isinstance(stations, StationStore) else list(stations)
    if file.exists() and not overwrite:
        msg = f"Expected a new file, got {str(file)!r} which exists (pass overwrite=True)"
        raise FileExistsError(msg)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if fmt == "gpkg":
            tmp.unlink()
            with GeoPackageStore(tmp) as out:
                out.add(items)
        elif fmt == "geojson":
            _write_geojson(items, tmp, precision)
        else:
            _write_csv(items, tmp, precision)
        os.replace(tmp, file)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    logger.info("Wrote %d stations to %s", len(items), file)
    return len(items)


def _write_geojson(items: list[Station], path: Path, precision: int) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [s.to_feature(precision=precision) for s in items],
    }
    with path.open("w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=None, separators=(",", ":"))
        fh.write("\n")


def _write_csv(items: list[Station], path: Path, precision: int) -> None:
    extra_langs = sorted({lang for s in items for lang in s.names} - set(LANGUAGES))
    columns = list(CSV_COLUMNS)
    at = columns.index("address")
    columns[at:at] = [f"name_{lang}" for lang in extra_langs]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for s in items:
            record = s.to_record()
            names = record.pop("names")
            row = {k: v for k, v in record.items() if k in columns}
            row["lon"] = f"{s.lon:.{precision}f}"
            row["lat"] = f"{s.lat:.{precision}f}"
            row["amenities"] = ";".join(record["amenities"])
            row["seven_have"] = ";".join(i for i in SEVEN_HAVE if i in s.seven_have)
            for lang, text in names.items():
                row[f"name_{lang}"] = text
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
