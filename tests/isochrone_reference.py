"""Isochrone membership against the raw-OSM walk reference (:mod:`tests.reference`).

The reference reads the OSM file itself (every vertex a node, great-circle segment lengths,
the origin inserted on its nearest segment) and runs scipy Dijkstra on that; nothing of the
project's graph, edge table or isochrone code is used. On top of its vertex times,
:class:`RefIsochrone` walks every raw segment from both ends (and the origin's segment from
the origin) and samples street points every few metres along every segment.

:func:`membership` measures, for one polygon and budget, what a correct isochrone must
satisfy — defined so that it fails for a real bug but not for the buffer itself:

* ``missing``: street points whose reference door-to-door time is at most the budget less
  1 s but that lie outside the polygon (a street reached in time left out: a missing
  parallel edge, a loop drawn from one end, a partial edge cut short);
* ``stray``: street points whose reference time exceeds the budget + 60 s, that lie more than
  2 m from the reference's band (the shapely union of ``buffer_m`` buffers of the pieces it
  reaches within the budget and the open disc around the origin as wide as its leg, holes up
  to 1.2 x ``fill_holes_m2`` filled), and that are inside the polygon (a piece walked too
  far, a one-way walked backwards). The 2 m cover the boundary's simplification (1 m) and
  grid tracing (< 0.5 m) with room to spare;
* ``deviation_m``: the area of the symmetric difference between the polygon and that band
  (holes under ``fill_holes_m2`` filled) over the band's boundary length, i.e. the mean
  distance between the two boundaries.

Shared by ``tests/stations/test_isochrone.py`` (which asserts on it) and
``benchmarks/bench_isochrone.py`` (which reports it for every method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from tests.reference import Reference

INSIDE_SLACK_S = 1.0
OUTSIDE_SLACK_S = 60.0
OUTSIDE_TOL_M = 2.0


class RefIsochrone:
    """Reference times to street points from one origin, and the band reached per budget."""

    def __init__(self, ref: Reference, origin_xy: tuple[float, float], *, spacing: float = 4.0):
        self.ref = ref
        ox, oy = origin_xy
        self.origin = (ox, oy)
        graph, dist = ref._graph(np.array([ox]), np.array([oy]))
        n = ref.x.size
        self.snap_m = float(dist[0])
        self.leg = self.snap_m / ref.leg_speed_mps
        net = dijkstra(graph, indices=n)
        self.vertex = self.leg + net[:n]  # door-to-vertex seconds
        seg, t, _ = ref.locate(np.array([ox]), np.array([oy]))
        self.seg0, self.t0 = int(seg[0]), float(t[0])
        ax, ay = ref.x[ref.a], ref.y[ref.a]
        bx, by = ref.x[ref.b], ref.y[ref.b]
        self.proj = (
            float(ax[self.seg0] + self.t0 * (bx[self.seg0] - ax[self.seg0])),
            float(ay[self.seg0] + self.t0 * (by[self.seg0] - ay[self.seg0])),
        )
        self.seconds = ref.length / ref.speed_mps  # time to walk each whole segment
        # street points: every ~spacing metres along every segment
        count = np.maximum(1, np.ceil(ref.length / spacing)).astype(np.int64)
        self.owner = np.repeat(np.arange(ref.a.size), count)
        start = np.repeat(np.cumsum(count) - count, count)
        self.frac = (np.arange(self.owner.size) - start + 0.5) / count[self.owner]
        s, f = self.owner, self.frac
        self.x = ax[s] + f * (bx[s] - ax[s])
        self.y = ay[s] + f * (by[s] - ay[s])
        self.time = self._times(s, f)

    def _times(self, s: np.ndarray, f: np.ndarray) -> np.ndarray:
        ref, w = self.ref, self.seconds[s]
        time = self.vertex[ref.a[s]] + f * w
        back = np.where(ref.two_way[s], self.vertex[ref.b[s]] + (1 - f) * w, np.inf)
        time = np.minimum(time, back)
        on0 = s == self.seg0  # along the origin's own segment, straight from the origin
        ahead = f >= self.t0
        direct = self.leg + np.abs(f - self.t0) * w
        direct = np.where(ahead | ref.two_way[s], direct, np.inf)
        return np.where(on0, np.minimum(time, direct), time)

    def pieces(self, budget: float) -> np.ndarray:
        """Straight LineStrings of every segment stretch reached within ``budget`` seconds."""
        ref, w = self.ref, self.seconds
        with np.errstate(invalid="ignore"):
            fwd = np.clip((budget - self.vertex[ref.a]) / w, 0, 1)
            back = np.where(ref.two_way, np.clip((budget - self.vertex[ref.b]) / w, 0, 1), 0)
        spans = [(np.arange(w.size), np.zeros(w.size), fwd), (np.arange(w.size), 1 - back, 1.0)]
        spare = budget - self.leg
        if spare > 0:
            s0, t0, reach = self.seg0, self.t0, spare / w[self.seg0]
            lo = max(0.0, t0 - reach) if ref.two_way[s0] else t0
            spans.append((np.array([s0]), np.array([lo]), np.array([min(1.0, t0 + reach)])))
        coords = []
        for seg, f0, f1 in spans:
            f0 = np.broadcast_to(f0, seg.shape)
            f1 = np.broadcast_to(f1, seg.shape)
            keep = f1 > f0
            seg, f0, f1 = seg[keep], f0[keep], f1[keep]
            a = np.column_stack([ref.x[ref.a[seg]], ref.y[ref.a[seg]]])
            b = np.column_stack([ref.x[ref.b[seg]], ref.y[ref.b[seg]]])
            coords.append(np.stack([a + f0[:, None] * (b - a), a + f1[:, None] * (b - a)], 1))
        coords.append(np.array([[self.origin, self.proj]]))  # the straight leg
        return shapely.linestrings(np.concatenate(coords))

    def band(self, budget: float, buffer_m: float) -> shapely.Geometry:
        """Union of ``buffer_m`` buffers of the pieces reached within ``budget`` seconds.

        With the open disc around the origin as wide as its leg (no street is nearer), which
        the documented polygon includes once the budget covers the leg.
        """
        bands = list(shapely.buffer(self.pieces(budget), buffer_m, quad_segs=8))
        bands.append(shapely.Point(self.origin).buffer(self.snap_m, quad_segs=32))
        return shapely.union_all(bands)


def fill_holes(geom: shapely.Geometry, max_hole_m2: float) -> shapely.Geometry:
    """``geom`` without the interior rings smaller than ``max_hole_m2``."""
    parts = getattr(geom, "geoms", [geom])
    kept = [
        shapely.Polygon(
            p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= max_hole_m2]
        )
        for p in parts
    ]
    return shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0]


@dataclass(frozen=True)
class Membership:
    """What :func:`membership` found (module docstring); arrays index the street points."""

    reached: int
    missing: np.ndarray
    beyond: int
    stray: np.ndarray
    deviation_m: float
    x: np.ndarray
    y: np.ndarray
    time: np.ndarray


def membership(
    ref: RefIsochrone,
    polygon: shapely.Geometry,
    budget: float,
    *,
    buffer_m: float,
    fill_holes_m2: float,
    speed_mps: float,
) -> Membership:
    """Check a projected ``polygon`` for ``budget`` seconds against the reference."""
    ox, oy = ref.origin
    near = np.hypot(ref.x - ox, ref.y - oy) <= 1.5 * budget * speed_mps + buffer_m + 300
    x, y, t = ref.x[near], ref.y[near], ref.time[near]
    inside = shapely.contains_xy(polygon, x, y)
    must_in = t <= budget - INSIDE_SLACK_S
    merged = ref.band(budget, buffer_m)
    band = fill_holes(merged, 1.2 * fill_holes_m2)
    cand = np.flatnonzero(t > budget + OUTSIDE_SLACK_S)
    shapely.prepare(band)
    close = shapely.dwithin(band, shapely.points(x[cand], y[cand]), OUTSIDE_TOL_M)
    must_out = cand[~close]
    exact = fill_holes(merged, fill_holes_m2)
    deviation = shapely.area(shapely.symmetric_difference(polygon, exact)) / shapely.length(
        exact.boundary
    )
    return Membership(
        reached=int(must_in.sum()),
        missing=np.flatnonzero(must_in & ~inside),
        beyond=int(must_out.size),
        stray=must_out[inside[must_out]],
        deviation_m=float(deviation),
        x=x,
        y=y,
        time=t,
    )
