"""Shortest walking/driving paths between two points."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pytest

from routing import CoordinateError, DisconnectedGraphError
from routing.paths import (
    _ranges,
    edge_index,
    edge_lengths,
    path_from_predecessors,
    path_geometry,
    path_lonlat,
    shortest_path,
)

if TYPE_CHECKING:
    from routing import Area


def _points(area: Area, n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    lo0, la0, lo1, la1 = area.bounds
    return list(zip(rng.uniform(lo0, lo1, n), rng.uniform(la0, la1, n), strict=True))


def _networkx_time(area: Area, network: str, a: tuple[float, float], b: tuple[float, float]):
    """Point-to-point network time by networkx on the Area's graph plus the partial edges.

    The two located edges and fractions are taken as given (``Area.locate`` has its own
    brute-force tests); the rest is networkx Dijkstra between the edges' end nodes, and the
    walk along one street when both points are on it.
    """
    G = area.walk if network == "walk" else area.drive
    arrays = area.arrays(network)  # type: ignore[arg-type]
    table, ids = arrays.edges, arrays.nodes
    spots = area.locate([a[0], b[0]], [a[1], b[1]], network=network)  # type: ignore[arg-type]

    def t(e: int) -> float:
        return float(G.edges[ids[table.u[e]], ids[table.v[e]], table.key[e]]["travel_time"])

    (e0, e1), (f0, f1) = spots.edge.tolist(), spots.frac.tolist()
    leave = [(table.v[e0], (1 - f0) * t(e0))]
    if table.twin[e0] >= 0:
        leave.append((table.u[e0], f0 * t(table.twin[e0])))
    enter = [(table.u[e1], f1 * t(e1))]
    if table.twin[e1] >= 0:
        enter.append((table.v[e1], (1 - f1) * t(table.twin[e1])))
    best = min(
        c0 + nx.shortest_path_length(G, ids[x], ids[y], weight="travel_time") + c1
        for x, c0 in leave
        for y, c1 in enter
    )
    if e0 == e1 and f1 >= f0:
        best = min(best, (f1 - f0) * t(e0))
    if e0 == e1 and f1 < f0 and table.twin[e0] >= 0:
        best = min(best, (f0 - f1) * t(table.twin[e0]))
    return best, spots


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_shortest_path_matches_networkx(helsinki_area: Area, network: str) -> None:
    """Route time agrees with networkx between the points' partial edges; length too."""
    graph = helsinki_area.walk if network == "walk" else helsinki_area.drive
    pts = _points(helsinki_area, 8, seed=4)
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        route = shortest_path(helsinki_area, a, b, network=network)
        want, spots = _networkx_time(helsinki_area, network, a, b)
        assert route.time_s == pytest.approx(want, abs=1e-3)
        assert route.snap_m == pytest.approx(tuple(spots.distance), abs=1e-6)
        if len(route.nodes) > 1:
            assert nx.is_path(graph, list(route.nodes))
        if network == "walk":  # one walking speed: the length is the time at that speed
            assert route.length_m == pytest.approx(route.time_s * 4.5 / 3.6, rel=1e-6)


def test_geometry_follows_edges_in_lonlat(helsinki_area: Area) -> None:
    """The geometry runs from projection to projection in WGS-84 and is as long as the route."""
    a, b = _points(helsinki_area, 2, seed=8)
    route = shortest_path(helsinki_area, a, b)
    coords = np.asarray(route.geometry.coords)
    spots = helsinki_area.locate([a[0], b[0]], [a[1], b[1]])
    assert coords[0] == pytest.approx([spots.lon[0], spots.lat[0]], abs=1e-9)
    assert coords[-1] == pytest.approx([spots.lon[1], spots.lat[1]], abs=1e-9)
    x, y = helsinki_area.project(coords[:, 0], coords[:, 1])
    drawn = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
    assert drawn == pytest.approx(route.length_m, rel=0.01)
    assert route.total_time_s == pytest.approx(
        route.time_s + sum(route.snap_m) / (4.5 / 3.6), rel=1e-9
    )
    payload = route.to_dict()
    assert payload["geometry"]["type"] == "LineString"


def test_same_point_gives_zero_route(helsinki_area: Area) -> None:
    """Origin and destination at one point give a zero-length route on its street."""
    a = _points(helsinki_area, 1, seed=1)[0]
    route = shortest_path(helsinki_area, a, a)
    assert route.time_s == pytest.approx(0, abs=1e-5)
    assert route.length_m == pytest.approx(0, abs=1e-5)
    assert route.nodes == ()


def test_edge_lengths_vectorised(helsinki_area: Area) -> None:
    """edge_lengths reads CSR weights for many pairs and gives nan for non-edges."""
    arrays = helsinki_area.arrays("walk")
    coo = arrays.length.tocoo()
    got = edge_lengths(arrays, coo.row[:50], coo.col[:50])
    np.testing.assert_allclose(got, coo.data[:50])
    times = edge_lengths(arrays, coo.row[:50], coo.col[:50], weight="time")
    np.testing.assert_allclose(times, arrays.time.tocoo().data[:50])
    assert np.isnan(edge_lengths(arrays, [0], [0]))[0]


def test_bad_points_raise(helsinki_area: Area) -> None:
    """NaN, out-of-range and off-the-map points raise CoordinateError."""
    lo0, la0, _, _ = helsinki_area.bounds
    good = _points(helsinki_area, 1, seed=2)[0]
    with pytest.raises(CoordinateError, match="latitude"):
        shortest_path(helsinki_area, (lo0, float("nan")), good)
    with pytest.raises(CoordinateError, match="longitude"):
        shortest_path(helsinki_area, good, (200.0, la0))
    with pytest.raises(CoordinateError, match=r"destination .* off the map"):
        shortest_path(helsinki_area, good, (lo0 - 0.05, la0))
    with pytest.raises(CoordinateError, match=r"Expected the origin as \(lon, lat\)"):
        shortest_path(helsinki_area, (lo0,), good)  # type: ignore[arg-type]


def test_disconnected_graph_raises(helsinki_area: Area, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two points in unconnected parts of a graph raise DisconnectedGraphError."""
    import routing.paths as paths

    a, b = _points(helsinki_area, 2, seed=6)
    real = paths.dijkstra

    def cut(*args, **kwargs):  # every node but the source unreachable
        dist, pred = real(*args, **kwargs)
        src = kwargs["indices"]
        dist = np.full_like(dist, np.inf)
        dist[src] = 0
        return dist, pred

    monkeypatch.setattr(paths, "dijkstra", cut)
    with pytest.raises(DisconnectedGraphError, match="not connected"):
        shortest_path(helsinki_area, a, b)


def _reference_lonlat(area: Area, path: np.ndarray) -> np.ndarray:
    """A path's points the slow way: per edge, the fastest parallel edge's own geometry."""
    graph = area.walk
    arrays = area.arrays("walk")
    xs, ys = [arrays.x[path[0]]], [arrays.y[path[0]]]
    for a, b in itertools.pairwise(path):
        u, v = int(arrays.nodes[a]), int(arrays.nodes[b])
        data = min(graph[u][v].values(), key=lambda d: d.get("travel_time", np.inf))
        if data.get("geometry") is None:
            xs.append(arrays.x[b])
            ys.append(arrays.y[b])
            continue
        pts = np.asarray(data["geometry"].coords)[:, :2]
        if np.hypot(*(pts[-1] - (arrays.x[a], arrays.y[a]))) < np.hypot(
            *(pts[0] - (arrays.x[a], arrays.y[a]))
        ):
            pts = pts[::-1]
        xs.extend(pts[1:, 0])
        ys.extend(pts[1:, 1])
    lon, lat = area.unproject(xs, ys)
    return np.column_stack([lon, lat])


def test_path_lonlat_matches_edge_geometries(helsinki_area: Area) -> None:
    """path_lonlat gives the fastest parallel edges' own shapes, oriented, in WGS-84."""
    from scipy.sparse.csgraph import dijkstra

    arrays = helsinki_area.arrays("walk")
    rng = np.random.default_rng(3)
    curved = 0
    for src in rng.integers(0, arrays.n, 6):
        dist, pred = dijkstra(arrays.time, indices=int(src), return_predecessors=True)
        for dst in rng.choice(np.flatnonzero(np.isfinite(dist)), 5):
            path = path_from_predecessors(pred, int(dst))
            if path.size < 2:
                continue
            got = path_lonlat(helsinki_area, path)
            want = _reference_lonlat(helsinki_area, path)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
            assert got[0] == pytest.approx([arrays.lon[path[0]], arrays.lat[path[0]]], abs=1e-7)
            assert got[-1] == pytest.approx([arrays.lon[path[-1]], arrays.lat[path[-1]]], abs=1e-7)
            curved += len(got) > path.size
            line = path_geometry(helsinki_area, path)
            np.testing.assert_array_equal(np.asarray(line.coords), got)
    assert curved > 0  # some paths followed curved edges, not only straight segments


def test_path_lonlat_edge_cases(helsinki_area: Area) -> None:
    """One node gives a zero-length line; empty paths and non-adjacent steps raise."""
    arrays = helsinki_area.arrays("walk")
    one = path_lonlat(helsinki_area, [7])
    assert one.tolist() == [[arrays.lon[7], arrays.lat[7]]] * 2
    with pytest.raises(ValueError, match="at least one node"):
        path_lonlat(helsinki_area, [])
    coo = arrays.time.tocoo()
    u = int(coo.row[0])
    far = int(np.argmax(np.hypot(arrays.x - arrays.x[u], arrays.y - arrays.y[u])))
    with pytest.raises(ValueError, match="at step 1"):
        path_lonlat(helsinki_area, [u, int(coo.col[0]), far])


def test_edge_index_positions_and_absent_pairs(helsinki_area: Area) -> None:
    """edge_index finds each CSR edge's data position and answers -1 for non-edges."""
    arrays = helsinki_area.arrays("walk")
    csr = arrays.time
    rows = np.repeat(np.arange(arrays.n), np.diff(csr.indptr))
    pick = np.random.default_rng(5).integers(0, csr.nnz, 200)
    np.testing.assert_array_equal(edge_index(arrays, rows[pick], csr.indices[pick]), pick)
    far = int(np.argmax(np.hypot(arrays.x - arrays.x[0], arrays.y - arrays.y[0])))
    assert edge_index(arrays, [0, far], [far, 0]).tolist() == [-1, -1]
    assert int(edge_index(arrays, rows[pick[0]], csr.indices[pick[0]])) == pick[0]


def test_ranges_concatenates_aranges() -> None:
    """_ranges equals the concatenated Python ranges, empty ones included."""
    rng = np.random.default_rng(2)
    starts = rng.integers(0, 1000, 50).astype(np.int64)
    counts = rng.integers(0, 5, 50).astype(np.int64)
    want = [v for s, c in zip(starts, counts, strict=True) for v in range(s, s + c)]
    assert _ranges(starts, counts).tolist() == want
    assert _ranges(starts[:0], counts[:0]).size == 0
