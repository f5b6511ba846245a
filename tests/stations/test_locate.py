"""The walking-time station locator against brute-force Dijkstra on the Helsinki sample."""

from __future__ import annotations

import math
import warnings
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from routing import CoordinateError, insert_points, load_area
from stations import AMENITIES, KINDS, MemoryStore, Station
from stations import locate as locate_module
from stations.locate import (
    Locator,
    StationOffMapWarning,
    nearest_stations,
    nearest_stations_batch,
)
from tests.conftest import shared_osm

if TYPE_CHECKING:
    from routing import Area

HOURS = (None, "24/7", "Mo-Fr 08:00-18:00", "Mo-Su 22:00-06:00", "Sa,Su 10:00-16:00")
FIXTURES = HealthCheck.function_scoped_fixture
SPEED = 4.5 / 3.6  # the sample Area's walking speed (AreaSettings default), m/s


def make_stations(area: Area, n: int, seed: int, *, prefix: str = "s") -> list[Station]:
    """``n`` stations near random walk nodes, with mixed kinds, amenities and hours."""
    rng = np.random.default_rng(seed)
    arrays = area.arrays("walk")
    nodes = rng.choice(arrays.n, n, replace=False)
    out = []
    for i, j in enumerate(nodes.tolist()):
        out.append(
            Station(
                id=f"{prefix}{i}",
                kind=KINDS[i % 3],
                name=f"Station {i}",
                lon=float(arrays.lon[j] + rng.normal(0, 2e-4)),
                lat=float(arrays.lat[j] + rng.normal(0, 1e-4)),
                amenities=frozenset(rng.choice(AMENITIES[:9], 3, replace=False).tolist()),
                opening_hours=HOURS[i % len(HOURS)],
                access="public" if i % 4 else "employees",
            )
        )
    return out


def brute_force(
    area: Area,
    stations: list[Station],
    lon: float,
    lat: float,
    *,
    keep: list[bool] | None = None,
) -> np.ndarray:
    """Sorted walking times (s) to every kept station by one full scipy Dijkstra.

    The origin and every station are inserted on their walk edges (``insert_points``,
    itself checked against networkx in ``tests/routing/test_edges.py``); times are leg +
    network + leg.
    """
    arrays = area.arrays("walk")
    spots = area.locate(
        np.r_[lon, [s.lon for s in stations]], np.r_[lat, [s.lat for s in stations]]
    )
    if not spots.ok[0]:
        return np.array([])
    time, _, index = insert_points(arrays, spots)
    dist = dijkstra(time, indices=int(index[0]))
    legs = spots.distance / SPEED
    times = legs[0] + np.where(index[1:] >= 0, dist[index[1:]], np.inf) + legs[1:]
    mask = spots.ok[1:] & (np.ones(len(stations), bool) if keep is None else np.asarray(keep))
    return np.sort(times[mask])


@pytest.fixture(scope="module")
def stations(helsinki_area: Area) -> list[Station]:
    return make_stations(helsinki_area, 60, seed=1)


@pytest.fixture(scope="module")
def locator(helsinki_area: Area, stations: list[Station]) -> Locator:
    return Locator(helsinki_area, stations, labels_per_node=6)


def _origin(area: Area, fx: float, fy: float) -> tuple[float, float]:
    lo0, la0, lo1, la1 = area.bounds
    return lo0 + fx * (lo1 - lo0), la0 + fy * (la1 - la0)


unit = st.floats(min_value=-0.05, max_value=1.05, allow_nan=False)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fx=unit,
    fy=unit,
    k=st.integers(1, 8),
    kind=st.sampled_from([None, *KINDS]),
    amenities=st.lists(st.sampled_from(AMENITIES[:9]), max_size=2, unique=True),
)
def test_nearest_agrees_with_brute_force(
    helsinki_area: Area,
    stations: list[Station],
    locator: Locator,
    fx: float,
    fy: float,
    k: int,
    kind: str | None,
    amenities: list[str],
) -> None:
    """The k walking times equal the k smallest of a full Dijkstra, for any origin and filter."""
    lon, lat = _origin(helsinki_area, fx, fy)
    result = locator.nearest(lon, lat, k=k, kind=kind, amenities=amenities, with_paths=False)
    keep = [(kind is None or s.kind == kind) and set(amenities) <= s.amenities for s in stations]
    expected = brute_force(helsinki_area, stations, lon, lat, keep=keep)[:k]
    got = np.array([h.time_s for h in result])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=0.05)
    assert all(h.station.kind == kind for h in result if kind)
    assert all(set(amenities) <= h.station.amenities for h in result)
    if not result:
        assert result.reason


def test_nearest_agrees_with_the_raw_osm_reference(
    helsinki_area: Area, stations: list[Station]
) -> None:
    """Times, order and distances match the independent raw-OSM reference (tests/reference)."""
    from routing.presets import helsinki_pbf
    from tests.reference import Reference

    ref = Reference.from_osm(helsinki_pbf(), network="walk", crs=helsinki_area.crs, speed_mps=SPEED)
    locator = Locator(helsinki_area, stations)
    rng = np.random.default_rng(7)
    lo0, la0, lo1, la1 = helsinki_area.bounds
    lon, lat = rng.uniform(lo0, lo1, 12), rng.uniform(la0, la1, 12)
    ox, oy = helsinki_area.project(lon, lat)
    sx, sy = helsinki_area.project([s.lon for s in stations], [s.lat for s in stations])
    expected = ref.walk_times(np.column_stack([ox, oy]), np.column_stack([sx, sy]))
    for i in range(lon.size):
        result = locator.nearest(lon[i], lat[i], k=3)
        order = np.argsort(expected[i])[:3]
        got = [h.time_s for h in result]
        np.testing.assert_allclose(got, expected[i, order], rtol=1e-3, atol=0.05)
        ranked = [h.station.id for h in result]
        clear = np.diff(expected[i, order]) > 0.5  # no near-tie between neighbours
        for j in np.flatnonzero(clear):
            assert ranked[j] == stations[int(order[j])].id
        for hit in result:
            # constant walking speed: the fastest walk is also the shortest
            assert hit.distance_m == pytest.approx(hit.time_s * SPEED, rel=1e-6)


def test_results_sorted_with_paths_from_projection_to_projection(
    helsinki_area: Area, locator: Locator
) -> None:
    """Hits come nearest first; each path runs from the origin's projection on its street to
    the station's, and is as long as the reported walk less the two straight legs."""
    lon, lat = _origin(helsinki_area, 0.4, 0.6)
    result = locator.nearest(lon, lat, k=5)
    times = [h.time_s for h in result]
    assert len(result) == 5 and times == sorted(times)
    start = helsinki_area.locate(lon, lat)
    for hit in result:
        coords = np.asarray(hit.geometry.coords)
        assert coords[0] == pytest.approx([start.lon[0], start.lat[0]], abs=1e-7)
        end = helsinki_area.locate(hit.station.lon, hit.station.lat)
        assert coords[-1] == pytest.approx([end.lon[0], end.lat[0]], abs=1e-7)
        x, y = helsinki_area.project(coords[:, 0], coords[:, 1])
        drawn = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
        network = hit.distance_m - start.distance[0] - end.distance[0]
        assert drawn == pytest.approx(network, rel=0.01)
        assert hit.time_s * SPEED == pytest.approx(hit.distance_m, rel=1e-4)


@pytest.mark.parametrize("amenities", [(), ("toilet",)])
def test_batch_equals_single_queries(
    helsinki_area: Area, locator: Locator, amenities: tuple[str, ...]
) -> None:
    """The vectorised batch gives the same stations and times as one query per origin."""
    rng = np.random.default_rng(3)
    lo0, la0, lo1, la1 = helsinki_area.bounds
    lon = rng.uniform(lo0 - 0.01, lo1 + 0.01, 80)
    lat = rng.uniform(la0 - 0.005, la1 + 0.005, 80)
    batch = locator.nearest_batch(lon, lat, k=4, amenities=amenities)
    assert len(batch) == 80
    for i in range(80):
        single = locator.nearest(lon[i], lat[i], k=4, amenities=amenities, with_paths=False)
        got = batch.result(i)
        assert got.reason == single.reason
        np.testing.assert_allclose([h.time_s for h in got], [h.time_s for h in single], atol=1e-3)
        np.testing.assert_allclose(
            [h.distance_m for h in got], [h.distance_m for h in single], atol=1e-2
        )
    frame = batch.to_frame()
    assert set(frame.columns) >= {"origin", "rank", "station_id", "time_s", "distance_m"}
    assert len(frame) == int(batch.found.sum())


@pytest.mark.parametrize(
    ("when", "open_ids_hours"),
    [
        (datetime(2024, 1, 13, 12, 0), {"24/7", "Sa,Su 10:00-16:00"}),  # Saturday noon
        (datetime(2024, 1, 16, 12, 0), {"24/7", "Mo-Fr 08:00-18:00"}),  # Tuesday noon
        (datetime(2024, 1, 16, 23, 30), {"24/7", "Mo-Su 22:00-06:00"}),  # across midnight
        (datetime(2024, 1, 17, 2, 0), {"24/7", "Mo-Su 22:00-06:00"}),
    ],
)
def test_open_at_filter(
    helsinki_area: Area,
    stations: list[Station],
    locator: Locator,
    when: datetime,
    open_ids_hours: set[str],
) -> None:
    """Only stations open at the given time come back, and they are the nearest open ones."""
    lon, lat = _origin(helsinki_area, 0.5, 0.5)
    result = locator.nearest(lon, lat, k=6, open_at=when, with_paths=False)
    assert len(result) == 6
    assert {h.station.opening_hours for h in result} <= open_ids_hours
    keep = [s.opening_hours in open_ids_hours for s in stations]
    expected = brute_force(helsinki_area, stations, lon, lat, keep=keep)[:6]
    np.testing.assert_allclose([h.time_s for h in result], expected, atol=0.05)


def test_access_filter(helsinki_area: Area, stations: list[Station], locator: Locator) -> None:
    """access='public' leaves out employees-only rooms."""
    lon, lat = _origin(helsinki_area, 0.3, 0.3)
    result = locator.nearest(lon, lat, k=8, access="public", with_paths=False)
    assert len(result) == 8 and all(h.station.access == "public" for h in result)
    keep = [s.access == "public" for s in stations]
    expected = brute_force(helsinki_area, stations, lon, lat, keep=keep)[:8]
    np.testing.assert_allclose([h.time_s for h in result], expected, atol=0.05)


def test_fallback_search_when_filters_exclude_every_label(
    helsinki_area: Area, stations: list[Station], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter that no labelled station passes falls back to an exact search from the origin."""
    rare = stations[0].replace(id="rare", amenities={"steriliser", "fridge"})
    pool = [*stations[1:], rare]
    locator = Locator(helsinki_area, pool, labels_per_node=2)
    calls = []
    original = locate_module.search_from_street
    monkeypatch.setattr(
        locate_module,
        "search_from_street",
        lambda *a, **kw: calls.append(1) or original(*a, **kw),
    )
    lo, la = _origin(helsinki_area, 0.9, 0.9)
    lon, lat = (2 * rare.lon + lo) / 3, (2 * rare.lat + la) / 3
    result = locator.nearest(lon, lat, k=2, amenities=["steriliser"])
    assert calls, "expected the fallback search to run"
    assert [h.station.id for h in result] == ["rare"]
    expected = brute_force(helsinki_area, pool, lon, lat, keep=[s.id == "rare" for s in pool])
    assert result[0].time_s == pytest.approx(expected[0], abs=0.05)
    assert result[0].geometry is not None and len(result[0].geometry.coords) >= 2
    batch = locator.nearest_batch([lon, lon], [lat, lat], k=2, amenities=["steriliser"])
    assert list(batch.station_id[0]) == ["rare", None]


def test_batch_with_a_rare_filter_builds_query_labels(
    helsinki_area: Area, stations: list[Station], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose filter few stations pass is answered by one K-best pass over those
    stations (not one search per street), with the same exact times as brute force."""
    rare = [
        s.replace(amenities=frozenset({"steriliser"})) if i % 20 == 0 else s
        for i, s in enumerate(stations)
    ]
    rare = [s if i % 20 == 0 else s.replace(amenities=frozenset()) for i, s in enumerate(rare)]
    locator = Locator(helsinki_area, rare, labels_per_node=4)
    built = []
    original = locate_module.build_labels
    monkeypatch.setattr(
        locate_module, "build_labels", lambda *a, **kw: built.append(kw) or original(*a, **kw)
    )
    rng = np.random.default_rng(12)
    lo0, la0, lo1, la1 = helsinki_area.bounds
    lon, lat = rng.uniform(lo0, lo1, 300), rng.uniform(la0, la1, 300)
    locator.labels(None)
    built.clear()
    batch = locator.nearest_batch(lon, lat, k=2, amenities=["steriliser"])
    assert built and built[-1]["horizon"] == np.inf and built[-1]["k"] == 2
    keep = ["steriliser" in s.amenities for s in rare]
    for i in range(0, 300, 30):
        expected = brute_force(helsinki_area, rare, lon[i], lat[i], keep=keep)[:2]
        got = batch.time_s[i][np.isfinite(batch.time_s[i])]
        np.testing.assert_allclose(got, expected, atol=0.05)


def test_max_minutes_and_empty_result_reason(helsinki_area: Area, locator: Locator) -> None:
    """Nothing within the time budget is an empty result with a reason naming the filters."""
    lon, lat = _origin(helsinki_area, 0.5, 0.5)
    full = locator.nearest(lon, lat, k=3, with_paths=False)
    limit = full[0].time_s / 60.0
    inside = locator.nearest(lon, lat, k=3, max_minutes=limit + 1e-3, with_paths=False)
    assert len(inside) >= 1 and all(h.time_s <= limit * 60 + 0.1 for h in inside)
    when = datetime(2024, 1, 16, 12, 0)
    none = locator.nearest(
        lon,
        lat,
        k=3,
        kind="nursing_room",
        amenities=["toilet"],
        open_at=when,
        max_minutes=0.05,
    )
    assert len(none) == 0 and not none
    assert none.reason == (
        "no station of kind nursing_room with amenities toilet open at 2024-01-16 12:00 "
        "within 0.05 minutes"
    )


def test_off_map_origin_returns_documented_empty_result(
    helsinki_area: Area, locator: Locator
) -> None:
    """An origin far from every footpath gets an empty result saying how far, not an error."""
    lo0, la0, _, _ = helsinki_area.bounds
    result = locator.nearest(lo0 - 0.03, la0, k=3)
    assert len(result) == 0
    assert result.reason is not None
    assert result.reason.startswith("origin off the map: 1.")
    assert result.reason.endswith(" km from the nearest footpath")
    batch = locator.nearest_batch(
        [lo0 - 0.03, *_origin(helsinki_area, 0.5, 0.5)[:1]],
        [la0, _origin(helsinki_area, 0.5, 0.5)[1]],
    )
    assert batch.reasons[0] == result.reason and batch.reasons[1] is None


def test_registry_changes_reach_the_next_query(helsinki_area: Area) -> None:
    """Adding, editing, moving and deleting stations in a store shows in the next query."""
    base = make_stations(helsinki_area, 40, seed=5)
    store = MemoryStore(base)
    locator = Locator(helsinki_area, store, labels_per_node=4)
    lon, lat = _origin(helsinki_area, 0.45, 0.55)
    before = locator.nearest(lon, lat, k=3)
    assert before[0].station.id != "new"
    store.add(Station(id="new", kind="warm_station", name="New", lon=lon, lat=lat))
    after = locator.nearest(lon, lat, k=3)
    assert after[0].station.id == "new"
    assert after[0].time_s < before[0].time_s
    assert [h.time_s for h in after][1:] == pytest.approx([h.time_s for h in before][:2])
    # attribute edit: filters read the new record, no label rebuild needed
    store.update(store.get("new").replace(amenities={"microwave"}))
    assert locator.nearest(lon, lat, k=1, amenities=["microwave"])[0].station.id == "new"
    # move far away: no longer the nearest
    far = store.get(base[0].id)
    store.update(store.get("new").replace(lon=far.lon, lat=far.lat))
    moved = locator.nearest(lon, lat, k=3)
    assert "new" not in [h.station.id for h in moved]
    # delete the nearest station: the rest stays exact
    store.delete(moved[0].station.id)
    current = store.all()
    got = locator.nearest(lon, lat, k=3, with_paths=False)
    expected = brute_force(helsinki_area, current, lon, lat)[:3]
    np.testing.assert_allclose([h.time_s for h in got], expected, atol=0.05)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 10_000)), min_size=1, max_size=12))
def test_incremental_updates_equal_a_fresh_build(helsinki_area: Area, ops: list) -> None:
    """Labels updated through any add/remove sequence answer like labels built from scratch."""
    pool = make_stations(helsinki_area, 80, seed=11)
    store = MemoryStore(pool[:50])
    locator = Locator(helsinki_area, store, labels_per_node=3, rebuild_fraction=10.0)
    locator.prepare()
    extra = pool[50:]
    for add, pick in ops:
        ids = [s.id for s in store.all()]
        if add and extra:
            store.add(extra.pop(pick % len(extra)))
        elif len(ids) > 3:
            store.delete(ids[pick % len(ids)])
    fresh = Locator(helsinki_area, store.all(), labels_per_node=3)
    rng = np.random.default_rng(len(ops))
    lo0, la0, lo1, la1 = helsinki_area.bounds
    lon, lat = rng.uniform(lo0, lo1, 40), rng.uniform(la0, la1, 40)
    for kind in (None, "warm_station"):
        a = locator.nearest_batch(lon, lat, k=4, kind=kind)
        b = fresh.nearest_batch(lon, lat, k=4, kind=kind)
        np.testing.assert_allclose(a.time_s, b.time_s, atol=1e-3)
        # Updates keep every row the exact K nearest, so the labels themselves match.
        np.testing.assert_allclose(locator.labels(kind).time, fresh.labels(kind).time, atol=1e-3)
        np.testing.assert_allclose(
            locator.labels(kind).radius, fresh.labels(kind).radius, atol=1e-3
        )


def test_station_off_the_map_is_skipped_with_a_warning(
    helsinki_area: Area, stations: list[Station]
) -> None:
    """A station far from every footpath is left out, with a StationOffMapWarning naming it."""
    lo0, la0, _, _ = helsinki_area.bounds
    lost = Station(id="lost", kind="warm_station", name="Lost", lon=lo0 - 0.05, lat=la0)
    with pytest.warns(StationOffMapWarning, match="lost"):
        locator = Locator(helsinki_area, [*stations, lost])
    assert "lost" in locator.off_map
    result = locator.nearest(lo0 - 0.0001, la0 + 0.0001, k=100, with_paths=False)
    assert "lost" not in {h.station.id for h in result}


def test_functional_api_caches_the_locator(helsinki_area: Area, stations: list[Station]) -> None:
    """nearest_stations / nearest_stations_batch reuse one Locator per Area and station set."""
    lon, lat = _origin(helsinki_area, 0.6, 0.4)
    one = nearest_stations(helsinki_area, stations, lon, lat, k=2)
    two = nearest_stations(helsinki_area, list(stations), lon, lat, k=2)
    assert [h.station.id for h in one] == [h.station.id for h in two]
    batch = nearest_stations_batch(helsinki_area, stations, [lon], [lat], k=2)
    assert list(batch.station_id[0]) == [h.station.id for h in one]
    assert one.to_dict()["hits"][0]["path"]["type"] == "LineString"


def test_functional_api_sees_amenity_changes(helsinki_area: Area, stations: list[Station]) -> None:
    """Changing only a station's amenities changes the next answer (no stale cached locator)."""
    lon, lat = _origin(helsinki_area, 0.5, 0.5)
    first = nearest_stations(helsinki_area, stations, lon, lat, k=1, with_paths=False)
    nearest = first[0].station
    edited = [
        s.replace(amenities=frozenset({"steriliser"})) if s.id == nearest.id else s
        for s in stations
    ]
    edited = [s.replace(amenities=frozenset()) if s.id != nearest.id else s for s in edited]
    got = nearest_stations(
        helsinki_area, edited, lon, lat, k=1, amenities=["steriliser"], with_paths=False
    )
    assert [h.station.id for h in got] == [nearest.id]
    assert got[0].station.amenities == frozenset({"steriliser"})
    gone = [s.replace(amenities=frozenset()) for s in stations]
    none = nearest_stations(
        helsinki_area, gone, lon, lat, k=1, amenities=["steriliser"], with_paths=False
    )
    assert len(none) == 0 and none.reason


def test_no_stations_gives_reason(helsinki_area: Area) -> None:
    """An empty registry answers with a reason instead of failing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = Locator(helsinki_area, []).nearest(*_origin(helsinki_area, 0.5, 0.5))
    assert len(result) == 0 and result.reason is not None and "registry" in result.reason


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lat": math.nan}, CoordinateError, "latitude"),
        ({"lat": 91.0}, CoordinateError, r"Expected latitude in \[-90, 90\], got 91.0"),
        ({"lon": -181.0}, CoordinateError, "longitude"),
        ({"k": 0}, ValueError, r"Expected k in \[1, 100\], got 0"),
        ({"k": 101}, ValueError, r"Expected k in \[1, 100\], got 101"),
        ({"k": 2.5}, ValueError, r"Expected k in \[1, 100\]"),
        ({"kind": "hotel"}, ValueError, "warm_station, nursing_room, shuttle_stop; got 'hotel'"),
        ({"amenities": ["wifi"]}, ValueError, "microwave.*got 'wifi'"),
        ({"max_minutes": -5}, ValueError, "Expected max_minutes > 0"),
        ({"access": "members"}, ValueError, "public, employees"),
        ({"open_at": "noonish"}, ValueError, "ISO 8601"),
    ],
)
def test_bad_input_raises_clear_errors(
    helsinki_area: Area, locator: Locator, kwargs: dict, error: type, match: str
) -> None:
    """Invalid queries raise ValueError subclasses that say what was expected."""
    lon, lat = _origin(helsinki_area, 0.5, 0.5)
    args = {"lon": lon, "lat": lat, **kwargs}
    with pytest.raises(error, match=match):
        locator.nearest(**args)
    with pytest.raises(error):
        locator.nearest_batch(
            [args["lon"]],
            [args["lat"]],
            **{key: value for key, value in args.items() if key not in ("lon", "lat")},
        )


@pytest.mark.slow
def test_liechtenstein_batch_agrees_with_brute_force() -> None:
    """On the regional Liechtenstein walk graph the batch answer equals full Dijkstra."""
    area = load_area(str(shared_osm("liechtenstein.osm.pbf")))
    pool = make_stations(area, 300, seed=2)
    locator = Locator(area, pool, labels_per_node=8, horizon_minutes=20)
    rng = np.random.default_rng(9)
    arrays = area.arrays("walk")
    picks = rng.choice(arrays.n, 25, replace=False)
    lon, lat = arrays.lon[picks], arrays.lat[picks]
    batch = locator.nearest_batch(lon, lat, k=3, amenities=["toilet"])
    keep = ["toilet" in s.amenities for s in pool]
    speed = area.settings.walk_speed_kmh / 3.6
    assert speed == SPEED
    for i in range(len(picks)):
        expected = brute_force(area, pool, float(lon[i]), float(lat[i]), keep=keep)[:3]
        np.testing.assert_allclose(batch.time_s[i], expected, atol=0.05)
