"""Plan a day: riders grouped into waves, waves solved in time order, trips chained on buses.

A *wave* is one direction, workplace and time: riders due at work by a deadline, or riders
leaving at a shift end. Waves are solved one after the other in the order their trips start;
every bus bought by an earlier wave is offered to the later ones at the time and place it is
free (:class:`~routing.shuttle.solve.ReuseGroup`), so a bus that finishes an early run is
reused instead of buying another when the empty drive fits. When all waves are planned the
trips are re-chained exactly (:func:`routing.shuttle.chain.chain_trips`): the fewest buses
for the timetabled trips, then the least empty running.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .chain import chain_trips, trip_spans
from .kpi import compute_kpis
from .matrix import UNREACHABLE, StopMatrix
from .model import (
    Assignment,
    CandidateStop,
    Direction,
    Fleet,
    Line,
    Rider,
    Unserved,
    Vehicle,
    effective_limits,
    evening_departure,
)
from .settings import ShuttleSettings
from .solve import Progress, ReuseGroup, RouteResult, solve_wave, split_budget
from .timetable import build_line

__all__ = ["DayPlan", "Wave", "plan_day", "waves_of", "workplace_id"]

LonLat = tuple[float, float]

#: Reused buses free within this many seconds of each other form one vehicle type.
_REUSE_BUCKET_S = 60


def workplace_id(workplace: LonLat) -> str:
    """Location id of a workplace in stop matrices (``wp:<lon>,<lat>``)."""
    return f"wp:{workplace[0]:.7f},{workplace[1]:.7f}"


@dataclass(frozen=True)
class Wave:
    """Riders of one direction and workplace due at one time (deadline or departure)."""

    direction: Direction
    workplace: LonLat
    time_s: int
    rider_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        """``"to work 08:30"`` / ``"home 17:30"``."""
        from .settings import format_hms

        what = "to work" if self.direction == "to_work" else "home"
        return f"{what} {format_hms(self.time_s)[:5]}"


def waves_of(
    riders: Sequence[Rider],
    *,
    workplace: LonLat,
    settings: ShuttleSettings,
    covered: Mapping[str, Collection[Direction]] | None = None,
) -> tuple[list[Wave], dict[str, int]]:
    """The waves of ``riders`` in the order their trips start, and each rider's ride limit.

    Every rider rides to work by their deadline; riders with an evening departure (their own
    or the settings' default) also ride home; directions in ``covered`` are left out. A wave
    to work starts about its longest ride before its deadline; a wave home at its departure.
    """
    done = covered or {}
    groups: dict[tuple[Direction, LonLat, int], list[str]] = {}
    limits: dict[str, int] = {}
    for r in riders:
        deadline, lim = effective_limits(r, settings)
        limits[r.id] = lim
        wp = r.workplace or workplace
        skip = done.get(r.id, ())
        if "to_work" not in skip:
            groups.setdefault(("to_work", wp, deadline), []).append(r.id)
        leave = evening_departure(r, settings)
        if leave is not None and "from_work" not in skip:
            groups.setdefault(("from_work", wp, leave), []).append(r.id)

    def starts(key: tuple[Direction, LonLat, int]) -> tuple[int, int, LonLat]:
        direction, wp, t = key
        if direction == "to_work":
            return (t - max(limits[rid] for rid in groups[key]), 0, wp)
        return (t, 1, wp)

    keys = sorted(groups, key=starts)
    return [Wave(d, wp, t, tuple(groups[(d, wp, t)])) for d, wp, t in keys], limits


@dataclass
class _Bus:
    bus_type: str
    free_s: int
    free_loc: int


@dataclass
class DayPlan:
    """Trips, riders' assignments, unserved riders and buses of a planned day."""

    lines: list[Line]
    assignments: list[Assignment]
    unserved: list[Unserved]
    vehicles: list[Vehicle]
    meta: dict[str, Any]


def _reuse_groups(
    buses: Sequence[_Bus], matrix: StopMatrix, wp_index: int, settings: ShuttleSettings
) -> list[ReuseGroup]:
    """Buses bought so far, grouped by type and when they can leave the wave's workplace."""
    groups: dict[tuple[str, int], list[int]] = {}
    for k, bus in enumerate(buses):
        back = int(matrix.duration[bus.free_loc, wp_index])
        if back >= UNREACHABLE:
            continue
        ready = bus.free_s + back + settings.turnaround_s
        bucket = math.ceil(ready / _REUSE_BUCKET_S) * _REUSE_BUCKET_S
        groups.setdefault((bus.bus_type, bucket), []).append(k)
    return [ReuseGroup(t, at, tuple(ids)) for (t, at), ids in sorted(groups.items())]


def _line_budgets(waves: Sequence[Wave], max_lines: int) -> list[int | None]:
    """The line cap of each direction shared among its waves in proportion to their riders."""
    if max_lines <= 0:
        return [None] * len(waves)
    out: list[int | None] = [None] * len(waves)
    for direction in ("to_work", "from_work"):
        idx = [k for k, w in enumerate(waves) if w.direction == direction]
        if not idx:
            continue
        sizes = [len(waves[k].rider_ids) for k in idx]
        total = sum(sizes)
        shares = [max_lines * s / total for s in sizes]
        alloc = [math.floor(x) for x in shares]
        order = sorted(range(len(idx)), key=lambda j: -(shares[j] - alloc[j]))
        for j in order[: max_lines - sum(alloc)]:
            alloc[j] += 1
        for j, k in enumerate(idx):
            out[k] = alloc[j]
    return out


def _solver_version() -> str:
    try:
        return importlib.metadata.version("pyvrp")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def plan_day(
    riders: Sequence[Rider],
    options: dict[str, list[tuple[int, float]]],
    district_of: Mapping[str, str],
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    fleet: Fleet,
    *,
    workplace: LonLat,
    settings: ShuttleSettings,
    progress: Progress | None,
    initial_routes: Sequence[RouteResult] | None = None,
    chain: bool = True,
    reuse: bool = True,
    covered: Mapping[str, Collection[Direction]] | None = None,
) -> DayPlan:
    """Solve every wave of ``riders`` in time order, then chain the trips onto buses.

    ``options`` maps rider ids to ``[(stop index, walk metres)]``; ``stops`` are the first
    locations of ``matrix``, workplaces follow under :func:`workplace_id`. ``reuse=False``
    solves every wave on its own with the whole fleet (no bus of an earlier wave offered);
    ``chain=False`` then gives every trip a bus of its own instead of chaining the trips
    afterwards (both for comparisons: the planner reuses and chains). ``covered`` directions
    of riders are not planned (see :func:`waves_of`).
    """
    waves, limits = waves_of(riders, workplace=workplace, settings=settings, covered=covered)
    by_id = {r.id: r for r in riders}
    budgets = split_budget(settings.time_limit_s, [len(w.rider_ids) for w in waves])
    line_caps = _line_budgets(waves, settings.max_lines)
    stop_index = {s.id: i for i, s in enumerate(stops)}
    walk = {(rid, s): w for rid, opts in options.items() for s, w in opts}
    buses: list[_Bus] = []
    bought = {t.name: 0 for t in fleet}
    lines: list[Line] = []
    assignments: list[Assignment] = []
    unserved: list[Unserved] = []
    wave_meta: list[dict[str, Any]] = []
    caps: dict[str, dict[str, Any]] = {}
    wp_index: dict[LonLat, int] = {}
    for n, (wave, budget, cap) in enumerate(zip(waves, budgets, line_caps, strict=True)):
        wpi = matrix.index(workplace_id(wave.workplace))
        wp_index[wave.workplace] = wpi
        if reuse:
            left = Fleet(tuple(replace(t, count=max(0, t.count - bought[t.name])) for t in fleet))
            groups = _reuse_groups(buses, matrix, wpi, settings)
            max_new = max(0, settings.max_buses - len(buses)) if settings.max_buses else None
        else:
            left, groups = fleet, []
            max_new = settings.max_buses or None
        label = f"wave {n + 1}/{len(waves)} ({wave.label})" if len(waves) > 1 else "plan"
        res = solve_wave(
            [by_id[rid] for rid in wave.rider_ids],
            options,
            dict(district_of),
            matrix,
            wpi,
            left,
            direction=wave.direction,
            wave_time=wave.time_s,
            limits=limits,
            settings=settings,
            time_limit=budget,
            progress=progress,
            label=label,
            initial_routes=[r for r in initial_routes or () if r.direction == wave.direction],
            reuse=groups,
            max_routes=cap,
            max_new=max_new,
        )
        free = {g: list(group.bus_ids) for g, group in enumerate(groups)}
        wave_lines: list[Line] = []
        built = _build_lines(
            res.routes, len(lines) + 1, "L", stops, matrix, wpi, wave, settings, fleet, walk
        )
        for route, (line, assigned) in zip(res.routes, built, strict=True):
            end_loc = wpi if line.to_work else stop_index[line.stops[-1].stop_id]
            if route.reuse is not None and free.get(route.reuse):
                bus = buses[free[route.reuse].pop(0)]
                bus.free_s, bus.free_loc = line.end_s, end_loc
            else:
                bought[route.bus_type] = bought.get(route.bus_type, 0) + 1
                buses.append(_Bus(route.bus_type, line.end_s, end_loc))
            lines.append(line)
            wave_lines.append(line)
            assignments.extend(assigned)
        unserved.extend(res.unserved)
        if res.uncapped is not None:
            _add_cap_report(
                caps, wave, res, wave_lines, assignments, stops, matrix, wpi, settings, fleet, walk
            )
        wave_meta.append(
            {
                "direction": wave.direction,
                "workplace": list(wave.workplace),
                "time": wave.time_s,
                "deadline": wave.time_s,
                "trips": len(wave_lines),
                "reused_buses": sum(1 for r in res.routes if r.reuse is not None),
                **res.meta,
            }
        )
    vehicles: list[Vehicle] = []
    if chain and lines:
        lines, vehicles = chain_trips(
            lines,
            trip_spans(lines, stop_index, wp_index),
            matrix,
            fleet,
            turnaround_s=settings.turnaround_s,
        )
    meta: dict[str, Any] = {"waves": wave_meta, "solver": f"pyvrp {_solver_version()}"}
    firsts = [
        float(m["first_feasible_s"]) for m in wave_meta if m.get("first_feasible_s") is not None
    ]
    meta["first_feasible_s"] = round(sum(firsts), 3) if firsts else None
    meta["buses_bought_in_waves"] = len(buses)
    if caps:
        meta["caps"] = caps
    return DayPlan(lines, assignments, unserved, vehicles, meta)


def _build_lines(
    routes: Sequence[RouteResult],
    first: int,
    prefix: str,
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    wpi: int,
    wave: Wave,
    settings: ShuttleSettings,
    fleet: Fleet,
    walk: Mapping[tuple[str, int], float],
) -> list[tuple[Line, list[Assignment]]]:
    """Each route of ``wave`` as a timetabled line ``<prefix><number>`` and its riders."""
    return [
        build_line(
            f"{prefix}{first + k:03d}",
            route,
            stops,
            matrix,
            wpi,
            wave.workplace,
            wave_time=wave.time_s,
            settings=settings,
            fleet=fleet,
            walk=walk,
        )
        for k, route in enumerate(routes)
    ]


def _add_cap_report(
    caps: dict[str, dict[str, Any]],
    wave: Wave,
    res: Any,
    capped_lines: list[Line],
    assignments: list[Assignment],
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    wpi: int,
    settings: ShuttleSettings,
    fleet: Fleet,
    walk: Mapping[tuple[str, int], float],
) -> None:
    """Add what the caps cost in ``wave`` (trips, riders left out, ride times) to ``caps``."""
    built = _build_lines(res.uncapped, 1, "U", stops, matrix, wpi, wave, settings, fleet, walk)
    free_lines = [line for line, _ in built]
    free_asg = [a for _, asg in built for a in asg]
    capped_ids = {ln.id for ln in capped_lines}
    capped_asg = [a for a in assignments if a.line_id in capped_ids]
    before = compute_kpis(free_lines, free_asg, [], fleet)
    after = compute_kpis(capped_lines, capped_asg, [], fleet)
    entry = caps.setdefault(
        wave.label,
        {
            "max_lines": settings.max_lines or None,
            "max_buses": settings.max_buses or None,
        },
    )
    entry.update(
        trips={"uncapped": len(free_lines), "capped": len(capped_lines)},
        riders_served={"uncapped": len(free_asg), "capped": len(capped_asg)},
        riders_over_cap=sum(1 for u in res.unserved if u.reason == "over_cap"),
        ride_min={"uncapped": before["ride_min"], "capped": after["ride_min"]},
        running_cost={"uncapped": before["running_cost"], "capped": after["running_cost"]},
    )
