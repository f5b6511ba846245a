"""The undeclared-datum check on real OSM places (../shared/osm; skipped when absent).

References are independent of the code under test: POIs are read straight from the OSM XML
files (tests._osm_pois, standard library only), in WGS-84 as mapped; GCJ-02 / BD-09 inputs are
made from them with the forward formulas.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pytest

from routing import Area, load_area
from routing.coords import wgs84_to_bd09, wgs84_to_gcj02
from routing.datum import check_offset
from tests._osm_pois import PLACE_GROUPS, inside, read_osm_pois
from tests.conftest import shared_osm

CHINA_XML = (
    "beijing_chaoyang_wangjing.osm.bz2",
    "beijing_haidian_zhongguancun.osm.bz2",
    "beijing_haidian_cau_east.osm.bz2",
    "shenzhen_longgang.osm.bz2",
    "shanghai_baoshan_shu.osm.bz2",
)
BEIJING = CHINA_XML[:3]


@cache
def _area(name: str) -> Area:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small exports warn about their dropped drive graph
        return load_area(str(shared_osm(name)))


def _places(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Places a station could be hosted in (amenity, shop, office, ... POIs) inside the Area."""
    pois = [p for p in inside(read_osm_pois(shared_osm(name)), _area(name).bounds)]
    chosen = [p for p in pois if p.group in PLACE_GROUPS]
    return np.array([p.lon for p in chosen]), np.array([p.lat for p in chosen])


def _poi_sets(name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every POI layer of the Area and every raw OSM POI group with >= 5 points."""
    area = _area(name)
    sets = {}
    for layer, frame in area.pois.items():
        if len(frame) >= 5:
            pt = frame.geometry.representative_point()
            sets[f"layer {layer}"] = (pt.x.to_numpy(), pt.y.to_numpy())
    pois = inside(read_osm_pois(shared_osm(name)), area.bounds)
    for group in sorted({p.group for p in pois}):
        chosen = [p for p in pois if p.group == group]
        if len(chosen) >= 5:
            sets[f"osm {group}"] = (
                np.array([p.lon for p in chosen]),
                np.array([p.lat for p in chosen]),
            )
    return sets


@pytest.mark.parametrize("name", CHINA_XML)
def test_wgs84_poi_sets_are_never_refused(name: str) -> None:
    """Every real POI set of every Chinese extract, as mapped and undeclared, passes."""
    sets = _poi_sets(name)
    assert sets
    checks = {label: check_offset(*xy, _area(name)) for label, xy in sets.items()}
    assert {label: c.message() for label, c in checks.items() if c.refused} == {}


@pytest.mark.parametrize("name", CHINA_XML)
def test_converted_poi_sets_are_refused_naming_the_system(name: str) -> None:
    """The same sets converted to GCJ-02 and BD-09 are mostly caught, and never misnamed."""
    area = _area(name)
    caught = total = 0
    for lon, lat in _poi_sets(name).values():
        for convert, want in ((wgs84_to_gcj02, "gcj02"), (wgs84_to_bd09, "bd09")):
            check = check_offset(*convert(lon, lat), area)
            if check.likely is None:
                continue
            total += 1
            caught += check.refused
            # caught as the right system (or as close to it), or not caught
            assert check.likely in (want, "wgs84") or want in check.close
    assert caught >= 0.7 * total


@pytest.mark.parametrize(("n", "share"), [(5, 0.6), (8, 0.7), (20, 0.9), (200, 1.0)])
def test_small_undeclared_gcj02_lists_are_refused(n: int, share: float) -> None:
    """Random lists of n real Beijing places in GCJ-02, undeclared, are refused (at least as
    often as stated); the same lists in WGS-84 hardly ever are (a 5-point list can look
    shifted by chance: bench_datum.py measures how often, a few in a thousand)."""
    rng = np.random.default_rng(n)
    refused = false_alarms = tried = 0
    for name in BEIJING:
        lon, lat = _places(name)
        if lon.size < n:
            continue
        for _ in range(10 if n < 200 else 2):
            pick = rng.choice(lon.size, n, replace=False)
            false_alarms += check_offset(lon[pick], lat[pick], _area(name)).refused
            check = check_offset(*wgs84_to_gcj02(lon[pick], lat[pick]), _area(name))
            tried += 1
            refused += check.refused and check.likely == "gcj02"
    assert tried and refused >= share * tried
    assert false_alarms <= 0.05 * tried


def test_verdict_carries_its_evidence_and_the_option_to_use() -> None:
    """A refusal says how far the points are from the streets as given and shifted, and --crs."""
    area = _area(BEIJING[1])
    lon, lat = _places(BEIJING[1])
    check = check_offset(*wgs84_to_gcj02(lon[:40], lat[:40]), area)
    assert check.refused and check.likely == "gcj02" and check.n_points == 40
    d = check.median_distance
    assert d["gcj02"] < d["wgs84"]
    text = check.message()
    assert f"{d['wgs84']:.0f} m as given vs {d['gcj02']:.0f} m read as gcj02" in text
    assert "--crs gcj02" in text and "no --crs given" in text
    problem = check.problem()
    assert problem is not None and problem.row is None and problem.field == "crs"
    assert check.to_dict()["likely"] == "gcj02" and check.to_dict()["refused"] is True


def test_declared_systems_warn_but_are_not_refused() -> None:
    """Declared right: nothing to say. Declared wrong: suspicious (a warning), never refused."""
    area = _area(BEIJING[1])
    lon, lat = _places(BEIJING[1])
    glon, glat = wgs84_to_gcj02(lon[:40], lat[:40])
    assert not check_offset(glon, glat, area, declared="gcj02").suspicious
    wrong = check_offset(glon, glat, area, declared="wgs84")
    assert wrong.suspicious and not wrong.refused and "as declared" in wrong.message()


def test_no_verdict_for_few_points_or_points_elsewhere() -> None:
    """Under five usable points, or points outside China or outside the Area: no verdict."""
    area = _area(BEIJING[1])
    lon, lat = _places(BEIJING[1])
    assert check_offset(lon[:4], lat[:4], area).likely is None
    elsewhere = check_offset([24.94, 24.95, 24.96, 24.97, 24.98], [60.17] * 5, area)
    assert elsewhere.n_points == 0 and not elsewhere.refused
    nan = check_offset([np.nan, 200.0], [39.99, 39.99], area)
    assert nan.n_points == 0
