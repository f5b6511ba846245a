"""POI and base-map features of an ``.osm.pbf`` file in one pass (pyosmium + pyarrow).

libosmium (pyosmium, C++; :mod:`routing._pbf_opl`, in a child process) decodes the file
once: it keeps every node's location, drops the nodes and relations without one of the
keys any read selects by, and writes the rest as OPL text with the node locations on the
ways. pyarrow parses that text into a table of elements as it comes
(:mod:`routing._opl_table`), this module selects each read's elements and makes their
geometries with shapely's vectorised calls, so no Python code runs per node or per way.

The frames are those pyrosm's reads gave (``get_pois`` with the POI filter, ``get_landuse``
residential, ``get_buildings``, ``get_network("all")`` and ``get_data_by_custom_criteria``
with :data:`routing.basemap.BASEMAP_TAGS`): the same elements, the same geometries and, of
the tags the layers read, the same values — including which tags each pyrosm read made
columns of (:class:`Read`.``keys``). ``tests/routing/test_pbf_features.py`` holds the POI
and base-map layers to those built through pyrosm. pyrosm's rules, reproduced here:

- a node or relation is read when one of its tags passes the read's filter; ways likewise,
  and every way can be the member of a relation;
- a closed way (first node = last node) is a polygon when its tags make it an area (the OSM
  wiki's polygon features, :data:`POLYGON_FEATURES`), else a line; a network's ways are
  lines; the nodes without a location are left out;
- a relation's geometry is made from its member ways, whatever their roles: the lines
  merged, the closed rings overlaid even-odd (a point is inside when an odd number of rings
  cover it); routes and other linear relations
  (:func:`routing._pbf_relations.is_linear`) are merged lines;
- polygons are oriented counter-clockwise (exterior), as GeoJSON wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import AreaBuildError
from ._opl_table import NODE, RELATION, WAY, Table, isin, ranges, read_table
from ._pbf_relations import relation_geometries
from .basemap import BASEMAP_TAGS
from .pois import EXTRA_TAGS, FEATURE_TAGS, NAME_LANGUAGES

__all__ = [
    "BASEMAP_READS",
    "FEATURE_READS",
    "POLYGON_FEATURES",
    "Read",
    "concat_frames",
    "read_features",
    "read_pbf_features",
]

_NAMES = ("name", *(f"name:{lang}" for lang in NAME_LANGUAGES))
_EXTRA = (*_NAMES[1:], *EXTRA_TAGS, "bus", "office")
_BASEMAP_KEYS = tuple(BASEMAP_TAGS)


@dataclass(frozen=True)
class Read:
    """One read of the file, as a pyrosm ``get_*`` call made it.

    Parameters
    ----------
    name
        What it reads (for messages).
    keep
        OSM key -> values an element needs for one of them (``True``: any value).
    elements
        Which of ``"node"``, ``"way"``, ``"relation"`` it reads.
    keys
        The tags it keeps as columns (of those the layers read).
    exclude
        Key -> values that drop an element (semicolon lists match by any of their values).
    network
        Ways are lines even when closed (a street network).
    """

    name: str
    keep: dict[str, Literal[True] | tuple[str, ...]]
    elements: tuple[str, ...]
    keys: tuple[str, ...]
    exclude: dict[str, tuple[str, ...]] | None = None
    network: bool = False


def _values(spec: bool | str | list[str]) -> Literal[True] | tuple[str, ...]:
    if isinstance(spec, bool):
        return True
    return (spec,) if isinstance(spec, str) else tuple(spec)


_ALL = ("node", "way", "relation")
_POI_KEYS = ("amenity", "shop", "office", "highway", "public_transport")
#: The reads of the POI features: POIs, residential land use and buildings, in that order
#: (an element in two of them keeps the first one's row).
FEATURE_READS = (
    Read(
        "POIs",
        {k: _values(FEATURE_TAGS[k]) for k in _POI_KEYS},
        _ALL,
        (*_NAMES, *_POI_KEYS, "landuse", "building", *EXTRA_TAGS, "bus"),
    ),
    # pyrosm's land-use read has no name column; only the extra tags were lifted from it
    Read("residential land use", {"landuse": ("residential",)}, _ALL, ("landuse", *_EXTRA)),
    Read(
        "buildings",
        {"building": True},
        ("way", "relation"),
        ("building", "name", "amenity", "landuse", "shop", *_EXTRA),
    ),
)
#: The reads of the base map: every street, then water, parks and landmarks.
BASEMAP_READS = (
    Read(
        "streets",
        {"highway": True},
        ("way",),
        ("highway", "area", "layer", *_NAMES),
        exclude={
            "area": ("yes",),
            "highway": (
                *("abandoned", "construction", "no", "planned", "platform", "proposed"),
                *("raceway", "razed", "rest_area", "services"),
            ),
        },
        network=True,
    ),
    Read(
        "water, parks and landmarks",
        {k: tuple(v) for k, v in BASEMAP_TAGS.items()},
        _ALL,
        (*_BASEMAP_KEYS, *_NAMES),
    ),
)

_ALLRULE, _PASS, _BLOCK = "all", "pass", "block"
#: Which closed ways are areas: the OSM wiki's polygon features, as osmnx and pyrosm read them.
POLYGON_FEATURES: dict[str, tuple[str, frozenset[str]]] = {
    **{
        k: (_ALLRULE, frozenset())
        for k in (
            *("amenity", "area", "area:highway", "boundary", "building", "building:part"),
            *("craft", "golf", "historic", "indoor", "landuse", "leisure", "military"),
            *("office", "place", "public_transport", "ruins", "shop", "tourism"),
        )
    },
    "aeroway": (_BLOCK, frozenset({"taxiway"})),
    "barrier": (_PASS, frozenset({"city_wall", "ditch", "hedge", "retaining_wall", "spikes"})),
    "highway": (_PASS, frozenset({"elevator", "escape", "rest_area", "services"})),
    "man_made": (_BLOCK, frozenset({"cutline", "embankment", "pipeline"})),
    "natural": (_BLOCK, frozenset({"arete", "cliff", "coastline", "ridge", "tree_row"})),
    "power": (_PASS, frozenset({"generator", "plant", "substation", "transformer"})),
    "railway": (_PASS, frozenset({"platform", "roundhouse", "station", "turntable"})),
    "waterway": (_PASS, frozenset({"boatyard", "dam", "dock", "riverbank"})),
}
#: Tags a relation's kind is decided by (see :mod:`routing._pbf_relations`).
_RELATION_KEYS = ("type", "area", "barrier", "route", "railway", "highway", "waterway")


def _wanted(reads: tuple[Read, ...]) -> tuple[list[str], list[str], list[str]]:
    """The tag keys to parse, and the keys that select nodes and relations."""
    keys: dict[str, None] = {}
    node_keys: dict[str, None] = {}
    for read in reads:
        for key in (*read.keep, *(read.exclude or {}), *read.keys):
            keys[key] = None
        if "node" in read.elements:
            node_keys.update(dict.fromkeys(read.keep))
    relation_keys = dict.fromkeys(k for r in reads if "relation" in r.elements for k in r.keep)
    keys.update(dict.fromkeys(POLYGON_FEATURES))
    keys.update(dict.fromkeys(_RELATION_KEYS))
    return list(keys), list(node_keys), list(relation_keys)


def read_features(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The POI features and the base-map features of the PBF file ``path``, in one pass.

    Returns
    -------
    tuple
        ``(features, basemap_features)``: the features of :data:`FEATURE_READS`, one row per
        element (for :func:`routing.pois.split_layers`), and those of
        :data:`BASEMAP_READS` (for :func:`routing.basemap.split_basemap`).

    Raises
    ------
    AreaBuildError
        When the file is not a readable OSM PBF file.
    """
    frames = read_pbf_features(path)
    features = concat_frames(frames[: len(FEATURE_READS)])
    features = features.drop_duplicates(subset=["osm_type", "osm_id"]).reset_index(drop=True)
    return features, concat_frames(frames[len(FEATURE_READS) :])


def concat_frames(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The rows of ``frames`` in one frame (EPSG:4326); a column one lacks is ``None`` there."""
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def read_pbf_features(
    path: Path, reads: tuple[Read, ...] = (*FEATURE_READS, *BASEMAP_READS)
) -> list[gpd.GeoDataFrame]:
    """The frame of each read of ``reads`` from one pass over the PBF file ``path``.

    Each frame has ``osm_type``, ``osm_id``, a column per key of the read's ``keys``
    (``None`` where the element lacks the tag) and ``geometry`` (EPSG:4326): its nodes,
    then its ways, then its relations, each in the file's order.

    Raises
    ------
    AreaBuildError
        When the file is not a readable OSM PBF file.
    """
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        msg = f"Expected a readable OSM PBF file, got {path}, which is missing or empty"
        raise AreaBuildError(msg)
    keys, node_keys, relation_keys = _wanted(reads)
    table = read_table(path, keys, node_keys=node_keys, relation_keys=relation_keys)
    return _frames(table, reads)


def _any_in(column: np.ndarray, values: tuple[str, ...]) -> np.ndarray:
    """Whether a value, or one of the values of a ``;`` list, is one of ``values``."""
    hit = isin(column, values)
    for i in np.flatnonzero(~hit).tolist():
        if ";" in column[i]:
            hit[i] = any(part.strip() in values for part in column[i].split(";"))
    return hit


def _selected(table: Table, read: Read) -> np.ndarray:
    """The rows ``read`` reads, in the file's order."""
    keep = np.zeros(len(table.kind), dtype=bool)
    for key, values in read.keep.items():
        keep[table.tags.rows_where(key, values)] = True
    for key, values in (read.exclude or {}).items():
        have = table.tags.rows_where(key, True)
        keep[have[_any_in(table.tags.column(key, have), values)]] = False
    keep &= np.isin(table.kind, [ord(e[0]) for e in read.elements])
    rows = np.flatnonzero(keep)
    # a way that is a member of a relation the read keeps is that relation's, not a row
    members = [table.members.get(r, []) for r in rows[table.kind[rows] == RELATION].tolist()]
    if any(members):
        member_ids = np.concatenate([np.asarray(m, dtype=np.int64) for m in members])
        ways = table.kind[rows] == WAY
        rows = rows[~(ways & np.isin(table.osm_id[rows], member_ids))]
    return rows


def _is_area(table: Table, rows: np.ndarray) -> np.ndarray:
    """Whether the tags of the ways ``rows`` make them areas when closed."""
    out = np.zeros(len(rows), dtype=bool)
    for key, (rule, values) in POLYGON_FEATURES.items():
        column = table.tags.column(key, rows)
        if rule == _ALLRULE:
            out |= pd.notna(column)
        elif rule == _PASS:
            out |= isin(column, values)
        else:
            out |= pd.notna(column) & ~isin(column, values)
    return out & ~(table.tags.column("area", rows) == "no")


def _valid(xy: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.abs(xy[:, 0]) <= 180.0) & (np.abs(xy[:, 1]) <= 90.0)


def _way_geometries(table: Table, rows: np.ndarray, *, network: bool) -> np.ndarray:
    """Lines and polygons of the ways ``rows`` (``None`` where a way has too few nodes)."""
    out = np.full(len(rows), None, dtype=object)
    if not len(rows):
        return out
    start = table.refs_off[rows]
    count = table.refs_off[rows + 1] - start
    owner = np.repeat(np.arange(len(rows)), count)
    xy = table.coords[ranges(start, count)]
    valid = _valid(xy)
    n_valid = np.bincount(owner[valid], minlength=len(rows))
    area = (
        np.zeros(len(rows), dtype=bool) if network else table.closed[rows] & _is_area(table, rows)
    )
    # an area with every node located and 4 or more of them is the polygon of all of them
    full = area & (n_valid == count) & (count >= 4)
    line = ~area & (n_valid >= 2)
    for want, geometry in ((full, _rings), (line, shapely.linestrings)):
        take = want[owner] & valid
        if take.any():
            local = np.cumsum(want) - 1
            out[want] = geometry(xy[take], indices=local[owner[take]])
    # otherwise that of its located nodes when there are 3 or more, closed where needed
    for i in np.flatnonzero(area & ~full & (n_valid > 2)).tolist():
        ring = xy[owner == i][valid[owner == i]]
        if len(ring) == 3 or (ring[0] != ring[-1]).any():
            ring = np.vstack([ring, ring[:1]])
        out[i] = shapely.orient_polygons(shapely.polygons(ring), exterior_cw=False)
    return out


def _rings(xy: np.ndarray, *, indices: np.ndarray) -> np.ndarray:
    """Polygons of the rings ``xy`` (grouped by ``indices``), counter-clockwise: a clockwise
    ring's points are reversed, as ``shapely.orient_polygons`` does, before the polygon is
    made (GEOS's ``isCCW`` decides, as there)."""
    rings = shapely.linearrings(xy, indices=indices)
    clockwise = ~shapely.is_ccw(rings)
    rings[clockwise] = shapely.reverse(rings[clockwise])
    return shapely.polygons(rings)


_TYPES = np.array(["node", "way", "relation"], dtype=object)
_RANK = np.zeros(256, dtype=np.int64)
_RANK[[NODE, WAY, RELATION]] = [0, 1, 2]


def _frames(table: Table, reads: tuple[Read, ...]) -> list[gpd.GeoDataFrame]:
    selected = [_selected(table, read) for read in reads]
    n = len(table.kind)
    geometry = {False: np.full(n, None, dtype=object), True: np.full(n, None, dtype=object)}
    for network in (False, True):
        chosen = [s for s, r in zip(selected, reads, strict=True) if r.network == network]
        if not chosen:
            continue
        mask = np.zeros(n, dtype=bool)
        for rows in chosen:
            mask[rows] = True
        union = np.flatnonzero(mask)
        ways = union[table.kind[union] == WAY]
        geometry[network][ways] = _way_geometries(table, ways, network=network)
        if not network:
            nodes = union[table.kind[union] == NODE]
            xy = np.column_stack([table.lon[nodes], table.lat[nodes]])
            geometry[network][nodes[_valid(xy)]] = shapely.points(xy[_valid(xy)])
            relations = union[table.kind[union] == RELATION]
            geometry[network][relations] = relation_geometries(table, relations)
    frames = []
    for rows, read in zip(selected, reads, strict=True):
        geoms = geometry[read.network][rows]
        rows = rows[shapely.is_geometry(geoms)]
        rank = _RANK[table.kind[rows]]
        order = np.argsort(rank, kind="stable")
        rows, rank = rows[order], rank[order]
        columns: dict[str, Any] = {"osm_type": _TYPES[rank], "osm_id": table.osm_id[rows]}
        for key in dict.fromkeys(read.keys):  # object columns, as pyrosm's (no str inference)
            columns[key] = pd.Series(table.tags.column(key, rows), dtype=object)
        columns["osm_type"] = pd.Series(columns["osm_type"], dtype=object)
        geoms = gpd.GeoSeries(geometry[read.network][rows], crs="EPSG:4326")
        frames.append(gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326"))
    return frames
