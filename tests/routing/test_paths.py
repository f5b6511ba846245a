"""Shortest walking/driving paths between two points."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pytest

from routing import CoordinateError, DisconnectedGraphError
from routing.paths import edge_lengths, shortest_path

if TYPE_CHECKING:
    from routing import Area


def _points(area: Area, n: int, seed: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    lo0, la0, lo1, la1 = area.bounds
    return list(zip(rng.uniform(lo0, lo1, n), rng.uniform(la0, la1, n), strict=True))


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_shortest_path_matches_networkx(helsinki_area: Area, network: str) -> None:
    """Route time, length and nodes agree with networkx Dijkstra on travel_time."""
    graph = helsinki_area.walk if network == "walk" else helsinki_area.drive
    pts = _points(helsinki_area, 8, seed=4)
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        route = shortest_path(helsinki_area, a, b, network=network)
        want = nx.shortest_path_length(graph, route.nodes[0], route.nodes[-1], weight="travel_time")
        assert route.time_s == pytest.approx(want, abs=1e-3)
        assert nx.is_path(graph, list(route.nodes))
        hops = sum(
            min(d["length"] for d in graph[u][v].values())
            for u, v in zip(route.nodes[:-1], route.nodes[1:], strict=True)
        )
        assert route.length_m == pytest.approx(hops, rel=1e-6)


def test_geometry_follows_edges_in_lonlat(helsinki_area: Area) -> None:
    """The geometry runs node to node in WGS-84 and is as long as the route."""
    a, b = _points(helsinki_area, 2, seed=8)
    route = shortest_path(helsinki_area, a, b)
    coords = np.asarray(route.geometry.coords)
    arrays = helsinki_area.arrays("walk")
    first, last = arrays.index_of([route.nodes[0], route.nodes[-1]])
    assert coords[0] == pytest.approx([arrays.lon[first], arrays.lat[first]], abs=1e-7)
    assert coords[-1] == pytest.approx([arrays.lon[last], arrays.lat[last]], abs=1e-7)
    x, y = helsinki_area.project(coords[:, 0], coords[:, 1])
    drawn = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
    assert drawn == pytest.approx(route.length_m, rel=0.02, abs=1.0)
    assert route.total_time_s == pytest.approx(
        route.time_s + sum(route.snap_m) / (4.5 / 3.6), rel=1e-9
    )
    payload = route.to_dict()
    assert payload["geometry"]["type"] == "LineString"


def test_same_point_gives_zero_route(helsinki_area: Area) -> None:
    """Origin and destination on one node give a zero-length route."""
    a = _points(helsinki_area, 1, seed=1)[0]
    route = shortest_path(helsinki_area, a, a)
    assert route.time_s == 0 and route.length_m == 0 and len(route.nodes) == 1


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
