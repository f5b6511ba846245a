"""Chain trips onto buses: the fewest buses for a day's timetabled trips, then the least
empty driving.

A bus can run trip ``j`` after trip ``i`` when both need its type and it reaches the start of
``j`` in time: ``end(i) + drive(end of i -> start of j) + turnaround <= start(j)``, the drive
being the fastest one on the drive graph (to work a trip starts at its first stop and ends at
the workplace; home it starts at the workplace and ends at its last stop). Over these links the
buses are a *minimum path cover* of the trip graph, which on a DAG is a maximum matching
between trips and their successors (every matched link saves a bus). It is solved exactly as
one assignment problem per bus type (``scipy.optimize.linear_sum_assignment``) whose link
weights make the number of links come first and the running cost of the empty drives second.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

from .matrix import UNREACHABLE
from .model import Fleet, Line, Vehicle

if TYPE_CHECKING:
    from .matrix import StopMatrix

__all__ = ["TripSpan", "chain_trips", "trip_spans"]


@dataclass(frozen=True)
class TripSpan:
    """When and where a trip starts and ends (``*_loc``: stop-matrix indices)."""

    line_id: str
    bus_type: str
    start_s: int
    end_s: int
    start_loc: int
    end_loc: int


def trip_spans(
    lines: Sequence[Line],
    stop_index: dict[str, int],
    workplace_index: dict[tuple[float, float], int],
) -> list[TripSpan]:
    """The :class:`TripSpan` of every line (stops and workplaces looked up by id / position)."""
    out = []
    for ln in lines:
        wp = workplace_index[ln.workplace]
        first = stop_index[ln.stops[0].stop_id] if ln.stops else wp
        last = stop_index[ln.stops[-1].stop_id] if ln.stops else wp
        start_loc, end_loc = (first, wp) if ln.to_work else (wp, last)
        out.append(TripSpan(ln.id, ln.bus_type, ln.start_s, ln.end_s, start_loc, end_loc))
    return out


def _links(
    spans: Sequence[TripSpan],
    matrix: StopMatrix,
    turnaround_s: int,
    cost_per_m: float,
    cost_per_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feasibility, deadhead seconds and deadhead cost of every ``i -> j`` link."""
    start = np.array([s.start_s for s in spans], dtype=np.int64)
    end = np.array([s.end_s for s in spans], dtype=np.int64)
    sl = np.array([s.start_loc for s in spans], dtype=np.intp)
    el = np.array([s.end_loc for s in spans], dtype=np.intp)
    dh = matrix.duration[np.ix_(el, sl)]
    dm = matrix.distance[np.ix_(el, sl)]
    ok = (dh < UNREACHABLE) & (end[:, None] + dh + turnaround_s <= start[None, :])
    np.fill_diagonal(ok, False)
    cost = dm * cost_per_m + dh * cost_per_s
    return ok, dh, cost


def chain_trips(
    lines: Sequence[Line],
    spans: Sequence[TripSpan],
    matrix: StopMatrix,
    fleet: Fleet,
    *,
    turnaround_s: int,
) -> tuple[list[Line], list[Vehicle]]:
    """Chain the trips onto the fewest buses of their types, then the least empty running.

    Returns the lines with ``vehicle_id`` set and the :class:`Vehicle` s in the order of their
    first trip (``B001``, ``B002``, ...). Trips of different bus types never share a bus.
    """
    by_type: dict[str, list[int]] = {}
    for k, s in enumerate(spans):
        by_type.setdefault(s.bus_type, []).append(k)
    chains: list[tuple[str, list[int], list[tuple[float, int]]]] = []
    for bus_type, members in by_type.items():
        bus = fleet[bus_type]
        sub = [spans[k] for k in members]
        ok, dh, cost = _links(
            sub, matrix, turnaround_s, bus.cost_per_km / 1000.0, bus.cost_per_hour / 3600.0
        )
        n = len(sub)
        # A link is worth more than any sum of empty-running costs: buses first.
        big = float(cost[ok].sum()) + 1.0 if ok.any() else 1.0
        weights = np.full((n, 2 * n), np.inf)
        weights[:, :n] = np.where(ok, cost - big, np.inf)
        weights[np.arange(n), n + np.arange(n)] = 0.0  # no successor
        rows, cols = linear_sum_assignment(weights)
        nxt = np.full(n, -1, dtype=np.intp)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if c < n:
                nxt[r] = c
        has_prev = np.zeros(n, dtype=bool)
        has_prev[nxt[nxt >= 0]] = True
        for head in np.flatnonzero(~has_prev).tolist():
            seq = [head]
            while nxt[seq[-1]] >= 0:
                seq.append(int(nxt[seq[-1]]))
            runs = [
                (float(matrix.distance[sub[a].end_loc, sub[b].start_loc]), int(dh[a, b]))
                for a, b in itertools.pairwise(seq)
            ]
            chains.append((bus_type, [members[i] for i in seq], runs))
    chains.sort(key=lambda c: (spans[c[1][0]].start_s, spans[c[1][0]].line_id))
    vehicle_of: dict[str, str] = {}
    vehicles: list[Vehicle] = []
    for n, (bus_type, seq, runs) in enumerate(chains, start=1):
        vid = f"B{n:03d}"
        ids = tuple(spans[k].line_id for k in seq)
        for line_id in ids:
            vehicle_of[line_id] = vid
        vehicles.append(
            Vehicle(vid, bus_type, ids, tuple(m for m, _ in runs), tuple(s for _, s in runs))
        )
    return [replace(ln, vehicle_id=vehicle_of.get(ln.id, "")) for ln in lines], vehicles
