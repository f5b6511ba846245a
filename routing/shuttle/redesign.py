"""Redesign: evaluate existing lines, re-optimise from them, compare two plans.

:func:`evaluate_lines` takes lines as they run today (stops in order and a bus type; see
:mod:`routing.shuttle._existing` for the file formats), assigns every rider to the best stop
of a line within the maximum walk, recomputes the timetables on the drive graph, and returns
the same KPIs as the planner plus every violated constraint, found by the independent checker
(:func:`routing.shuttle.check.check_plan`): over capacity, late arrivals, ride limits
exceeded, more lines than buses; riders with no line in walking reach are reported unserved.

:func:`reoptimise` plans again from existing lines, optionally keeping their stops (the
optimiser may only use the existing stops) or keeping chosen lines exactly as they are
(their riders stay on them, their buses are taken out of the fleet, the rest is planned).
The optimiser starts from the existing lines (warm start), so from feasible lines it never
ends worse in the optimiser's cost.

:func:`compare_plans` tabulates two plans side by side with deltas.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ._compare import Comparison, compare_plans
from ._errors import ShuttleInputError
from ._existing import ExistingLine, lines_from_plan, read_lines
from .check import Violation, check_plan
from .kpi import compute_kpis
from .matrix import UNREACHABLE, drive_matrix, walk_distances
from .model import (
    Assignment,
    BusType,
    CandidateStop,
    Fleet,
    Line,
    Plan,
    Rider,
    Unserved,
    effective_limits,
    rider_index,
)
from .plan import InitialRoute, plan_shuttles, routes_of_plan, snap_homes, workplace_id
from .settings import ShuttleSettings, format_hms
from .solve import RouteResult
from .timetable import attach_paths, build_line

if TYPE_CHECKING:
    from routing.area import Area

__all__ = [
    "Comparison",
    "Evaluation",
    "ExistingLine",
    "compare_plans",
    "describe_evaluation",
    "evaluate_lines",
    "lines_from_plan",
    "read_lines",
    "reoptimise",
]

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
        reach), ``late_lines`` (lines arriving after their deadline) and ``riders_late``."""
        out: dict[str, int] = {}
        for v in self.violations:
            out[v.kind] = out.get(v.kind, 0) + 1
        reach = sum(1 for u in self.plan.unserved if u.reason == "too_far_to_walk")
        if reach:
            out["no_line_in_reach"] = reach
        late = [ln for ln in self.plan.lines if ln.arrival_s > ln.deadline_s]
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


def _shift(line: Line, delta: int) -> Line:
    stops = tuple(
        replace(v, arrival_s=v.arrival_s + delta, departure_s=v.departure_s + delta)
        for v in line.stops
    )
    return replace(line, stops=stops, arrival_s=line.arrival_s + delta)


def _fleet_for(lines: Sequence[ExistingLine], fleet: Fleet) -> None:
    names = {t.name for t in fleet}
    unknown = sorted({ln.bus_type for ln in lines} - names)
    if unknown:
        msg = f"Expected the lines' bus types among the fleet's {sorted(names)}, got {unknown}"
        raise ShuttleInputError(msg)


def _assign_riders(
    lines: Sequence[ExistingLine],
    riders: Sequence[Rider],
    options: dict[str, list[tuple[int, float]]],
    stop_pos: dict[str, int],
    matrix_duration: np.ndarray,
    wp_index: dict[str, int],
    limits: dict[str, int],
    settings: ShuttleSettings,
    *,
    seats: dict[str, int],
    hard: bool,
    rider_wp: dict[str, int],
) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Pick a (line, call) for each rider: within the ride limit first, then shortest walk,
    then a bus with a free seat, then the shortest ride.

    With ``hard`` (keep-lines mode) a rider only boards a line with a free seat and within
    the ride limit; otherwise riders board regardless and the checker reports breaches.
    A rider only boards lines going to their own workplace (``rider_wp``: matrix index).
    Returns rider -> (line position, call position), and rider -> reason for the others.
    """
    # Estimated ride from each call to work (drives plus a dwell per later stop).
    ride_from: list[list[int]] = []
    for ln in lines:
        pos = [stop_pos[s.id] for s in ln.stops]
        wp = wp_index[ln.id]
        est = [0] * len(pos)
        t = 0
        nxt = wp
        for k in range(len(pos) - 1, -1, -1):
            leg = int(matrix_duration[pos[k], nxt])
            t += leg + settings.dwell_s + settings.boarding_s
            est[k] = t if leg < UNREACHABLE else UNREACHABLE
            nxt = pos[k]
        ride_from.append(est)
    calls_at: dict[int, list[tuple[int, int]]] = {}
    for li, ln in enumerate(lines):
        for k, s in enumerate(ln.stops):
            calls_at.setdefault(stop_pos[s.id], []).append((li, k))
    chosen: dict[str, tuple[int, int]] = {}
    why: dict[str, str] = {}
    load = [0] * len(lines)
    order = sorted(riders, key=lambda r: min((w for _, w in options.get(r.id, [])), default=0))
    for r in order:
        best: tuple[tuple[bool, float, bool, int], tuple[int, int]] | None = None
        any_call = False
        for spos, w in options.get(r.id, []):
            for li, k in calls_at.get(spos, []):
                if wp_index[lines[li].id] != rider_wp.get(r.id, -1):
                    continue
                any_call = True
                ride = ride_from[li][k]
                if ride >= UNREACHABLE:
                    continue
                over = ride > limits[r.id]
                full = load[li] >= seats[lines[li].bus_type]
                if hard and (over or full):
                    continue
                key = (over, w, full, ride)
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
        Existing lines (or a plan whose lines are taken as they are).
    riders
        The riders who would use the lines.
    fleet
        The fleet (every line's bus type must be in it; more lines of a type than buses is
        reported as a ``fleet`` violation).
    workplace
        Workplace of lines that name none (default: the riders' workplace, else required).
    settings
        Planner settings: max walk, dwell, boarding, deadline, default ride limit.

    Returns
    -------
    Evaluation
        Each rider is assigned to the stop of a line within ``max_walk_m`` whose ride fits
        their limit, else the nearest; riders with no line in walking reach are unserved
        (``too_far_to_walk``), off-map homes ``off_map``. Timetables run backwards from the
        deadline; a line too long to start after ``earliest_departure`` starts then and
        arrives late, which the checker reports.
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
    _fleet_for(existing, fleet)
    rider_index(riders)
    t0 = time.perf_counter()
    default_wp = workplace or next((r.workplace for r in riders if r.workplace), None)
    if default_wp is None and any(ln.workplace is None for ln in existing):
        msg = "Expected a workplace (lon, lat) for lines that name none, got none"
        raise ShuttleInputError(msg)
    line_wp = {ln.id: ln.workplace or default_wp for ln in existing}
    plan_wp: LonLat = default_wp or next(iter(line_wp.values()))  # type: ignore[assignment]

    # Stops: unique ids, snapped to the drive graph for the bus and the walk graph for riders.
    stops: dict[str, CandidateStop] = {}
    for ln in existing:
        for s in ln.stops:
            old = stops.setdefault(s.id, s)
            if (round(old.lon, 6), round(old.lat, 6)) != (round(s.lon, 6), round(s.lat, 6)):
                msg = f"Expected one position per stop id, got two for {s.id!r}"
                raise ShuttleInputError(msg)
    stop_list = list(stops.values())
    slon = np.array([s.lon for s in stop_list])
    slat = np.array([s.lat for s in stop_list])
    dsnap = area.snap(slon, slat, network="drive", max_distance=settings.max_stop_snap_m)
    violations: list[Violation] = []
    reachable = {s.id for s, ok in zip(stop_list, dsnap.ok.tolist(), strict=True) if ok}
    for s, ok, d in zip(stop_list, dsnap.ok.tolist(), dsnap.distance.tolist(), strict=True):
        if not ok:
            violations.append(
                Violation(
                    "stop_unreachable",
                    s.id,
                    f"{d:.0f} m from the drive "
                    f"graph (max {settings.max_stop_snap_m:.0f} m): the bus "
                    "cannot call here; skipped in the timetable",
                )
            )
    stop_list = [
        replace(s, node=int(n))
        for s, n, ok in zip(stop_list, dsnap.node.tolist(), dsnap.ok.tolist(), strict=True)
        if ok
    ]
    kept_lines = [
        replace(ln, stops=tuple(s for s in ln.stops if s.id in reachable)) for ln in existing
    ]
    stop_pos = {s.id: i for i, s in enumerate(stop_list)}

    # Homes and walks.
    unserved: list[Unserved] = []
    _, home_idx, home_off = snap_homes(area, riders, max_distance=settings.max_home_snap_m)
    placed: list[Rider] = []
    for r, hi in zip(riders, home_idx.tolist(), strict=True):
        if hi < 0:
            unserved.append(
                Unserved(
                    r.id,
                    "off_map",
                    f"home ({r.lon}, {r.lat}) is not within "
                    f"{settings.max_home_snap_m:.0f} m of a walkable street",
                )
            )
        else:
            placed.append(r)
    on_map = home_idx >= 0
    options: dict[str, list[tuple[int, float]]] = {}
    if stop_list and placed:
        ws = area.snap(
            [s.lon for s in stop_list],
            [s.lat for s in stop_list],
            network="walk",
            max_distance=settings.max_walk_m,
        )
        cols = np.flatnonzero(ws.ok)
        walk = walk_distances(
            area.arrays("walk"),
            ws.index[cols],
            ws.distance[cols],
            home_idx[on_map],
            home_off[on_map],
            limit=settings.max_walk_m,
        )
        walk = walk.tocsr()
        for i, r in enumerate(placed):
            lo, hi = int(walk.indptr[i]), int(walk.indptr[i + 1])
            options[r.id] = [
                (int(cols[j]), float(w))
                for j, w in zip(walk.indices[lo:hi], walk.data[lo:hi], strict=True)
            ]

    # Drive matrix among the stops and workplaces.
    wps = sorted({w for w in line_wp.values() if w is not None})
    wsnap = area.snap(
        [w[0] for w in wps],
        [w[1] for w in wps],
        network="drive",
        max_distance=settings.max_home_snap_m,
    )
    if not wsnap.ok.all():
        k = int(np.flatnonzero(~wsnap.ok)[0])
        msg = f"Expected the workplace near the drive graph of {area.name!r}, got {wps[k]}"
        raise ShuttleInputError(msg)
    drive = area.arrays("drive")
    node_idx = drive.index_of([s.node for s in stop_list]) if stop_list else np.zeros(0, int)
    loc_ids = [s.id for s in stop_list] + [workplace_id(w) for w in wps]
    matrix = drive_matrix(drive, np.concatenate([node_idx, wsnap.index]).astype(np.intp), loc_ids)
    wp_index = {ln.id: matrix.index(workplace_id(line_wp[ln.id])) for ln in kept_lines}  # type: ignore[arg-type]

    limits = {r.id: effective_limits(r, settings)[1] for r in placed}
    seats = {t.name: t.seats for t in fleet}
    known = set(matrix.ids)
    rider_wp = {
        r.id: matrix.index(workplace_id(w)) if workplace_id(w) in known else -1
        for r in placed
        for w in [r.workplace or plan_wp]
    }
    chosen, why = _assign_riders(
        kept_lines,
        placed,
        options,
        stop_pos,
        matrix.duration,
        wp_index,
        limits,
        settings,
        seats=seats,
        hard=_seats_limited,
        rider_wp=rider_wp,
    )
    for r in placed:
        if r.id in why:
            reason = why[r.id]
            msg = {
                "too_far_to_walk": f"no stop of an existing line to the rider's workplace "
                f"within {settings.max_walk_m:.0f} m walk",
                "unreachable": "the lines in walking reach cannot reach work by road",
                "fleet_too_small": "the kept lines in walking reach are full or too slow",
            }[reason]
            unserved.append(Unserved(r.id, reason, msg))  # type: ignore[arg-type]

    # Timetables (backwards from the deadline, no earlier than the earliest departure).
    walk_of = {(rid, s): w for rid, opts in options.items() for s, w in opts}
    out_lines: list[Line] = []
    assignments: list[Assignment] = []
    for li, ln in enumerate(kept_lines):
        if not ln.stops:
            violations.append(
                Violation(
                    "stop_unreachable",
                    ln.id,
                    "no stop of the line can be reached by bus; the line is dropped",
                )
            )
            continue
        riders_at: list[list[str]] = [[] for _ in ln.stops]
        for rid, (lj, k) in chosen.items():
            if lj == li:
                riders_at[k].append(rid)
        visits = tuple(
            (stop_pos[s.id], tuple(rs)) for s, rs in zip(ln.stops, riders_at, strict=True)
        )
        deadline = ln.deadline_s if ln.deadline_s is not None else settings.deadline_s
        try:
            line, asg = build_line(
                ln.id,
                RouteResult(ln.bus_type, visits),
                stop_list,
                matrix,
                wp_index[ln.id],
                line_wp[ln.id],  # type: ignore[arg-type]
                deadline=deadline,
                settings=settings,
                fleet=fleet,
                walk=walk_of,
            )
        except ValueError:
            violations.append(
                Violation(
                    "stop_unreachable",
                    ln.id,
                    "a leg of the line has no road path; the line is dropped",
                )
            )
            for rid in (r for rs in riders_at for r in rs):
                unserved.append(Unserved(rid, "unreachable", f"line {ln.id} cannot be driven"))
            continue
        late = settings.earliest_departure_s - line.departure_s
        if late > 0:
            line = _shift(line, late)
            asg = [
                replace(
                    a, board_time_s=a.board_time_s + late, arrival_time_s=a.arrival_time_s + late
                )
                for a in asg
            ]
        out_lines.append(line)
        assignments.extend(asg)

    node_of_stop = {s.id: int(i) for s, i in zip(stop_list, node_idx.tolist(), strict=True)}
    wp_node = {w: int(i) for w, i in zip(wps, wsnap.index.tolist(), strict=True)}
    out_lines = attach_paths(out_lines, node_of_stop, wp_node, drive)
    order = {r.id: i for i, r in enumerate(riders)}
    assignments.sort(key=lambda a: order[a.rider_id])
    unserved.sort(key=lambda u: order[u.rider_id])
    plan = Plan(
        lines=tuple(out_lines),
        assignments=tuple(assignments),
        unserved=tuple(unserved),
        kpis=compute_kpis(out_lines, assignments, unserved, fleet),
        settings=settings,
        workplace=plan_wp,
        deadline=settings.deadline_s,
        riders=tuple(riders),
        fleet=fleet,
        stops=tuple(stop_list),
        area=area.name,
        meta={"evaluated": True, "total_s": round(time.perf_counter() - t0, 3)},
    )
    violations.extend(check_plan(plan, area))
    logger.info("Evaluated %d lines: %d violations", len(out_lines), len(violations))
    return Evaluation(plan, tuple(violations))


def reoptimise(
    area: Area,
    existing: Sequence[ExistingLine] | Plan,
    riders: Sequence[Rider],
    fleet: Fleet,
    *,
    workplace: LonLat | None = None,
    keep_stops: bool = False,
    keep_lines: Iterable[str] | bool = (),
    settings: ShuttleSettings | None = None,
    progress: Callable[[float, float | None, str], None] | None = None,
    warm_start: bool = True,
) -> Plan:
    """Plan again from existing lines.

    Parameters
    ----------
    area, riders, fleet, settings, progress
        As for :func:`routing.shuttle.plan.plan_shuttles`.
    existing
        The lines running today (or a plan).
    workplace
        Default workplace (default: the existing lines' or the riders' workplace).
    keep_stops
        Only the existing lines' stops may be used (no new stop signs); lines, buses and
        stop orders are re-optimised.
    keep_lines
        Line ids kept exactly as they are (``True``: all). Each kept line keeps the riders in
        its walking reach that fit its seats and their ride limit; its bus leaves the fleet;
        everybody else is planned anew. New lines are numbered after the kept ones.
    warm_start
        Start the optimiser from the existing (not kept) lines: a plan's own assignments, or
        for bare lines the riders :func:`evaluate_lines` puts on them. Calls at stops the
        planner does not consider are dropped (their riders are planned afresh). ``False``
        plans from scratch.

    Returns
    -------
    Plan
        Kept lines plus new lines, every rider served once or reported with a reason.
    """
    settings = settings or ShuttleSettings()
    lines = lines_from_plan(existing) if isinstance(existing, Plan) else list(existing)
    wp = (
        workplace
        or next((ln.workplace for ln in lines if ln.workplace), None)
        or next((r.workplace for r in riders if r.workplace), None)
    )
    if wp is None:
        msg = "Expected a workplace (lon, lat) to re-optimise towards, got none"
        raise ShuttleInputError(msg)
    keep_ids = {ln.id for ln in lines} if keep_lines is True else set(keep_lines or ())
    unknown = keep_ids - {ln.id for ln in lines}
    if unknown:
        msg = f"Expected kept line ids among the existing lines, got {sorted(unknown)}"
        raise ShuttleInputError(msg)
    t0 = time.perf_counter()
    kept_plan: Plan | None = None
    remaining = list(riders)
    rest_fleet = fleet
    if keep_ids:
        kept = [ln for ln in lines if ln.id in keep_ids]
        kept_plan = evaluate_lines(
            area, kept, riders, fleet, workplace=wp, settings=settings, _seats_limited=True
        ).plan
        on_kept = {a.rider_id for a in kept_plan.assignments}
        remaining = [r for r in riders if r.id not in on_kept]
        used: dict[str, int] = {}
        for ln in kept_plan.lines:
            used[ln.bus_type] = used.get(ln.bus_type, 0) + 1
        rest_fleet = Fleet(
            tuple(
                BusType(
                    t.name,
                    t.seats,
                    max(0, t.count - used.get(t.name, 0)),
                    t.fixed_cost,
                    t.cost_per_km,
                    t.cost_per_hour,
                )
                for t in fleet
            )
        )
    stops = None
    if keep_stops:
        seen: dict[str, CandidateStop] = {}
        for old in lines:
            for st in old.stops:
                seen.setdefault(st.id, st)
        lon = np.array([st.lon for st in seen.values()])
        lat = np.array([st.lat for st in seen.values()])
        snap = area.snap(lon, lat, network="drive", max_distance=settings.max_stop_snap_m)
        stops = [
            replace(s, node=int(n) if ok else -1, source="given")
            for s, n, ok in zip(seen.values(), snap.node.tolist(), snap.ok.tolist(), strict=True)
        ]
    initial = (
        _initial_routes(area, existing, lines, keep_ids, remaining, rest_fleet, wp, settings)
        if warm_start and remaining
        else None
    )
    if remaining:
        new = plan_shuttles(
            area,
            remaining,
            rest_fleet,
            wp,
            settings=settings,
            stops=stops,
            progress=progress,
            initial_routes=initial,
        )
    else:
        new = None
    out_lines: list[Line] = list(kept_plan.lines) if kept_plan else []
    assignments: list[Assignment] = list(kept_plan.assignments) if kept_plan else []
    unserved: list[Unserved] = []
    all_stops: dict[str, CandidateStop] = {s.id: s for s in (kept_plan.stops if kept_plan else ())}
    if new is not None:
        new = _separate_stop_ids(new, all_stops)
        taken = {ln.id for ln in out_lines}
        rename: dict[str, str] = {}
        n = 0
        for ln in new.lines:
            n += 1
            nid = f"N{n:03d}"
            while nid in taken:
                n += 1
                nid = f"N{n:03d}"
            rename[ln.id] = nid
            taken.add(nid)
            out_lines.append(replace(ln, id=nid))
        assignments.extend(replace(a, line_id=rename[a.line_id]) for a in new.assignments)
        unserved.extend(new.unserved)
        for cand in new.stops:
            all_stops.setdefault(cand.id, cand)
    order = {r.id: i for i, r in enumerate(riders)}
    assignments.sort(key=lambda a: order[a.rider_id])
    unserved.sort(key=lambda u: order[u.rider_id])
    meta: dict[str, Any] = dict(new.meta) if new is not None else {}
    meta.update(
        reoptimised=True,
        keep_stops=keep_stops,
        kept_lines=sorted(keep_ids),
        total_s=round(time.perf_counter() - t0, 3),
    )
    return Plan(
        lines=tuple(out_lines),
        assignments=tuple(assignments),
        unserved=tuple(unserved),
        kpis=compute_kpis(out_lines, assignments, unserved, fleet),
        settings=settings,
        workplace=wp,
        deadline=settings.deadline_s,
        riders=tuple(riders),
        fleet=fleet,
        stops=tuple(all_stops.values()),
        area=area.name,
        meta=meta,
    )


def _same_place(a: CandidateStop, b: CandidateStop) -> bool:
    return a.node == b.node and (round(a.lon, 7), round(a.lat, 7)) == (
        round(b.lon, 7),
        round(b.lat, 7),
    )


def _separate_stop_ids(new: Plan, known: dict[str, CandidateStop]) -> Plan:
    """Rename stops of ``new`` whose id ``known`` (the kept lines' stops) uses for another place.

    A district's access point depends on the riders planned, so planning the riders left
    after the kept lines can put a stop with the same id elsewhere; one plan must not hold
    two places under one id. The new stop becomes ``<id>~N``.
    """
    rename: dict[str, str] = {}
    taken = set(known) | {c.id for c in new.stops}
    for cand in new.stops:
        old = known.get(cand.id)
        if old is None or _same_place(old, cand):
            continue
        k = 2
        while f"{cand.id}~{k}" in taken:
            k += 1
        rename[cand.id] = f"{cand.id}~{k}"
        taken.add(rename[cand.id])
    if not rename:
        return new
    lines = tuple(
        replace(
            ln,
            stops=tuple(replace(v, stop_id=rename.get(v.stop_id, v.stop_id)) for v in ln.stops),
        )
        for ln in new.lines
    )
    return replace(
        new,
        lines=lines,
        assignments=tuple(
            replace(a, stop_id=rename.get(a.stop_id, a.stop_id)) for a in new.assignments
        ),
        stops=tuple(replace(c, id=rename.get(c.id, c.id)) for c in new.stops),
    )


def _initial_routes(
    area: Area,
    existing: Sequence[ExistingLine] | Plan,
    lines: list[ExistingLine],
    keep_ids: set[str],
    riders: list[Rider],
    fleet: Fleet,
    workplace: LonLat,
    settings: ShuttleSettings,
) -> list[InitialRoute] | None:
    """The not-kept existing lines with their riders, to start the optimiser from."""
    if isinstance(existing, Plan):
        source = existing
    else:
        free = [ln for ln in lines if ln.id not in keep_ids]
        if not free:
            return None
        try:
            source = evaluate_lines(
                area, free, riders, fleet, workplace=workplace, settings=settings
            ).plan
        except ShuttleInputError as err:  # e.g. a bus type the fleet no longer has
            logger.info("re-optimising without a warm start: %s", err)
            return None
    routes = routes_of_plan(source, skip_lines=keep_ids, riders=[r.id for r in riders])
    return routes or None


def describe_evaluation(ev: Evaluation) -> str:
    """A short human-readable report of an evaluation (KPIs and violation counts)."""
    k = ev.plan.kpis
    parts = [
        f"{k['lines']} lines, {k['riders_served']} of {k['riders']} riders served, "
        f"{k['vehicle_km']} vehicle-km, cost {k['total_cost']}",
    ]
    by_kind = ev.violations_by_kind()
    if by_kind:
        parts.append("violations: " + ", ".join(f"{n} {kind}" for kind, n in by_kind.items()))
    else:
        parts.append("no violations")
    late = [ln for ln in ev.plan.lines if ln.arrival_s > ln.deadline_s]
    for ln in late[:10]:
        parts.append(
            f"  {ln.id} arrives {format_hms(ln.arrival_s)} (deadline {format_hms(ln.deadline_s)})"
        )
    return "\n".join(parts)
