"""Coverage of street length and demand points, checked against independent references.

The reference is the raw OSM network (``tests/reference.py``: every vertex of every way a
node, great-circle segment lengths, points inserted on their nearest raw segment), searched
with networkx from a super-source joined to every station's point by its straight leg.
Covered street length per budget is then summed segment piece by segment piece from the
two ends' times — nothing of the project's graph, edge table or search is used.
"""

from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pytest

from routing.presets import helsinki_pbf
from stations import Station
from stations.coverage import CoverageModel, StationOffMapWarning, coverage
from tests.conftest import shared_osm
from tests.reference import Reference


def _stations(area, count: int, seed: int, *, kind: str = "warm_station") -> list[Station]:
    """Stations at random points near the walk graph's nodes (some off the streets)."""
    rng = np.random.default_rng(seed)
    arrays = area.arrays("walk")
    pick = rng.choice(arrays.n, size=count, replace=False)
    x = arrays.x[pick] + rng.uniform(-40, 40, count)
    y = arrays.y[pick] + rng.uniform(-40, 40, count)
    lon, lat = area.unproject(x, y)
    return [
        Station(id=f"s{i}", kind=kind, name=f"S{i}", lon=float(lon[i]), lat=float(lat[i]))
        for i in range(count)
    ]


def _reference_streets(ref: Reference, area, stations, minutes, speed) -> list[float]:
    """Covered raw street metres per budget: networkx multi-source search on the raw graph."""
    xs, ys = area.project([s.lon for s in stations], [s.lat for s in stations])
    graph, legs = ref._graph(xs, ys)  # raw segments with the stations inserted as nodes
    n = ref.x.size
    coo = graph.tocoo()
    G = nx.DiGraph()
    # reversed: from stations outwards gives every vertex's walk *to* its nearest station
    edges = zip(coo.col.tolist(), coo.row.tolist(), coo.data.tolist(), strict=True)
    G.add_weighted_edges_from(edges)
    for i, leg in enumerate(legs / speed):
        G.add_edge("super", n + i, weight=float(leg))
    times = nx.single_source_dijkstra_path_length(G, "super", weight="weight")
    out = []
    for minute in minutes:
        budget = minute * 60.0
        covered = 0.0
        for p, q, w in zip(coo.row, coo.col, coo.data, strict=True):
            if p > q:  # walk segments are two-way: each piece once
                continue
            metres = w * speed
            ta, tb = times.get(p, math.inf), times.get(q, math.inf)
            reach = max(0.0, budget - ta) * speed + max(0.0, budget - tb) * speed
            covered += min(metres, reach)
        out.append(covered)
    return out


def _check_against_reference(area, ref: Reference, stations, minutes) -> None:
    speed = area.settings.walk_speed_kmh / 3.6
    result = coverage(area, stations, minutes=minutes)
    expected = _reference_streets(ref, area, stations, minutes, speed)
    total_ref = float(ref.length.sum())
    streets = result.layers["streets"]
    assert streets.total == pytest.approx(total_ref, rel=2e-3)
    for got, want in zip(streets.covered, expected, strict=True):
        assert got == pytest.approx(want, rel=3e-3, abs=5.0)


def test_street_coverage_matches_raw_osm_reference_helsinki(helsinki_area) -> None:
    """Covered street metres per budget equal a networkx search on the raw OSM ways."""
    ref = Reference.from_osm(
        helsinki_pbf(),
        network="walk",
        crs=helsinki_area.crs,
        speed_mps=helsinki_area.settings.walk_speed_kmh / 3.6,
    )
    for seed, count in ((1, 4), (2, 15)):
        stations = _stations(helsinki_area, count, seed)
        _check_against_reference(helsinki_area, ref, stations, (3, 5, 10))


def test_street_coverage_matches_raw_osm_reference_beijing() -> None:
    """The same on a Chinese superblock extract (OSM XML, clipped to its box)."""
    from routing import load_area

    path = shared_osm("beijing_chaoyang_wangjing.osm.bz2")
    area = load_area(str(path))
    ref = Reference.from_osm(
        path, network="walk", crs=area.crs, speed_mps=area.settings.walk_speed_kmh / 3.6
    )
    _check_against_reference(area, ref, _stations(area, 6, 3), (5, 10, 15))


def test_points_walk_their_leg_and_street(helsinki_area) -> None:
    """A demand point's time is its leg plus the walk along streets (reference: raw OSM)."""
    from stations._demand import DemandPoints

    area = helsinki_area
    speed = area.settings.walk_speed_kmh / 3.6
    stations = _stations(area, 5, 7)
    rng = np.random.default_rng(8)
    arrays = area.arrays("walk")
    pick = rng.choice(arrays.n, size=40, replace=False)
    x = arrays.x[pick] + rng.uniform(-60, 60, 40)
    y = arrays.y[pick] + rng.uniform(-60, 60, 40)
    lon, lat = area.unproject(x, y)
    demand = DemandPoints("riders", "weight", [f"p{i}" for i in range(40)], lon, lat, np.ones(40))
    model = CoverageModel(area, stations, minutes=(30,), demand=[demand])
    _, got, _ = model.result().point_times("riders")
    ref = Reference.from_osm(helsinki_pbf(), network="walk", crs=area.crs, speed_mps=speed)
    sx, sy = area.project([s.lon for s in stations], [s.lat for s in stations])
    want = ref.walk_times(np.column_stack([x, y]), np.column_stack([sx, sy])).min(axis=1)
    np.testing.assert_allclose(got, want, rtol=3e-3, atol=1.0)


def test_incremental_add_and_remove_equal_full_recompute(helsinki_area) -> None:
    """Adding or removing a station gives what a fresh coverage gives."""
    area = helsinki_area
    stations = _stations(area, 12, 11)
    demand = ("streets", "homes", "hotspots")
    live = CoverageModel(area, stations[:8], minutes=(5, 10), demand=demand)
    for station in stations[8:]:
        live.add(station)
    for gone in ("s0", "s9", "s3"):
        live.remove(gone)
        rest = [s for s in stations if s.id in live._slot and live._active[live._slot[s.id]]]
        fresh = CoverageModel(area, rest, minutes=(5, 10), demand=demand)
        for name, layer in fresh.result().layers.items():
            np.testing.assert_allclose(
                live.result().layers[name].covered, layer.covered, rtol=1e-9, atol=1e-6
            )
        np.testing.assert_allclose(live.dist, fresh.dist)
    with pytest.raises(ValueError, match="covering station"):
        live.remove("s0")


def test_more_stations_never_cover_less(helsinki_area) -> None:
    """Coverage is monotone in the station set and in the budget."""
    stations = _stations(helsinki_area, 10, 5)
    small = coverage(helsinki_area, stations[:3], minutes=(5, 10, 15)).layers["streets"]
    large = coverage(helsinki_area, stations, minutes=(5, 10, 15)).layers["streets"]
    assert all(a <= b + 1e-6 for a, b in zip(small.covered, large.covered, strict=True))
    assert list(large.covered) == sorted(large.covered)
    assert 0 < large.share[0] < 1


def test_no_station_covers_nothing_and_off_map_is_reported(helsinki_area) -> None:
    """No stations: zero coverage; a station far off the map is left out with a warning."""
    result = coverage(helsinki_area, [], minutes=5, demand=("streets", "homes"))
    assert result.layers["streets"].covered == (0.0,)
    assert result.layers["homes"].covered == (0.0,)
    far = Station(id="far", kind="warm_station", name="Far", lon=25.5, lat=60.5)
    with pytest.warns(StationOffMapWarning, match="far"):
        result = coverage(helsinki_area, [far], minutes=5)
    assert result.off_map == ["far"] and result.stations == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"minutes": 0}, "budget"),
        ({"minutes": (5, -1)}, "budget"),
        ({"minutes": float("nan")}, "budget"),
        ({"minutes": ()}, "at least one"),
        ({"demand": "parks"}, "demand to be one of streets, homes, hotspots"),
        ({"demand": ()}, "at least one demand"),
        ({"kind": "castle"}, "kind to be one of"),
    ],
)
def test_bad_input_is_a_clear_error(helsinki_area, kwargs, match) -> None:
    """Bad budgets, unknown demand layers and kinds raise ValueError naming the problem."""
    with warnings.catch_warnings(), pytest.raises(ValueError, match=match):
        coverage(helsinki_area, [], **kwargs)


def test_hour_table_equals_coverage_at_each_hour(helsinki_area) -> None:
    """Each cell of the 7 x 24 table is the coverage of the stations open then."""
    from datetime import date

    from stations.weekly import coverage_by_hour, parse_week_time

    hours = ["Mo-Fr 08:00-18:00", "24/7", "Sa,Su 10:00-14:00", "Mo-Su 22:00-06:00", None]
    stations = [
        s.replace(opening_hours=hours[i % len(hours)])
        for i, s in enumerate(_stations(helsinki_area, 15, 21))
    ]
    week = date(2026, 1, 5)  # a Monday
    table = coverage_by_hour(helsinki_area, stations, minutes=(5, 10), week=week)
    assert table.distinct_sets < 168
    for text in ("Tu 12:00", "Sa 03:00", "Su 11:00", "We 23:00"):
        at = parse_week_time(text, week=week)
        want = coverage(helsinki_area, stations, minutes=(5, 10), at=at).layers["streets"]
        for b, minute in enumerate((5, 10)):
            got = table.share("streets", minute, at.weekday(), at.hour)
            assert got == pytest.approx(want.share[b], abs=1e-9)
    assert table.open_stations[1, 3] == 6  # Tue 03:00: three 24/7 and three night stations
    with pytest.raises(ValueError, match="time of the week"):
        parse_week_time("Xy 12:00")
