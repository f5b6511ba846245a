"""Timetables and path geometry of solved lines.

A bus arrives at a stop, dwells ``dwell_s`` plus ``boarding_s`` per boarding rider, and drives
the fastest path to the next stop, then to the workplace. Times are computed *backwards* from
the arrival at work (the deadline minus the margin), so every departure is as late as the
deadline allows and no bus idles at a stop. At a stop the bus boards its rider groups (one
per solver client: riders with the same ride limit) one after the other, then dwells; a
rider's board time is the start of their group's boarding (the bus's arrival for the first
group) and their ride is the arrival at work minus the board time.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from .matrix import UNREACHABLE, path_indices
from .model import Assignment, CandidateStop, Fleet, Line, StopVisit

if TYPE_CHECKING:
    from routing.area import Area
    from routing.network import GraphArrays

    from .matrix import StopMatrix
    from .settings import ShuttleSettings
    from .solve import RouteResult

__all__ = ["attach_paths", "build_line", "schedule_backward"]


def schedule_backward(
    stop_sequence: Sequence[int],
    boarding: Sequence[int],
    travel: Sequence[int],
    *,
    arrival: int,
    dwell_s: int,
    boarding_s: int,
) -> list[tuple[int, int]]:
    """Latest ``(arrival, departure)`` at each stop so the bus reaches work at ``arrival``.

    Parameters
    ----------
    stop_sequence
        The stops in driving order (only their count matters here).
    boarding
        Riders boarding at each stop.
    travel
        Drive seconds from each stop to the next; the last entry is the drive to work.
    arrival
        Arrival at the workplace.
    """
    n = len(stop_sequence)
    if len(boarding) != n or len(travel) != n:
        msg = f"Expected {n} boarding counts and travel times, got {len(boarding)}, {len(travel)}"
        raise ValueError(msg)
    out: list[tuple[int, int]] = [(0, 0)] * n
    t = arrival
    for k in range(n - 1, -1, -1):
        dep = t - int(travel[k])
        arr = dep - dwell_s - boarding_s * int(boarding[k])
        out[k] = (arr, dep)
        t = arr
    return out


def build_line(
    line_id: str,
    route: RouteResult,
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    workplace: int,
    workplace_lonlat: tuple[float, float],
    *,
    deadline: int,
    settings: ShuttleSettings,
    fleet: Fleet,
    walk: Mapping[tuple[str, int], float],
) -> tuple[Line, list[Assignment]]:
    """Turn a solved route into a :class:`Line` with its timetable and rider assignments.

    Consecutive visits to the same stop (riders split into several solver clients) become one
    call. ``walk`` maps ``(rider id, stop index)`` to the walk in metres.
    """
    merged: list[tuple[int, list[str]]] = []
    offset: dict[str, int] = {}  # rider -> riders boarding before their group at the call
    for s, visit_riders in route.visits:
        if merged and merged[-1][0] == s:
            before = len(merged[-1][1])
            merged[-1][1].extend(visit_riders)
        else:
            before = 0
            merged.append((s, list(visit_riders)))
        for rid in visit_riders:
            offset[rid] = before
    seq = [s for s, _ in merged]
    nxt = [*seq[1:], workplace]
    travel = [int(matrix.duration[a, b]) for a, b in zip(seq, nxt, strict=True)]
    if any(t >= UNREACHABLE for t in travel):
        msg = f"Expected a drivable line, got an unreachable leg in {line_id}"
        raise ValueError(msg)
    dist = float(sum(int(matrix.distance[a, b]) for a, b in zip(seq, nxt, strict=True)))
    arrival = deadline - settings.arrival_margin_s
    times = schedule_backward(
        seq,
        [len(r) for _, r in merged],
        travel,
        arrival=arrival,
        dwell_s=settings.dwell_s,
        boarding_s=settings.boarding_s,
    )
    visits: list[StopVisit] = []
    assignments: list[Assignment] = []
    load = 0
    for (s, rids), (arr, dep) in zip(merged, times, strict=True):
        load += len(rids)
        st = stops[s]
        visits.append(StopVisit(st.id, st.lon, st.lat, arr, dep, len(rids), load, st.name))
        for rid in rids:
            board = arr + settings.boarding_s * offset[rid]
            assignments.append(
                Assignment(rid, line_id, st.id, float(walk[(rid, s)]), board, arrival)
            )
    duration = arrival - times[0][0] if times else 0
    bus = fleet[route.bus_type]
    line = Line(
        id=line_id,
        bus_type=route.bus_type,
        stops=tuple(visits),
        distance_m=dist,
        duration_s=duration,
        workplace=workplace_lonlat,
        arrival_s=arrival,
        deadline_s=deadline,
        cost=round(bus.trip_cost(dist, duration), 2),
    )
    return line, assignments


def attach_paths(
    lines: Sequence[Line],
    node_of_stop: Mapping[str, int],
    workplace_node: Mapping[tuple[float, float], int],
    arrays: GraphArrays,
    *,
    area: Area | None = None,
) -> list[Line]:
    """Add the driven geometry (lon/lat along the drive graph's fastest paths) to lines.

    One multi-source Dijkstra with predecessors over all leg origins; each leg's path is read
    off the predecessor tree. ``node_of_stop`` maps stop ids and ``workplace_node`` workplace
    ``(lon, lat)`` to dense drive-graph indices. With ``area``, each edge contributes its own
    curved geometry (the fastest of parallel edges); otherwise node positions are joined.
    """
    legs: list[tuple[int, int]] = []
    for ln in lines:
        nodes = [node_of_stop[v.stop_id] for v in ln.stops] + [workplace_node[ln.workplace]]
        legs.extend(itertools.pairwise(nodes))
    sources = sorted({a for a, _ in legs})
    if not sources:
        return list(lines)
    _, pred = dijkstra(arrays.time, directed=True, indices=sources, return_predecessors=True)
    row = {s: i for i, s in enumerate(sources)}
    out: list[Line] = []
    for ln in lines:
        nodes = [node_of_stop[v.stop_id] for v in ln.stops] + [workplace_node[ln.workplace]]
        path: list[int] = [nodes[0]]
        for a, b in itertools.pairwise(nodes):
            if a == b:
                continue
            path.extend(path_indices(pred[row[a]], b)[1:])
        p = np.asarray(path, dtype=np.intp)
        if area is not None and len(p) > 1:
            coords = _edge_coords(area, arrays, p)
        else:
            coords = np.column_stack([arrays.lon[p], arrays.lat[p]])
        if len(coords) == 1:
            coords = np.vstack([coords, coords])
        out.append(replace(ln, path=LineString(coords)))
    return out


def _edge_coords(area: Area, arrays: GraphArrays, path: np.ndarray) -> np.ndarray:
    """Lon/lat of a node path following each edge's geometry (the drive EdgeTable's shapes)."""
    from routing.paths import path_lonlat

    return path_lonlat(area, path, network="drive")
