"""Evaluate existing lines: who rides where, the timetables, KPIs and every broken rule.

:func:`evaluate_lines` takes lines as they run today (see :mod:`routing.shuttle._existing` for
the file formats, GTFS included), in both directions. Every rider who needs a bus is put on a
line of their direction and workplace: within the ride limit first, then the line of their
shift (to work: the latest arriving by their deadline; home: the first leaving after their
shift ends), then the shortest walk, then a bus with a free seat. Timetables are recomputed on
the drive graph (to work backwards from the line's deadline, never before
``earliest_departure``; home forwards from its departure), the KPIs are the planner's, and the
independent checker (:func:`routing.shuttle.check.check_plan`) lists what the lines break:
over capacity, late, rides too long, more buses than the fleet, walkers bussed. Lines read
with blocks (GTFS ``block_id``) keep their buses; otherwise each line is a bus of its own.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ._errors import ShuttleInputError
from ._existing import ExistingLine, lines_from_plan
from ._prepare import locate_homes, locate_workplaces, place_stops, split_walkers, walk_options
from ._waves import workplace_id
from .check import Violation, check_plan
from .kpi import assemble_plan
from .matrix import UNREACHABLE
from .model import (
    Assignment,
    CandidateStop,
    Direction,
    Fleet,
    Line,
    Plan,
    Rider,
    Unserved,
    Vehicle,
    effective_limits,
    evening_departure,
    rider_index,
)
from .roads import locate_points
from .settings import ShuttleSettings, format_hms
from .solve import RouteResult
from .timetable import attach_paths, build_line

if TYPE_CHECKING:
    from routing.area import Area

    from .matrix import StopMatrix

__all__ = ["Evaluation", "describe_evaluation", "evaluate_lines"]

logger = logging.getLogger(__name__)

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Evaluation:
    """Existing lines with recomputed timetables, KPIs and the constraints they break.

    Attributes
    ----------
    plan
        The lines as a :class:`Plan` (timetables recomputed, riders assigned).
    violations
        Every broken rule found by the independent checker, plus ``stop_unreachable`` for
        stops the bus cannot reach (they are skipped in the timetable).
    """

    plan: Plan
    violations: tuple[Violation, ...] = field(default=())

    def violations_by_kind(self) -> dict[str, int]:
        """Broken rules per kind, plus ``no_line_in_reach`` (riders with no stop in walking
        reach) and ``late_lines`` (trips to work arriving after their deadline)."""
        out: dict[str, int] = {}
        for v in self.violations:
            out[v.kind] = out.get(v.kind, 0) + 1
        reach = sum(1 for u in self.plan.unserved if u.reason == "too_far_to_walk")
        if reach:
            out["no_line_in_reach"] = reach
        late = [ln for ln in self.plan.lines if ln.to_work and ln.arrival_s > ln.deadline_s]
        if late:
            out["late_lines"] = len(late)
        return dict(sorted(out.items()))

    def summary(self) -> dict[str, Any]:
        """JSON-friendly: the plan's summary plus violation counts and the first 100."""
        out = self.plan.summary()
        out["violations_by_kind"] = self.violations_by_kind()
        out["violations"] = [
            {"kind": v.kind, "subject": v.subject, "message": v.message}
            for v in self.violations[:100]
        ]
        return out


def _fleet_for(lines: Sequence[ExistingLine], fleet: Fleet) -> list[ExistingLine]:
    """The lines with a bus type of the fleet: lines without one (a GTFS feed that does not
    say) get the fleet's largest; an unknown type is an error naming it."""
    names = {t.name for t in fleet}
    unknown = sorted({ln.bus_type for ln in lines if ln.bus_type} - names)
    if unknown:
        msg = f"Expected the lines' bus types among the fleet's {sorted(names)}, got {unknown}"
        raise ShuttleInputError(msg)
    if all(ln.bus_type for ln in lines):
        return list(lines)
    largest = max(fleet, key=lambda t: (t.seats, t.count)).name
    return [ln if ln.bus_type else replace(ln, bus_type=largest) for ln in lines]


def _ride_from(
    line: ExistingLine, stop_pos: dict[str, int], wp: int, matrix: StopMatrix, s: ShuttleSettings
) -> list[int]:
    """Estimated ride between each call and work (drives plus a dwell per stop between)."""
    pos = [stop_pos[st.id] for st in line.stops]
    est = [UNREACHABLE] * len(pos)
    t = 0
    if line.direction == "to_work":
        nxt = wp
        for k in range(len(pos) - 1, -1, -1):
            leg = int(matrix.duration[pos[k], nxt])
            if leg >= UNREACHABLE:
                break
            t += leg + s.dwell_s + s.boarding_s
            est[k] = t
            nxt = pos[k]
    else:
        prev = wp
        for k in range(len(pos)):
            leg = int(matrix.duration[prev, pos[k]])
            if leg >= UNREACHABLE:
                break
            t += leg
            est[k] = t
            t += s.dwell_s + s.boarding_s
            prev = pos[k]
    return est


def _assign(
    lines: Sequence[ExistingLine],
    riders: Sequence[Rider],
    options: dict[str, list[tuple[int, float]]],
    rides: list[list[int]],
    *,
    stop_pos: dict[str, int],
    wave_time: dict[str, int],
    rider_time: dict[str, int],
    rider_wp: dict[str, int],
    line_wp: dict[str, int],
    limits: dict[str, int],
    seats: dict[str, int],
    hard: bool,
) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Pick a (line, call) for each rider of one direction; the others get a reason.

    Preference: within the ride limit, then the rider's own shift (``rider_time`` against
    the line's ``wave_time``; the gap counts), then the shortest walk, then a free seat, then
    the shortest ride. With ``hard`` a rider boards only a line with a free seat, within the
    limit and on time (kept lines of a redesign); otherwise the checker reports breaches.
    """
    calls_at: dict[int, list[tuple[int, int]]] = {}
    for li, ln in enumerate(lines):
        for k, st in enumerate(ln.stops):
            calls_at.setdefault(stop_pos[st.id], []).append((li, k))
    chosen: dict[str, tuple[int, int]] = {}
    why: dict[str, str] = {}
    load = [0] * len(lines)
    order = sorted(riders, key=lambda r: min((w for _, w in options.get(r.id, [])), default=0))
    for r in order:
        best: tuple[tuple[Any, ...], tuple[int, int]] | None = None
        any_call = False
        for spos, w in options.get(r.id, []):
            for li, k in calls_at.get(spos, []):
                ln = lines[li]
                if line_wp[ln.id] != rider_wp.get(r.id, -1):
                    continue
                any_call = True
                ride = rides[li][k]
                if ride >= UNREACHABLE:
                    continue
                over = ride > limits[r.id]
                full = load[li] >= seats[ln.bus_type]
                # To work a line must arrive by the rider's deadline; home leave after the shift.
                gap = (
                    rider_time[r.id] - wave_time[ln.id]
                    if ln.direction == "to_work"
                    else wave_time[ln.id] - rider_time[r.id]
                )
                off_shift = gap < 0
                if hard and (over or full or off_shift):
                    continue
                key = (over, off_shift, abs(gap), w, full, ride)
                if best is None or key < best[0]:
                    best = (key, (li, k))
        if best is None:
            why[r.id] = "unreachable" if any_call else "too_far_to_walk"
            if hard and any_call:
                why[r.id] = "fleet_too_small"
            continue
        chosen[r.id] = best[1]
        load[best[1][0]] += 1
    return chosen, why


_WHY = {
    "too_far_to_walk": "no stop of an existing line to the rider's workplace within "
    "{walk:.0f} m walk",
    "unreachable": "the lines in walking reach cannot reach work by road",
    "fleet_too_small": "the kept lines in walking reach are full, too slow or run at another time",
}


def evaluate_lines(
    area: Area,
    lines: Sequence[ExistingLine] | Plan,
    riders: Sequence[Rider],
    fleet: Fleet,
    *,
    workplace: LonLat | None = None,
    settings: ShuttleSettings | None = None,
    _seats_limited: bool = False,
) -> Evaluation:
    """Evaluate existing lines on an Area: assignments, timetables, KPIs and violations.

    Parameters
    ----------
    area
        The Area (walks on its walk graph, drives on its drive graph).
    lines
        Existing lines of either direction (or a plan whose lines are taken as they are).
    riders
        The riders who would use the lines.
    fleet
        The fleet (every line's bus type must be in it; more buses of a type than the fleet
        has is reported as a ``fleet`` violation).
    workplace
        Workplace of lines that name none (default: the riders' workplace, else required).
    settings
        Planner settings: max walk, dwell, boarding, deadline, evening departure, ride limit.

    Returns
    -------
    Evaluation
        Riders with no line of their direction in walking reach are unserved
        (``too_far_to_walk``), off-map homes ``off_map``, riders who can walk to work
        ``walks_to_work``. A line to work too long to start after ``earliest_departure``
        starts then and arrives late, which the checker reports.
    """
    settings = settings or ShuttleSettings()
    existing = lines_from_plan(lines) if isinstance(lines, Plan) else list(lines)
    if not existing:
        msg = "Expected at least one existing line, got none"
        raise ShuttleInputError(msg)
    ids = [ln.id for ln in existing]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        msg = f"Expected unique line ids, got duplicates {dupes}"
        raise ShuttleInputError(msg)
    existing = _fleet_for(existing, fleet)
    rider_index(riders)
    t0 = time.perf_counter()
    default_wp = workplace or next((r.workplace for r in riders if r.workplace), None)
    if default_wp is None and any(ln.workplace is None for ln in existing):
        msg = "Expected a workplace (lon, lat) for lines that name none, got none"
        raise ShuttleInputError(msg)
    line_wp_ll: dict[str, LonLat] = {ln.id: ln.workplace or default_wp for ln in existing}  # type: ignore[misc]
    plan_wp: LonLat = default_wp or next(iter(line_wp_ll.values()))

    # Stops where the bus stops (on drive edges); a stop off the drive graph is skipped.
    stops: dict[str, CandidateStop] = {}
    for ln in existing:
        for s in ln.stops:
            old = stops.setdefault(s.id, s)
            if (round(old.lon, 6), round(old.lat, 6)) != (round(s.lon, 6), round(s.lat, 6)):
                msg = f"Expected one position per stop id, got two for {s.id!r}"
                raise ShuttleInputError(msg)
    placed_stops = place_stops(area, list(stops.values()), settings=settings)
    violations: list[Violation] = []
    for s in placed_stops:
        if s.edge < 0:
            violations.append(
                Violation(
                    "stop_unreachable",
                    s.id,
                    f"more than {settings.max_stop_snap_m:.0f} m from the drive graph: the bus "
                    "cannot call here; skipped in the timetable",
                )
            )
    stop_list = [s for s in placed_stops if s.edge >= 0]
    reachable = {s.id for s in stop_list}
    kept_lines = [
        replace(ln, stops=tuple(s for s in ln.stops if s.id in reachable)) for ln in existing
    ]
    stop_pos = {s.id: i for i, s in enumerate(stop_list)}

    # Homes and walks; who walks to work.
    placed, unserved = locate_homes(area, riders, settings=settings)
    wps = sorted({w for w in line_wp_ll.values()} | {r.workplace or plan_wp for r in placed})
    work = locate_workplaces(area, wps, settings)
    opts_list, home_work, _ = walk_options(area, placed, stop_list, wps, settings=settings)
    wcol = {w: k for k, w in enumerate(wps)}
    walk_of = {
        r.id: float(home_work[i, wcol[r.workplace or plan_wp]]) for i, r in enumerate(placed)
    }
    bus_riders, walkers = split_walkers(placed, walk_of, settings=settings)
    unserved.extend(walkers)
    options = {r.id: o for r, o in zip(placed, opts_list, strict=True)}

    # Drive matrix among the stops and workplaces (points on drive edges).
    loc_ids = [s.id for s in stop_list] + [workplace_id(w) for w in wps]
    drive = locate_points(
        area,
        [s.lon for s in stop_list] + [float(x) for x in work.points.lon],
        [s.lat for s in stop_list] + [float(y) for y in work.points.lat],
        network="drive",
        max_distance=settings.max_stop_snap_m,
    )
    matrix = drive.drive_matrix(loc_ids)
    wp_pos = {w: len(stop_list) + k for k, w in enumerate(wps)}
    line_wp = {ln.id: wp_pos[line_wp_ll[ln.id]] for ln in kept_lines}
    rider_wp = {r.id: wp_pos[r.workplace or plan_wp] for r in bus_riders}
    seats = {t.name: t.seats for t in fleet}
    walk_of_stop = {(rid, s): w for rid, opts in options.items() for s, w in opts}
    out_lines: list[Line] = []
    assignments: list[Assignment] = []
    for direction in ("to_work", "from_work"):
        d_lines = [ln for ln in kept_lines if ln.direction == direction]
        d_riders, rider_time, limits = _riders_of(bus_riders, direction, settings)
        wave_time = {ln.id: _line_time(ln, settings) for ln in d_lines}
        rides = [_ride_from(ln, stop_pos, line_wp[ln.id], matrix, settings) for ln in d_lines]
        chosen, why = _assign(
            d_lines,
            d_riders,
            options,
            rides,
            stop_pos=stop_pos,
            wave_time=wave_time,
            rider_time=rider_time,
            rider_wp=rider_wp,
            line_wp=line_wp,
            limits=limits,
            seats=seats,
            hard=_seats_limited,
        )
        for r in d_riders:
            if r.id in why:
                reason = why[r.id]
                message = _WHY[reason].format(walk=settings.max_walk_m)
                unserved.append(Unserved(r.id, reason, message, direction=direction))  # type: ignore[arg-type]
        for li, ln in enumerate(d_lines):
            line, asg, problem = _timetable(
                ln,
                li,
                chosen,
                stop_pos,
                stop_list,
                matrix,
                line_wp[ln.id],
                line_wp_ll[ln.id],
                wave_time[ln.id],
                settings,
                fleet,
                walk_of_stop,
            )
            if problem is not None:
                violations.append(problem)
                unserved.extend(
                    Unserved(
                        rid, "unreachable", f"line {ln.id} cannot be driven", direction=direction
                    )
                    for rid, (lj, _) in chosen.items()
                    if lj == li
                )
                continue
            if line is not None:
                out_lines.append(line)
                assignments.extend(asg)

    out_lines = attach_paths(out_lines, drive, stop_pos, wp_pos)
    vehicles = _blocks(existing, out_lines, matrix, stop_pos, wp_pos)
    if vehicles:
        of = {lid: v.id for v in vehicles for lid in v.line_ids}
        out_lines = [replace(ln, vehicle_id=of.get(ln.id, "")) for ln in out_lines]
    plan = assemble_plan(
        out_lines,
        assignments,
        unserved,
        riders=riders,
        fleet=fleet,
        settings=settings,
        workplace=plan_wp,
        stops=stop_list,
        vehicles=vehicles,
        area=area.name,
        meta={"evaluated": True, "total_s": round(time.perf_counter() - t0, 3)},
    )
    violations.extend(check_plan(plan, area))
    logger.info("Evaluated %d lines: %d violations", len(out_lines), len(violations))
    return Evaluation(plan, tuple(violations))


def _riders_of(
    riders: Sequence[Rider], direction: Direction, settings: ShuttleSettings
) -> tuple[list[Rider], dict[str, int], dict[str, int]]:
    """Riders needing ``direction``, their deadline / departure and their ride limit."""
    out: list[Rider] = []
    when: dict[str, int] = {}
    limits: dict[str, int] = {}
    for r in riders:
        deadline, lim = effective_limits(r, settings)
        t = deadline if direction == "to_work" else evening_departure(r, settings)
        if t is None:
            continue
        out.append(r)
        when[r.id] = int(t)
        limits[r.id] = lim
    return out, when, limits


def _line_time(line: ExistingLine, settings: ShuttleSettings) -> int:
    """A line's deadline (to work) or departure (home), defaulting to the settings'."""
    if line.deadline_s is not None:
        return int(line.deadline_s)
    if line.direction == "to_work":
        return settings.deadline_s
    leave = settings.evening_departure_s
    if leave is None:
        msg = (
            f"Expected a departure time for line {line.id} home (or the evening_departure "
            "setting), got none"
        )
        raise ShuttleInputError(msg)
    return leave


def _timetable(
    ln: ExistingLine,
    li: int,
    chosen: dict[str, tuple[int, int]],
    stop_pos: dict[str, int],
    stop_list: list[CandidateStop],
    matrix: StopMatrix,
    wp: int,
    wp_ll: LonLat,
    wave_time: int,
    settings: ShuttleSettings,
    fleet: Fleet,
    walk: dict[tuple[str, int], float],
) -> tuple[Line | None, list[Assignment], Violation | None]:
    """The line's timetable with its riders (``None`` and a violation when it can't run)."""
    if not ln.stops:
        why = "no stop of the line can be reached by bus; the line is dropped"
        return None, [], Violation("stop_unreachable", ln.id, why)
    riders_at: list[list[str]] = [[] for _ in ln.stops]
    for rid, (lj, k) in chosen.items():
        if lj == li:
            riders_at[k].append(rid)
    visits = tuple((stop_pos[s.id], tuple(rs)) for s, rs in zip(ln.stops, riders_at, strict=True))
    try:
        line, asg = build_line(
            ln.id,
            RouteResult(ln.bus_type, visits, ln.direction),
            stop_list,
            matrix,
            wp,
            wp_ll,
            wave_time=wave_time,
            settings=settings,
            fleet=fleet,
            walk=walk,
        )
    except ValueError:
        why = "a leg of the line has no road path; the line is dropped"
        return None, [], Violation("stop_unreachable", ln.id, why)
    late = settings.earliest_departure_s - line.start_s
    if line.to_work and late > 0:
        line = _shift(line, late)
        asg = [
            replace(a, board_time_s=a.board_time_s + late, arrival_time_s=a.arrival_time_s + late)
            for a in asg
        ]
    return line, asg, None


def _shift(line: Line, delta: int) -> Line:
    stops = tuple(
        replace(v, arrival_s=v.arrival_s + delta, departure_s=v.departure_s + delta)
        for v in line.stops
    )
    return replace(line, stops=stops, arrival_s=line.arrival_s + delta)


def _blocks(
    existing: Sequence[ExistingLine],
    lines: Sequence[Line],
    matrix: StopMatrix,
    stop_pos: dict[str, int],
    wp_pos: dict[LonLat, int],
) -> list[Vehicle]:
    """The buses of lines read with blocks, their trips in time order with the empty runs."""
    by_id = {ln.id: ln for ln in lines}
    blocks: dict[str, list[Line]] = {}
    for old in existing:
        if old.vehicle_id and old.id in by_id:
            blocks.setdefault(old.vehicle_id, []).append(by_id[old.id])
    out: list[Vehicle] = []
    for vid, trips in sorted(blocks.items()):
        trips.sort(key=lambda ln: ln.start_s)
        types = {ln.bus_type for ln in trips}
        if len(types) > 1:
            # One bus of one type per block; mixed blocks are evaluated line by line.
            continue
        dm, ds = [], []
        for a, b in itertools.pairwise(trips):
            end = wp_pos[a.workplace] if a.to_work else stop_pos[a.stops[-1].stop_id]
            start = stop_pos[b.stops[0].stop_id] if b.to_work else wp_pos[b.workplace]
            dm.append(float(matrix.distance[end, start]))
            ds.append(int(matrix.duration[end, start]))
        out.append(
            Vehicle(vid, trips[0].bus_type, tuple(ln.id for ln in trips), tuple(dm), tuple(ds))
        )
    return out


def describe_evaluation(ev: Evaluation) -> str:
    """A short human-readable report of an evaluation (KPIs and violation counts)."""
    k = ev.plan.kpis
    parts = [
        f"{k['trips']} trips on {k['buses']} buses, {k['riders_served']} of {k['riders']} "
        f"rides served, {k['vehicle_km']} vehicle-km, cost {k['total_cost']}",
    ]
    by_kind = ev.violations_by_kind()
    if by_kind:
        parts.append("violations: " + ", ".join(f"{n} {kind}" for kind, n in by_kind.items()))
    else:
        parts.append("no violations")
    late = [ln for ln in ev.plan.lines if ln.to_work and ln.arrival_s > ln.deadline_s]
    for ln in late[:10]:
        parts.append(
            f"  {ln.id} arrives {format_hms(ln.arrival_s)} (deadline {format_hms(ln.deadline_s)})"
        )
    return "\n".join(parts)
