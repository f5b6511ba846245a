"""An independent checker of shuttle plans.

It trusts nothing the optimiser computed: it re-derives every rider's deadline, evening
departure and ride limit from the plan's riders and settings, recomputes walks on the walk graph
and drives on the drive graph (or takes them from a matrix and walk table given by the caller,
for synthetic instances), and replays every timetable and every bus's day. It only uses the
plan's data (riders, stops, lines, vehicles, assignments, unserved) and the graphs — no module
of the planner except the data classes.

The rules (one :class:`Violation` per breach):

``rider_missing`` / ``rider_twice`` / ``unknown_rider``
    Every rider is served exactly once or reported unserved exactly once to work, and again
    home when they have an evening departure; nobody else appears.
``fleet``
    No more buses of a type than the fleet has; at most ``max_buses`` buses and ``max_lines``
    trips per direction when the settings cap them.
``capacity``
    No bus carries more riders than it has seats; loads add up.
``assignment``
    An assignment names a line of its direction and a stop the line calls at, at a time
    within that call.
``deadline``
    To work: every arrival at or before the rider's deadline. Home: no bus leaves work
    before the rider's shift ends.
``ride_limit``
    Every ride (board to arrival) within the rider's limit.
``walk``
    Every walk within the maximum, and as long as the walk graph says (1 m tolerance).
``walker``
    Nobody who lives within the maximum walk of work is bussed.
``timetable``
    Stop times: ``departure - arrival = dwell + boarding x riders``; every leg takes at least
    the fastest drive on the graph (1 s tolerance for rounding) and more than 0 s between
    distinct stops; no bus leaves before the earliest departure.
``vehicle``
    Every trip runs on one bus of its own type; a bus's trips follow each other in time and
    each is reached from the previous one by the fastest empty drive plus the turnaround.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .model import Line, Plan, Rider

if TYPE_CHECKING:
    from routing.area import Area

    from .matrix import StopMatrix

__all__ = ["Violation", "check_plan"]

_TIME_TOL = 1  # seconds per leg (integer rounding of graph times)
_UNREACHABLE = 1e9  # matrix entries at or above this mean "no path"
_WALK_TOL = 1.0  # metres

#: Fastest drive in seconds between two places (stop ids, or ``wp:`` keys of workplaces),
#: ``inf`` without a path, ``nan`` for a place not on the graph.
DriveTime = Callable[[list[tuple[str, str]]], list[float]]
#: Walking metres from a rider's home to a place (stop id or ``wp:`` key), ``inf`` beyond reach.
WalkLength = Callable[[list[tuple[str, str]]], list[float]]


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``kind`` (see the module doc), the rider/line concerned, a message."""

    kind: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} [{self.subject}]: {self.message}"


def _limits(r: Rider, plan: Plan) -> tuple[int, int, int | None]:
    s = plan.settings
    deadline = r.deadline if r.deadline is not None else s.deadline_s
    limit = r.max_ride_s if r.max_ride_s is not None else round(s.default_max_ride_min * 60)
    if r.evening_departure is not None:
        leave: int | None = int(r.evening_departure)
    else:
        leave = s.evening_departure_s
    return int(deadline), int(limit), leave


def wp_key(lonlat: tuple[float, float]) -> str:
    """The checker's key of a workplace (``wp:<lon>,<lat>``, 7 decimals)."""
    return f"wp:{lonlat[0]:.7f},{lonlat[1]:.7f}"


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
        The plan to check (it carries its riders, fleet, stops, vehicles and settings).
    area
        The Area the plan was made on: walks are recomputed on its walk graph and drives on
        its drive graph.
    matrix, walk, workplace_ids
        For instances without a graph: drive durations among stop ids and workplace ids,
        walking metres per ``(rider id, stop id)`` (and ``(rider id, workplace id)`` for the
        walk to work), and the matrix id of each workplace ``(lon, lat)``. Ignored when
        ``area`` is given.

    Returns
    -------
    list[Violation]
        Empty when the plan keeps every rule.
    """
    out: list[Violation] = []
    out.extend(_check_riders(plan))
    out.extend(_check_fleet(plan))
    out.extend(_check_loads(plan))
    out.extend(_check_assignments(plan))
    out.extend(_check_stop_times(plan))
    if area is not None:
        from ._check_graph import GraphOracle

        oracle = GraphOracle(plan, area)
        out.extend(oracle.violations)
        drive: DriveTime | None = oracle.drive_times
        walks: WalkLength | None = oracle.walks
    elif matrix is not None:
        index = {k: i for i, k in enumerate(matrix.ids)}
        alias = {wp_key(lonlat): mid for lonlat, mid in (workplace_ids or {}).items()}
        given = dict(walk or {})

        def drive(pairs: list[tuple[str, str]]) -> list[float]:
            res = []
            for a, b in pairs:
                ia, ib = index.get(alias.get(a, a)), index.get(alias.get(b, b))
                if ia is None or ib is None:
                    res.append(np.nan)
                    continue
                t = float(matrix.duration[ia, ib])
                res.append(t if t < _UNREACHABLE else np.inf)
            return res

        def walks(pairs: list[tuple[str, str]]) -> list[float]:
            return [given.get((rid, alias.get(place, place)), np.inf) for rid, place in pairs]

    else:
        drive = None
        walks = None
    if drive is not None:
        out.extend(_check_legs(plan, drive))
        out.extend(_check_vehicles(plan, drive))
    else:
        out.extend(_check_vehicles(plan, None))
    if walks is not None:
        out.extend(_check_walks(plan, walks))
    return out


def _check_riders(plan: Plan) -> list[Violation]:
    out: list[Violation] = []
    riders = {r.id: r for r in plan.riders}
    seen: dict[tuple[str, str], int] = {}
    pairs: list[tuple[str, str]] = [(a.rider_id, a.direction) for a in plan.assignments]
    pairs += [(u.rider_id, u.direction) for u in plan.unserved]
    for key in pairs:
        seen[key] = seen.get(key, 0) + 1
    for rid, r in riders.items():
        needed = ["to_work"] + (["from_work"] if _limits(r, plan)[2] is not None else [])
        for need in needed:
            n = seen.get((rid, need), 0)
            if n == 0:
                out.append(
                    Violation("rider_missing", rid, f"neither served nor reported unserved {need}")
                )
            elif n > 1:
                out.append(Violation("rider_twice", rid, f"appears {n} times {need}"))
        if "from_work" not in needed and seen.get((rid, "from_work")):
            out.append(Violation("unknown_rider", rid, "has no evening departure but rides home"))
    for rid, d in seen:
        if rid not in riders:
            out.append(Violation("unknown_rider", rid, f"not among the plan's riders ({d})"))
    return out


def _check_fleet(plan: Plan) -> list[Violation]:
    out: list[Violation] = []
    s = plan.settings
    buses = plan.buses_by_type()
    if plan.fleet is not None:
        for name, n in buses.items():
            try:
                bus = plan.fleet[name]
            except KeyError:
                out.append(Violation("fleet", name, "bus type not in the fleet"))
                continue
            if n > bus.count:
                out.append(
                    Violation("fleet", name, f"{n} buses needed but {bus.count} in the fleet")
                )
    total = sum(buses.values())
    if s.max_buses and total > s.max_buses:
        out.append(Violation("fleet", "all", f"{total} buses, the cap is {s.max_buses}"))
    if s.max_lines:
        for d in ("to_work", "from_work"):
            n = sum(1 for ln in plan.lines if ln.direction == d)
            if n > s.max_lines:
                out.append(Violation("fleet", d, f"{n} trips {d}, the cap is {s.max_lines}"))
    return out


def _check_loads(plan: Plan) -> list[Violation]:
    out: list[Violation] = []
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
        total = ln.riders
        load = 0 if ln.to_work else total
        stop_ids = [v.stop_id for v in ln.stops]
        for v in ln.stops:
            load += v.boarding if ln.to_work else -v.boarding
            if v.load_after != load:
                out.append(
                    Violation(
                        "capacity",
                        ln.id,
                        f"load after {v.stop_id} is {v.load_after}, the calls add up to {load}",
                    )
                )
            assigned = per_call.get((ln.id, v.stop_id), 0)
            if stop_ids.count(v.stop_id) == 1 and assigned != v.boarding:
                out.append(
                    Violation(
                        "capacity",
                        ln.id,
                        f"{v.boarding} riders at {v.stop_id} but {assigned} assigned",
                    )
                )
        if seats is not None and total > seats:
            out.append(Violation("capacity", ln.id, f"{total} riders on {seats} seats"))
    return out


def _check_assignments(plan: Plan) -> list[Violation]:
    out: list[Violation] = []
    s = plan.settings
    riders = {r.id: r for r in plan.riders}
    lines = {ln.id: ln for ln in plan.lines}
    for a in plan.assignments:
        ln = lines.get(a.line_id)
        if ln is None:
            out.append(Violation("assignment", a.rider_id, f"unknown line {a.line_id}"))
            continue
        if ln.direction != a.direction:
            out.append(
                Violation(
                    "assignment",
                    a.rider_id,
                    f"rides {a.direction} on {ln.id}, a trip {ln.direction}",
                )
            )
            continue
        calls = [v for v in ln.stops if v.stop_id == a.stop_id]
        at_stop = a.board_time_s if ln.to_work else a.arrival_time_s
        if not calls:
            out.append(
                Violation("assignment", a.rider_id, f"line {ln.id} does not call at {a.stop_id}")
            )
        elif not any(
            v.arrival_s <= at_stop <= v.departure_s - s.dwell_s - s.boarding_s for v in calls
        ):
            out.append(
                Violation(
                    "assignment",
                    a.rider_id,
                    f"time {at_stop} s at {a.stop_id} outside the line's call there",
                )
            )
        if ln.to_work and a.arrival_time_s != ln.arrival_s:
            out.append(Violation("assignment", a.rider_id, "arrival differs from the line's"))
        if not ln.to_work and a.board_time_s != ln.departure_s:
            out.append(Violation("assignment", a.rider_id, "departure differs from the line's"))
        r = riders.get(a.rider_id)
        if r is None:
            continue
        deadline, limit, leave = _limits(r, plan)
        if ln.to_work and (ln.arrival_s > deadline or a.arrival_time_s > deadline):
            out.append(
                Violation(
                    "deadline", a.rider_id, f"arrives {ln.arrival_s} s, deadline {deadline} s"
                )
            )
        if not ln.to_work and leave is not None and ln.departure_s < leave:
            out.append(
                Violation(
                    "deadline",
                    a.rider_id,
                    f"the bus home leaves at {ln.departure_s} s, the shift ends at {leave} s",
                )
            )
        if a.ride_s > limit:
            out.append(Violation("ride_limit", a.rider_id, f"rides {a.ride_s} s, limit {limit} s"))
        if a.walk_m > s.max_walk_m + _WALK_TOL:
            out.append(
                Violation("walk", a.rider_id, f"walks {a.walk_m:.0f} m, max {s.max_walk_m:.0f} m")
            )
        wp = r.workplace or plan.workplace
        if (round(wp[0], 7), round(wp[1], 7)) != (
            round(ln.workplace[0], 7),
            round(ln.workplace[1], 7),
        ):
            out.append(Violation("assignment", a.rider_id, "line serves another workplace"))
    return out


def _check_stop_times(plan: Plan) -> list[Violation]:
    out: list[Violation] = []
    s = plan.settings
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
        if ln.to_work and ln.stops and ln.stops[0].arrival_s < s.earliest_departure_s:
            out.append(Violation("timetable", ln.id, "starts before the earliest departure"))
        if not ln.to_work:
            if ln.workplace_departure_s is None:
                out.append(Violation("timetable", ln.id, "a trip home without a departure"))
            else:
                boarding = s.dwell_s + s.boarding_s * ln.riders
                if ln.workplace_departure_s - ln.arrival_s != boarding:
                    out.append(
                        Violation(
                            "timetable",
                            ln.id,
                            f"waits {ln.workplace_departure_s - ln.arrival_s} s at work, "
                            f"boarding takes {boarding} s",
                        )
                    )
    return out


def legs_of(line: Line) -> list[tuple[str, str, int]]:
    """``(from, to, scheduled seconds)`` of every driven leg (workplaces as ``wp:`` keys)."""
    wp = wp_key(line.workplace)
    if line.to_work:
        places = [v.stop_id for v in line.stops] + [wp]
        times = [(v.arrival_s, v.departure_s) for v in line.stops] + [(line.arrival_s,) * 2]
    else:
        places = [wp] + [v.stop_id for v in line.stops]
        dep = line.workplace_departure_s if line.workplace_departure_s is not None else 0
        times = [(line.arrival_s, dep)] + [(v.arrival_s, v.departure_s) for v in line.stops]
    return [
        (a, b, tb[0] - ta[1])
        for (a, ta), (b, tb) in itertools.pairwise(zip(places, times, strict=True))
    ]


def _check_legs(plan: Plan, drive: DriveTime) -> list[Violation]:
    out: list[Violation] = []
    legs = [(ln.id, a, b, t) for ln in plan.lines for a, b, t in legs_of(ln)]
    fastest = drive([(a, b) for _, a, b, _ in legs])
    for (line_id, a, b, sched), best in zip(legs, fastest, strict=True):
        name_b = "work" if b.startswith("wp:") else b
        name_a = "work" if a.startswith("wp:") else a
        if np.isnan(best):
            out.append(Violation("timetable", line_id, f"{name_a} or {name_b} is not on the graph"))
        elif not np.isfinite(best):
            out.append(Violation("timetable", line_id, f"no drive from {name_a} to {name_b}"))
        elif sched < best - _TIME_TOL:
            out.append(
                Violation(
                    "timetable",
                    line_id,
                    f"{name_a} -> {name_b} scheduled {sched} s, fastest drive {best:.1f} s",
                )
            )
        if a != b and sched <= 0:
            out.append(
                Violation("timetable", line_id, f"{name_a} -> {name_b} takes {sched} s (not > 0)")
            )
    return out


def _ends(line: Line) -> tuple[str, str]:
    """Where a trip starts and ends (stop ids or ``wp:`` keys)."""
    wp = wp_key(line.workplace)
    first = line.stops[0].stop_id if line.stops else wp
    last = line.stops[-1].stop_id if line.stops else wp
    return (first, wp) if line.to_work else (wp, last)


def _check_vehicles(plan: Plan, drive: DriveTime | None) -> list[Violation]:
    out: list[Violation] = []
    if not plan.vehicles:
        return out
    lines = {ln.id: ln for ln in plan.lines}
    count: dict[str, int] = {}
    links: list[tuple[str, Line, Line]] = []
    for v in plan.vehicles:
        for lid in v.line_ids:
            count[lid] = count.get(lid, 0) + 1
            ln = lines.get(lid)
            if ln is None:
                out.append(Violation("vehicle", v.id, f"runs unknown line {lid}"))
            elif ln.bus_type != v.bus_type:
                out.append(
                    Violation("vehicle", v.id, f"a {v.bus_type} runs {lid}, a {ln.bus_type} trip")
                )
            elif ln.vehicle_id and ln.vehicle_id != v.id:
                out.append(Violation("vehicle", v.id, f"{lid} names bus {ln.vehicle_id}"))
        for prev, nxt in itertools.pairwise(v.line_ids):
            if prev in lines and nxt in lines:
                links.append((v.id, lines[prev], lines[nxt]))
    for ln in plan.lines:
        if count.get(ln.id, 0) != 1:
            out.append(
                Violation("vehicle", ln.id, f"runs on {count.get(ln.id, 0)} buses, expected 1")
            )
    turnaround = plan.settings.turnaround_s
    empty = (
        drive([(_ends(a)[1], _ends(b)[0]) for _, a, b in links]) if drive else [0.0] * len(links)
    )
    for (vid, a, b), dh in zip(links, empty, strict=True):
        if b.start_s < a.end_s:
            out.append(
                Violation("vehicle", vid, f"{b.id} starts at {b.start_s} s before {a.id} ends")
            )
        elif not np.isfinite(dh):
            out.append(Violation("vehicle", vid, f"no drive from the end of {a.id} to {b.id}"))
        elif a.end_s + dh + turnaround > b.start_s + _TIME_TOL:
            out.append(
                Violation(
                    "vehicle",
                    vid,
                    f"{a.id} ends at {a.end_s} s; driving {dh:.0f} s plus {turnaround} s "
                    f"turnaround misses {b.id} at {b.start_s} s",
                )
            )
    return out


def _check_walks(plan: Plan, walks: WalkLength) -> list[Violation]:
    out: list[Violation] = []
    s = plan.settings
    riders = {r.id: r for r in plan.riders}
    asg = [a for a in plan.assignments if a.rider_id in riders]
    true = walks([(a.rider_id, a.stop_id) for a in asg])
    for a, w in zip(asg, true, strict=True):
        if not np.isfinite(w) or w > s.max_walk_m + _WALK_TOL:
            out.append(
                Violation("walk", a.rider_id, f"{a.stop_id} is beyond {s.max_walk_m:.0f} m on foot")
            )
        elif abs(w - a.walk_m) > _WALK_TOL:
            out.append(
                Violation("walk", a.rider_id, f"walk given as {a.walk_m:.0f} m, is {w:.0f} m")
            )
    bussed = sorted({a.rider_id for a in asg})
    to_work = walks([(rid, wp_key(riders[rid].workplace or plan.workplace)) for rid in bussed])
    for rid, w in zip(bussed, to_work, strict=True):
        if np.isfinite(w) and w <= s.max_walk_m:
            out.append(Violation("walker", rid, f"bussed but lives {w:.0f} m from work on foot"))
    return out
