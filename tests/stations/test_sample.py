"""Deterministic sample stations from an Area's real POIs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from routing import Area
from stations import AMENITIES, KINDS, GeoPackageStore
from stations.io import read_stations
from stations.sample import SAMPLE_NOTE, make_sample_stations, write_sample_stations

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def fake_area(hosts: int = 10, offices: int = 0, stops: int = 6) -> Area:
    """An Area-like object with only POI layers (the sample needs nothing else)."""

    def layer(n: int, extra: dict[str, list[object]]) -> gpd.GeoDataFrame:
        data = {
            "osm_type": ["node"] * n,
            "osm_id": [1000 + i for i in range(n)],
            "name": [f"中国银行{i}" if i % 2 else None for i in range(n)],
            **extra,
        }
        geometry = [Point(116.46 + i * 0.001, 39.99 + i * 0.0005) for i in range(n)]
        return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")

    pois = {
        "hosts": layer(
            hosts, {"host_type": ["bank", "supermarket"] * (hosts // 2) + ["fuel"] * (hosts % 2)}
        ),
        "offices": layer(offices, {"office": ["company"] * offices}),
        "bus_stops": layer(stops, {}),
        "residential_areas": gpd.GeoDataFrame(
            geometry=[box(116.46, 39.99, 116.47, 40.0)], crs=4326
        ),
    }
    return SimpleNamespace(name="fake", pois=pois)  # type: ignore[return-value]


def test_deterministic_and_seeded() -> None:
    """The same Area and seed give identical stations; another seed gives others."""
    area = fake_area(hosts=40, offices=20, stops=30)
    first = make_sample_stations(area)
    assert first == make_sample_stations(area)
    assert first != make_sample_stations(area, seed=7)


def test_independent_of_row_order() -> None:
    """Shuffling the POI rows does not change the sample."""
    area = fake_area(hosts=40, offices=20, stops=30)
    shuffled = SimpleNamespace(
        name="fake",
        pois={k: v.sample(frac=1.0, random_state=3) for k, v in area.pois.items()},
    )
    assert make_sample_stations(area) == make_sample_stations(shuffled)  # type: ignore[arg-type]


def test_every_record_is_marked_and_plausible() -> None:
    """Each station is marked sample, sits on a real POI, and has kind-appropriate amenities."""
    area = fake_area(hosts=40, offices=20, stops=30)
    stations = make_sample_stations(area)
    positions = {
        (round(p.x, 7), round(p.y, 7))
        for name in ("hosts", "offices", "bus_stops")
        for p in area.pois[name].geometry
    }
    for s in stations:
        assert s.source == "sample" and s.notes == SAMPLE_NOTE and s.id.startswith("sample-")
        assert (round(s.lon, 7), round(s.lat, 7)) in positions
        assert s.amenities <= set(AMENITIES) and set(s.names) == {"zh", "en", "ja", "ko"}
        if s.kind == "nursing_room":
            assert {"fridge", "steriliser", "sofa", "private_room"} <= s.amenities
        if s.kind == "warm_station":
            assert {"drinking_water", "rest_seats"} <= s.amenities
            assert s.host_type in ("bank", "supermarket", "fuel")
    named = next(s for s in stations if s.kind == "warm_station" and "中国银行" in s.name)
    assert named.name.endswith("暖心驿站")


def test_empty_layers_and_no_offices() -> None:
    """Areas with no offices use spare hosts for nursing rooms; empty layers give none."""
    stations = make_sample_stations(fake_area(hosts=10, offices=0, stops=0))
    kinds = Counter(s.kind for s in stations)
    assert kinds["warm_station"] >= 1 and kinds["nursing_room"] >= 1 and kinds["shuttle_stop"] == 0
    assert make_sample_stations(fake_area(hosts=0, offices=0, stops=0)) == []


def test_helsinki_sample(helsinki_area: Area, tmp_path: Path) -> None:
    """The embedded Helsinki area gets all three kinds, and the file round-trips."""
    stations = make_sample_stations(helsinki_area)
    kinds = Counter(s.kind for s in stations)
    assert all(kinds[k] > 0 for k in KINDS)
    path = tmp_path / "sample.gpkg"
    assert write_sample_stations(helsinki_area, path) == len(stations)
    assert read_stations(path).stations == stations
    with GeoPackageStore(path) as store:
        assert len(store) == len(stations)


@pytest.mark.parametrize(
    "extract", ["beijing_chaoyang_wangjing.osm.bz2", "beijing_haidian_zhongguancun.osm.bz2"]
)
def test_beijing_sample_has_chinese_names(extract: str) -> None:
    """A Beijing extract gives warm stations at its real banks/supermarkets, named in Chinese."""
    from routing import load_area
    from tests.conftest import shared_osm

    area = load_area(str(shared_osm(extract)))
    stations = make_sample_stations(area)
    warm = [s for s in stations if s.kind == "warm_station"]
    assert warm and any(s.name.endswith("暖心驿站") for s in warm)
    assert any(s.kind == "shuttle_stop" for s in stations)


@pytest.mark.slow
def test_liechtenstein_sample() -> None:
    """The regional Liechtenstein extract gives hundreds of sample stations, capped per kind."""
    from routing import load_area
    from tests.conftest import shared_osm

    area = load_area(str(shared_osm("liechtenstein.osm.pbf")))
    stations = make_sample_stations(area, max_per_kind=300)
    kinds = Counter(s.kind for s in stations)
    assert all(0 < kinds[k] <= 300 for k in KINDS)


def test_write_sample_stations_writes_a_file(helsinki_area: Area, tmp_path: Path) -> None:
    """write_sample_stations writes the area's sample to a GeoJSON file that reads back."""
    out = tmp_path / "s.geojson"
    n = write_sample_stations(helsinki_area, out)
    report = read_stations(out)
    assert report.ok and n == len(report.stations) == len(make_sample_stations(helsinki_area))
