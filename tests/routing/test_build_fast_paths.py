"""The build's fast paths give what the networkx / pandas paths they replace gave.

``count_edges`` is ``G.number_of_edges()``; ``_largest_scc`` keeps the component networkx's
``strongly_connected_components`` picks (the first of the largest, ties included), with the
same nodes and edges in the same order; the garbage collector is paused for a build and
restored after. References:
networkx itself, on random multigraphs and on the walk and drive
graphs of real extracts.
"""

from __future__ import annotations

import gc
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from routing import build
from routing._errors import AreaBuildError
from routing._pbf_roads import read_networks
from routing._prepare import _largest_scc
from routing.network import count_edges
from routing.presets import helsinki_pbf
from tests.conftest import SHARED_OSM


def _random_multigraph(seed: int, n: int = 60, m: int = 150) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph()
    G.add_nodes_from(int(v) for v in rng.permutation(n) * 7 + 3)  # ids not 0..n-1, shuffled
    ids = list(G)
    for _ in range(m):  # parallel edges and self-loops happen
        u, v = rng.integers(0, n, 2)
        G.add_edge(ids[u], ids[v], length=float(rng.random()))
    return G


def _networkx_scc(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    components = list(nx.strongly_connected_components(G))
    largest = max(components, key=len)
    H = G.copy()
    H.remove_nodes_from([n for n in G if n not in largest])
    return H


@pytest.mark.parametrize("seed", range(12))
def test_count_edges_is_number_of_edges(seed: int) -> None:
    """Parallel edges and self-loops counted as networkx counts them."""
    G = _random_multigraph(seed)
    assert count_edges(G) == G.number_of_edges()
    assert count_edges(nx.MultiDiGraph()) == 0


@pytest.mark.parametrize("seed", range(12))
def test_largest_scc_is_networkx_choice(seed: int) -> None:
    """Same nodes and edges, in the same order, and the same report."""
    G = _random_multigraph(seed, m=90 + 10 * seed)
    want = _networkx_scc(G)
    n0, m0 = G.number_of_nodes(), G.number_of_edges()
    components = nx.number_strongly_connected_components(G)
    got, report = _largest_scc(G)
    assert list(got.nodes) == list(want.nodes)
    assert list(got.edges(keys=True)) == list(want.edges(keys=True))
    assert report == {
        "components": components,
        "dropped_nodes": n0 - want.number_of_nodes(),
        "dropped_edges": m0 - want.number_of_edges(),
    }


def test_largest_scc_tie_keeps_networkx_first() -> None:
    """Two cycles of the same size: the one networkx finds first is kept."""
    G = nx.MultiDiGraph()
    nx.add_cycle(G, [10, 11, 12])
    nx.add_cycle(G, [20, 21, 22])
    G.add_edge(12, 20)  # one way between them: still two components
    want = _networkx_scc(G)
    got, report = _largest_scc(G)
    assert list(got.nodes) == list(want.nodes)
    assert report["components"] == 2


def _sources() -> list[Path]:
    found = [helsinki_pbf()]
    for name in ("hsinchu_nctu.osm.pbf", "liechtenstein.osm.pbf"):
        if (SHARED_OSM / name).is_file():
            found.append(SHARED_OSM / name)
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
@pytest.mark.parametrize("network", ["walk", "drive"])
def test_largest_scc_on_real_roads(path: Path, network: str) -> None:
    """On the walk and drive graphs of real extracts: networkx's component."""
    G = read_networks(path, networks=[network])[network]
    want = _networkx_scc(G)
    got, _ = _largest_scc(G)
    assert list(got.nodes) == list(want.nodes)
    assert list(got.edges(keys=True)) == list(want.edges(keys=True))


def test_gc_is_paused_during_a_build_and_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector is off while the build runs and back on after, also after an error."""
    seen: list[bool] = []

    def failing_read(*_args: object, **_kwargs: object) -> None:
        seen.append(gc.isenabled())
        raise AreaBuildError("Expected a readable OSM PBF file, got a test failure")

    monkeypatch.setenv("WARMHEART_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(build, "_read_source", failing_read)
    source = tmp_path / "x.osm.pbf"
    source.write_bytes(b"not a pbf")
    assert gc.isenabled()
    with pytest.raises(AreaBuildError):
        build.build_area(source)
    assert seen == [False]
    assert gc.isenabled()
