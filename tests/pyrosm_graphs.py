"""pyrosm's road graphs, the reference of ``routing._pbf_roads`` (which does not use pyrosm).

``pyrosm_graph(path, network)`` is what the builder read before it had its own reader:
``OSM.get_graph(network, graph_type="networkx", retain_all=True, osmnx_compatible=True)``
with pyrosm's bookkeeping attributes dropped. ``pyrosm_network_graph`` is the older
path, ``to_graph(*get_network(nodes=True))``, which ``get_graph`` was verified against.
``assert_same_graph`` holds two graphs equal: node and edge order, edge keys, and every
attribute exactly (lengths bit for bit, geometries coordinate for coordinate, lists
element by element with ``NaN`` equal to ``NaN``).

``xml_as_pbf`` rewrites an OSM XML extract as a PBF with pyosmium, so that pyrosm (which
reads only PBF) can be the reference on the XML extracts of ``../shared/osm`` too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    from pathlib import Path

    import networkx as nx

_PYROSM_NETWORK = {"walk": "walking", "drive": "driving"}
NODE_DROP = frozenset({"visible", "version", "timestamp", "changeset", "geometry"})
EDGE_DROP = frozenset({"visible", "version", "timestamp", "tags"})


def pyrosm_osm(path: Path) -> Any:
    """A ``pyrosm.OSM`` reader of ``path`` (no metadata, no progress bar)."""
    import pyrosm

    return pyrosm.OSM(str(path), keep_metadata=False, progress=False)


def _dropped(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    G.graph["crs"] = "EPSG:4326"
    for _, data in G.nodes(data=True):
        for key in NODE_DROP:
            data.pop(key, None)
    for _, _, data in G.edges(data=True):
        for key in EDGE_DROP:
            data.pop(key, None)
    return G


def pyrosm_graph(path: Path, network: str, *, osm: Any = None) -> nx.MultiDiGraph | None:
    """pyrosm ``get_graph`` of the ``"walk"`` or ``"drive"`` network, or None without roads."""
    osm = osm if osm is not None else pyrosm_osm(path)
    G = osm.get_graph(
        _PYROSM_NETWORK[network], graph_type="networkx", retain_all=True, osmnx_compatible=True
    )
    return None if G is None else _dropped(G)


def pyrosm_network_graph(path: Path, network: str, *, osm: Any = None) -> nx.MultiDiGraph:
    """pyrosm ``to_graph(*get_network(nodes=True))`` of the network."""
    osm = osm if osm is not None else pyrosm_osm(path)
    nodes, edges = osm.get_network(_PYROSM_NETWORK[network], nodes=True)
    G = osm.to_graph(
        nodes, edges, graph_type="networkx", retain_all=True, osmnx_compatible=True, progress=False
    )
    return _dropped(G)


def same_value(a: Any, b: Any) -> bool:
    """Exact equality; ``NaN`` equals ``NaN``; lists element-wise; geometries by coordinates."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, shapely.Geometry) and isinstance(b, shapely.Geometry):
        return a.geom_type == b.geom_type and np.array_equal(
            shapely.get_coordinates(a), shapely.get_coordinates(b)
        )
    if isinstance(a, bool | np.bool_) or isinstance(b, bool | np.bool_):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float | np.number) and isinstance(b, int | float | np.number):
        return bool(a == b)
    return type(a) is type(b) and a == b


def assert_same_graph(G: nx.MultiDiGraph, H: nx.MultiDiGraph) -> None:
    """``G`` equals the reference ``H``: orders, keys and every attribute (see module doc)."""
    assert list(G.nodes) == list(H.nodes), "node order"
    assert list(G.edges(keys=True)) == list(H.edges(keys=True)), "edges, keys or their order"
    for n, want in H.nodes(data=True):
        got = G.nodes[n]
        assert set(got) == set(want), (n, set(got) ^ set(want))
        bad = [k for k in want if not same_value(got[k], want[k])]
        assert not bad, (n, {k: (got[k], want[k]) for k in bad})
    for u, v, k, want in H.edges(keys=True, data=True):
        got = G.edges[u, v, k]
        assert set(got) == set(want), ((u, v, k), set(got) ^ set(want))
        bad = [key for key in want if not same_value(got[key], want[key])]
        assert not bad, ((u, v, k), {key: (got[key], want[key]) for key in bad})


def xml_as_pbf(source: Path, out: Path) -> Path:
    """Rewrite an OSM XML file (``.osm``, ``.osm.bz2``) as a PBF file, object for object."""
    import osmium

    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
    return out
