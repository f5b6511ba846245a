"""An independent checker of shuttle plans.

It trusts nothing the optimiser computed: it re-derives every rider's deadline and ride limit
from the plan's riders and settings, recomputes walks on the walk graph and drives on the
drive graph (or takes them from a matrix and walk table given by the caller, for synthetic
instances), and replays every timetable. It only uses the plan's data (riders, stops, lines,
assignments, unserved) and the graphs — no module of the planner except the data classes.

The rules (one :class:`Violation` per breach):

``rider_missing`` / ``rider_twice`` / ``unknown_rider``
    Every rider is served exactly once or reported unserved exactly once.
``fleet``
    No more lines of a bus type than buses of that type.
``capacity``
    No bus carries more riders than it has seats; loads add up.
``assignment``
    An assignment names a line and a stop the line calls at; the rider boards between the
    bus's arrival there and the start of the last boarding (groups board one after another).
``deadline``
    Every arrival at or before the rider's deadline.
``ride_limit``
    Every ride (board to arrival) within the rider's limit.
``walk``
    Every walk within the maximum, and as long as the walk graph says (1 m tolerance).
``timetable``
    Stop times: ``departure - arrival = dwell + boarding x riders``; drives between calls and
    to work match the fastest drive on the graph (1 s tolerance per leg for rounding); no bus
    leaves before the earliest departure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .model import Plan, Rider

if TYPE_CHECKING:
    from routing.area import Area

    from .matrix import StopMatrix

__all__ = ["Violation", "check_plan"]

_TIME_TOL = 1  # seconds per leg (integer rounding of graph times)
_WALK_TOL = 1.0  # metres


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``kind`` (see the module doc), the rider/line concerned, a message."""

    kind: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} [{self.subject}]: {self.message}"


def _limits(r: Rider, plan: Plan) -> tuple[int, int]:
    deadline = r.deadline if r.deadline is not None else plan.settings.deadline_s
    limit = (
        r.max_ride_s if r.max_ride_s is not None else round(plan.settings.default_max_ride_min * 60)
    )
    return int(deadline), int(limit)


def check_plan(
    plan: Plan,
    area: Area | None = None,
    *,
    matrix: StopMatrix | None = None,
    walk: Mapping[tuple[str, str], float] | None = None,
    workplace_ids: Mapping[tuple[float, float], str] | None = None,
) -> list[Violation]:
    """Check a plan against its riders, fleet, settings and the graphs; return all violations.

    Parameters
    ----------
    plan
        The plan to check (it carries its riders, fleet, stops and settings).
    area
        The Area the plan was made on: walks are recomputed on its walk graph and drives on
        its drive graph.
    matrix, walk, workplace_ids
        For instances without a graph: drive durations among stop ids and workplace ids,
        walking metres per ``(rider id, stop id)``, and the matrix id of each workplace
        ``(lon, lat)``. Ignored when ``area`` is given.

    Returns
    -------
    list[Violation]
        Empty when the plan keeps every rule.
    """
    out: list[Violation] = []
    s = plan.settings
    riders = {r.id: r for r in plan.riders}

    # Every rider exactly once.
    seen: dict[str, int] = {}
    for rid in [a.rider_id for a in plan.assignments] + [u.rider_id for u in plan.unserved]:
        seen[rid] = seen.get(rid, 0) + 1
    for rid in riders:
        if rid not in seen:
            out.append(Violation("rider_missing", rid, "neither served nor reported unserved"))
        elif seen[rid] > 1:
            out.append(Violation("rider_twice", rid, f"appears {seen[rid]} times"))
    for rid in seen:
        if rid not in riders:
            out.append(Violation("unknown_rider", rid, "not among the plan's riders"))

    # Fleet and capacity.
    lines = {ln.id: ln for ln in plan.lines}
    if plan.fleet is not None:
        used: dict[str, int] = {}
        for ln in plan.lines:
            used[ln.bus_type] = used.get(ln.bus_type, 0) + 1
        for name, n in used.items():
            try:
                bus = plan.fleet[name]
            except KeyError:
                out.append(Violation("fleet", name, "bus type not in the fleet"))
                continue
            if n > bus.count:
                out.append(Violation("fleet", name, f"{n} lines but {bus.count} buses"))
    per_call: dict[tuple[str, str], int] = {}
    for a in plan.assignments:
        per_call[(a.line_id, a.stop_id)] = per_call.get((a.line_id, a.stop_id), 0) + 1
    for ln in plan.lines:
        seats = None
        if plan.fleet is not None:
            try:
                seats = plan.fleet[ln.bus_type].seats
            except KeyError:
                seats = None
        load = 0
        stop_ids = [v.stop_id for v in ln.stops]
        for v in ln.stops:
            load += v.boarding
            if v.load_after != load:
                out.append(
                    Violation(
                        "capacity",
                        ln.id,
                        f"load after {v.stop_id} is {v.load_after}, boardings add up to {load}",
                    )
                )
            if stop_ids.count(v.stop_id) == 1 and per_call.get((ln.id, v.stop_id), 0) != v.boarding:
                out.append(
                    Violation(
                        "capacity",
                        ln.id,
                        f"{v.boarding} boardings at {v.stop_id} "
                        f"but {per_call.get((ln.id, v.stop_id), 0)} riders assigned",
                    )
                )
        if seats is not None and load > seats:
            out.append(Violation("capacity", ln.id, f"{load} riders on {seats} seats"))

    # Assignments: deadline, ride limit, consistency with the line.
    for a in plan.assignments:
        r = riders.get(a.rider_id)
        found = lines.get(a.line_id)
        if found is None:
            out.append(Violation("assignment", a.rider_id, f"unknown line {a.line_id}"))
            continue
        ln = found
        calls = [v for v in ln.stops if v.stop_id == a.stop_id]
        if not calls:
            out.append(
                Violation(
                    "assignment", a.rider_id, f"line {a.line_id} does not call at {a.stop_id}"
                )
            )
        elif not any(
            v.arrival_s <= a.board_time_s <= v.departure_s - s.dwell_s - s.boarding_s for v in calls
        ):
            out.append(
                Violation(
                    "assignment",
                    a.rider_id,
                    f"board time {a.board_time_s} s outside the boarding at {a.stop_id}",
                )
            )
        if a.arrival_time_s != ln.arrival_s:
            out.append(Violation("assignment", a.rider_id, "arrival differs from the line's"))
        if r is None:
            continue
        deadline, limit = _limits(r, plan)
        if ln.arrival_s > deadline or a.arrival_time_s > deadline:
            out.append(
                Violation(
                    "deadline", a.rider_id, f"arrives {ln.arrival_s} s, deadline {deadline} s"
                )
            )
        ride = ln.arrival_s - a.board_time_s
        if ride > limit:
            out.append(Violation("ride_limit", a.rider_id, f"rides {ride} s, limit {limit} s"))
        if a.walk_m > s.max_walk_m + _WALK_TOL:
            out.append(
                Violation("walk", a.rider_id, f"walks {a.walk_m:.0f} m, max {s.max_walk_m:.0f} m")
            )
        wp = r.workplace or plan.workplace
        if (round(wp[0], 7), round(wp[1], 7)) != (
            round(ln.workplace[0], 7),
            round(ln.workplace[1], 7),
        ):
            out.append(Violation("assignment", a.rider_id, "line goes to another workplace"))

    # Timetables (stop times, earliest departure).
    for ln in plan.lines:
        for v in ln.stops:
            expected = s.dwell_s + s.boarding_s * v.boarding
            if v.departure_s - v.arrival_s != expected:
                out.append(
                    Violation(
                        "timetable",
                        ln.id,
                        f"stops {v.departure_s - v.arrival_s} s "
                        f"at {v.stop_id}, expected {expected} s",
                    )
                )
        if ln.stops and ln.stops[0].arrival_s < s.earliest_departure_s:
            out.append(Violation("timetable", ln.id, "starts before the earliest departure"))

    if area is not None:
        out.extend(_check_on_graphs(plan, area))
    elif matrix is not None:
        out.extend(_check_on_matrix(plan, matrix, walk or {}, workplace_ids or {}))
    return out


def _legs(plan: Plan) -> list[tuple[str, str, str, int]]:
    """(line id, from stop id, to stop id or '', scheduled seconds) for every driven leg."""
    legs = []
    for ln in plan.lines:
        for a, b in zip(ln.stops[:-1], ln.stops[1:], strict=True):
            legs.append((ln.id, a.stop_id, b.stop_id, b.arrival_s - a.departure_s))
        if ln.stops:
            legs.append((ln.id, ln.stops[-1].stop_id, "", ln.arrival_s - ln.stops[-1].departure_s))
    return legs


def _leg_violation(line_id: str, a: str, b: str, scheduled: int, fastest: float) -> list[Violation]:
    if not np.isfinite(fastest):
        return [Violation("timetable", line_id, f"no drive from {a} to {b or 'work'}")]
    if abs(scheduled - fastest) > _TIME_TOL:
        return [
            Violation(
                "timetable",
                line_id,
                f"{a} -> {b or 'work'} scheduled {scheduled} s, fastest drive {fastest:.1f} s",
            )
        ]
    return []


def _check_on_matrix(
    plan: Plan,
    matrix: StopMatrix,
    walk: Mapping[tuple[str, str], float],
    workplace_ids: Mapping[tuple[float, float], str],
) -> list[Violation]:
    out: list[Violation] = []
    index = {k: i for i, k in enumerate(matrix.ids)}
    lines = {ln.id: ln for ln in plan.lines}
    for line_id, a, b, sched in _legs(plan):
        ln = lines[line_id]
        to = b or workplace_ids.get(ln.workplace, "")
        if a not in index or to not in index:
            out.append(Violation("timetable", line_id, f"leg {a} -> {to} not in the matrix"))
            continue
        out.extend(
            _leg_violation(line_id, a, b, sched, float(matrix.duration[index[a], index[to]]))
        )
    for asg in plan.assignments:
        true = walk.get((asg.rider_id, asg.stop_id))
        if true is None or true > plan.settings.max_walk_m + _WALK_TOL:
            out.append(
                Violation("walk", asg.rider_id, f"{asg.stop_id} is not within walking distance")
            )
        elif abs(true - asg.walk_m) > _WALK_TOL:
            out.append(
                Violation(
                    "walk", asg.rider_id, f"walk given as {asg.walk_m:.0f} m, is {true:.0f} m"
                )
            )
    return out


def _check_on_graphs(plan: Plan, area: Area) -> list[Violation]:
    out: list[Violation] = []
    drive = area.arrays("drive")
    stops = {st.id: st for st in plan.stops}
    node_of: dict[str, int] = {}
    for st in stops.values():
        if st.node >= 0:
            node_of[st.id] = int(drive.index_of([st.node])[0])
    wps = sorted({ln.workplace for ln in plan.lines})
    wp_node: dict[tuple[float, float], int] = {}
    if wps:
        snap = area.snap(
            [w[0] for w in wps], [w[1] for w in wps], network="drive", max_distance=np.inf
        )
        wp_node = {w: int(i) for w, i in zip(wps, snap.index, strict=True)}
    legs = _legs(plan)
    lines = {ln.id: ln for ln in plan.lines}
    missing = {a for _, a, b, _ in legs if a not in node_of} | {
        b for _, _, b, _ in legs if b and b not in node_of
    }
    for m in sorted(missing):
        out.append(Violation("timetable", m, "stop has no drive-graph node in the plan"))
    sources = sorted({node_of[a] for _, a, _, _ in legs if a in node_of})
    if sources:
        t = dijkstra(drive.time, directed=True, indices=sources)
        row = {n: i for i, n in enumerate(sources)}
        for line_id, a, b, sched in legs:
            if a not in node_of or (b and b not in node_of):
                continue
            dst = node_of[b] if b else wp_node[lines[line_id].workplace]
            out.extend(_leg_violation(line_id, a, b, sched, float(t[row[node_of[a]], dst])))

    # Walks: home -> walk node -> graph -> walk node -> stop, on the walk graph.
    riders = {r.id: r for r in plan.riders}
    asg = [a for a in plan.assignments if a.rider_id in riders and a.stop_id in stops]
    if asg:
        walk = area.arrays("walk")
        hs = area.snap(
            [riders[a.rider_id].lon for a in asg],
            [riders[a.rider_id].lat for a in asg],
            network="walk",
            max_distance=np.inf,
        )
        ss = area.snap(
            [stops[a.stop_id].lon for a in asg],
            [stops[a.stop_id].lat for a in asg],
            network="walk",
            max_distance=np.inf,
        )
        src = sorted(set(ss.index.tolist()))
        d = dijkstra(
            walk.length.T.tocsr(),
            directed=True,
            indices=src,
            limit=plan.settings.max_walk_m + _WALK_TOL,
        )
        row = {n: i for i, n in enumerate(src)}
        for k, item in enumerate(asg):
            true = float(d[row[int(ss.index[k])], hs.index[k]] + hs.distance[k] + ss.distance[k])
            if not np.isfinite(true) or true > plan.settings.max_walk_m + _WALK_TOL:
                out.append(
                    Violation(
                        "walk",
                        item.rider_id,
                        f"{item.stop_id} is beyond {plan.settings.max_walk_m:.0f} m of walk graph",
                    )
                )
            elif abs(true - item.walk_m) > _WALK_TOL:
                out.append(
                    Violation(
                        "walk",
                        item.rider_id,
                        f"walk given as {item.walk_m:.0f} m, the walk graph says {true:.0f} m",
                    )
                )
    return out
