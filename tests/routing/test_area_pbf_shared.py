"""Areas from the real PBF extracts in ../shared/osm (Liechtenstein, Hsinchu)."""

from __future__ import annotations

import networkx as nx
import pytest

from routing import Area, load_area
from tests.conftest import shared_osm


@pytest.fixture(scope="module")
def liechtenstein() -> Area:
    """The whole of Liechtenstein (regional scale), through the session cache."""
    return load_area(shared_osm("liechtenstein.osm.pbf"))


@pytest.mark.slow
def test_liechtenstein_graphs(liechtenstein: Area) -> None:
    """Regional graphs are large, strongly connected and fully weighted."""
    assert liechtenstein.crs == "EPSG:32632"
    assert liechtenstein.walk.number_of_nodes() > 5000
    assert liechtenstein.drive.number_of_nodes() > 1000
    for G in (liechtenstein.walk, liechtenstein.drive):
        assert nx.is_strongly_connected(G)
        times = [d["travel_time"] for _, _, d in G.edges(data=True) if d["length"] > 0]
        assert min(times) > 0
    min_lon, min_lat, max_lon, max_lat = liechtenstein.bounds
    assert 9.4 < min_lon < max_lon < 9.7 and 47.0 < min_lat < max_lat < 47.3


@pytest.mark.slow
def test_liechtenstein_pois(liechtenstein: Area) -> None:
    """POI layers match the extract's known contents (shared/osm/README.md)."""
    pois = liechtenstein.pois
    assert len(pois["bus_stops"]) > 300
    assert len(pois["residential_areas"]) > 250
    assert len(pois["residential_buildings"]) > 1000
    assert {"bank", "fuel", "supermarket"} <= set(pois["hosts"]["host_type"])


@pytest.mark.slow
def test_liechtenstein_drive_times_plausible(liechtenstein: Area) -> None:
    """Bus speeds stay between 5 and 130 km/h x bus factor on every drive edge."""
    factor = liechtenstein.settings.bus_factor
    speeds = [d["speed_kph"] for _, _, d in liechtenstein.drive.edges(data=True)]
    assert min(speeds) >= 5 * factor
    assert max(speeds) <= 130 * factor


def test_hsinchu_pbf_chinese_names() -> None:
    """A Taiwanese PBF keeps Chinese names in its POI layers."""
    area = load_area(shared_osm("hsinchu_nctu.osm.pbf"))
    hosts = area.pois["hosts"]
    assert "bank" in set(hosts["host_type"])
    names = [n for n in area.pois["bus_stops"]["name"].dropna()]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)
    assert nx.is_strongly_connected(area.walk)
