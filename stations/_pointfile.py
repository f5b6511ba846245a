"""Read user point files for planners: weighted demand points, candidate hosts.

A point file is a CSV with a header (``lon``/``lat``, also ``lng``/``longitude``/
``latitude``) or a GeoJSON FeatureCollection of Points (RFC 7946, WGS-84), with optional
columns / properties per use (``id``, ``weight``, ``name``, ``host_type``, ``capacity``).
Reading is all or nothing: every row is checked and the problems of all rows are raised
together as :class:`PointFileError` (``row 3, weight: Expected a number >= 0, got 'x'``).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routing.lonlat import lonlat_problem
from routing.problems import RowProblem, format_problems

from ._errors import FileFormatError
from ._readers import decode_text, feature_collection

__all__ = ["PointFileError", "PointTable", "read_point_table"]

_LON = ("lon", "lng", "long", "longitude")
_LAT = ("lat", "latitude")


class PointFileError(FileFormatError):
    """A point file has bad rows; ``problems`` lists every one of them."""

    def __init__(self, message: str, problems: list[RowProblem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True, eq=False)
class PointTable:
    """Points read from a file: ids, WGS-84 coordinates and the requested columns."""

    ids: list[str]
    lon: np.ndarray
    lat: np.ndarray
    numbers: dict[str, np.ndarray]
    texts: dict[str, list[str | None]]

    def __len__(self) -> int:
        return len(self.ids)


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(row, values)`` with lower-case keys; GeoJSON coordinates as ``lon``/``lat``."""
    suffix = path.suffix.lower()
    text, _ = decode_text(path)
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            msg = f"Expected a CSV header row in {path.name}, got an empty file"
            raise FileFormatError(msg)
        try:
            return [
                (i, {str(k).strip().lower(): v for k, v in row.items() if k is not None})
                for i, row in enumerate(reader, start=1)
                if any((v or "").strip() for v in row.values() if isinstance(v, str))
            ]
        except csv.Error as exc:
            msg = f"Expected a readable CSV file, got {exc} in {path.name}"
            raise FileFormatError(msg) from None
    if suffix in (".geojson", ".json"):
        out = []
        for i, feature in enumerate(feature_collection(text, path.name), start=1):
            values: dict[str, Any] = {}
            if isinstance(feature, dict):
                props = feature.get("properties") or {}
                if isinstance(props, dict):
                    values.update({str(k).lower(): v for k, v in props.items()})
                if feature.get("id") is not None:
                    values.setdefault("id", feature["id"])
                geom = feature.get("geometry")
                coords = geom.get("coordinates") if isinstance(geom, dict) else None
                if isinstance(geom, dict) and geom.get("type") == "Point" and coords:
                    values["lon"], values["lat"] = [*coords, None, None][:2]
                else:
                    got = geom.get("type") if isinstance(geom, dict) else geom
                    values["_geometry"] = f"Expected a Point geometry, got {got!r}"
            else:
                values["_geometry"] = f"Expected a Feature, got {type(feature).__name__}"
            out.append((i, values))
        return out
    msg = f"Expected a .csv, .geojson or .json file, got {path.name!r}"
    raise FileFormatError(msg)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_point_table(
    path: str | Path,
    *,
    what: str,
    numbers: dict[str, float | None] | None = None,
    texts: tuple[str, ...] = (),
) -> PointTable:
    """Read a point file; raise :class:`PointFileError` listing every bad row.

    Parameters
    ----------
    path
        ``.csv`` or ``.geojson`` / ``.json``.
    what
        What the points are, for messages (``"demand points"``).
    numbers
        Optional numeric columns and their defaults (``None``: no default, left ``nan``);
        each value must be a finite number >= 0.
    texts
        Optional text columns.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"Expected a file of {what}, got {str(path)!r} which does not exist"
        raise FileFormatError(msg)
    numbers = dict(numbers or {})
    rows = _records(path)
    problems: list[RowProblem] = []
    if not rows:
        problems.append(RowProblem(None, None, f"Expected at least one of the {what}, got none"))
    ids: list[str] = []
    lon: list[float] = []
    lat: list[float] = []
    nums: dict[str, list[float]] = {k: [] for k in numbers}
    txt: dict[str, list[str | None]] = {k: [] for k in texts}
    seen: dict[str, int] = {}
    for row, values in rows:
        if "_geometry" in values:
            problems.append(RowProblem(row, "geometry", values["_geometry"]))
            continue
        x = next((values[k] for k in _LON if not _blank(values.get(k))), None)
        y = next((values[k] for k in _LAT if not _blank(values.get(k))), None)
        if x is None or y is None:
            problems.append(RowProblem(row, "lon" if x is None else "lat", "Expected a value"))
            continue
        problem = lonlat_problem(x, y)
        if problem is not None:
            problems.append(RowProblem(row, "lon/lat", problem))
            continue
        pid = str(values.get("id")).strip() if not _blank(values.get("id")) else str(row)
        if pid in seen:
            problems.append(
                RowProblem(row, "id", f"Expected a unique id, got {pid!r} again (row {seen[pid]})")
            )
            continue
        seen[pid] = row
        bad = False
        parsed: dict[str, float] = {}
        for key, default in numbers.items():
            value = values.get(key)
            if _blank(value):
                parsed[key] = math.nan if default is None else float(default)
                continue
            try:
                number = float(str(value))
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and number >= 0):
                problems.append(
                    RowProblem(row, key, f"Expected a finite number >= 0, got {value!r}")
                )
                bad = True
            parsed[key] = number
        if bad:
            continue
        ids.append(pid)
        lon.append(float(x))
        lat.append(float(y))
        for key in numbers:
            nums[key].append(parsed[key])
        for key in texts:
            value = values.get(key)
            txt[key].append(None if _blank(value) else str(value).strip())
    if problems:
        msg = (
            f"Expected valid {what} in {path.name}, got {len(problems)} problem(s):\n"
            + format_problems(problems)
        )
        raise PointFileError(msg, problems)
    return PointTable(
        ids=ids,
        lon=np.asarray(lon, dtype=float),
        lat=np.asarray(lat, dtype=float),
        numbers={k: np.asarray(v, dtype=float) for k, v in nums.items()},
        texts=txt,
    )
