"""Areas from OSM XML: the hand-made tiny fixture and the Wangjing (Beijing) export."""

from __future__ import annotations

import networkx as nx
import pytest

from routing import Area, AreaSettings, build_area
from routing._osm_xml import way_in_network
from tests.conftest import TEST_DATA, shared_osm

TINY = TEST_DATA / "tiny_beijing.osm"


@pytest.fixture(scope="module")
def tiny_area() -> Area:
    """The tiny fixture built without touching the cache."""
    return build_area(TINY, cache_result=False)


def _highways(G: nx.MultiDiGraph) -> set[str]:
    found: set[str] = set()
    for _, _, d in G.edges(data=True):
        h = d.get("highway")
        found.update(h if isinstance(h, list) else [h])
    return found


def test_tiny_non_highway_ways_are_not_edges(tiny_area: Area) -> None:
    """Land-use and building ways never become graph edges (osmnx #1270)."""
    for G in (tiny_area.walk, tiny_area.drive):
        assert None not in _highways(G)
        for _, _, d in G.edges(data=True):
            assert "landuse" not in d and "building" not in d
        assert not {30, 31, 32, 33, 34, 35, 36, 37} & set(G.nodes)


def test_tiny_network_filters(tiny_area: Area) -> None:
    """Walk excludes the motorway; drive excludes the footway."""
    assert "motorway" not in _highways(tiny_area.walk)
    assert "footway" in _highways(tiny_area.walk)
    assert "motorway" in _highways(tiny_area.drive)
    assert "footway" not in _highways(tiny_area.drive)
    assert 7 not in tiny_area.drive.nodes
    names = {str(d.get("name")) for _, _, d in tiny_area.drive.edges(data=True)}
    assert "长安街" in names  # street names keep their script too


def test_tiny_clipped_to_export_box(tiny_area: Area) -> None:
    """Nodes of the way that leaves the export box are cut off."""
    for G in (tiny_area.walk, tiny_area.drive):
        assert not {8, 9} & set(G.nodes)
    min_lon, min_lat, max_lon, max_lat = tiny_area.bounds
    assert min_lon >= 116.4 and max_lon <= 116.41 and min_lat >= 39.9 and max_lat <= 39.91


def test_tiny_island_dropped_and_reported(tiny_area: Area) -> None:
    """The disconnected island is dropped and counted in the report."""
    for network in ("walk", "drive"):
        G = getattr(tiny_area, network)
        assert not {20, 21} & set(G.nodes)
        assert nx.is_strongly_connected(G)
        assert tiny_area.report[network]["dropped_nodes"] == 2
        assert tiny_area.report[network]["components"] == 2


def test_tiny_oneway_respected_in_drive_only(tiny_area: Area) -> None:
    """The one-way motorway 1->3 has no reverse edge; walking ignores one-way tags."""
    assert tiny_area.drive.has_edge(1, 3)
    assert not any(d.get("highway") == "motorway" for d in tiny_area.drive[3].get(1, {}).values())
    for u, v in tiny_area.walk.edges():
        assert tiny_area.walk.has_edge(v, u)


def test_tiny_maxspeed_parsing_and_fallback(tiny_area: Area) -> None:
    """Speeds come from maxspeed ('100|80' -> 90, 'CN:urban' -> 50); absurd ones fall back."""
    cars = {}
    for _, _, d in tiny_area.drive.edges(data=True):
        cars[str(d["highway"])] = d["car_speed_kph"]
    assert cars["primary"] == 60
    assert cars["motorway"] == 90
    assert cars["tertiary"] == 50
    assert cars["residential"] == AreaSettings().speed_for_highway("residential")
    assert tiny_area.report["drive"]["maxspeed_unparsed_values"] == {"9999": 4}


def test_tiny_poi_layers_keep_chinese_names(tiny_area: Area) -> None:
    """POI layers hold the fixture's POIs with names in their original script."""
    pois = tiny_area.pois
    hosts = pois["hosts"].set_index("osm_id")
    assert dict(hosts["host_type"]) == {40: "bank", 42: "supermarket", 45: "estate_agent"}
    assert hosts.loc[40, "name"] == "中国银行"
    assert hosts.loc[40, "name_en"] == "Bank of China"
    assert hosts.loc[40, "opening_hours"] == "Mo-Fr 09:00-17:00"
    stop = pois["bus_stops"].iloc[0]
    assert (stop["name"], stop["name_zh"], stop["name_ja"], stop["name_ko"]) == (
        "天安门东",
        "天安门东",
        "天安門東",
        "톈안먼 동",
    )
    # a stop_position 24 m from the mapped stop is the same stop; one 300 m away is a stop
    assert dict(zip(pois["bus_stops"]["osm_id"], pois["bus_stops"]["stop_kind"], strict=True)) == {
        41: "bus_stop",
        47: "stop_position",
    }
    assert list(pois["residential_areas"]["name"]) == ["幸福小区"]
    assert list(pois["residential_buildings"]["name"]) == ["幸福小区1号楼"]
    assert list(pois["offices"]["name"]) == ["暖心科技有限公司"]
    # the fuel station outside the export box is clipped away
    assert "fuel" not in set(hosts["host_type"])


def test_tiny_unclipped_keeps_outside_parts() -> None:
    """With clip_to_bounds off, the out-of-box road and fuel station stay."""
    area = build_area(TINY, settings=AreaSettings(clip_to_bounds=False), cache_result=False)
    assert "fuel" in set(area.pois["hosts"]["host_type"])
    assert area.bounds[2] > 116.41


@pytest.mark.parametrize(
    ("tags", "walk", "drive"),
    [
        ({"highway": "residential"}, True, True),
        ({"highway": "footway"}, True, False),
        ({"highway": "steps"}, True, False),
        ({"highway": "motorway_link"}, False, True),
        ({"highway": "service", "service": "parking_aisle"}, True, False),
        ({"highway": "residential", "access": "private"}, False, False),
        ({"highway": "primary", "foot": "no"}, False, True),
        ({"highway": "residential", "area": "yes"}, False, False),
        ({"landuse": "residential"}, False, False),
        ({"building": "yes", "name": "路"}, False, False),
    ],
)
def test_way_filters_follow_osmnx(tags: dict[str, str], walk: bool, drive: bool) -> None:
    """Way selection per network type matches osmnx's Overpass filters."""
    assert way_in_network(tags, "walk") is walk
    assert way_in_network(tags, "drive") is drive


def test_way_filter_unknown_network() -> None:
    """An unknown network type is a clear error."""
    with pytest.raises(ValueError, match="Expected network type 'walk' or 'drive', got 'bike'"):
        way_in_network({"highway": "residential"}, "bike")


def test_wangjing_chinese_names_survive() -> None:
    """The Wangjing export builds; POI layers carry Chinese names; graphs are routable."""
    path = shared_osm("beijing_chaoyang_wangjing.osm.bz2")
    area = build_area(path, cache_result=False)
    assert area.crs == "EPSG:32650"
    assert area.drive.number_of_nodes() > 100
    for G in (area.walk, area.drive):
        assert nx.is_strongly_connected(G)
        assert all(d["travel_time"] > 0 for _, _, d in G.edges(data=True) if d["length"] > 0)
    hosts = area.pois["hosts"]
    assert {"bank", "supermarket", "fuel"} <= set(hosts["host_type"])
    names = set(hosts["name"].dropna())
    assert any("银行" in n for n in names)
    assert len(area.pois["bus_stops"]) >= 10
    assert any(
        any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in area.pois["bus_stops"]["name"].dropna()
    )
    assert len(area.pois["residential_areas"]) > 0
    min_lon, min_lat, max_lon, max_lat = area.bounds
    assert min_lon >= 116.4595 and max_lon <= 116.4817
    assert min_lat >= 39.9867 and max_lat <= 40.0041


def test_mostly_dropped_graph_warns() -> None:
    """A drive graph mostly lost to the SCC reduction gives an AreaWarning, not silence."""
    from routing import AreaWarning

    path = shared_osm("beijing_haidian_cau_east.osm.bz2")
    with pytest.warns(AreaWarning, match=r"The drive graph kept \d+ of \d+ nodes"):
        area = build_area(path, cache_result=False)
    assert area.report["drive"]["dropped_nodes"] > area.report["drive"]["nodes"]
