"""Points located on edges, the edge table and point insertion, against brute force.

The references here do not use the code under test: the nearest edge is a shapely distance
from each point to every edge geometry of the networkx graph, and walks between located
points are networkx Dijkstra between the edges' end nodes plus the partial edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from routing import Area, CoordinateError, build_area, insert_points, load_area
from tests.conftest import TEST_DATA, shared_osm

if TYPE_CHECKING:
    from routing import EdgePoints


@pytest.fixture(scope="module")
def traps() -> Area:
    """The hand-made trap network (long, parallel, loop, one-way, footway-only edges)."""
    return build_area(TEST_DATA / "traps.osm", cache_result=False)


def _raw_edges(G: nx.MultiDiGraph) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """Every (u, v, key) of the graph and its geometry oriented from u (networkx data only)."""
    keys, geoms = [], []
    for u, v, k, d in G.edges(keys=True, data=True):
        a = (G.nodes[u]["x"], G.nodes[u]["y"])
        b = (G.nodes[v]["x"], G.nodes[v]["y"])
        g = d.get("geometry") or shapely.LineString([a, b])
        if u != v and shapely.Point(g.coords[0]).distance(shapely.Point(a)) > shapely.Point(
            g.coords[-1]
        ).distance(shapely.Point(a)):
            g = shapely.reverse(g)
        keys.append((u, v, k))
        geoms.append(g)
    return keys, np.asarray(geoms, dtype=object)


def _sample_points(area: Area, network: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points near random spots along edges, and uniform points over (and past) the bounds."""
    rng = np.random.default_rng(seed)
    _, geoms = _raw_edges(area.walk if network == "walk" else area.drive)
    pick = rng.integers(0, len(geoms), n)
    along = shapely.line_interpolate_point(geoms[pick], rng.uniform(0, 1, n), normalized=True)
    xy = shapely.get_coordinates(along) + rng.normal(0, 15, (n, 2))
    lo0, la0, lo1, la1 = area.bounds
    lon = rng.uniform(lo0 - 0.2 * (lo1 - lo0), lo1 + 0.2 * (lo1 - lo0), n)
    lat = rng.uniform(la0 - 0.2 * (la1 - la0), la1 + 0.2 * (la1 - la0), n)
    ux, uy = area.project(lon, lat)
    return np.concatenate([xy[:, 0], ux]), np.concatenate([xy[:, 1], uy])


def _check_against_brute_force(area: Area, network: str, x: np.ndarray, y: np.ndarray) -> None:
    G = area.walk if network == "walk" else area.drive
    keys, geoms = _raw_edges(G)
    pts = shapely.points(x, y)
    expected = shapely.distance(pts[:, None], geoms[None, :]).min(axis=1)
    got = area.locate(x, y, network=network, projected=True, max_distance=np.inf)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.distance, expected, rtol=0, atol=1e-6)
    table = area.arrays(network).edges  # type: ignore[arg-type]
    assert got.ok.all()
    nodes = area.arrays(network).nodes  # type: ignore[arg-type]
    position = {key: i for i, key in enumerate(keys)}
    for i in range(len(x)):
        e = int(got.edge[i])
        key = (int(nodes[table.u[e]]), int(nodes[table.v[e]]), int(table.key[e]))
        geom = geoms[position[key]]
        proj = shapely.Point(got.x[i], got.y[i])
        assert geom.distance(proj) < 1e-6  # the projection lies on the located edge
        assert abs(proj.distance(pts[i]) - expected[i]) < 1e-6
        length = float(table.length[e])
        along = _great_circle_offset(area, geom, proj, length)
        loop_end = key[0] == key[1] and min(along, length - along) < 1e-6
        if not loop_end:  # (a ring's start and end are one point)
            assert got.offset_m[i] == pytest.approx(along, abs=1e-3)
        assert 0.0 <= got.frac[i] <= 1.0
        assert got.frac[i] == pytest.approx(got.offset_m[i] / length, abs=1e-9)


def _great_circle_offset(area: Area, geom: shapely.LineString, at: shapely.Point, length: float):
    """Metres from the start of ``geom`` to ``at`` measured as the graph's ``length`` is:
    great-circle segment lengths, scaled to the edge's ``length``."""
    coords = np.asarray(geom.coords)
    flat = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    d = shapely.line_locate_point(geom, at)
    j = int(min(np.searchsorted(flat, d, side="right") - 1, flat.size - 2))
    t = 0.0 if flat[j + 1] == flat[j] else (d - flat[j]) / (flat[j + 1] - flat[j])
    lon, lat = area.unproject(coords[:, 0], coords[:, 1])
    p = np.radians(lat)
    h = (
        np.sin(np.diff(p) / 2) ** 2
        + np.cos(p[:-1]) * np.cos(p[1:]) * np.sin(np.radians(np.diff(lon)) / 2) ** 2
    )
    seg = 2 * 6_371_009.0 * np.arcsin(np.sqrt(h))
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    return (cum[j] + t * seg[j]) * length / cum[-1]


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_locate_matches_brute_force_helsinki(helsinki_area: Area, network: str) -> None:
    """Nearest-edge distance, projection and offset equal shapely over every edge geometry."""
    x, y = _sample_points(helsinki_area, network, 300, seed=3)
    _check_against_brute_force(helsinki_area, network, x, y)


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_locate_matches_brute_force_traps(traps: Area, network: str) -> None:
    """The same on the trap network: long, parallel, self-loop and one-way edges."""
    x, y = _sample_points(traps, network, 400, seed=4)
    _check_against_brute_force(traps, network, x, y)


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["liechtenstein.osm.pbf", "beijing_chaoyang_wangjing.osm.bz2"])
def test_locate_matches_brute_force_shared(filename: str) -> None:
    """The same on real extracts (Liechtenstein's regional graph, a Beijing superblock grid)."""
    area = load_area(shared_osm(filename))
    for network in ("walk", "drive"):
        x, y = _sample_points(area, network, 150, seed=5)
        _check_against_brute_force(area, network, x, y)


def test_edge_table_keeps_every_edge(helsinki_area: Area, traps: Area) -> None:
    """Every directed edge is in the table with its weights; geometry runs from u to v."""
    for area in (helsinki_area, traps):
        for network in ("walk", "drive"):
            G = area.walk if network == "walk" else area.drive
            arrays = area.arrays(network)  # type: ignore[arg-type]
            table = arrays.edges
            keys, geoms = _raw_edges(G)
            assert table.m == G.number_of_edges() == len(keys)
            got = {
                (int(arrays.nodes[a]), int(arrays.nodes[b]), int(k))
                for a, b, k in zip(table.u, table.v, table.key, strict=True)
            }
            assert got == set(keys)
            lines = table.lines()
            for i, (u, v, k) in enumerate(keys):
                j = next(
                    j
                    for j in range(table.m)
                    if (arrays.nodes[table.u[j]], arrays.nodes[table.v[j]], table.key[j])
                    == (u, v, k)
                )
                assert table.length[j] == G.edges[u, v, k]["length"]
                assert shapely.equals_exact(lines[j], geoms[i], tolerance=1e-6)
                if i > 60:
                    break
            np.testing.assert_allclose(table.geometry_m, table.length, rtol=1e-12)
            np.testing.assert_allclose(shapely.length(lines), table.length, rtol=0.01)


def test_twins_share_reversed_geometry(traps: Area, helsinki_area: Area) -> None:
    """A twin runs v -> u on the same geometry reversed; one-ways have none."""
    for area in (traps, helsinki_area):
        for network in ("walk", "drive"):
            table = area.arrays(network).edges  # type: ignore[arg-type]
            has = np.flatnonzero(table.twin >= 0)
            np.testing.assert_array_equal(table.twin[table.twin[has]], has)
            lines = table.lines()
            for e in has[:200]:
                f = table.twin[e]
                assert (table.u[f], table.v[f]) == (table.v[e], table.u[e])
                assert shapely.equals_exact(shapely.reverse(lines[e]), lines[f], tolerance=1e-6)
    walk = traps.arrays("walk").edges
    assert (walk.twin >= 0).all()  # walking goes both ways on every street
    drive = traps.arrays("drive")
    one_way = [
        e
        for e in range(drive.edges.m)
        if traps.drive.edges[
            drive.nodes[drive.edges.u[e]], drive.nodes[drive.edges.v[e]], drive.edges.key[e]
        ]["oneway"]
    ]
    assert one_way and (drive.edges.twin[one_way] == -1).all()
    loops = np.flatnonzero(walk.u == walk.v)
    assert loops.size == 2 and set(walk.twin[loops]) == set(loops)  # the ring, both ways


def test_csr_positions_and_fastest_parallel_edge(traps: Area) -> None:
    """``csr`` finds each pair in the matrices; ``csr_edge`` is the fastest parallel edge."""
    arrays = traps.arrays("walk")
    table = arrays.edges
    coo = arrays.time.tocoo()
    np.testing.assert_array_equal(coo.row[table.csr], table.u)
    np.testing.assert_array_equal(coo.col[table.csr], table.v)
    kept = table.csr_edge
    np.testing.assert_allclose(arrays.time.data, np.maximum(table.time[kept], 1e-6))
    for e in range(table.m):
        assert table.time[kept[table.csr[e]]] <= table.time[e]
    parallel = np.flatnonzero(np.bincount(table.csr) > 1)
    assert parallel.size == 3  # 2-3 straight and curved, both directions; the ring at 4


def test_locate_point_at_node_and_off_map(traps: Area) -> None:
    """A point on a node costs nothing from it; a far point is off the map with its distance."""
    arrays = traps.arrays("walk")
    i = int(np.flatnonzero(arrays.nodes == 2)[0])
    far_lon = traps.bounds[2] + 0.05  # ~4.3 km east of the box
    got = traps.locate([arrays.lon[i], far_lon], [arrays.lat[i], arrays.lat[i]])
    assert got.ok.tolist() == [True, False]
    assert got.distance[0] == pytest.approx(0.0, abs=1e-6)
    assert got.edge[1] == -1 and np.isnan(got.frac[1]) and got.distance[1] > 4000
    node, time, length = got.entries(arrays.edges)
    at = np.flatnonzero(node[0] == i)
    assert at.size and time[0, at].min() == pytest.approx(0.0, abs=1e-9)
    assert (node[1] == -1).all() and np.isinf(time[1]).all() and np.isinf(length[1]).all()
    limited = traps.locate([far_lon], [arrays.lat[i]], max_distance=1e6)
    assert limited.ok[0] and limited.edge[0] >= 0


def test_locate_rejects_bad_coordinates(traps: Area) -> None:
    """NaN, swapped or out-of-range coordinates raise with the value named."""
    with pytest.raises(CoordinateError, match="latitude"):
        traps.locate([116.4], [float("nan")])
    with pytest.raises(CoordinateError, match="latitude in"):
        traps.locate([39.9], [116.4])  # swapped
    with pytest.raises(CoordinateError, match="finite"):
        traps.locate([np.inf], [0.0], projected=True)


def test_one_way_entries_and_exits(traps: Area) -> None:
    """On the one-way 3 -> 4 a stop is reached from 3 only and leads to 4 only."""
    arrays = traps.arrays("drive")
    table = arrays.edges
    e = int(np.flatnonzero(table.twin == -1)[0])
    u, v = int(table.u[e]), int(table.v[e])
    lon = 0.7 * arrays.lon[u] + 0.3 * arrays.lon[v]
    lat = 0.7 * arrays.lat[u] + 0.3 * arrays.lat[v] + 1e-5  # ~1 m beside the street
    got = traps.locate([lon], [lat], network="drive")
    assert got.edge[0] == e and got.frac[0] == pytest.approx(0.3, abs=1e-3)
    node, time, _ = got.entries(table)
    assert node[0].tolist() == [u, -1] and time[0, 0] == pytest.approx(0.3 * table.time[e], 1e-3)
    node, time, _ = got.exits(table)
    assert node[0].tolist() == [v, -1] and time[0, 0] == pytest.approx(0.7 * table.time[e], 1e-3)


def _reference_times(area: Area, network: str, pts: EdgePoints, src: int) -> np.ndarray:
    """Point-to-point times by networkx: exits, node-to-node Dijkstra, entries, same street.

    Uses the networkx graph's own ``travel_time`` per edge and the edge's geometry share
    for the partial pieces (the located edge and fraction are taken as given).
    """
    G = area.walk if network == "walk" else area.drive
    arrays = area.arrays(network)  # type: ignore[arg-type]
    table = arrays.edges
    ids = arrays.nodes

    def t(e: int) -> float:
        return float(G.edges[ids[table.u[e]], ids[table.v[e]], table.key[e]]["travel_time"])

    e0, f0 = int(pts.edge[src]), float(pts.frac[src])
    leaving = [(int(table.v[e0]), (1 - f0) * t(e0))]
    if table.twin[e0] >= 0:
        leaving.append((int(table.u[e0]), f0 * t(int(table.twin[e0]))))
    dist = {}
    for node, cost in leaving:
        lengths = nx.single_source_dijkstra_path_length(G, ids[node], weight="travel_time")
        for other, d in lengths.items():
            dist[other] = min(dist.get(other, np.inf), cost + d)
    out = np.full(len(pts), np.inf)
    for j in range(len(pts)):
        e, f = int(pts.edge[j]), float(pts.frac[j])
        best = dist.get(ids[table.u[e]], np.inf) + f * t(e)
        if table.twin[e] >= 0:
            best = min(best, dist.get(ids[table.v[e]], np.inf) + (1 - f) * t(int(table.twin[e])))
        if e == e0 and f >= f0:
            best = min(best, (f - f0) * t(e))
        if e == e0 and f <= f0 and table.twin[e] >= 0:
            best = min(best, (f0 - f) * t(int(table.twin[e])))
        out[j] = 0.0 if j == src else best
    return out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), network=st.sampled_from(["walk", "drive"]))
def test_insert_points_dijkstra_is_exact(traps: Area, seed: int, network: str) -> None:
    """Dijkstra on the graph with points inserted equals the networkx reference, same-edge too."""
    rng = np.random.default_rng(seed)
    arrays = traps.arrays(network)  # type: ignore[arg-type]
    table = arrays.edges
    # several points per street (same-edge pairs in both directions) and on random streets
    streets = np.flatnonzero(table.street == np.arange(table.m))
    pick = rng.choice(streets, 8)
    pick = np.concatenate([pick, pick[:3], pick[:2]])
    lines = table.lines(pick)
    at = shapely.line_interpolate_point(lines, rng.uniform(0, 1, pick.size), normalized=True)
    xy = shapely.get_coordinates(at) + rng.normal(0, 3, (pick.size, 2))
    pts = traps.locate(xy[:, 0], xy[:, 1], network=network, projected=True)  # type: ignore[arg-type]
    time, length, index = insert_points(arrays, pts)
    assert time.shape == (arrays.n + len(pts),) * 2
    np.testing.assert_array_equal(time.indices.size, length.indices.size)
    src = int(rng.integers(0, len(pts)))
    got = dijkstra(time, indices=index[src])[index]
    expected = _reference_times(traps, network, pts, src)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-4)


def test_insert_points_on_helsinki(helsinki_area: Area) -> None:
    """Exact on a real graph too: 40 points, one source, against the networkx reference."""
    x, y = _sample_points(helsinki_area, "walk", 40, seed=9)
    pts = helsinki_area.locate(x[:40], y[:40], projected=True)
    time, _, index = insert_points(helsinki_area.arrays("walk"), pts)
    got = dijkstra(time, indices=index[0])[index]
    expected = _reference_times(helsinki_area, "walk", pts, 0)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-4)
