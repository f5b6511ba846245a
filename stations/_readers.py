"""Readers turning CSV, XLSX, GeoJSON and GeoPackage files into raw station rows.

Each reader returns a :class:`Read`: :class:`RawRow` objects (the row number the user sees,
1 = first record under the header; the cells under canonical field names; the cells no field
took, for ``notes``; problems found while reading that row), file-level problems and warnings,
and the :class:`~stations._columns.ColumnMap` saying which column became which field. No value
is validated here; :mod:`stations.io` interprets and validates.

Spreadsheets often carry a title above the header (``2024年暖心驿站名单``): the header is the
first of the first ten rows that has two or more recognised column names.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from routing.problems import RowProblem
from routing.tables import unguard_cell

from ._columns import ColumnMap, map_columns
from ._errors import FileFormatError

__all__ = [
    "FORMATS",
    "Problem",
    "RawRow",
    "Read",
    "detect_format",
    "read_file",
]

logger = logging.getLogger(__name__)

#: File formats by suffix.
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
}
FORMAT_NAMES = ("csv", "xlsx", "geojson", "gpkg")

#: The row-problem record of station imports (one type for every reader in the project).
Problem = RowProblem


@dataclass
class RawRow:
    """A record as read, before interpretation and validation."""

    row: int
    values: dict[str, Any]
    problems: list[RowProblem] = field(default_factory=list)
    extra: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Read:
    """What a reader found in a file."""

    rows: list[RawRow]
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    columns: ColumnMap = field(default_factory=ColumnMap)
    header_line: int | None = None


def detect_format(path: Path, format: str | None = None) -> str:
    """``csv``, ``xlsx``, ``geojson`` or ``gpkg`` from ``format`` or the file suffix."""
    if format is not None:
        name = format.lower().lstrip(".")
        name = {"json": "geojson", "xls": "xlsx", "excel": "xlsx"}.get(name, name)
        if name in FORMAT_NAMES:
            return name
        msg = f"Expected format {', '.join(FORMAT_NAMES)}, got {format!r}"
        raise FileFormatError(msg)
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et"):
        msg = (
            f"Expected .xlsx, got the old binary spreadsheet {path.name!r}: save it as .xlsx "
            "(Excel/WPS: File > Save As > Excel Workbook) or as CSV UTF-8"
        )
        raise FileFormatError(msg)
    fmt = FORMATS.get(suffix)
    if fmt is None:
        msg = (
            f"Expected a file ending in .csv, .xlsx, .geojson/.json or .gpkg, got {path.name!r} "
            "(or name the format with --format csv|xlsx|geojson|gpkg)"
        )
        raise FileFormatError(msg)
    return fmt


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def gather(values: dict[str, Any]) -> dict[str, Any]:
    """Fold ``name_xx`` keys into ``names``, parse JSON lists, and drop blanks."""
    out: dict[str, Any] = {}
    names: dict[str, Any] = {}
    given = values.get("names")
    if isinstance(given, str) and given.strip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            given = json.loads(given)
    if isinstance(given, dict):
        names.update({k: v for k, v in given.items() if not _is_blank(v)})
    elif not _is_blank(given):
        out["names"] = given  # let validation complain about its type
    for key, value in values.items():
        if _is_blank(value) or key == "names":
            continue
        if key.startswith("name_"):
            names[key[5:]] = value
        else:
            out[key] = value
    for key in ("amenities", "seven_have"):
        text = out.get(key)
        if isinstance(text, str) and text.strip().startswith("["):
            with contextlib.suppress(json.JSONDecodeError):
                out[key] = json.loads(text)
    if names:
        out["names"] = names
    return out


def decode_text(path: Path) -> tuple[str, str]:
    """The text of a file and the encoding it was in (UTF-8 with or without BOM, GB18030)."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    msg = f"Expected a UTF-8 (or GB18030) text file, got undecodable bytes in {path.name}"
    raise FileFormatError(msg)


def _header_at(table: Sequence[Sequence[Any]], explicit: Mapping[str, str] | None) -> int:
    """Index of the header row: the first of the first ten with two or more known columns."""
    for i, cells in enumerate(table[:10]):
        mapped = map_columns([_cell_text(c) for c in cells], explicit=explicit)
        if len(mapped.fields) >= 2:
            return i
    return 0


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _rows_from_table(table: list[list[Any]], name: str, explicit: Mapping[str, str] | None) -> Read:
    """Rows of a table (a header row, then records), through the column map."""
    table = [r for r in table if any(not _is_blank(c) for c in r)]
    if not table:
        msg = f"Expected a header row in {name}, got an empty file"
        raise FileFormatError(msg)
    at = _header_at(table, explicit)
    header = [_cell_text(c) for c in table[at]]
    columns = map_columns(header, explicit=explicit)
    out = Read([], list(columns.problems), columns=columns)
    if at:
        skipped = " / ".join(
            " ".join(_cell_text(c) for c in r if not _is_blank(c)) for r in table[:at]
        )
        out.warnings.append(
            RowProblem(None, None, f"skipped {at} title row(s) above the header: {skipped}")
        )
    for i, cells in enumerate(table[at + 1 :], start=1):
        raw = RawRow(i, {})
        if len(cells) > len(header) and any(not _is_blank(c) for c in cells[len(header) :]):
            raw.problems.append(
                RowProblem(i, None, f"Expected {len(header)} cells, got {len(cells)}")
            )
        for j, value in enumerate(cells[: len(header)]):
            if j in columns.fields:
                raw.values[columns.fields[j]] = value
            elif j in columns.notes:
                raw.extra.append((header[j], value))
        raw.values = gather(raw.values)
        out.rows.append(raw)
    return out


class _Semicolon(csv.excel):
    delimiter = ";"


def read_csv(path: Path, *, columns: Mapping[str, str] | None = None) -> Read:
    """Rows of a CSV file (UTF-8, UTF-8 with BOM or GB18030; ``,``, ``;`` or tab separated,
    whichever the header line uses most)."""
    text, encoding = decode_text(path)
    first = text.lstrip().split("\n", 1)[0]
    dialect: Any = csv.excel_tab if first.count("\t") > max(first.count(","), 0) else csv.excel
    if first.count(";") > first.count(",") and first.count(";") > first.count("\t"):
        dialect = _Semicolon
    try:
        rows = csv.reader(io.StringIO(text, newline=""), dialect)
        table = [[unguard_cell(c) for c in r] for r in rows]  # our Excel CSV's "'=..." cells
    except csv.Error as exc:
        msg = f"Expected a readable CSV file, got {exc} in {path.name}"
        raise FileFormatError(msg) from None
    out = _rows_from_table(table, path.name, columns)
    if encoding != "utf-8-sig":
        logger.info("%s is not UTF-8; read as %s", path.name, encoding)
        out.warnings.insert(0, RowProblem(None, None, f"file read as {encoding}, not UTF-8"))
    return out


def read_xlsx(
    path: Path, *, sheet: str | None = None, columns: Mapping[str, str] | None = None
) -> Read:
    """Rows of one sheet of an XLSX workbook (the first, or ``sheet`` by name or 1-based number)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        msg = f"Expected an Excel .xlsx workbook, got {path.name} that cannot be opened: {exc}"
        raise FileFormatError(msg) from None
    try:
        names = list(book.sheetnames)
        if sheet is None:
            chosen = names[0]
        elif sheet in names:
            chosen = sheet
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            chosen = names[int(sheet) - 1]
        else:
            msg = (
                f"Expected a sheet of {path.name} ({', '.join(names)}, or 1-{len(names)}), "
                f"got {sheet!r}"
            )
            raise FileFormatError(msg)
        table = [[_xlsx_value(c) for c in row] for row in book[chosen].iter_rows(values_only=True)]
    finally:
        book.close()
    out = _rows_from_table(table, f"{path.name} (sheet {chosen})", columns)
    if len(names) > 1:
        out.warnings.insert(
            0, RowProblem(None, None, f"read sheet {chosen!r} of {', '.join(names)}")
        )
    return out


def _xlsx_value(value: Any) -> Any:
    """Cells as the reader needs them: dates as ISO text, everything else as stored."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _point(geometry: Any) -> tuple[Any, Any] | str:
    if not isinstance(geometry, dict):
        return f"Expected a Point geometry, got {geometry!r}"
    if geometry.get("type") != "Point":
        return f"Expected a Point geometry, got {geometry.get('type')!r}"
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        return f"Expected Point coordinates [lon, lat], got {coords!r}"
    return coords[0], coords[1]


def _feature_values(
    props: dict[str, Any], columns: ColumnMap, keys: list[str], raw: RawRow
) -> None:
    for j, key in enumerate(keys):
        if key not in props:
            continue
        if j in columns.fields and columns.fields[j] not in ("lon", "lat"):
            raw.values[columns.fields[j]] = props[key]
        elif j in columns.notes:
            raw.extra.append((key, props[key]))


def feature_collection(text: str, name: str) -> list[Any]:
    """The ``features`` of a GeoJSON FeatureCollection in WGS-84 lon/lat (RFC 7946).

    Raises :class:`FileFormatError` for invalid JSON, another GeoJSON type, a ``crs`` member
    other than WGS-84 (a projected file read as lon/lat would be silently wrong) and a
    ``features`` member that is not a list. ``name`` is the file name the messages give.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"Expected GeoJSON, got invalid JSON in {name}: {exc}"
        raise FileFormatError(msg) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        msg = f"Expected a GeoJSON FeatureCollection of Points, got {got!r} in {name}"
        raise FileFormatError(msg)
    crs = doc.get("crs")
    if crs is not None:
        crs_name = (
            str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
        )
        if not crs_name.upper().endswith(("CRS84", "EPSG::4326", "EPSG:4326")):
            msg = (
                "Expected RFC 7946 GeoJSON in WGS-84 longitude/latitude, got a crs member "
                f"{crs!r}; reproject it first"
            )
            raise FileFormatError(msg)
    features = doc.get("features")
    if not isinstance(features, list):
        msg = f"Expected 'features' to be a list, got {type(features).__name__}"
        raise FileFormatError(msg)
    return features


def read_geojson(path: Path, *, columns: Mapping[str, str] | None = None) -> Read:
    """Features of a GeoJSON FeatureCollection of Points (RFC 7946, lon/lat)."""
    text, _ = decode_text(path)
    features = feature_collection(text, path.name)
    keys: list[str] = []
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict):
            keys += [k for k in props if k not in keys]
    mapped = map_columns(keys, explicit=columns)
    out = Read([], list(mapped.problems), columns=mapped)
    for i, feature in enumerate(features, start=1):
        raw = RawRow(i, {})
        out.rows.append(raw)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            raw.problems.append(RowProblem(i, "geometry", f"Expected a Feature, got {got!r}"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raw.problems.append(
                RowProblem(i, "properties", f"Expected an object, got {type(props).__name__}")
            )
            props = {}
        _feature_values(props, mapped, keys, raw)
        if "id" not in raw.values and feature.get("id") is not None:
            raw.values["id"] = str(feature["id"])
        point = _point(feature.get("geometry"))
        if isinstance(point, str):
            raw.problems.append(RowProblem(i, "geometry", point))
        else:
            raw.values["lon"], raw.values["lat"] = point
        raw.values = gather(raw.values)
    return out


def read_gpkg(
    path: Path, *, layer: str | None = None, columns: Mapping[str, str] | None = None
) -> Read:
    """Features of a GeoPackage point layer (``stations`` by default, else the only layer)."""
    import pandas as pd
    import pyogrio

    try:
        layers = [(str(n), str(g)) for n, g in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises its own DataSourceError family
        msg = f"Expected a readable GeoPackage, got {path.name}: {exc}"
        raise FileFormatError(msg) from None
    names = [n for n, _ in layers]
    if layer is None:
        if "stations" in names:
            layer = "stations"
        elif len(layers) == 1:
            layer = names[0]
        else:
            msg = f"Expected a 'stations' layer or a single layer in {path.name}, got {names}"
            raise FileFormatError(msg)
    elif layer not in names:
        msg = f"Expected layer {layer!r} in {path.name}, got {names}"
        raise FileFormatError(msg)
    df = pyogrio.read_dataframe(path, layer=layer)
    if df.crs is not None and df.crs.to_epsg() != 4326:
        df = df.to_crs("EPSG:4326")
    keys = [str(c) for c in df.columns if c != df.geometry.name]
    mapped = map_columns(keys, explicit=columns)
    attributes = pd.DataFrame(df[keys])
    for column in attributes.columns:
        if pd.api.types.is_datetime64_any_dtype(attributes[column]):
            stamps = attributes[column]
            attributes[column] = [None if pd.isna(t) else t.isoformat() for t in stamps]
    attributes = attributes.astype(object).where(attributes.notna(), None)
    out = Read([], list(mapped.problems), columns=mapped)
    records = attributes.to_dict("records")
    for i, (props, geom) in enumerate(zip(records, df.geometry, strict=True), start=1):
        raw = RawRow(i, {})
        _feature_values(props, mapped, keys, raw)
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            got = None if geom is None else geom.geom_type
            raw.problems.append(
                RowProblem(i, "geometry", f"Expected a Point geometry, got {got!r}")
            )
        else:
            raw.values["lon"], raw.values["lat"] = geom.x, geom.y
        raw.values = gather(raw.values)
        out.rows.append(raw)
    return out


def read_file(
    path: Path,
    fmt: str,
    *,
    layer: str | None = None,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Read:
    """Read ``path`` as ``fmt`` (from :func:`detect_format`)."""
    if fmt == "csv":
        return read_csv(path, columns=columns)
    if fmt == "xlsx":
        return read_xlsx(path, sheet=sheet, columns=columns)
    if fmt == "geojson":
        return read_geojson(path, columns=columns)
    return read_gpkg(path, layer=layer, columns=columns)
