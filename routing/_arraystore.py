"""The on-disk form of a built Area: flat arrays, memory-mapped on load; everything else lazy.

A reload must not pay for what a request does not use. Serving (the locator, isochrones,
paths, coverage, maps) runs on :class:`~routing.network.GraphArrays` and its
:class:`~routing.edges.EdgeTable`, so an entry stores exactly those as ``.npy`` files that
:func:`read_entry` opens with ``numpy.load(mmap_mode="c")``: a load reads a few headers,
the pages come in as queries touch them (copy-on-write: an array changed in memory never
changes the file). The grid index of the streets (``EdgeTable.locate``) is stored too, so
the first query does not rebuild it.

What serving does not need is loaded on first use only:

- POI layers, one pickle per layer (:class:`LazyLayers`);
- the networkx MultiDiGraphs ``area.walk`` / ``area.drive``, rebuilt from the arrays plus
  the remaining edge and node attributes (``highway``, ``name``, ``osmid``, ``speed_kph``,
  ...; one column per file, so ``edge_column(folder, "walk", "highway")`` reads one).

Layout of an entry folder::

    meta.pickle                     name, CRS, bounds, settings, report, source, scalars
    walk.<field>.npy, drive.<...>   arrays (nodes, x, y, ..., edge table, grid index)
    walk.edge.<attr>.npy            other edge attributes, one column each (object arrays
    walk.node.<attr>.npy            pickled inside .npy), in EdgeTable / node order
    pois.<layer>.pickle             POI GeoDataFrames
    basemap.<layer>.pickle          base-map layers (routing.basemap)

Every file is written by warmheart into its own cache folder, found by key (see
:mod:`routing.cache`); nothing here reads a path a user passes in.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from ._segment_index import SegmentIndex
from .edges import EdgeTable
from .network import GraphArrays, fill_graph

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx

    from .area import Area

__all__ = [
    "FORMAT",
    "LazyLayers",
    "attribute_names",
    "edge_column",
    "graph_from_arrays",
    "read_entry",
    "write_arrays",
    "write_columns",
    "write_layers",
    "write_meta",
]

#: Written into every entry's meta; an entry of any other format is stale.
FORMAT = "warmheart-area-arrays/1"

_NODE_FIELDS = ("nodes", "x", "y", "lon", "lat")
_EDGE_FIELDS = ("u", "v", "key", "length", "time", "ptr", "xy", "lonlat", "cum", "twin")
_EDGE_FIELDS_CSR = ("csr", "csr_edge")
_SEGMENT_FIELDS = ("ax", "ay", "bx", "by", "cell_ptr", "cell_seg")
_SEGMENT_SCALARS = ("x0", "y0", "cell", "nx", "ny")
#: Attributes held by the arrays themselves (not stored again as columns).
_EDGE_IN_ARRAYS = {"length", "travel_time", "geometry"}
_NODE_IN_ARRAYS = {"x", "y", "lon", "lat"}


def _save(folder: Path, name: str, array: Any) -> None:
    arr = np.asarray(array)
    np.save(folder / f"{name}.npy", arr, allow_pickle=arr.dtype == object)


def _load(folder: Path, name: str) -> Any:
    path = folder / f"{name}.npy"
    arr = np.load(path, mmap_mode="c", allow_pickle=False)
    return np.asarray(arr)  # an ndarray view on the map (numba and scipy want no subclass)


def attribute_names(G: nx.MultiDiGraph, kind: str) -> list[str]:
    """Edge (or node) attribute names of ``G`` besides those the arrays hold."""
    rows = _edge_dicts(G) if kind == "edge" else G._node.values()
    skip = _EDGE_IN_ARRAYS if kind == "edge" else _NODE_IN_ARRAYS
    names: dict[str, None] = {}
    for data in rows:
        names.update(dict.fromkeys(data))
    return [k for k in names if k not in skip]


def _columns(rows: list[dict[str, Any]], skip: set[str]) -> dict[str, Any]:
    """Attribute dicts as columns (``None`` where a row lacks the attribute), in the order
    the attributes first appear; a column of one number type throughout is stored typed."""
    count = len(rows)
    columns: dict[str, list[Any]] = {}
    for i, data in enumerate(rows):
        for key, value in data.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * count
            column[i] = value
    out: dict[str, Any] = {}
    for key, values in columns.items():
        if key in skip:
            continue
        kinds = set(map(type, values))
        if kinds <= {float} or kinds <= {int} or kinds <= {bool}:
            out[key] = np.asarray(values)
        else:
            out[key] = np.empty(count, dtype=object)
            out[key][:] = values
    return out


def _edge_dicts(G: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """The attribute dicts of every edge, in ``G.edges(keys=True)`` order (read from the
    adjacency itself: no view object per edge)."""
    return [d for nbrs in G._succ.values() for keys in nbrs.values() for d in keys.values()]


def write_arrays(folder: Path, network: str, arrays: GraphArrays) -> dict[str, Any]:
    """Write one network's arrays (with its street index) into ``folder``; their meta info."""
    table = arrays.edges
    for name in _NODE_FIELDS:
        _save(folder, f"{network}.{name}", getattr(arrays, name))
    _save(folder, f"{network}.time_indptr", arrays.time.indptr)
    _save(folder, f"{network}.time_indices", arrays.time.indices)
    _save(folder, f"{network}.time_data", arrays.time.data)
    _save(folder, f"{network}.length_data", arrays.length.data)
    for name in (*_EDGE_FIELDS, *_EDGE_FIELDS_CSR):
        _save(folder, f"{network}.edge_{name}", getattr(table, name))
    index, owner, first = table._index
    for name in _SEGMENT_FIELDS:
        _save(folder, f"{network}.seg_{name}", getattr(index, name))
    _save(folder, f"{network}.seg_owner", owner)
    _save(folder, f"{network}.seg_first", first)
    return {"segments": {name: getattr(index, name) for name in _SEGMENT_SCALARS}}


def write_columns(folder: Path, network: str, G: nx.MultiDiGraph) -> dict[str, Any]:
    """Write the edge and node attributes of ``G`` the arrays do not hold, one column per
    file in the graph's (= the arrays') order, into ``folder``; their meta info.

    A build writes these, then drops the graph before making the arrays, so a network's
    graph and its arrays' temporaries are never in memory together.
    """
    info: dict[str, Any] = {"graph": {k: v for k, v in G.graph.items() if k != "crs"}}
    for kind, rows, skip in (
        ("edge", _edge_dicts(G), _EDGE_IN_ARRAYS),
        ("node", list(G._node.values()), _NODE_IN_ARRAYS),
    ):
        columns = _columns(rows, skip)
        del rows
        info[f"{kind}_columns"] = names = list(columns)
        for column in names:
            _save(folder, f"{network}.{kind}.{column}", columns.pop(column))
    return info


def write_layers(folder: Path, prefix: str, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Write POI (``prefix="pois"``) or base-map layers into ``folder``, one pickle each."""
    for layer, frame in layers.items():
        with (folder / f"{prefix}.{layer}.pickle").open("wb") as fh:
            pickle.dump(frame, fh, protocol=pickle.HIGHEST_PROTOCOL)


def write_meta(folder: Path, area: Mapping[str, Any]) -> None:
    """Write the entry's meta (the last file: an entry without it is not one).

    ``area`` holds ``name``, ``crs``, ``bounds``, ``settings``, ``report``, ``source``,
    ``layers`` and ``basemap`` (layer names) and ``networks`` (network name to the infos
    :func:`write_arrays` and :func:`write_columns` returned).
    """
    meta = {"format": FORMAT, **area, "bounds": tuple(area["bounds"])}
    with (folder / "meta.pickle").open("wb") as fh:
        pickle.dump(meta, fh, protocol=pickle.HIGHEST_PROTOCOL)


def read_meta(folder: Path) -> dict[str, Any]:
    """The entry's meta; ``TypeError`` when the folder holds another format."""
    with (folder / "meta.pickle").open("rb") as fh:
        # Safe: a file warmheart wrote into its own cache folder (routing.cache docstring).
        meta = pickle.load(fh)  # noqa: S301
    if not (isinstance(meta, dict) and meta.get("format") == FORMAT):
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        msg = f"Expected a {FORMAT} entry, got {found!r}"
        raise TypeError(msg)
    return meta


def read_arrays(folder: Path, network: str, info: dict[str, Any]) -> GraphArrays:
    """The memory-mapped :class:`GraphArrays` of ``network`` (no copy of the big arrays)."""
    p = network

    def load(name: str) -> Any:
        return _load(folder, f"{p}.{name}")

    nodes = {name: load(name) for name in _NODE_FIELDS}
    n = int(nodes["nodes"].shape[0])
    indptr, indices = load("time_indptr"), load("time_indices")
    time = sparse.csr_matrix((load("time_data"), indices, indptr), shape=(n, n))
    length = sparse.csr_matrix((load("length_data"), indices, indptr), shape=(n, n))
    time.has_sorted_indices = True
    length.has_sorted_indices = True
    edge = {name: load(f"edge_{name}") for name in (*_EDGE_FIELDS, *_EDGE_FIELDS_CSR)}
    table = EdgeTable(**edge)
    segments = SegmentIndex(
        **{name: load(f"seg_{name}") for name in _SEGMENT_FIELDS},
        **info["segments"],
    )
    table.__dict__["_index"] = (segments, load("seg_owner"), load("seg_first"))
    return GraphArrays(
        nodes["nodes"], nodes["x"], nodes["y"], nodes["lon"], nodes["lat"], time, length, table
    )


def read_column(folder: Path, network: str, kind: str, column: str) -> Any:
    """One stored attribute column (``kind`` ``"edge"`` or ``"node"``), in array order."""
    path = folder / f"{network}.{kind}.{column}.npy"
    # Safe: object columns are pickles warmheart wrote into its own cache folder.
    return np.load(path, allow_pickle=True)


def edge_column(folder: Path, network: str, column: str) -> Any:
    """One stored edge attribute column (``highway``, ``name``, ...), in EdgeTable order."""
    return read_column(folder, network, "edge", column)


def graph_from_arrays(
    arrays: GraphArrays,
    *,
    crs: str,
    graph: dict[str, Any],
    edge_columns: Mapping[str, Any],
    node_columns: Mapping[str, Any],
) -> nx.MultiDiGraph:
    """The osmnx-style MultiDiGraph the arrays were made from.

    Nodes and edges come in the order of the arrays (so iterating the graph gives the
    EdgeTable's order back); ``length``, ``travel_time``, node ``x``/``y``/``lon``/``lat``
    and edge ``geometry`` (from the EdgeTable: oriented from ``u``, set on edges with
    interior points) come from the arrays, every other attribute from its column.
    """
    import networkx as nx
    import shapely

    G = nx.MultiDiGraph(**graph, crs=crs)
    ids = arrays.nodes.tolist()
    x, y = arrays.x.tolist(), arrays.y.tolist()
    lon, lat = arrays.lon.tolist(), arrays.lat.tolist()
    ncols = [(k, v.tolist()) for k, v in node_columns.items()]

    def node_rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for i, node in enumerate(ids):
            data: dict[str, Any] = {"x": x[i], "y": y[i], "lon": lon[i], "lat": lat[i]}
            for k, values in ncols:
                if values[i] is not None:
                    data[k] = values[i]
            yield node, data

    table = arrays.edges
    counts = np.diff(table.ptr)
    curved = np.flatnonzero(counts > 2)
    geometry: list[Any] = [None] * table.m
    if curved.size:
        from .edges import _ranges

        take = _ranges(table.ptr[curved], counts[curved])
        owner = np.repeat(np.arange(curved.size), counts[curved])
        for e, line in zip(
            curved.tolist(), shapely.linestrings(table.xy[take], indices=owner), strict=True
        ):
            geometry[e] = line
    u, v, key = table.u.tolist(), table.v.tolist(), table.key.tolist()
    length, time = table.length.tolist(), table.time.tolist()

    def edge_rows() -> Iterator[tuple[int, int, int, dict[str, Any]]]:
        # one column at a time as Python objects, a block of edges at a time: the graph's
        # dicts are the only full-size copy (networkx's add_edges_from would copy each)
        for start in range(0, table.m, _EDGE_BLOCK):
            stop = min(start + _EDGE_BLOCK, table.m)
            block = [(k, c[start:stop].tolist()) for k, c in edge_columns.items()]
            for e in range(start, stop):
                data = {"length": length[e], "travel_time": time[e]}
                for k, values in block:
                    value = values[e - start]
                    if value is not None:
                        data[k] = value
                if geometry[e] is not None:
                    data["geometry"] = geometry[e]
                yield ids[u[e]], ids[v[e]], key[e], data

    fill_graph(G, node_rows(), edge_rows())
    return G


#: Edges whose column values are made Python objects at once by :func:`graph_from_arrays`.
_EDGE_BLOCK = 65_536


class LazyLayers(Mapping[str, "gpd.GeoDataFrame"]):
    """POI (or base-map) layers of an entry, each read from its file on first access."""

    def __init__(self, folder: Path, names: list[str], prefix: str = "pois") -> None:
        self._folder = folder
        self._prefix = prefix
        self._names = list(names)
        self._loaded: dict[str, gpd.GeoDataFrame] = {}

    def __getitem__(self, layer: str) -> gpd.GeoDataFrame:
        if layer not in self._names:
            raise KeyError(layer)
        frame = self._loaded.get(layer)
        if frame is None:
            with (self._folder / f"{self._prefix}.{layer}.pickle").open("rb") as fh:
                # Safe: written by warmheart into its own cache folder (routing.cache).
                frame = self._loaded[layer] = pickle.load(fh)  # noqa: S301
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"LazyLayers({self._names!r}, loaded={sorted(self._loaded)!r})"


def read_entry(folder: Path) -> Area:
    """The Area stored in ``folder``: arrays mapped, graphs and layers left for first use."""
    from .area import Area

    meta = read_meta(folder)
    networks = meta["networks"]
    arrays = {network: read_arrays(folder, network, networks[network]) for network in networks}
    return Area(
        name=meta["name"],
        crs=meta["crs"],
        pois=LazyLayers(folder, meta["layers"]),
        bounds=tuple(meta["bounds"]),
        settings=meta["settings"],
        report=meta["report"],
        source=meta["source"],
        basemap=LazyLayers(folder, meta["basemap"], "basemap"),
        arrays=arrays,
        stored=(folder, networks),
    )
