"""Redesign: evaluate existing lines, re-optimise from them, compare two plans.

:func:`evaluate_lines` (in :mod:`routing.shuttle._evaluate`) takes lines as they run today, in
both directions, from a plan directory, a lines CSV or a GTFS feed, and returns the planner's
KPIs plus every rule they break.

:func:`reoptimise` plans again from existing lines, optionally keeping their stops (the
optimiser may only use the existing stops) or keeping chosen lines exactly as they are
(their riders stay on them in that direction, their buses are taken out of the fleet, the
rest is planned). The optimiser starts from the existing lines (warm start), so from feasible
lines it never ends worse in the optimiser's cost.

:func:`compare_plans` tabulates two plans side by side with deltas, and the stop churn per
rider: who must walk to a different stop, and how much farther.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._compare import Comparison, StopChange, compare_plans, stop_churn
from ._errors import ShuttleInputError
from ._evaluate import Evaluation, describe_evaluation, evaluate_lines
from ._existing import ExistingLine, lines_from_plan, read_lines
from ._prepare import place_stops
from .kpi import assemble_plan
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
)
from .plan import InitialRoute, plan_shuttles, routes_of_plan
from .settings import ShuttleSettings

if TYPE_CHECKING:
    from routing.area import Area

__all__ = [
    "Comparison",
    "Evaluation",
    "ExistingLine",
    "StopChange",
    "compare_plans",
    "describe_evaluation",
    "evaluate_lines",
    "lines_from_plan",
    "read_lines",
    "reoptimise",
    "stop_churn",
]

logger = logging.getLogger(__name__)

LonLat = tuple[float, float]


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
        Line ids kept exactly as they are (``True``: all). Each kept line keeps the riders of
        its direction in its walking reach who fit its seats, ride limit and shift; its bus
        leaves the fleet; everybody else (and every kept rider's other direction) is planned
        anew. New lines are numbered ``N001``... after the kept ones.
    warm_start
        Start the optimiser from the existing (not kept) lines: a plan's own assignments, or
        for bare lines the riders :func:`evaluate_lines` puts on them. Calls at stops the
        planner does not consider are dropped (their riders are planned afresh). ``False``
        plans from scratch.

    Returns
    -------
    Plan
        Kept lines plus new lines, every rider served once per direction or reported.
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
    covered: dict[str, set[Direction]] = {}
    rest_fleet = fleet
    if keep_ids:
        kept = [ln for ln in lines if ln.id in keep_ids]
        kept_plan = evaluate_lines(
            area, kept, riders, fleet, workplace=wp, settings=settings, _seats_limited=True
        ).plan
        for a in kept_plan.assignments:
            covered.setdefault(a.rider_id, set()).add(a.direction)
        used = kept_plan.buses_by_type()
        rest_fleet = Fleet(
            tuple(replace(t, count=max(0, t.count - used.get(t.name, 0))) for t in fleet)
        )
    stops = None
    if keep_stops:
        seen: dict[str, CandidateStop] = {}
        for old in lines:
            for st in old.stops:
                seen.setdefault(st.id, replace(st, source="given"))
        stops = place_stops(area, list(seen.values()), settings=settings)
    initial = (
        _initial_routes(area, existing, lines, keep_ids, riders, rest_fleet, wp, settings)
        if warm_start
        else None
    )
    new = plan_shuttles(
        area,
        riders,
        rest_fleet,
        wp,
        settings=settings,
        stops=stops,
        progress=progress,
        initial_routes=initial,
        covered=covered,
    )
    out_lines: list[Line] = list(kept_plan.lines) if kept_plan else []
    vehicles: list[Vehicle] = list(kept_plan.vehicles) if kept_plan else []
    assignments: list[Assignment] = list(kept_plan.assignments) if kept_plan else []
    unserved: list[Unserved] = []
    all_stops: dict[str, CandidateStop] = {s.id: s for s in (kept_plan.stops if kept_plan else ())}
    new = _separate_stop_ids(new, all_stops)
    rename = _new_ids([ln.id for ln in new.lines], {ln.id for ln in out_lines}, "N")
    bus_rename = _new_ids([v.id for v in new.vehicles], {v.id for v in vehicles}, "NB")
    for ln in new.lines:
        out_lines.append(
            replace(ln, id=rename[ln.id], vehicle_id=bus_rename.get(ln.vehicle_id, ln.vehicle_id))
        )
    for v in new.vehicles:
        vehicles.append(
            replace(v, id=bus_rename[v.id], line_ids=tuple(rename[i] for i in v.line_ids))
        )
    assignments.extend(replace(a, line_id=rename[a.line_id]) for a in new.assignments)
    unserved.extend(new.unserved)
    for cand in new.stops:
        all_stops.setdefault(cand.id, cand)
    meta: dict[str, Any] = dict(new.meta)
    meta.update(
        reoptimised=True,
        keep_stops=keep_stops,
        kept_lines=sorted(keep_ids),
        total_s=round(time.perf_counter() - t0, 3),
    )
    return assemble_plan(
        out_lines,
        assignments,
        unserved,
        riders=riders,
        fleet=fleet,
        settings=settings,
        workplace=wp,
        stops=list(all_stops.values()),
        vehicles=vehicles,
        area=area.name,
        meta=meta,
        districts=new.districts,
    )


def _new_ids(ids: Sequence[str], taken: set[str], prefix: str) -> dict[str, str]:
    """``prefix001``, ``prefix002``... for ``ids``, skipping ids in ``taken``."""
    out: dict[str, str] = {}
    n = 0
    used = set(taken)
    for old in ids:
        n += 1
        nid = f"{prefix}{n:03d}"
        while nid in used:
            n += 1
            nid = f"{prefix}{n:03d}"
        out[old] = nid
        used.add(nid)
    return out


def _same_place(a: CandidateStop, b: CandidateStop) -> bool:
    return a.edge == b.edge and (round(a.lon, 7), round(a.lat, 7)) == (
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
    riders: Sequence[Rider],
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
