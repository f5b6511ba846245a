"""Demand and candidate point files (``stations._pointfile``): GeoJSON as the station reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stations._errors import FileFormatError
from stations._pointfile import PointFileError, read_point_table


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _point(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_geojson_points_with_ids_and_weights(tmp_path: Path) -> None:
    """Coordinates, ids and numeric columns come through; a missing weight takes its default."""
    path = _write(
        tmp_path,
        {
            "type": "FeatureCollection",
            "features": [_point(116.31, 39.98, id="a", weight=3), _point(116.32, 39.99, id="b")],
        },
    )
    table = read_point_table(path, what="demand points", numbers={"weight": 1.0})
    assert table.ids == ["a", "b"]
    np.testing.assert_allclose(table.lon, [116.31, 116.32])
    np.testing.assert_allclose(table.numbers["weight"], [3.0, 1.0])


def test_a_projected_geojson_is_refused_not_read_as_lon_lat(tmp_path: Path) -> None:
    """A ``crs`` other than WGS-84 is refused, as for station lists (the same reader)."""
    path = _write(
        tmp_path,
        {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}},
            "features": [_point(440000.0, 4420000.0, id="a")],
        },
    )
    with pytest.raises(FileFormatError, match="WGS-84 longitude/latitude"):
        read_point_table(path, what="demand points")


def test_not_a_feature_collection_and_bad_geometries(tmp_path: Path) -> None:
    """Another GeoJSON type is a file error; a non-Point feature is a problem of its row."""
    path = _write(tmp_path, {"type": "Feature", "geometry": None, "properties": {}})
    with pytest.raises(FileFormatError, match="FeatureCollection"):
        read_point_table(path, what="demand points")
    line = {"type": "LineString", "coordinates": [[116.31, 39.98], [116.32, 39.99]]}
    path = _write(
        tmp_path,
        {
            "type": "FeatureCollection",
            "features": [_point(116.31, 39.98), {"type": "Feature", "geometry": line}],
        },
    )
    with pytest.raises(PointFileError) as caught:
        read_point_table(path, what="demand points")
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "geometry")]
