"""An independent reference for walks on the street, built from the raw OSM file.

Nothing here uses warmheart's graphs or code paths: the OSM file is read with pyosmium
(``osmium``), the ways of the network are selected with the builder's *definition* of the
network (the tag filter, the export-box clip of XML files, the largest strongly connected
component), every vertex of every way becomes a node, segment lengths are great-circle
distances (the osmnx / pyrosm convention: a sphere of radius 6,371,009 m), and query points
are inserted on their nearest segment (shapely ``STRtree``) before a scipy Dijkstra. What
the project simplifies, collapses or projects, this keeps raw.

Use it with a list of points::

    ref = Reference.from_osm(path, network="walk", crs=area.crs, speed_mps=4.5 / 3.6)
    times = ref.walk_times(origins_xy, targets_xy)        # (n_origins, n_targets) seconds
    t, metres, coords = ref.shortest(a_xy, b_xy)          # one path, door to door

Times are door to door: the straight leg from each point to its projection on the nearest
segment at ``speed_mps``, the walk along the segments, the leg to the target. Points
farther than ``max_distance`` from every segment are off the map (``inf``).

The tag filter per source: PBF files are read by the builder through pyrosm, so its
``walking`` / ``driving`` filter applies (``pyrosm.config.osm_filters``); XML files go
through :data:`routing._osm_xml.NETWORK_FILTERS` (the osmnx filters). Both are data, read
here and applied by this module's own code. One-way rules for ``drive`` follow osmnx
(``oneway`` yes/true/1, reversed for -1/reverse, roundabouts); ``walk`` is two-way.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra

EARTH_RADIUS_M = 6_371_009.0
_ONEWAY = {"yes", "true", "1", "-1", "reverse", "T", "F"}
_REVERSED = {"-1", "reverse", "T"}


def _keep_xml(tags: dict[str, str], network: str) -> bool:
    from routing._osm_xml import NETWORK_FILTERS  # the definition (data), not the code

    if "highway" not in tags:
        return False
    return not any(k in tags and re.search(rx, tags[k]) for k, rx in NETWORK_FILTERS[network])


def _keep_pbf(tags: dict[str, str], network: str) -> bool:
    from pyrosm.config.osm_filters import get_osm_filter

    if "highway" not in tags:
        return False
    rules: Any = get_osm_filter("walking" if network == "walk" else "driving")
    for key, rule in rules.items():
        if hasattr(rule, "closes"):
            if rule.closes(tags):
                return False
        elif key in tags and tags[key] in rule:
            return False
    return True


def haversine(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle metres between points (sphere of radius :data:`EARTH_RADIUS_M`)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


@dataclass
class Reference:
    """The raw network: vertices, directed segments, and a search over inserted points.

    Attributes
    ----------
    x, y, lon, lat
        Every vertex kept (projected to ``crs`` and WGS-84).
    a, b
        Directed segments ``a -> b`` (vertex indices); a two-way segment is listed once
        with ``two_way`` set.
    length
        Great-circle metres of each segment.
    two_way
        Whether the segment may be walked (driven) ``b -> a`` too.
    speed_mps
        Speed along segments and on the straight legs (m/s).
    """

    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    a: np.ndarray
    b: np.ndarray
    length: np.ndarray
    two_way: np.ndarray
    speed_mps: float
    leg_speed_mps: float

    @classmethod
    def from_osm(
        cls,
        path: str | Path,
        *,
        network: str = "walk",
        crs: str,
        speed_mps: float,
        leg_speed_mps: float | None = None,
    ) -> Reference:
        """Read ``path`` (``.osm.pbf``, ``.osm``, ``.osm.bz2``) into the raw ``network``."""
        import osmium

        path = Path(path)
        pbf = path.name.lower().endswith(".pbf")
        keep = _keep_pbf if pbf else _keep_xml
        box = None if pbf else _xml_bounds(path)
        ways: list[tuple[list[int], list[tuple[float, float]], dict[str, str]]] = []
        for obj in osmium.FileProcessor(str(path)).with_locations():
            if not obj.is_way():
                continue
            tags = {t.k: t.v for t in obj.tags}
            if not keep(tags, network):
                continue
            refs, coords = [], []
            for nd in obj.nodes:
                if nd.location.valid():
                    refs.append(nd.ref)
                    coords.append((nd.location.lon, nd.location.lat))
            if len(refs) >= 2:
                ways.append((refs, coords, tags))
        index: dict[int, int] = {}
        lon: list[float] = []
        lat: list[float] = []
        a: list[int] = []
        b: list[int] = []
        back: list[bool] = []
        for refs, coords, tags in ways:
            ids = []
            for ref, (lo, la) in zip(refs, coords, strict=True):
                if ref not in index:
                    index[ref] = len(lon)
                    lon.append(lo)
                    lat.append(la)
                ids.append(index[ref])
            one_way = network == "drive" and (
                tags.get("oneway") in _ONEWAY or tags.get("junction") == "roundabout"
            )
            rev = one_way and tags.get("oneway") in _REVERSED
            for p, q in itertools.pairwise(ids):
                if p == q:
                    continue
                a.append(q if rev else p)
                b.append(p if rev else q)
                back.append(not one_way)
        lon_a, lat_a = np.asarray(lon), np.asarray(lat)
        sa, sb, two = np.asarray(a), np.asarray(b), np.asarray(back)
        if box is not None:  # the builder clips XML exports to <bounds>, vertex by vertex
            inside = (lon_a >= box[0]) & (lon_a <= box[2]) & (lat_a >= box[1]) & (lat_a <= box[3])
            keep_seg = inside[sa] & inside[sb]
            sa, sb, two = sa[keep_seg], sb[keep_seg], two[keep_seg]
        # the largest strongly connected component of the vertex graph
        n = lon_a.size
        rows = np.concatenate([sa, sb[two]])
        cols = np.concatenate([sb, sa[two]])
        graph = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
        _, label = connected_components(graph, directed=True, connection="strong")
        used = np.unique(np.concatenate([sa, sb]))
        biggest = np.bincount(label[used]).argmax()
        keep_seg = (label[sa] == biggest) & (label[sb] == biggest)
        sa, sb, two = sa[keep_seg], sb[keep_seg], two[keep_seg]
        kept = np.unique(np.concatenate([sa, sb]))
        new = np.full(n, -1)
        new[kept] = np.arange(kept.size)
        lon_k, lat_k = lon_a[kept], lat_a[kept]
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon_k, lat_k)
        sa, sb = new[sa], new[sb]
        return cls(
            x=np.asarray(x),
            y=np.asarray(y),
            lon=lon_k,
            lat=lat_k,
            a=sa,
            b=sb,
            length=haversine(lon_k[sa], lat_k[sa], lon_k[sb], lat_k[sb]),
            two_way=two,
            speed_mps=speed_mps,
            leg_speed_mps=leg_speed_mps or speed_mps,
        )

    # ---------------------------------------------------------------- points

    def _tree(self) -> shapely.STRtree:
        if not hasattr(self, "_strtree"):
            lines = shapely.linestrings(
                np.stack(
                    [
                        np.column_stack([self.x[self.a], self.y[self.a]]),
                        np.column_stack([self.x[self.b], self.y[self.b]]),
                    ],
                    axis=1,
                )
            )
            self._lines = lines
            self._strtree = shapely.STRtree(lines)
        return self._strtree

    def locate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest segment of each point, the position ``t`` on it and the distance (m)."""
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        tree = self._tree()
        (_, seg), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        ax, ay = self.x[self.a[seg]], self.y[self.a[seg]]
        dx, dy = self.x[self.b[seg]] - ax, self.y[self.b[seg]] - ay
        ll = dx * dx + dy * dy
        t = np.where(ll > 0, ((np.asarray(x) - ax) * dx + (np.asarray(y) - ay) * dy) / ll, 0.0)
        return seg, np.clip(t, 0.0, 1.0), dist

    def near_streets(self, rng: np.random.Generator, n: int, spread: float) -> np.ndarray:
        """``n`` projected points near random spots of random segments, up to ``spread`` m off
        them in x and y (test input: points along the streets and beside them)."""
        s = rng.integers(0, self.a.size, n)
        t = rng.uniform(0, 1, n)
        x = self.x[self.a[s]] + t * (self.x[self.b[s]] - self.x[self.a[s]])
        y = self.y[self.a[s]] + t * (self.y[self.b[s]] - self.y[self.a[s]])
        return np.column_stack([x, y]) + rng.uniform(-spread, spread, (n, 2))

    def _graph(self, x: np.ndarray, y: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Time CSR with the points as extra nodes on their segments, and the legs (s)."""
        seg, t, dist = self.locate(x, y)
        n, m = self.x.size, np.asarray(x).size
        order = np.lexsort((t, seg))
        rows, cols, w = [], [], []
        # untouched segments as they are
        touched = np.zeros(self.a.size, dtype=bool)
        touched[seg] = True
        plain = ~touched
        rows += [self.a[plain], self.b[plain & self.two_way]]
        cols += [self.b[plain], self.a[plain & self.two_way]]
        w += [self.length[plain], self.length[plain & self.two_way]]
        i = 0
        while i < m:
            s = int(seg[order[i]])
            j = i
            chain = [int(self.a[s])]
            frac = [0.0]
            while j < m and seg[order[j]] == s:
                chain.append(n + int(order[j]))
                frac.append(float(t[order[j]]))
                j += 1
            chain.append(int(self.b[s]))
            frac.append(1.0)
            for p, q, f0, f1 in zip(chain[:-1], chain[1:], frac[:-1], frac[1:], strict=True):
                piece = max((f1 - f0) * float(self.length[s]), 1e-9)
                rows.append(np.array([p]))
                cols.append(np.array([q]))
                w.append(np.array([piece]))
                if self.two_way[s]:
                    rows.append(np.array([q]))
                    cols.append(np.array([p]))
                    w.append(np.array([piece]))
            i = j
        r = np.concatenate(rows).astype(np.int64)
        c = np.concatenate(cols).astype(np.int64)
        weight = np.concatenate(w) / self.speed_mps
        # duplicate segments (overlapping ways): keep the minimum, not the sum
        pick = np.lexsort((weight, c, r))
        r, c, weight = r[pick], c[pick], weight[pick]
        first = np.ones(r.size, dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        graph = sparse.csr_matrix((weight[first], (r[first], c[first])), shape=(n + m, n + m))
        return graph, dist

    def walk_times(
        self,
        origins: np.ndarray,
        targets: np.ndarray,
        *,
        max_distance: float = 500.0,
    ) -> np.ndarray:
        """Door-to-door times (s), shape ``(len(origins), len(targets))``; ``inf`` off the map.

        ``origins`` and ``targets`` are ``(k, 2)`` projected x/y in the reference's CRS.
        """
        origins = np.atleast_2d(np.asarray(origins, dtype=float))
        targets = np.atleast_2d(np.asarray(targets, dtype=float))
        pts = np.vstack([origins, targets])
        graph, dist = self._graph(pts[:, 0], pts[:, 1])
        n, no = self.x.size, len(origins)
        net = np.atleast_2d(dijkstra(graph, indices=n + np.arange(no)))[
            :, n + no + np.arange(len(targets))
        ]
        leg = dist / self.leg_speed_mps
        out = leg[:no, None] + net + leg[None, no:]
        ok = dist <= max_distance
        out[~ok[:no]] = np.inf
        out[:, ~ok[no:]] = np.inf
        return out

    def shortest(
        self, a: tuple[float, float], b: tuple[float, float]
    ) -> tuple[float, float, np.ndarray]:
        """Door-to-door time (s), length (m, legs included) and projected path of one walk."""
        pts = np.array([a, b], dtype=float)
        graph, dist = self._graph(pts[:, 0], pts[:, 1])
        n = self.x.size
        d, pred = dijkstra(graph, indices=n, return_predecessors=True)
        t_net = float(d[n + 1])
        nodes = [n + 1]
        while pred[nodes[-1]] >= 0:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        xy_all = np.vstack([np.column_stack([self.x, self.y]), self._projections(pts)])
        coords = np.vstack([pts[:1], xy_all[nodes], pts[1:]])
        total_t = t_net + float(dist.sum()) / self.leg_speed_mps
        return total_t, t_net * self.speed_mps + float(dist.sum()), coords

    def _projections(self, pts: np.ndarray) -> np.ndarray:
        seg, t, _ = self.locate(pts[:, 0], pts[:, 1])
        ax, ay = self.x[self.a[seg]], self.y[self.a[seg]]
        bx, by = self.x[self.b[seg]], self.y[self.b[seg]]
        return np.column_stack([ax + t * (bx - ax), ay + t * (by - ay)])


def _xml_bounds(path: Path) -> tuple[float, float, float, float] | None:
    """``<bounds>`` of an OSM XML file (read from its first lines)."""
    import bz2
    import gzip

    opener: Any = (
        bz2.open if path.name.endswith(".bz2") else gzip.open if path.name.endswith(".gz") else open
    )
    with opener(path, "rt", encoding="utf-8") as fh:
        head = fh.read(4096)
    match = re.search(r"<bounds\s+([^>]*)/?>", head)
    if not match:
        return None
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
    return (
        float(attrs["minlon"]),
        float(attrs["minlat"]),
        float(attrs["maxlon"]),
        float(attrs["maxlat"]),
    )
