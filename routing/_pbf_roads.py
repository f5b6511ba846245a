"""The walk and drive graphs of an ``.osm.pbf`` file, from one pass over it.

The graphs are the ones pyrosm 0.25 builds with ``OSM.get_graph(network,
graph_type="networkx", retain_all=True, osmnx_compatible=True)`` (the graph the builder
was verified with; ``tests/routing/test_pbf_roads.py`` holds the two equal on every
extract), made without pyrosm's frames:

1. one pass (:mod:`routing._pbf_file`, compiled block decoding) reads every way with a
   ``highway`` tag, its tags, node ids and node locations, and keeps the tag strings of
   tagged nodes for the graph nodes that need them;
2. per network, pyrosm's way filter (:mod:`routing._road_filters`) selects the ways,
   which are cut into segments between consecutive nodes with a known location
   (haversine length to the millimetre);
3. the segments are directed (walking: both ways; driving: by ``oneway`` / roundabouts)
   and merged into chains (:mod:`routing._road_chains`); a merged edge sums its lengths,
   keeps a column's value where its segments agree and lists the segments' values where
   they do not (``NaN`` where a segment has none), as osmnx does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import AreaBuildError
from ._pbf_file import UNDEFINED, RoadWays, read_ways
from ._road_chains import chain_directed_edges, chain_flags
from ._road_filters import DRIVE_FILTER, NETWORKS, WALK_FILTER
from .network import count_edges, fill_graph

if TYPE_CHECKING:
    from pathlib import Path

    import networkx as nx
    from numpy.typing import NDArray

__all__ = ["DRIVE_FILTER", "NETWORKS", "WALK_FILTER", "read_networks"]

#: The way tags kept as edge attributes (pyrosm's ``default_tags.highway_columns``).
EDGE_TAGS = (
    "access",
    "area",
    "bicycle",
    "bicycle_road",
    "bridge",
    "busway",
    "cycleway",
    "est_width",
    "foot",
    "footway",
    "highway",
    "int_ref",
    "junction",
    "lanes",
    "lit",
    "maxspeed",
    "motorcar",
    "motorroad",
    "motor_vehicle",
    "name",
    "oneway",
    "oneway:bicycle",
    "overtaking",
    "path",
    "passing_places",
    "psv",
    "ref",
    "service",
    "segregated",
    "sidewalk",
    "smoothness",
    "surface",
    "tracktype",
    "tunnel",
    "turn",
    "width",
    "winter_road",
)
#: A merged edge keeps one value of these: a node where they change stays an endpoint.
DIFFER_TAGS = ("maxspeed", "highway")
#: ``oneway`` values that make a way one-way, and those that run it against its nodes.
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "T", "F"})
AGAINST_VALUES = frozenset({"-1", "T"})

_EARTH_RADIUS_M = 6371.0088 * 1000.0


@dataclass(frozen=True)
class _Segments:
    """The segments of a network's ways: segment ``i`` of way ``way[i]`` runs from node
    ``nodes[u[i]]`` to ``nodes[v[i]]`` (``start[i]`` to ``end[i]``, lon/lat); ``nodes`` in
    order of first use, at ``xy``."""

    way: NDArray[np.int64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    start: NDArray[np.float64]
    end: NDArray[np.float64]
    nodes: NDArray[np.int64]
    xy: NDArray[np.float64]


def _segments(ways: RoadWays, kept: NDArray[np.int64]) -> _Segments:
    """Cut the ways ``kept`` between consecutive nodes with a location.

    A way with missing nodes is cut through the nodes that remain; a way with fewer than
    two located nodes has no segment, and its node does not count as used.
    """
    starts = ways.offsets[kept]
    sizes = ways.offsets[kept + 1] - starts
    owner = np.repeat(np.arange(len(kept)), sizes)
    at = np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes) + starts[owner]
    x, y = ways.x[at], ways.y[at]
    valid = (x != UNDEFINED) & (y != UNDEFINED)
    located = np.bincount(owner[valid], minlength=len(kept))
    used = valid & (located >= 2)[owner]
    at, owner = at[used], owner[used]
    codes, nodes = pd.factorize(ways.refs[at], sort=False)  # nodes in order of first use
    lonlat = np.column_stack([ways.x[at] / 1e9, ways.y[at] / 1e9])  # pyrosm's degrees
    xy = np.empty((len(nodes), 2))
    xy[codes] = lonlat
    pair = np.flatnonzero(owner[1:] == owner[:-1])
    return _Segments(
        way=kept[owner[pair]],
        u=codes[pair].astype(np.int64),
        v=codes[pair + 1].astype(np.int64),
        start=lonlat[pair],
        end=lonlat[pair + 1],
        nodes=np.asarray(nodes, dtype=np.int64),
        xy=xy,
    )


def _haversine_m(start: NDArray[np.float64], end: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle length in metres, to the millimetre, of each segment (pyrosm's formula)."""
    lat1, lng1, lat2, lng2 = map(np.deg2rad, (start[:, 1], start[:, 0], end[:, 1], end[:, 0]))
    lat = lat2 - lat1
    lng = lng2 - lng1
    d = np.sin(lat * 0.5) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(lng * 0.5) ** 2
    return np.asarray((2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(d))).round(3))


def _directed(
    ways: RoadWays, seg: _Segments, *, both_ways: bool
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The directed edges as ``(rows, swapped)``: edge ``i`` is segment ``rows[i]``, run
    from ``v`` to ``u`` where ``swapped[i]``; one-way ones first (along, against), then
    every two-way segment forwards, then backwards."""
    n = len(seg.way)
    if both_ways:
        return np.tile(np.arange(n), 2), np.repeat([False, True], n)
    tags = ways.tags
    oneway = np.zeros(len(tags), dtype=bool)
    against = np.zeros(len(tags), dtype=bool)
    for w in np.unique(seg.way).tolist():
        value = tags[w].get("oneway")
        oneway[w] = value in ONEWAY_VALUES or tags[w].get("junction") == "roundabout"
        against[w] = value in AGAINST_VALUES
    one, rev = oneway[seg.way], against[seg.way]
    along, back, two = (np.flatnonzero(m) for m in (one & ~rev, one & rev, ~one))
    rows = np.concatenate([along, back, two, two])
    swapped = np.repeat([False, True, False, True], [len(along), len(back), len(two), len(two)])
    return rows, swapped


def _way_columns(ways: RoadWays, kept: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
    """The edge columns of the ways ``kept`` (object arrays over all ways, ``NaN`` where a
    way has no such tag): every :data:`EDGE_TAGS` tag set on one of them (``oneway`` as
    ``oneway_tag``) and ``osmid``."""
    columns: dict[str, NDArray[Any]] = {}
    n = len(ways.tags)
    for w in kept.tolist():
        for key in _EDGE_TAG_SET.intersection(ways.tags[w]):
            column = columns.get(key)
            if column is None:
                column = columns[key] = np.full(n, np.nan, dtype=object)
            column[w] = ways.tags[w][key]
    out = {_column_name(k): columns[k] for k in EDGE_TAGS if k in columns}
    osmid = np.empty(n, dtype=object)
    osmid[:] = ways.ids.tolist()
    out["osmid"] = osmid
    return out


_EDGE_TAG_SET = frozenset(EDGE_TAGS)


def _column_name(tag: str) -> str:
    """The edge attribute of a tag: osmnx's ``oneway`` boolean takes the tag's name."""
    return "oneway_tag" if tag == "oneway" else tag


def _codes(column: NDArray[Any]) -> NDArray[np.int64]:
    """An integer per value, equal for equal values, -1 for ``None``."""
    return pd.factorize(column, use_na_sentinel=True)[0].astype(np.int64)


def _edge_records(
    ways: RoadWays, kept: NDArray[np.int64], seg: _Segments, rows: NDArray[np.int64], chains: Any
) -> list[dict[str, Any]]:
    """The attribute dict of each chain from its ways' columns (see :func:`_way_columns`):
    a column's value where the chain's segments agree, else the list of their values."""
    base: dict[int, dict[str, Any]] = {}
    for w, way_id in zip(kept.tolist(), ways.ids[kept].tolist(), strict=True):
        tags = ways.tags[w]
        record = {_column_name(k): tags[k] for k in _EDGE_TAG_SET.intersection(tags)}
        record["osmid"] = way_id
        record["osm_type"] = "way"
        base[w] = record
    seg_way = seg.way[rows[chains.edges]]  # the way of every merged segment, chain order
    chain = chains.chain_of()
    records = [base[w].copy() for w in seg_way[chains.ptr[:-1]].tolist()]
    # only where a chain passes from one way to the next can a value change
    change = np.flatnonzero((chain[1:] == chain[:-1]) & (seg_way[1:] != seg_way[:-1]))
    if len(change) == 0:
        return records
    a, b = seg_way[change], seg_way[change + 1]
    for key, column in _way_columns(ways, kept).items():
        left, right = column[a], column[b]
        differ = (left != right) & ~(pd.isna(left) & pd.isna(right))
        mixed = np.unique(chain[change[differ] + 1])
        if len(mixed) == 0:
            continue
        starts, ends = chains.ptr[mixed], chains.ptr[mixed + 1]
        sizes = ends - starts
        positions = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        values = column[seg_way[positions]].tolist()
        at = 0
        for k, size in zip(mixed.tolist(), sizes.tolist(), strict=True):
            records[k][key] = values[at : at + size]
            at += size
    return records


def _street_counts(u: NDArray[np.int64], v: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """osmnx ``street_count`` of the nodes ``0..n-1`` of the edges ``u -> v``: their
    undirected streets (parallel edges between two nodes count as many as the busier
    direction has; any self-loops as 2)."""
    loop = u == v
    pairs = pd.DataFrame({"u": u[~loop], "v": v[~loop]})
    per_direction = pairs.groupby(["u", "v"], sort=False).size()
    a = per_direction.index.get_level_values(0).to_numpy()
    b = per_direction.index.get_level_values(1).to_numpy()
    undirected = pd.DataFrame(
        {"a": np.minimum(a, b), "b": np.maximum(a, b), "n": per_direction.to_numpy()}
    )
    streets = undirected.groupby(["a", "b"], sort=False)["n"].max()
    counts = np.bincount(
        streets.index.get_level_values(0).to_numpy(), weights=streets.to_numpy(), minlength=n
    )
    counts += np.bincount(
        streets.index.get_level_values(1).to_numpy(), weights=streets.to_numpy(), minlength=n
    )
    counts[np.unique(u[loop])] += 2
    return counts.astype(np.int64)


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _json_string(text: str) -> str:
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0x20 <= code < 0x80:
            out.append(ch)
        elif code < 0x10000:
            out.append(f"\\u{code:04X}")
        else:  # a UTF-16 surrogate pair
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
    return '"' + "".join(out) + '"'


def tags_json(tags: dict[str, str]) -> str:
    """Node tags as compact, ASCII-only JSON text as python-rapidjson writes it (the text
    pyrosm gives a node's ``tags``): ``\\u`` escapes in upper-case hex, DEL unescaped."""
    return "{" + ",".join(f"{_json_string(k)}:{_json_string(v)}" for k, v in tags.items()) + "}"


def _graph(
    ways: RoadWays, seg: _Segments, kept: NDArray[np.int64], *, both_ways: bool
) -> nx.MultiDiGraph:
    """The simplified networkx graph of the segments of the ways ``kept``."""
    import networkx as nx
    import shapely

    G = nx.MultiDiGraph(crs="EPSG:4326", simplified=True)
    if len(seg.way) == 0:
        return G
    rows, swapped = _directed(ways, seg, both_ways=both_ways)
    u = np.where(swapped, seg.v[rows], seg.u[rows])
    v = np.where(swapped, seg.u[rows], seg.v[rows])
    differ = []
    for key in DIFFER_TAGS:
        column = np.full(len(ways.tags), None, dtype=object)
        for w in np.unique(seg.way).tolist():
            column[w] = ways.tags[w].get(key)
        differ.append(_codes(column)[seg.way[rows]])
    chains = chain_directed_edges(u, v, differ=differ)
    if chains.count == 0:
        return G
    length = np.bincount(
        chains.chain_of(),
        weights=_haversine_m(seg.start, seg.end)[rows[chains.edges]],
        minlength=chains.count,
    )
    line_of = np.repeat(np.arange(chains.count), np.diff(chains.ptr) + 1)
    lines = shapely.linestrings(seg.xy[chains.nodes], indices=line_of).tolist()
    counts = np.bincount(rows, minlength=len(seg.way))  # osmnx oneway: run one way only
    oneway = chain_flags(counts[rows] == 1, chains)
    reversed_ = chain_flags(swapped, chains)
    cu, cv = seg.nodes[chains.u], seg.nodes[chains.v]
    records = [
        {**record, "geometry": line, "u": a, "v": b, "length": d, "oneway": o, "reversed": r}
        for record, line, a, b, d, o, r in zip(
            _edge_records(ways, kept, seg, rows, chains),
            lines,
            cu.tolist(),
            cv.tolist(),
            length.tolist(),
            oneway,
            reversed_,
            strict=True,
        )
    ]
    keys = pd.DataFrame({"u": chains.u, "v": chains.v}).groupby(["u", "v"], sort=False).cumcount()
    kept_nodes = np.zeros(len(seg.nodes), dtype=bool)
    kept_nodes[chains.u] = kept_nodes[chains.v] = True
    street_count = _street_counts(chains.u, chains.v, len(seg.nodes))[kept_nodes]
    nodes = seg.nodes[kept_nodes]
    node_tags = ways.node_tags(nodes)
    attributes = [
        (node, {"x": x, "y": y, "street_count": count})
        for node, x, y, count in zip(
            nodes.tolist(),
            seg.xy[kept_nodes, 0].tolist(),
            seg.xy[kept_nodes, 1].tolist(),
            street_count.tolist(),
            strict=True,
        )
    ]
    for node, data in attributes:
        tags = node_tags.get(node)
        if tags:
            data["tags"] = tags_json(tags)
    fill_graph(G, attributes, zip(cu.tolist(), cv.tolist(), keys.tolist(), records, strict=True))
    return G


def read_networks(
    path: Path,
    *,
    networks: Iterable[str] = ("walk", "drive"),
    on_step: Callable[[str], None] | None = None,
) -> dict[str, nx.MultiDiGraph]:
    """The road graphs of a PBF file (osmnx-style MultiDiGraphs in EPSG:4326).

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.
    networks
        Names of :data:`NETWORKS` to build.
    on_step
        Called with the label of each stage as it starts (the build's progress).

    Returns
    -------
    dict
        Network name -> graph. Every connected piece is kept: the caller reduces to the
        largest strongly connected component and reports what was dropped.

    Raises
    ------
    AreaBuildError
        The file is not a readable PBF, or a network has no road in it.
    """
    step = on_step or (lambda _text: None)
    wanted = list(networks)
    unknown = [n for n in wanted if n not in NETWORKS]
    if unknown:
        msg = f"Expected networks among {sorted(NETWORKS)}, got {unknown}"
        raise ValueError(msg)
    ways = read_ways(path)
    graphs: dict[str, nx.MultiDiGraph] = {}
    for name in wanted:
        step(f"{name} graph from the roads read (segments, simplification)")
        way_filter, both_ways = NETWORKS[name]
        kept = np.flatnonzero(np.fromiter(map(way_filter.keeps, ways.tags), bool, len(ways.tags)))
        G = _graph(ways, _segments(ways, kept), kept, both_ways=both_ways)
        if count_edges(G) == 0:
            msg = f"Expected roads for the {name} network in {path}, got none"
            raise AreaBuildError(msg)
        graphs[name] = G
    return graphs
