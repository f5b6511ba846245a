"""Readers turning CSV, GeoJSON and GeoPackage files into raw station rows.

Each reader returns :class:`RawRow` objects: the row number the user sees (1 = first record),
the values under canonical field names, and any problems found while reading that row. No
validation of values happens here; :mod:`stations.io` builds and validates the stations.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routing.problems import RowProblem

from ._errors import FileFormatError
from .model import RECORD_FIELDS

__all__ = ["FORMATS", "Problem", "RawRow", "detect_format", "read_csv", "read_geojson", "read_gpkg"]

logger = logging.getLogger(__name__)

#: File formats by suffix.
FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}

#: Column name (lower-case) -> canonical field. Coordinates take the usual aliases.
ALIASES = {
    "lon": "lon",
    "lng": "lon",
    "long": "lon",
    "longitude": "lon",
    "x": "lon",
    "lat": "lat",
    "latitude": "lat",
    "y": "lat",
    "opening hours": "opening_hours",
    "openinghours": "opening_hours",
    "hours": "opening_hours",
}
FIELDS = RECORD_FIELDS
REQUIRED_COLUMNS = ("kind", "name", "lon", "lat")


#: The row-problem record of station imports (one type for every reader in the project).
Problem = RowProblem


@dataclass
class RawRow:
    """A record as read, before validation."""

    row: int
    values: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


def detect_format(path: Path, format: str | None = None) -> str:
    """``csv``, ``geojson`` or ``gpkg`` from ``format`` or the file suffix."""
    if format is not None:
        name = format.lower().lstrip(".")
        if name in FORMATS.values():
            return name
        msg = f"Expected format csv, geojson or gpkg, got {format!r}"
        raise FileFormatError(msg)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        msg = (
            f"Expected a file ending in {', '.join(FORMATS)}, got {path.name!r} "
            "(pass format= to choose)"
        )
        raise FileFormatError(msg)
    return fmt


def canonical(column: str) -> str | None:
    """Canonical field for a column name, ``name_xx`` for name variants, else ``None``."""
    key = column.strip().lower().replace("-", "_")
    if key.startswith(("name:", "name_")) and len(key) > 5:
        return "name_" + column.strip()[5:].replace("_", "-")
    key = ALIASES.get(key, key)
    return key if key in FIELDS else None


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def gather(values: dict[str, Any]) -> dict[str, Any]:
    """Fold ``name_xx`` keys into ``names`` and drop blanks."""
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


def _decode(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    msg = f"Expected a UTF-8 (or GB18030) text file, got undecodable bytes in {path.name}"
    raise FileFormatError(msg)


Read = tuple[list[RawRow], list[Problem], list[Problem]]


def read_csv(path: Path) -> Read:
    """Rows of a CSV file with a header, file-level problems (missing columns) and warnings."""
    text, encoding = _decode(path)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if encoding != "utf-8-sig":
        logger.info("%s is not UTF-8; read as %s", path.name, encoding)
        warnings.append(Problem(None, None, f"file read as {encoding}, not UTF-8"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        msg = f"Expected a CSV header row in {path.name}, got an empty file"
        raise FileFormatError(msg) from None
    except csv.Error as exc:
        msg = f"Expected a readable CSV file, got {exc} in {path.name}"
        raise FileFormatError(msg) from None
    columns = [canonical(c) for c in header]
    unknown = [h for h, c in zip(header, columns, strict=True) if c is None and h.strip()]
    if unknown:
        warnings.append(Problem(None, None, f"ignoring unknown columns {', '.join(unknown)}"))
    present = {c for c in columns if c}
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        have = ", ".join(h for h in header if h.strip()) or "none"
        msg = (
            f"Expected CSV columns {', '.join(REQUIRED_COLUMNS)} (lon/lat also as lng/"
            f"longitude, latitude), got {have}; missing {', '.join(missing)}"
        )
        problems.extend(Problem(None, m, msg) for m in missing)
        return [], problems, warnings
    rows: list[RawRow] = []
    try:
        for i, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            raw = RawRow(i, {})
            if len(record) > len(header):
                raw.problems.append(
                    Problem(i, None, f"Expected {len(header)} cells, got {len(record)}")
                )
            for column, cell in zip(columns, record, strict=False):
                if column is not None:
                    raw.values[column] = cell
            raw.values = gather(raw.values)
            rows.append(raw)
    except csv.Error as exc:
        msg = f"Expected a readable CSV file, got {exc} at line {reader.line_num}"
        raise FileFormatError(msg) from None
    return rows, problems, warnings


def _point(geometry: Any) -> tuple[Any, Any] | str:
    if not isinstance(geometry, dict):
        return f"Expected a Point geometry, got {geometry!r}"
    if geometry.get("type") != "Point":
        return f"Expected a Point geometry, got {geometry.get('type')!r}"
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        return f"Expected Point coordinates [lon, lat], got {coords!r}"
    return coords[0], coords[1]


def read_geojson(path: Path) -> Read:
    """Features of a GeoJSON FeatureCollection of Points (RFC 7946, lon/lat)."""
    text, _ = _decode(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"Expected GeoJSON, got invalid JSON in {path.name}: {exc}"
        raise FileFormatError(msg) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        msg = f"Expected a GeoJSON FeatureCollection of Points, got {got!r} in {path.name}"
        raise FileFormatError(msg)
    crs = doc.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
        if not name.upper().endswith(("CRS84", "EPSG::4326", "EPSG:4326")):
            msg = (
                "Expected RFC 7946 GeoJSON in WGS-84 longitude/latitude, got a crs member "
                f"{crs!r}; reproject it first"
            )
            raise FileFormatError(msg)
    features = doc.get("features")
    if not isinstance(features, list):
        msg = f"Expected 'features' to be a list, got {type(features).__name__}"
        raise FileFormatError(msg)
    rows: list[RawRow] = []
    for i, feature in enumerate(features, start=1):
        raw = RawRow(i, {})
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            got = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            raw.problems.append(Problem(i, "geometry", f"Expected a Feature, got {got!r}"))
            rows.append(raw)
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raw.problems.append(
                Problem(i, "properties", f"Expected an object, got {type(props).__name__}")
            )
            props = {}
        values: dict[str, Any] = {}
        for key, value in props.items():
            column = canonical(key) if key != "names" else "names"
            if column is not None and column not in ("lon", "lat"):
                values[column] = value
        if "id" not in values and feature.get("id") is not None:
            values["id"] = str(feature["id"])
        point = _point(feature.get("geometry"))
        if isinstance(point, str):
            raw.problems.append(Problem(i, "geometry", point))
        else:
            values["lon"], values["lat"] = point
        raw.values = gather(values)
        rows.append(raw)
    return rows, [], []


def read_gpkg(path: Path, *, layer: str | None = None) -> Read:
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
    columns = {c: canonical(c) for c in df.columns if c != df.geometry.name}
    keep = {c: k for c, k in columns.items() if k is not None and k not in ("lon", "lat")}
    attributes = pd.DataFrame(df[list(keep)]).rename(columns=keep)
    for column in attributes.columns:
        if pd.api.types.is_datetime64_any_dtype(attributes[column]):
            stamps = attributes[column]
            attributes[column] = [None if pd.isna(t) else t.isoformat() for t in stamps]
    attributes = attributes.astype(object).where(attributes.notna(), None)
    records = attributes.to_dict("records")
    rows: list[RawRow] = []
    for i, (values, geom) in enumerate(zip(records, df.geometry, strict=True), start=1):
        raw = RawRow(i, {})
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            got = None if geom is None else geom.geom_type
            raw.problems.append(Problem(i, "geometry", f"Expected a Point geometry, got {got!r}"))
        else:
            values["lon"], values["lat"] = geom.x, geom.y
        raw.values = gather(values)
        rows.append(raw)
    return rows, [], []
