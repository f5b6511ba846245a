"""Exact on the street: the planner's stops, walks and drives between points on edges.

References do not use the code under test (``routing.edges`` / ``routing.shuttle.roads``):
points are put on known edges of the osmnx graph with shapely, and the expected drive or walk
is networkx Dijkstra between the edges' end nodes plus the partial edges (``frac`` of the
edge's own ``travel_time`` / ``length``), or the part of the edge between two points when
both lie on it and the direction allows.
"""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import pytest
import shapely

from routing.shuttle import Rider, ShuttleSettings, check_plan, plan_shuttles
from routing.shuttle.districts import candidate_stops
from routing.shuttle.model import BusType, CandidateStop, Fleet
from routing.shuttle.roads import locate_points

ID_LIKE = re.compile(r"^(bus|acc|res|cell|wp)[-:]|way\d{5,}|node\d{5,}")


def _edges(G: nx.MultiDiGraph) -> list[tuple[int, int, int, shapely.LineString]]:
    out = []
    for u, v, k, d in G.edges(keys=True, data=True):
        a = (G.nodes[u]["x"], G.nodes[u]["y"])
        g = d.get("geometry") or shapely.LineString([a, (G.nodes[v]["x"], G.nodes[v]["y"])])
        if u != v and shapely.Point(g.coords[0]).distance(shapely.Point(a)) > shapely.Point(
            g.coords[-1]
        ).distance(shapely.Point(a)):
            g = shapely.reverse(g)
        out.append((u, v, k, g))
    return out


def _reverse(G: nx.MultiDiGraph, u: int, v: int, g: shapely.LineString) -> dict | None:
    """The edge v -> u running the same geometry backwards, if any."""
    for _, d in (G.get_edge_data(v, u) or {}).items():
        h = d.get("geometry")
        if h is None or shapely.equals_exact(shapely.reverse(h), g, 1e-6) or h.equals(g):
            return d
    return None


class Ref:
    """Costs between points on known edges, by networkx on the raw graph."""

    def __init__(self, G: nx.MultiDiGraph, weight: str) -> None:
        self.G, self.w = G, weight

    def ends(self, u: int, v: int, k: int, g: shapely.LineString, f: float, leaving: bool):
        d = self.G.edges[u, v, k]
        back = _reverse(self.G, u, v, g)
        if leaving:
            out = [(v, (1 - f) * d[self.w])]
            if back is not None:
                out.append((u, f * back[self.w]))
        else:
            out = [(u, f * d[self.w])]
            if back is not None:
                out.append((v, (1 - f) * back[self.w]))
        return out

    def cost(self, a, b) -> float:
        (ua, va, ka, ga, fa), (ub, vb, kb, gb, fb) = a, b
        best = np.inf
        if (ua, va, ka) == (ub, vb, kb):
            d = self.G.edges[ua, va, ka]
            if fb >= fa:
                best = (fb - fa) * d[self.w]
            back = _reverse(self.G, ua, va, ga)
            if back is not None and fb <= fa:
                best = min(best, (fa - fb) * back[self.w])
        for n1, c1 in self.ends(ua, va, ka, ga, fa, True):
            dist = nx.single_source_dijkstra_path_length(self.G, n1, weight=self.w)
            for n2, c2 in self.ends(ub, vb, kb, gb, fb, False):
                if n2 in dist:
                    best = min(best, c1 + dist[n2] + c2)
        return best


def _points_on_edges(area, network: str, n: int, seed: int):
    """``n`` points on random edges (not too short), with their edge and fraction."""
    G = area.drive if network == "drive" else area.walk
    edges = [e for e in _edges(G) if e[3].length > 40 and e[0] != e[1]]
    rng = np.random.default_rng(seed)
    out = []
    for k in rng.choice(len(edges), n, replace=False):
        u, v, key, g = edges[int(k)]
        f = float(rng.uniform(0.1, 0.9))
        out.append((u, v, key, g, f, g.interpolate(f, normalized=True)))
    return out


def _lonlat(area, pts) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([p[-1].x for p in pts])
    y = np.array([p[-1].y for p in pts])
    return area.unproject(x, y)


def test_drive_matrix_between_points_on_edges_is_exact(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Fastest drives between points on drive edges match networkx plus partial edges."""
    pts = _points_on_edges(helsinki_area, "drive", 12, seed=1)
    lon, lat = _lonlat(helsinki_area, pts)
    located = locate_points(helsinki_area, lon, lat, network="drive", max_distance=5)
    m = located.drive_matrix([f"p{i}" for i in range(len(pts))])
    ref = Ref(helsinki_area.drive, "travel_time")
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            if i == j:
                continue
            want = ref.cost(a[:5], b[:5])
            got = m.duration[i, j]
            assert want - 1e-6 <= got <= want + 1, (i, j, want, got)


def test_two_stops_on_one_edge_have_a_positive_leg_and_one_ways_hold(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Two stops 50-80 m apart on one street get a positive leg; on a one-way street the way
    back goes round the block (longer than the way along)."""
    G = helsinki_area.drive
    one_way = [e for e in _edges(G) if e[3].length > 120 and _reverse(G, e[0], e[1], e[3]) is None]
    two_way = [
        e for e in _edges(G) if e[3].length > 120 and _reverse(G, e[0], e[1], e[3]) is not None
    ]
    assert one_way and two_way
    ref = Ref(G, "travel_time")
    for u, v, k, g in (one_way[0], two_way[0]):
        f1, f2 = 0.2, 0.2 + 60 / g.length
        pts = [(u, v, k, g, f, g.interpolate(f, normalized=True)) for f in (f1, f2)]
        lon, lat = _lonlat(helsinki_area, pts)
        m = locate_points(helsinki_area, lon, lat, network="drive", max_distance=5).drive_matrix(
            ["a", "b"]
        )
        along = ref.cost(pts[0][:5], pts[1][:5])
        assert 0 < along <= m.duration[0, 1] <= along + 1
        back = ref.cost(pts[1][:5], pts[0][:5])
        assert back - 1e-6 <= m.duration[1, 0] <= back + 1
    one = one_way[0]
    assert ref.cost((*one, 0.8), (*one, 0.2)) > ref.cost((*one, 0.2), (*one, 0.8))


def test_walks_follow_the_street_from_projection_to_projection(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Walk lengths between points on walk edges match networkx plus partial edges."""
    pts = _points_on_edges(helsinki_area, "walk", 14, seed=2)
    lon, lat = _lonlat(helsinki_area, pts)
    located = locate_points(helsinki_area, lon, lat, network="walk", max_distance=5)
    walks = located.walks(np.arange(7), np.arange(7, 14), limit=5000).toarray()
    ref = Ref(helsinki_area.walk, "length")
    for i in range(7):
        for j in range(7):
            want = ref.cost(pts[i][:5], pts[7 + j][:5])
            assert walks[i, j] == pytest.approx(want, abs=0.05), (i, j)


def test_candidate_stops_lie_on_drive_edges_with_readable_names(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Every stop sits on a drive-graph street (where the bus stops) and has a name that is
    not an internal id; OSM bus stop names are kept."""
    from routing.shuttle.districts import build_districts
    from routing.shuttle.sample import sample_riders

    riders = sample_riders(helsinki_area, 80, seed=4)
    districts, _ = build_districts(helsinki_area, riders, settings=ShuttleSettings())
    stops = candidate_stops(helsinki_area, districts, settings=ShuttleSettings())
    streets = shapely.union_all(helsinki_area.arrays("drive").edges.lines(lonlat=True))
    layer = helsinki_area.pois["bus_stops"]
    osm_names = {f"bus-{o}": n for o, n in zip(layer["osm_id"], layer["name"], strict=True)}
    for s in stops:
        assert s.name and not ID_LIKE.search(s.name), s
        if s.edge >= 0:
            assert streets.distance(shapely.Point(s.lon, s.lat)) < 1e-6
        if isinstance(osm_names.get(s.id), str):
            assert s.name == osm_names[s.id]
    assert any(" / " in s.name for s in stops if s.source == "district_access")


def test_plan_on_the_street_passes_the_checker_with_positive_legs(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Two given stops on one street 60 m apart: the line's leg between them is > 0 s, and the
    checker (which measures on its own) accepts the plan."""
    G = helsinki_area.drive
    *_, g = next(e for e in _edges(G) if e[3].length > 200 and e[0] != e[1])
    pa, pb = (
        g.interpolate(0.3, normalized=True),
        g.interpolate(0.3 + 60 / g.length, normalized=True),
    )
    (la, lb), (ta, tb) = helsinki_area.unproject(np.array([pa.x, pb.x]), np.array([pa.y, pb.y]))
    stops = [CandidateStop("A", float(la), float(ta)), CandidateStop("B", float(lb), float(tb))]
    # riders around both stops, a workplace far away (no walkers)
    far = helsinki_area.arrays("drive")
    d = np.hypot(far.x - pa.x, far.y - pa.y)
    w = int(np.argmax(d))
    wp = (float(far.lon[w]), float(far.lat[w]))
    riders = [Rider(f"r{i}", float(la) + 1e-5 * i, float(ta)) for i in range(6)]
    riders += [Rider(f"s{i}", float(lb) + 1e-5 * i, float(tb)) for i in range(6)]
    plan = plan_shuttles(
        helsinki_area,
        riders,
        Fleet((BusType("bus", 20, 2, 100, 1, 10),)),
        wp,
        settings=ShuttleSettings(time_limit_s=1, max_walk_m=40, evening_departure="17:00"),
        stops=stops,
    )
    assert check_plan(plan, helsinki_area) == []
    legs = [
        (x.stop_id, y.stop_id, y.arrival_s - x.departure_s)
        for ln in plan.lines
        for x, y in zip(ln.stops, ln.stops[1:], strict=False)
    ]
    assert legs and all(t > 0 for a, b, t in legs if a != b)


def test_stop_to_stop_lengths_match_the_raw_osm_reference(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Door-to-door drive lengths between stop-like points (shortest by length, one-ways
    respected) equal the raw-OSM reference of tests/reference.py, which rebuilds the drive
    network from the PBF with pyosmium, every vertex a node."""
    from routing.presets import helsinki_pbf
    from tests.reference import Reference

    ref = Reference.from_osm(
        helsinki_pbf(), network="drive", crs=helsinki_area.crs, speed_mps=1.0, leg_speed_mps=1.0
    )
    rng = np.random.default_rng(7)
    xy = ref.near_streets(rng, 16, 8.0)
    lon, lat = helsinki_area.unproject(xy[:, 0], xy[:, 1])
    located = locate_points(helsinki_area, lon, lat, network="drive", max_distance=100)
    got = located.walks(np.arange(8), np.arange(8, 16), limit=1e6).toarray()
    want = ref.walk_times(xy[:8], xy[8:], max_distance=100)
    reached = np.isfinite(want)
    assert reached.sum() >= 32
    np.testing.assert_allclose(got[reached], want[reached], rtol=1e-4, atol=0.5)


def test_street_names_come_from_the_columns_without_a_graph(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Stop naming reads each drive edge's name and road class from the stored columns: on
    a reloaded Area no networkx graph is made, and the names equal the graph's own."""
    from routing import load_area
    from routing.shuttle.names import street_names

    area = load_area(helsinki_area.name)  # a reload: arrays mapped, no graph yet
    assert area.graph_if_loaded("drive") is None
    names, ranks = street_names(area)
    assert area.graph_if_loaded("drive") is None
    table, G = area.arrays("drive").edges, helsinki_area.drive
    nodes = area.arrays("drive").nodes
    assert len(names) == len(ranks) == table.m
    for e in range(0, table.m, 7):
        data = G.get_edge_data(int(nodes[table.u[e]]), int(nodes[table.v[e]]), int(table.key[e]))
        want = data.get("name")
        want = (
            next((w for w in want if isinstance(w, str) and w.strip()), "")
            if isinstance(want, list)
            else (want.strip() if isinstance(want, str) else "")
        )
        assert names[e] == want, e
    assert sum(1 for n in names if n) > table.m // 4  # most Helsinki streets have names
