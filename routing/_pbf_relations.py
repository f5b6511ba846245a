"""Geometries of OSM relations from their member ways, as pyrosm makes them.

A relation's member ways (whatever their roles, each once, in the file's order) are lines
through their located nodes. A linear relation (a route, a barrier, a waterway, ...: see
:func:`is_linear`) is those lines merged. Any other is an area: the merged lines' closed
rings, each a polygon, overlaid even-odd (the symmetric difference of the rings, taken in
pairs round by round), so a point is inside when an odd number of rings cover it: outer
rings, holes and islands in holes come out right without trusting the roles, as osmium's
assembler does for valid data. Unclosed rings are dropped rather than closed by a spurious
edge; an invalid result is repaired (:func:`fix_geometry`). A relation none of whose
member ways is in the file has no geometry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely import GEOSException
from shapely.geometry import MultiPolygon
from shapely.ops import polygonize

if TYPE_CHECKING:
    from ._pbf_features import _Table

__all__ = ["fix_geometry", "is_linear", "relation_geometries"]

_LINEAR_KEYS = ("barrier", "route", "railway", "highway", "waterway")
_AREA_RAILWAY = ("platform", "station", "turntable", "roundhouse", "traverser", "wash")
_AREA_HIGHWAY = ("platform", "rest_area", "services")
_AREA_WATERWAY = ("riverbank", "dock", "boatyard", "dam", "fuel")


def is_linear(tags: dict[str, str]) -> bool:
    """Whether a relation with ``tags`` is a line (a route, a river, ...) and not an area."""
    linear = False
    for key in _LINEAR_KEYS:
        if key not in tags:
            continue
        value = tags[key]
        if key == "railway":
            if value not in _AREA_RAILWAY:
                linear = True
                break
        elif key == "highway":
            if value == "pedestrian":
                if "area" in tags:  # a pedestrian area is a polygon
                    linear = tags["area"] != "yes"
                    break
            elif value not in _AREA_HIGHWAY:
                linear = True
                break
        elif key == "waterway":
            if value not in _AREA_WATERWAY:
                linear = True
                break
        else:
            linear = True
            break
    if tags.get("area") == "no":
        linear = True
    if tags.get("type") in ("multipolygon", "boundary"):  # an area by definition
        linear = False
    return linear


def relation_geometries(table: _Table, rows: np.ndarray) -> np.ndarray:
    """The geometry of each relation row of ``table`` (``None`` where it has none)."""
    out = np.full(len(rows), None, dtype=object)
    if not len(rows):
        return out
    way_rows = np.flatnonzero(table.kind == ord("w"))
    order = np.argsort(table.osm_id[way_rows], kind="stable")
    sorted_ids = table.osm_id[way_rows][order]
    keys = ("type", "area", *_LINEAR_KEYS)
    kind_tags = {k: table.tags.column(k, rows) for k in keys}
    for i, row in enumerate(rows.tolist()):
        ids = np.unique(np.asarray(table.members.get(row, []), dtype=np.int64))
        pos = np.searchsorted(sorted_ids, ids)
        found = pos < len(sorted_ids)
        found[found] = sorted_ids[pos[found]] == ids[found]
        members = np.sort(way_rows[order[pos[found]]])
        if not len(members):
            continue
        lines = _member_lines(table, members)
        if not lines:
            continue
        tags = {k: kind_tags[k][i] for k in keys if kind_tags[k][i] is not None}
        out[i] = _geometry(lines, linear=is_linear(tags))
    return out


def _member_lines(table: _Table, members: np.ndarray) -> list[Any]:
    lines = []
    for w in members.tolist():
        xy = table.coords[table.refs_off[w] : table.refs_off[w + 1]]
        with np.errstate(invalid="ignore"):
            xy = xy[(np.abs(xy[:, 0]) <= 180.0) & (np.abs(xy[:, 1]) <= 90.0)]
        if len(xy) >= 2:
            lines.append(shapely.linestrings(xy))
    return lines


def _geometry(lines: list[Any], *, linear: bool) -> Any:
    if linear:
        return lines[0] if len(lines) == 1 else shapely.line_merge(shapely.multilinestrings(lines))
    area = _assemble(lines)
    if area is not None and not area.is_valid:
        area = fix_geometry(area)
    return area


def _assemble(lines: list[Any]) -> Any:
    """The even-odd overlay of the closed rings of the merged ``lines`` (or ``None``)."""
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    if merged.geom_type == "LineString":
        parts = [merged]
    else:
        parts = [p for p in getattr(merged, "geoms", []) if p.geom_type == "LineString"]
    rings = []
    for part in parts:
        xy = shapely.get_coordinates(part)
        if len(xy) < 4 or (xy[0] != xy[-1]).any():
            continue
        try:
            ring = shapely.polygons(shapely.linearrings(xy))
            if not ring.is_valid:
                ring = ring.buffer(0)
        except GEOSException:
            continue
        if ring is not None and not ring.is_empty:
            rings.append(ring)
    if not rings:
        return None
    try:
        while len(rings) > 1:
            paired = len(rings) // 2 * 2
            merged_rings = shapely.symmetric_difference(rings[0:paired:2], rings[1:paired:2])
            rings = [*merged_rings.tolist(), *rings[paired:]]
    except GEOSException:  # rings GEOS cannot overlay: the relation has no geometry
        return None
    area = _polygonal(rings[0])
    if area is not None and not area.is_valid:
        area = _polygonal(fix_geometry(area))
    return area


def _polygonal(geometry: Any) -> Any:
    """The polygons of ``geometry`` (stray lines and points of an overlay dropped)."""
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    if geometry.geom_type != "GeometryCollection":
        return None
    polygons: list[Any] = []
    for part in geometry.geoms:
        if part.is_empty:
            continue
        if part.geom_type == "Polygon":
            polygons.append(part)
        elif part.geom_type == "MultiPolygon":
            polygons.extend(p for p in part.geoms if not p.is_empty)
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def fix_geometry(geometry: Any, *, max_area_change: float = 20.0) -> Any:
    """``geometry`` made valid by ``buffer(0)`` or, for a bow-tie polygon, by polygonizing
    its exterior; unchanged when neither keeps the area within ``max_area_change`` times."""
    candidate = geometry.buffer(0)
    if candidate.is_valid and _similar(geometry, candidate, max_area_change):
        return candidate
    if isinstance(geometry, MultiPolygon) or geometry.geom_type != "Polygon":
        return geometry
    exterior = geometry.exterior
    candidate = MultiPolygon(list(polygonize(exterior.intersection(exterior))))
    if candidate.is_valid and _similar(geometry, candidate, max_area_change):
        return candidate
    return geometry


def _similar(geometry: Any, candidate: Any, limit: float) -> bool:
    if candidate.area == 0:
        return False
    return bool(abs(1 - geometry.area / candidate.area) < limit)
