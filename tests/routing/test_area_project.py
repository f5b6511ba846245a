"""In-place graph projection agrees with osmnx ``project_graph``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import osmnx as ox
import pytest

from routing._osm_xml import _graph, parse_osm_xml
from routing._project import project_graph_in_place, utm_crs_for
from tests.conftest import TEST_DATA


def test_projection_matches_osmnx() -> None:
    """Same UTM zone, node x/y and edge geometries as osmnx, plus lon/lat kept."""
    data = parse_osm_xml(TEST_DATA / "tiny_beijing.osm")
    with tempfile.TemporaryDirectory() as tmp:
        G = _graph(data, "drive", Path(tmp), clip=True)
    expected = ox.projection.project_graph(G.copy())
    raw = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    crs = project_graph_in_place(G)
    assert crs == f"EPSG:{expected.graph['crs'].to_epsg()}" == "EPSG:32650"
    for n, d in G.nodes(data=True):
        assert (d["lon"], d["lat"]) == raw[n]
        assert d["x"] == pytest.approx(expected.nodes[n]["x"], abs=1e-6)
        assert d["y"] == pytest.approx(expected.nodes[n]["y"], abs=1e-6)
    for u, v, k, d in G.edges(keys=True, data=True):
        if "geometry" in d:
            other = expected.edges[u, v, k]["geometry"]
            np.testing.assert_allclose(np.asarray(d["geometry"].coords), np.asarray(other.coords))


@pytest.mark.parametrize(
    ("lon", "lat", "crs"),
    [
        (24.94, 60.17, "EPSG:32635"),  # Helsinki
        (121.5, 38.9, "EPSG:32651"),  # Dalian
        (116.47, 39.99, "EPSG:32650"),  # Beijing
        (151.2, -33.87, "EPSG:32756"),  # Sydney, southern hemisphere
    ],
)
def test_utm_zone_choice(lon: float, lat: float, crs: str) -> None:
    """The UTM zone is that of the centre of the points."""
    assert utm_crs_for(np.array([lon - 0.01, lon + 0.01]), np.array([lat, lat + 0.01])) == crs
