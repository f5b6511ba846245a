"""Import and export of stations: CSV, XLSX, GeoJSON, GeoPackage (and OSM POIs via :mod:`.osm`).

Imports are all-or-nothing. :func:`read_stations` reads a union's list as it comes — Chinese or
English headers in any order (:mod:`stations._columns`), values in words, Chinese opening hours
(:mod:`stations._interpret`), coordinates copied from Amap or Baidu — validates every row and
returns an :class:`ImportReport`: which column became which field, what was rewritten, and every
problem by row and field. :func:`import_stations` writes the stations to a store in one
transaction only when there is no problem at all, and otherwise raises
:class:`~stations._errors.StationImportError` carrying the report, leaving the store untouched.
:func:`check_against_store` is the store's part of that check, so a dry run checks everything the
import would.

Coordinates are declared (``crs="wgs84"`` for OSM/GPS, ``"gcj02"`` for Amap/Tencent, ``"bd09"``
for Baidu) and converted to WGS-84, or undeclared (``crs=None``, read as WGS-84). Given an Area,
:func:`routing.datum.check_offset` compares the points with its streets and buildings: undeclared
points that fit much better as GCJ-02 / BD-09 are a problem of the file (with the evidence and the
``--crs`` to use); declared ones only get a warning. Rows outside the Area or beyond its snap limit
from the street network are reported one by one (problems with ``strict=True``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from routing.datum import OffsetCheck, check_offset
from routing.lonlat import lonlat_problem, valid_lonlat
from routing.problems import format_problems, problems_to_dicts
from routing.tables import replace_atomically, write_table

from . import _readers
from ._checks import OffArea, check_off_area, swapped_inside
from ._errors import (
    CoordinateOffsetWarning,
    FileFormatError,
    StationImportError,
    StationValueError,
)
from ._interpret import interpret_row
from ._readers import Problem, RawRow
from .coords import check_crs, to_wgs84
from .model import KINDS, LANGUAGES, RECORD_FIELDS, SEVEN_HAVE, Station
from .store import GeoPackageStore, StationStore

if TYPE_CHECKING:
    from routing.area import Area

__all__ = [
    "CSV_COLUMNS",
    "ImportReport",
    "Problem",
    "check_against_store",
    "export_stations",
    "import_stations",
    "read_stations",
    "stations_from_records",
]

logger = logging.getLogger(__name__)

#: Column order of exported CSV/XLSX files: the record fields, with ``names`` spread over one
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
_KIND_HINT = (
    "Expected a kind column (类型, 站点类型, kind) or one kind for the whole file "
    f"(--kind {'|'.join(KINDS)}), got neither"
)


@dataclass
class ImportReport:
    """What an import read, what was wrong with it (row by row) and what it wrote.

    Attributes
    ----------
    source, format
        Where the rows came from (file path or ``osm:<layer>``) and as what.
    crs
        The declared coordinate system, or ``None`` when undeclared (read as WGS-84).
    rows
        Records read.
    stations
        The valid stations (converted to WGS-84).
    problems
        Errors: any one makes :func:`import_stations` refuse the whole import.
    warnings
        Things kept but worth a look (hours or amenity words that could not be read, kept in
        notes; rows off the area; a declared system that looks wrong). ``strict`` imports turn
        the row warnings into problems.
    columns
        Header -> field it became (``notes``: kept in notes as ``header: value``; ``-``:
        dropped as asked).
    changes
        ``(row, field, as written, as read)`` for values rewritten on the way (Chinese hours
        to OSM syntax, words to vocabulary names).
    derived_ids
        ``(row, id)`` for rows without an id, given one derived from kind, name and position.
    offset, off_area
        The coordinate-system check and the off-area rows, when an Area was given.
    strict
        Whether row warnings were treated as problems.
    added, updated
        What was written (after a successful :func:`import_stations`).
    """

    source: str
    format: str
    crs: str | None = None
    rows: int = 0
    stations: list[Station] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    changes: list[tuple[int, str, str, str]] = field(default_factory=list)
    derived_ids: list[tuple[int, str]] = field(default_factory=list)
    offset: OffsetCheck | None = None
    off_area: list[OffArea] = field(default_factory=list)
    strict: bool = False
    added: int = 0
    updated: int = 0
    station_rows: list[int] = field(default_factory=list, repr=False)
    store_checked: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        """No problems: the import can be written."""
        return not self.problems

    def summary(self) -> str:
        """One line: rows read, valid, problems, written."""
        text = (
            f"{self.source}: {self.rows} rows, {len(self.stations)} valid, {self.problem_count()}"
        )
        if self.added or self.updated:
            text += f"; added {self.added}, updated {self.updated}"
        return text

    def problem_count(self) -> str:
        """``"3 problems in 2 rows"``, ``"... and 1 for the whole file"``, ``"1 problem of the
        whole file"``."""
        in_rows = [p for p in self.problems if p.row is not None]
        n, rows = len(self.problems), len({p.row for p in in_rows})
        whole = n - len(in_rows)
        count = f"{n} problem{'s' * (n != 1)}"
        if whole and not in_rows:
            return f"{count} of the whole file"
        text = f"{count} in {rows} row{'s' * (rows != 1)}"
        return text + (f" and {whole} of the whole file" if whole else "")

    def _change_lines(self) -> list[str]:
        grouped: dict[tuple[str, str, str], list[int]] = {}
        for row, name, before, after in self.changes:
            grouped.setdefault((name, before, after), []).append(row)
        lines = []
        for (name, before, after), rows in grouped.items():
            where = ", ".join(map(str, rows[:8])) + (
                f" and {len(rows) - 8} more" if len(rows) > 8 else ""
            )
            label = "row" if len(rows) == 1 else "rows"
            lines.append(f"  read    {name} {before!r} as {after!r} ({label} {where})")
        return lines

    def __str__(self) -> str:
        parts = [self.summary()]
        if self.columns:
            mapped = ", ".join(f"{h} -> {f}" for h, f in self.columns.items())
            parts.append(f"  columns {mapped}")
        if self.crs is None and self.stations:
            parts.append(
                "  crs     not declared: read as WGS-84 (--crs gcj02 for Amap, bd09 for Baidu)"
            )
        parts += self._change_lines()
        if self.derived_ids:
            shown = ", ".join(f"row {r} -> {i}" for r, i in self.derived_ids[:5])
            more = len(self.derived_ids) - 5
            parts.append(
                f"  ids     {len(self.derived_ids)} "
                f"{'row' if len(self.derived_ids) == 1 else 'rows'} had no id, derived from kind, "
                f"name and position: {shown}" + (f" and {more} more" if more > 0 else "")
            )
        parts.append(format_problems(self.problems, label="error", limit=None))
        parts.append(format_problems(self.warnings, label="warning", limit=None))
        return "\n".join(part for part in parts if part)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stations by count only)."""
        return {
            "source": self.source,
            "format": self.format,
            "crs": self.crs,
            "crs_used": self.crs or "wgs84",
            "rows": self.rows,
            "valid": len(self.stations),
            "ok": self.ok,
            "strict": self.strict,
            "added": self.added,
            "updated": self.updated,
            "columns": dict(self.columns),
            "changes": [
                {"row": r, "field": f, "given": a, "read": b} for r, f, a, b in self.changes
            ],
            "derived_ids": [{"row": r, "id": i} for r, i in self.derived_ids],
            "problems": problems_to_dicts(self.problems),
            "warnings": problems_to_dicts(self.warnings),
            "offset": None if self.offset is None else self.offset.to_dict(),
            "off_area": [o.to_dict() for o in self.off_area],
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
    crs: str | None = None,
    source: str = "records",
    format: str = "records",
    area: Area | None = None,
    default_source: str | None = None,
    kind: str | None = None,
    strict: bool = False,
) -> ImportReport:
    """Interpret and validate raw records into stations (converting coordinates).

    Parameters
    ----------
    records
        Dicts with the fields of :class:`~stations.model.Station` (``names`` as a dict or
        ``name_xx`` keys), or :class:`RawRow` objects from the file readers.
    crs
        Declared coordinate system of ``lon``/``lat`` (``wgs84``, ``gcj02``, ``bd09``), or
        ``None``: undeclared, read as WGS-84 and checked (with an Area) for an offset.
    source, format
        Recorded in the report.
    area
        When given: the coordinate-system check, and the off-area rows.
    default_source
        ``source`` field for stations whose record has none.
    kind
        Kind of the rows that have none.
    strict
        Row warnings (unreadable hours or amenity words, off-area rows) become problems.

    Returns
    -------
    ImportReport
    """
    declared = check_crs(crs) if crs is not None else None
    if kind is not None and kind not in KINDS:
        msg = f"Expected kind to be one of {', '.join(KINDS)}; got {kind!r}"
        raise StationValueError(msg, field="kind")
    report = ImportReport(source=source, format=format, crs=declared, strict=strict)
    rows = [
        r if isinstance(r, RawRow) else RawRow(i, _readers.gather(dict(r)))
        for i, r in enumerate(records, start=1)
    ]
    report.rows = len(rows)
    row_warnings: list[Problem] = []
    interpreted = []
    for r in rows:
        report.problems.extend(r.problems)
        seen = interpret_row(r.row, r.values, extra=r.extra, kind=kind)
        report.changes += [(r.row, f, a, b) for f, a, b in seen.changes]
        row_warnings += seen.warnings
        interpreted.append(seen.values)
    no_kind = bool(rows) and not any(v.get("kind") for v in interpreted)
    if no_kind:
        report.problems.append(Problem(None, "kind", _KIND_HINT))
    # Coordinates: parse and convert all valid points in one vectorised call.
    lon = np.array([_float(v.get("lon")) for v in interpreted], dtype=float)
    lat = np.array([_float(v.get("lat")) for v in interpreted], dtype=float)
    usable = valid_lonlat(lon, lat)
    wlon, wlat = lon.copy(), lat.copy()
    if usable.any():
        wlon[usable], wlat[usable] = to_wgs84(lon[usable], lat[usable], declared or "wgs84")
    swapped = swapped_inside(lon, lat, area) if area is not None else np.zeros(lon.shape, bool)
    seen_ids: dict[str, int] = {}
    for i, (r, values) in enumerate(zip(rows, interpreted, strict=True)):
        if any(p.field == "geometry" for p in r.problems):
            continue
        values = dict(values)
        for key in ("lon", "lat", "kind", "name"):
            values.setdefault(key, None)
        if no_kind:
            values["kind"] = _NEUTRAL["kind"]  # reported once for the file; check the rest
        if usable[i]:
            values["lon"], values["lat"] = float(wlon[i]), float(wlat[i])
        if default_source and not values.get("source"):
            values["source"] = default_source
        if not values.get("id"):
            if values.get("kind") in KINDS and values.get("name") and usable[i]:
                values["id"] = stable_id(
                    str(values["kind"]), str(values["name"]), values["lon"], values["lat"]
                )
                report.derived_ids.append((r.row, values["id"]))
            else:  # the row fails on kind/name/position anyway; no separate id complaint
                values["id"] = _NEUTRAL["id"]
        station, found = _build(values)
        flip = swapped[i] or (
            lonlat_problem(lon[i], lat[i]) is not None and not lonlat_problem(lat[i], lon[i])
        )
        hint = " (are longitude and latitude swapped? longitude comes first)" if flip else ""
        report.problems.extend(
            Problem(r.row, f, msg + (hint if f in ("lat", "lon") else "")) for f, msg in found
        )
        if station is None or no_kind:
            continue
        first = seen_ids.setdefault(station.id, r.row)
        if first != r.row:
            msg = f"Expected unique ids, got {station.id!r} again (first on row {first})"
            report.problems.append(Problem(r.row, "id", msg))
            continue
        report.stations.append(station)
        report.station_rows.append(r.row)
    if area is not None:
        if usable.any():
            report.offset = check_offset(lon[usable], lat[usable], area, declared=declared)
            if report.offset.refused:
                report.problems.insert(0, Problem(None, "crs", report.offset.message()))
            elif report.offset.suspicious:
                report.warnings.append(Problem(None, "crs", report.offset.message()))
        if report.offset is None or not report.offset.refused:  # else positions are all off
            report.off_area, limit = check_off_area(report.stations, report.station_rows, area)
            row_warnings += [o.problem(limit) for o in report.off_area]
    row_warnings.sort(key=lambda p: p.row or 0)
    (report.problems if strict else report.warnings).extend(row_warnings)
    return report


# --- files ------------------------------------------------------------------------------------


def _missing_columns(read: _readers.Read, path: Path) -> list[Problem]:
    """One file problem naming every required field no column feeds (tables only)."""
    need = [f for f in ("name", "lon", "lat") if not read.columns.has(f)]
    if not need:
        return []
    have = ", ".join(read.columns.report) or "none"
    unplaced = [h for h, f in read.columns.report.items() if f == "notes"]
    unplaced += ["HEADER"] * (len(need) - len(unplaced))
    example = ",".join(f"{h}={f}" for h, f in zip(unplaced, need, strict=False))
    msg = (
        f"Expected columns for {', '.join(need)} (e.g. 驿站名称, 经度, 纬度 or name, lon, lat) in "
        f"{path.name}, got {have}; say which is which with --columns '{example}'"
    )
    return [Problem(None, need[0], msg)]


def read_stations(
    path: str | os.PathLike[str],
    *,
    crs: str | None = None,
    format: str | None = None,
    area: Area | None = None,
    layer: str | None = None,
    sheet: str | None = None,
    columns: str | Mapping[str, str] | None = None,
    kind: str | None = None,
    strict: bool = False,
) -> ImportReport:
    """Read, interpret and validate a station file without writing.

    Parameters
    ----------
    path
        A ``.csv`` (UTF-8, UTF-8 with BOM or GB18030), ``.xlsx``, ``.geojson``/``.json`` or
        ``.gpkg`` file; the format comes from its suffix unless ``format`` is given.
    crs
        Declared coordinate system (``wgs84``, ``gcj02``, ``bd09``), or ``None`` (undeclared).
    area
        Check the points against this Area (coordinate system, off-area rows).
    layer, sheet
        GeoPackage layer (default ``stations``, or the only layer); XLSX sheet (name or
        1-based number; default the first).
    columns
        Header -> field map that wins over recognition (``"驿站名称=name,经度=lon"``, a mapping
        file, or a dict; see :func:`stations._columns.parse_column_map`).
    kind
        Kind of the rows that have none (a list of one kind often has no kind column).
    strict
        Treat row warnings as problems (see :func:`stations_from_records`).

    Returns
    -------
    ImportReport
        With ``problems`` listing every bad row; check ``report.ok``.

    Raises
    ------
    FileFormatError
        The file is missing or not the format it claims, or the column map is malformed.
    """
    from ._columns import parse_column_map

    file = Path(path)
    if not file.is_file():
        msg = f"Expected a station file, got {str(file)!r} (not found)"
        raise FileFormatError(msg)
    fmt = _readers.detect_format(file, format)
    explicit = parse_column_map(columns) if columns is not None else None
    read = _readers.read_file(file, fmt, layer=layer, sheet=sheet, columns=explicit)
    missing = _missing_columns(read, file) if fmt in ("csv", "xlsx") else []
    if not read.rows and not missing:
        where = "under the header" if fmt in ("csv", "xlsx") else "in the file"
        missing = [Problem(None, None, f"Expected station rows {where} of {file.name}, got none")]
    report = stations_from_records(
        [] if missing or read.problems else read.rows,
        crs=crs,
        source=str(file),
        format=fmt,
        area=area,
        default_source=file.name,
        kind=kind,
        strict=strict,
    )
    report.rows = len(read.rows)
    report.columns = dict(read.columns.report)
    report.problems[:0] = [*read.problems, *missing]
    report.warnings[:0] = read.warnings
    return report


def check_against_store(
    report: ImportReport, store: StationStore, *, replace: bool = False
) -> ImportReport:
    """Add the store's problems to ``report``: ids already stored (unless ``replace``).

    :func:`import_stations` runs this inside its transaction; a dry run runs it too, so it
    reports everything the import would refuse. Running it twice adds nothing new.
    """
    if report.store_checked or replace:
        report.store_checked = True
        return report
    rows: list[int | None] = list(report.station_rows) or [None] * len(report.stations)
    report.problems.extend(
        Problem(
            row,
            "id",
            f"Expected a new id, got {s.id!r} already in the store (--replace updates it)",
        )
        for s, row in zip(report.stations, rows, strict=False)
        if s.id in store
    )
    report.store_checked = True
    return report


def import_stations(
    source: str | os.PathLike[str] | ImportReport,
    store: StationStore,
    *,
    crs: str | None = None,
    format: str | None = None,
    area: Area | None = None,
    replace: bool = False,
    layer: str | None = None,
    sheet: str | None = None,
    columns: str | Mapping[str, str] | None = None,
    kind: str | None = None,
    strict: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import a file (or an already-read report) into ``store``, all or nothing.

    Parameters
    ----------
    source
        A file path (see :func:`read_stations`) or an :class:`ImportReport` from
        :func:`read_stations` / :func:`stations.osm.stations_from_pois`.
    store
        Where to write.
    crs, format, area, layer, sheet, columns, kind, strict
        As for :func:`read_stations` (ignored when ``source`` is a report).
    replace
        Update stations whose id is already stored. Otherwise a taken id is a problem of
        its row and nothing is written.
    dry_run
        Check everything (the store's ids too) and raise as the import would, but write
        nothing.

    Returns
    -------
    ImportReport
        With ``added``/``updated`` filled in (zero for a dry run).

    Raises
    ------
    StationImportError
        Any row has a problem; ``exc.report`` lists them all; the store is untouched.
    """
    if isinstance(source, ImportReport):
        report = source
    else:
        report = read_stations(
            source,
            crs=crs,
            format=format,
            area=area,
            layer=layer,
            sheet=sheet,
            columns=columns,
            kind=kind,
            strict=strict,
        )
    if report.offset is not None and report.offset.suspicious and not report.offset.refused:
        warnings.warn(report.offset.message(), CoordinateOffsetWarning, stacklevel=2)
    with store.transaction():
        report.store_checked = False
        check_against_store(report, store, replace=replace)
        if not report.ok:
            msg = (
                f"Expected a clean import, got {len(report.problems)} problems "
                f"(nothing written):\n{format_problems(report.problems, limit=5)}"
            )
            raise StationImportError(msg, report=report)
        if dry_run:
            return report
        if replace:
            report.added, report.updated = store.upsert(report.stations)
        else:
            report.added = store.add(report.stations)
    logger.info("%s", report.summary())
    return report


# --- export -----------------------------------------------------------------------------------


def _table(items: list[Station], precision: int) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of the CSV/XLSX export (lists ``;``-joined, coordinates as text)."""
    extra_langs = sorted({lang for s in items for lang in s.names} - set(LANGUAGES))
    columns = list(CSV_COLUMNS)
    at = columns.index("address")
    columns[at:at] = [f"name_{lang}" for lang in extra_langs]
    rows = []
    for s in items:
        record = s.to_record()
        names = record.pop("names")
        record["lon"] = f"{s.lon:.{precision}f}"
        record["lat"] = f"{s.lat:.{precision}f}"
        record["amenities"] = ";".join(record["amenities"])
        record["seven_have"] = ";".join(i for i in SEVEN_HAVE if i in s.seven_have)
        for lang, text in names.items():
            record[f"name_{lang}"] = text
        rows.append([record.get(c) for c in columns])
    return columns, rows


def export_stations(
    stations: StationStore | Iterable[Station],
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    precision: int = 7,
    overwrite: bool = True,
    excel: bool = False,
) -> int:
    """Write stations to CSV, XLSX, GeoJSON (RFC 7946) or GeoPackage; return how many.

    Parameters
    ----------
    stations
        A store (all its stations) or any iterable of stations.
    path
        The file; format from its suffix unless ``format`` is given. Written to a temporary
        file first and moved into place, so a failed export never leaves half a file.
    precision
        Decimal places of coordinates in CSV/XLSX/GeoJSON (7 = ~1 cm; RFC 7946 suggests 6).
    overwrite
        Replace an existing file (else raise ``FileExistsError``).
    excel
        CSV for Excel/WPS: UTF-8 with a byte-order mark, so Chinese text opens intact (see
        :func:`routing.tables.write_table`). XLSX needs nothing extra.
    """
    file = Path(path)
    fmt = _readers.detect_format(file, format)
    items = stations.all() if isinstance(stations, StationStore) else list(stations)
    if file.exists() and not overwrite:
        msg = f"Expected a new file, got {str(file)!r} which exists (pass overwrite=True)"
        raise FileExistsError(msg)
    if fmt in ("csv", "xlsx"):
        if (fmt == "xlsx") != (file.suffix.lower() == ".xlsx"):
            msg = f"Expected a file name ending in .xlsx for an XLSX export, got {file.name!r}"
            raise FileFormatError(msg)
        columns, rows = _table(items, precision)
        write_table(file, columns, rows, excel=excel, sheet="stations")
    elif fmt == "geojson":
        _write_geojson(items, file, precision)
    else:
        _write_gpkg(items, file)
    logger.info("Wrote %d stations to %s", len(items), file)
    return len(items)


def _write_geojson(items: list[Station], path: Path, precision: int) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [s.to_feature(precision=precision) for s in items],
    }
    text = json.dumps(doc, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n"
    replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_gpkg(items: list[Station], path: Path) -> None:
    def write(tmp: Path) -> None:
        tmp.unlink()
        with GeoPackageStore(tmp) as out:
            out.add(items)

    replace_atomically(path, write)
