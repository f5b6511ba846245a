"""Timetables and path geometry of solved lines.

To work, a bus arrives at a stop, dwells ``dwell_s`` plus ``boarding_s`` per boarding rider,
and drives the fastest path to the next stop, then to the workplace. Times are computed
*backwards* from the arrival at work (the deadline minus the margin), so every departure is
as late as the deadline allows and no bus idles at a stop. At a stop the bus boards its rider
groups (one per solver client: riders with the same ride limit) one after the other, then
dwells; a rider's board time is the start of their group's boarding (the bus's arrival for
the first group) and their ride is the arrival at work minus the board time.

Home, the bus reaches the workplace in time to board everyone (``dwell_s`` plus ``boarding_s``
per rider) and leaves at the shift end; times run *forwards* from that departure. At each
stop riders alight group after group (``boarding_s`` each), then the bus dwells and drives
on; a rider's ride runs from the departure at work to the start of their group's alighting.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from shapely.geometry import LineString

from .matrix import UNREACHABLE
from .model import Assignment, CandidateStop, Fleet, Line, StopVisit

if TYPE_CHECKING:
    from .matrix import StopMatrix
    from .roads import Located
    from .settings import ShuttleSettings
    from .solve import RouteResult

__all__ = ["attach_paths", "build_line", "schedule_backward", "schedule_forward"]


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


def schedule_forward(
    alighting: Sequence[int],
    travel: Sequence[int],
    *,
    departure: int,
    dwell_s: int,
    boarding_s: int,
) -> list[tuple[int, int]]:
    """``(arrival, departure)`` at each stop of a trip home leaving work at ``departure``.

    ``travel[k]`` is the drive to stop ``k`` from the previous stop (from work for ``k = 0``);
    ``alighting[k]`` riders get off at stop ``k``.
    """
    if len(alighting) != len(travel):
        msg = f"Expected one travel time per stop, got {len(travel)} for {len(alighting)} stops"
        raise ValueError(msg)
    out: list[tuple[int, int]] = []
    t = departure
    for n, leg in zip(alighting, travel, strict=True):
        arr = t + int(leg)
        t = arr + dwell_s + boarding_s * int(n)
        out.append((arr, t))
    return out


def build_line(
    line_id: str,
    route: RouteResult,
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    workplace: int,
    workplace_lonlat: tuple[float, float],
    *,
    wave_time: int,
    settings: ShuttleSettings,
    fleet: Fleet,
    walk: Mapping[tuple[str, int], float],
) -> tuple[Line, list[Assignment]]:
    """Turn a solved route into a :class:`Line` with its timetable and rider assignments.

    ``wave_time`` is the deadline (to work) or the departure from work (home). Consecutive
    visits to the same stop (riders split into several solver clients) become one call.
    ``walk`` maps ``(rider id, stop index)`` to the walk in metres.
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
    to_work = route.direction == "to_work"
    legs = (
        list(zip(seq, [*seq[1:], workplace], strict=True))
        if to_work
        else list(zip([workplace, *seq[:-1]], seq, strict=True))
    )
    travel = [int(matrix.duration[a, b]) for a, b in legs]
    if any(t >= UNREACHABLE for t in travel):
        msg = f"Expected a drivable line, got an unreachable leg in {line_id}"
        raise ValueError(msg)
    dist = float(sum(int(matrix.distance[a, b]) for a, b in legs))
    counts = [len(r) for _, r in merged]
    total = sum(counts)
    if to_work:
        at_work = wave_time - settings.arrival_margin_s
        times = schedule_backward(
            seq,
            counts,
            travel,
            arrival=at_work,
            dwell_s=settings.dwell_s,
            boarding_s=settings.boarding_s,
        )
        leaves_work = None
        duration = at_work - times[0][0] if times else 0
    else:
        leaves_work = wave_time
        at_work = wave_time - settings.dwell_s - settings.boarding_s * total
        times = schedule_forward(
            counts,
            travel,
            departure=wave_time,
            dwell_s=settings.dwell_s,
            boarding_s=settings.boarding_s,
        )
        duration = (times[-1][1] if times else wave_time) - at_work
    visits: list[StopVisit] = []
    assignments: list[Assignment] = []
    load = 0 if to_work else total
    for (s, rids), (arr, dep) in zip(merged, times, strict=True):
        load += len(rids) if to_work else -len(rids)
        st = stops[s]
        visits.append(
            StopVisit(st.id, st.lon, st.lat, arr, dep, len(rids), load, st.name, dict(st.names))
        )
        for rid in rids:
            at_stop = arr + settings.boarding_s * offset[rid]
            board, arrive = (at_stop, at_work) if to_work else (wave_time, at_stop)
            assignments.append(
                Assignment(
                    rid,
                    line_id,
                    st.id,
                    float(walk[(rid, s)]),
                    board,
                    arrive,
                    direction=route.direction,
                )
            )
    bus = fleet[route.bus_type]
    line = Line(
        id=line_id,
        bus_type=route.bus_type,
        stops=tuple(visits),
        distance_m=dist,
        duration_s=duration,
        workplace=workplace_lonlat,
        arrival_s=at_work,
        deadline_s=wave_time,
        cost=round(bus.running_cost(dist, duration), 2),
        direction=route.direction,
        workplace_departure_s=leaves_work,
    )
    return line, assignments


def attach_paths(
    lines: Sequence[Line],
    located: Located,
    point_of: Mapping[str, int],
    workplace_point: Mapping[tuple[float, float], int],
) -> list[Line]:
    """Add the driven geometry (lon/lat along the drive graph's fastest paths) to lines.

    ``located`` holds the stops and workplaces as points on the drive graph; ``point_of``
    maps stop ids and ``workplace_point`` workplaces ``(lon, lat)`` to their point indices.
    One multi-source Dijkstra over all leg origins; each edge contributes its own geometry,
    the first and last pieces run from and to the points' positions on their edges.
    """

    def trip_points(ln: Line) -> list[int]:
        calls = [point_of[v.stop_id] for v in ln.stops]
        wp = workplace_point[ln.workplace]
        return [*calls, wp] if ln.to_work else [wp, *calls]

    legs = sorted({leg for ln in lines for leg in itertools.pairwise(trip_points(ln))})
    shapes = dict(zip(legs, located.paths_lonlat(legs), strict=True))
    out: list[Line] = []
    for ln in lines:
        pieces = [shapes[leg] for leg in itertools.pairwise(trip_points(ln))]
        if not pieces:
            continue
        coords = np.vstack([pieces[0], *(p[1:] for p in pieces[1:])])
        if len(coords) == 1:
            coords = np.vstack([coords, coords])
        out.append(replace(ln, path=LineString(coords)))
    return out
