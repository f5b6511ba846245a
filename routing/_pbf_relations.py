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
    from ._opl_table import Table

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


def relation_geometries(table: Table, rows: np.ndarray) -> np.ndarray:
    """The geometry of each relation row of ``table`` (``None`` where it has none).

    Each step runs once for all relations (vectorised shapely calls), in the order the
    per-relation description of the module docstring gives.
    """
    out = np.full(len(rows), None, dtype=object)
    owner, ways = _members(table, rows)
    line_owner, lines = _member_lines(table, owner, ways)
    if not len(lines):
        return out
    counts = np.bincount(line_owner, minlength=len(rows))
    kind_tags = {k: table.tags.column(k, rows) for k in ("type", "area", *_LINEAR_KEYS)}
    linear = np.array(
        [
            is_linear({k: v[i] for k, v in kind_tags.items() if v[i] is not None})
            for i in range(len(rows))
        ],
        dtype=bool,
    )
    # lines: one member line is the geometry, more are merged
    single = np.flatnonzero(linear & (counts == 1))
    out[single] = lines[np.searchsorted(line_owner, single)]
    several = np.flatnonzero(linear & (counts > 1))
    if len(several):
        mask = np.isin(line_owner, several)
        local = np.searchsorted(several, line_owner[mask])
        out[several] = shapely.line_merge(shapely.multilinestrings(lines[mask], indices=local))
    # areas: the closed rings of the merged lines, overlaid even-odd
    areal = np.flatnonzero(~linear & (counts > 0))
    if len(areal):
        mask = np.isin(line_owner, areal)
        local = np.searchsorted(areal, line_owner[mask])
        merged = shapely.line_merge(shapely.multilinestrings(lines[mask], indices=local))
        ring_owner, rings = _rings(merged)
        area = _overlay(ring_owner, rings, len(areal))
        for i in np.flatnonzero(shapely.is_geometry(area)).tolist():
            area[i] = _polygonal(area[i])
        present = np.flatnonzero(shapely.is_geometry(area))
        for i in present[~shapely.is_valid(area[present])].tolist():
            area[i] = _polygonal(fix_geometry(area[i]))
        present = np.flatnonzero(shapely.is_geometry(area))
        for i in present[~shapely.is_valid(area[present])].tolist():
            area[i] = fix_geometry(area[i])
        present = np.flatnonzero(shapely.is_geometry(area))
        area[present] = shapely.orient_polygons(area[present], exterior_cw=False)
        out[areal] = area
    return out


def _members(table: Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each relation's member ways in the file, each once, in the file's order: pairs of
    the relation's index in ``rows`` and the way's row of ``table``."""
    ids_of = [np.asarray(table.members.get(r, []), dtype=np.int64) for r in rows.tolist()]
    if not ids_of or not sum(len(i) for i in ids_of):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ids = np.concatenate(ids_of)
    owner = np.repeat(np.arange(len(rows)), [len(i) for i in ids_of])
    way_rows = np.flatnonzero(table.kind == ord("w"))
    order = np.argsort(table.osm_id[way_rows], kind="stable")
    sorted_ids = table.osm_id[way_rows][order]
    pos = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
    found = (pos < len(sorted_ids)) & (sorted_ids[pos] == ids) if len(sorted_ids) else ids < 0
    owner, ways = owner[found], way_rows[order[pos[found]]]
    order = np.lexsort((ways, owner))  # by relation, then file order; each way once
    owner, ways = owner[order], ways[order]
    first = np.ones(len(owner), dtype=bool)
    first[1:] = (owner[1:] != owner[:-1]) | (ways[1:] != ways[:-1])
    return owner[first], ways[first]


def _member_lines(
    table: Table, owner: np.ndarray, ways: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lines through the located nodes of the member ``ways`` that have two or more."""
    from ._opl_table import ranges
    from ._pbf_features import _valid

    start = table.refs_off[ways]
    count = table.refs_off[ways + 1] - start
    xy = table.coords[ranges(start, count)]
    member = np.repeat(np.arange(len(ways)), count)
    valid = _valid(xy)
    n_valid = np.bincount(member[valid], minlength=len(ways))
    line = n_valid >= 2
    take = valid & line[member]
    local = np.cumsum(line) - 1
    if not take.any():
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    return owner[line], shapely.linestrings(xy[take], indices=local[member[take]])


def _rings(merged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed rings (4 or more points) of each relation's merged lines, as polygons
    (repaired with ``buffer(0)`` when invalid, empty ones dropped), in each one's order."""
    parts, owner = shapely.get_parts(merged, return_index=True)
    lines = shapely.get_type_id(parts) == 1
    parts, owner = parts[lines], owner[lines]
    xy, of = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(of, minlength=len(parts))
    ends = np.cumsum(counts) - 1
    closed = counts >= 4
    closed[closed] = (xy[ends[closed] - counts[closed] + 1] == xy[ends[closed]]).all(axis=1)
    if not closed.any():
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    keep = closed[of]
    local = np.cumsum(closed) - 1
    try:
        rings = shapely.polygons(shapely.linearrings(xy[keep], indices=local[of[keep]]))
    except GEOSException:  # per ring, dropping those GEOS cannot build
        rings = np.array([_ring(p) for p in parts[closed]], dtype=object)
    bad = np.flatnonzero(shapely.is_geometry(rings))
    bad = bad[~shapely.is_valid(rings[bad])]
    rings[bad] = shapely.buffer(rings[bad], 0)
    ok = shapely.is_geometry(rings)
    ok[ok] = ~shapely.is_empty(rings[ok])
    return owner[closed][ok], rings[ok]


def _ring(line: Any) -> Any:
    try:
        return shapely.polygons(shapely.linearrings(shapely.get_coordinates(line)))
    except GEOSException:
        return None


def _overlay(owner: np.ndarray, parts: np.ndarray, n: int) -> np.ndarray:
    """Each relation's rings overlaid: their symmetric difference taken in pairs, round by
    round (the last of an odd number carried to the next round); ``None`` for a relation
    without rings or one whose rings GEOS cannot overlay."""
    area = np.full(n, None, dtype=object)
    failed = np.zeros(n, dtype=bool)
    order = np.argsort(owner, kind="stable")
    owner, parts = owner[order], parts[order]
    while True:
        position = np.arange(len(owner)) - np.searchsorted(owner, owner)
        count = np.bincount(owner, minlength=n)[owner]
        left = np.flatnonzero((position % 2 == 0) & (position + 1 < count))
        if not len(left):
            break
        try:
            merged = shapely.symmetric_difference(parts[left], parts[left + 1])
        except GEOSException:
            merged = np.full(len(left), None, dtype=object)
            for k, i in enumerate(left.tolist()):
                try:
                    merged[k] = shapely.symmetric_difference(parts[i], parts[i + 1])
                except GEOSException:
                    failed[owner[i]] = True
        carried = np.flatnonzero((position == count - 1) & (position % 2 == 0))
        owner = np.concatenate([owner[left], owner[carried]])
        parts = np.concatenate([merged, parts[carried]])
        keep = ~failed[owner]
        order = np.argsort(owner[keep], kind="stable")
        owner, parts = owner[keep][order], parts[keep][order]
    area[owner] = parts
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
