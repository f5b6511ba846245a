"""The checker's own measurements on an Area: fastest drives and walks between raw positions.

Used by :func:`routing.shuttle.check.check_plan` only. Every place (stop, workplace, home) is
located on its network's nearest edge from its coordinates (``Area.locate``); a trip between
two located points is then computed by hand, not with the planner's point insertion: leave
the first point along its edge to one of the edge's ends (``exits``), take the fastest path
between graph nodes (plain ``scipy.sparse.csgraph.dijkstra`` on the Area's arrays), enter the
second point's edge from one of its ends (``entries``), or stay on the edge when both points
share it and the direction allows. Walks add the straight legs from the home to its street
and from the street to the stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .check import Violation, wp_key

if TYPE_CHECKING:
    from routing.area import Area
    from routing.edges import EdgePoints, EdgeTable

    from .model import Plan

__all__ = ["GraphOracle"]

LonLat = tuple[float, float]


def _through_nodes(
    leave: tuple[np.ndarray, np.ndarray], enter: tuple[np.ndarray, np.ndarray], dist: np.ndarray
) -> float:
    """Best cost leaving by one of ``leave`` (nodes, costs), crossing ``dist`` (a row per
    leaving node, a column per entering node) and entering by one of ``enter``."""
    best = np.inf
    for k, (na, ca) in enumerate(zip(*leave, strict=True)):
        if na < 0:
            continue
        for nb, cb in zip(*enter, strict=True):
            if nb >= 0:
                best = min(best, float(ca + dist[k][nb] + cb))
    return best


def _same_edge(
    table: EdgeTable, a: EdgePoints, i: int, b: EdgePoints, j: int, weight: np.ndarray
) -> float:
    """Cost from point ``i`` of ``a`` to point ``j`` of ``b`` without leaving their edge."""
    if not (a.ok[i] and b.ok[j]) or a.edge[i] != b.edge[j]:
        return np.inf
    e = int(a.edge[i])
    fa, fb = float(a.frac[i]), float(b.frac[j])
    best = np.inf
    if fb >= fa:
        best = (fb - fa) * float(weight[e])
    tw = int(table.twin[e])
    if tw >= 0 and fb <= fa:
        best = min(best, (fa - fb) * float(weight[tw]))
    return best


class GraphOracle:
    """Drive times and walk lengths among a plan's places, measured on ``area``'s graphs."""

    def __init__(self, plan: Plan, area: Area) -> None:
        self.plan = plan
        self.area = area
        self.violations: list[Violation] = []
        wps = sorted(
            {ln.workplace for ln in plan.lines}
            | {r.workplace or plan.workplace for r in plan.riders}
        )
        self._places: dict[str, LonLat] = {st.id: (st.lon, st.lat) for st in plan.stops}
        for ln in plan.lines:
            for v in ln.stops:
                self._places.setdefault(v.stop_id, (v.lon, v.lat))
        for w in wps:
            self._places[wp_key(w)] = w
        self._keys = list(self._places)
        self._pos = {k: i for i, k in enumerate(self._keys)}
        lon = [self._places[k][0] for k in self._keys]
        lat = [self._places[k][1] for k in self._keys]
        s = plan.settings
        if self._keys:
            self._drive_pts = area.locate(lon, lat, network="drive", max_distance=s.max_stop_snap_m)
        used = {v.stop_id for ln in plan.lines for v in ln.stops}
        for sid in sorted(used):
            if not self._drive_pts.ok[self._pos[sid]]:
                d = float(self._drive_pts.distance[self._pos[sid]])
                self.violations.append(
                    Violation("timetable", sid, f"stop is {d:.0f} m from the drive graph")
                )

    def drive_times(self, pairs: list[tuple[str, str]]) -> list[float]:
        """Fastest drive seconds for each ``(from, to)``; ``nan`` where a place is unknown."""
        drive = self.area.arrays("drive")
        table = drive.edges
        pts = self._drive_pts
        ex_node, ex_t, _ = pts.exits(table)
        en_node, en_t, _ = pts.entries(table)
        src = sorted(
            {int(n) for a, _ in pairs if a in self._pos for n in ex_node[self._pos[a]] if n >= 0}
        )
        row = {n: k for k, n in enumerate(src)}
        dist = dijkstra(drive.time, directed=True, indices=src) if src else np.zeros((0, drive.n))
        out: list[float] = []
        for a, b in pairs:
            if a not in self._pos or b not in self._pos:
                out.append(np.nan)
                continue
            i, j = self._pos[a], self._pos[b]
            if not (pts.ok[i] and pts.ok[j]):
                out.append(np.nan)
                continue
            if a == b:
                out.append(0.0)
                continue
            rows = [dist[row[int(n)]] if n >= 0 else None for n in ex_node[i]]
            through = _through_nodes((ex_node[i], ex_t[i]), (en_node[j], en_t[j]), rows)  # type: ignore[arg-type]
            out.append(min(_same_edge(table, pts, i, pts, j, table.time), through))
        return out

    def walks(self, pairs: list[tuple[str, str]]) -> list[float]:
        """Walk metres from each rider's home to the place (``inf`` beyond the maximum walk)."""
        riders = {r.id: r for r in self.plan.riders}
        todo = [(k, rid, p) for k, (rid, p) in enumerate(pairs) if rid in riders and p in self._pos]
        out = [np.inf] * len(pairs)
        if not todo:
            return out
        walk = self.area.arrays("walk")
        table = walk.edges
        limit = self.plan.settings.max_walk_m + 1.0
        homes = self.area.locate(
            [riders[rid].lon for _, rid, _ in todo],
            [riders[rid].lat for _, rid, _ in todo],
            network="walk",
            max_distance=np.inf,
        )
        places = self.area.locate(
            [self._places[p][0] for _, _, p in todo],
            [self._places[p][1] for _, _, p in todo],
            network="walk",
            max_distance=np.inf,
        )
        h_node, _, h_len = homes.exits(table)
        p_node, _, p_len = places.entries(table)
        src = sorted({int(n) for row in p_node for n in row if n >= 0})
        row_of = {n: k for k, n in enumerate(src)}
        # Distances *to* each entry node: Dijkstra on the reversed graph, bounded.
        rev = dijkstra(walk.length.T.tocsr(), directed=True, indices=src, limit=limit)
        for j, (k, _, _) in enumerate(todo):
            # rev holds distances *to* entry nodes: transpose so rows are the homes' exits
            cols = [rev[row_of[int(n)]] if n >= 0 else None for n in p_node[j]]
            through = _through_nodes(
                (p_node[j], p_len[j]),
                (h_node[j], h_len[j]),
                cols,  # type: ignore[arg-type]
            )
            best = min(_same_edge(table, homes, j, places, j, table.length), through)
            w = best + float(homes.distance[j]) + float(places.distance[j])
            out[k] = w if np.isfinite(w) and w <= limit else np.inf
        return out
