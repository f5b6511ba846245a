"""Before/after comparison of two shuttle plans (or evaluations of existing lines).

Besides the KPIs side by side, the comparison measures *stop churn*: for every rider served
in a direction both before and after, whether they board (or alight) at another stop after
the redesign, and how much farther they walk to it. Stops count as the same place when they
are within :data:`SAME_STOP_M` of each other, whatever their ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .gtfs import haversine_m
from .kpi import compute_kpis

if TYPE_CHECKING:
    from ._evaluate import Evaluation
    from .model import Plan

__all__ = ["SAME_STOP_M", "Comparison", "StopChange", "compare_plans", "stop_churn"]

#: Two stops closer than this (metres) are the same place for the stop churn.
SAME_STOP_M = 25.0


@dataclass(frozen=True)
class StopChange:
    """A rider who uses another stop after the redesign (one direction)."""

    rider_id: str
    direction: str
    stop_before: str
    stop_after: str
    walk_before_m: float
    walk_after_m: float

    @property
    def extra_walk_m(self) -> float:
        """How much farther (negative: nearer) the rider walks after."""
        return self.walk_after_m - self.walk_before_m

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        return {
            "rider_id": self.rider_id,
            "direction": self.direction,
            "stop_before": self.stop_before,
            "stop_after": self.stop_after,
            "walk_before_m": round(self.walk_before_m, 1),
            "walk_after_m": round(self.walk_after_m, 1),
            "extra_walk_m": round(self.extra_walk_m, 1),
        }


@dataclass(frozen=True)
class Comparison:
    """Before/after rows: ``(metric, before, after, delta)``; ``None`` where not defined.

    ``changes`` lists the riders who use another stop after (see :func:`stop_churn`).
    """

    rows: tuple[tuple[str, float | None, float | None, float | None], ...]
    changes: tuple[StopChange, ...] = field(default=())

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-friendly rows."""
        return [{"metric": m, "before": b, "after": a, "delta": d} for m, b, a, d in self.rows]

    def to_text(self) -> str:
        """A fixed-width table for the terminal."""

        def fmt(v: float | None, signed: bool = False) -> str:
            if v is None:
                return "-"
            if float(v).is_integer():
                return f"{int(v):+d}" if signed else f"{int(v)}"
            return f"{v:+.2f}" if signed else f"{v:.2f}"

        width = max(len(m) for m, *_ in self.rows) if self.rows else 10
        head = f"{'metric':<{width}}  {'before':>12}  {'after':>12}  {'delta':>12}"
        lines = [head, "-" * len(head)]
        for m, b, a, d in self.rows:
            lines.append(f"{m:<{width}}  {fmt(b):>12}  {fmt(a):>12}  {fmt(d, True):>12}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def row(self, metric: str) -> tuple[float | None, float | None, float | None]:
        """``(before, after, delta)`` of one metric."""
        for m, b, a, d in self.rows:
            if m == metric:
                return b, a, d
        msg = f"Expected a metric among {[m for m, *_ in self.rows]}, got {metric!r}"
        raise KeyError(msg)


def _plan(p: Plan | Evaluation) -> Plan:
    return p.plan if hasattr(p, "violations") else p  # type: ignore[union-attr]


def _kpis(p: Plan | Evaluation) -> tuple[dict[str, Any], int | None]:
    plan = _plan(p)
    kpis = compute_kpis(plan.lines, plan.assignments, plan.unserved, plan.fleet, plan.vehicles)
    violations = getattr(p, "violations", None)
    return kpis, (len(violations) if violations is not None else None)


def stop_churn(before: Plan | Evaluation, after: Plan | Evaluation) -> tuple[int, list[StopChange]]:
    """Riders served in a direction both before and after, and those who changed stop.

    Returns ``(compared, changes)``: how many (rider, direction) pairs were served on both
    sides, and one :class:`StopChange` for each whose stop moved by :data:`SAME_STOP_M` or
    more.
    """
    b_plan, a_plan = _plan(before), _plan(after)

    def where(plan: Plan) -> dict[str, tuple[float, float]]:
        out = {s.id: (s.lon, s.lat) for s in plan.stops}
        for ln in plan.lines:
            for v in ln.stops:
                out.setdefault(v.stop_id, (v.lon, v.lat))
        return out

    b_at, a_at = where(b_plan), where(a_plan)
    b_asg = {(x.rider_id, x.direction): x for x in b_plan.assignments}
    compared = 0
    changes: list[StopChange] = []
    for x in a_plan.assignments:
        old = b_asg.get((x.rider_id, x.direction))
        if old is None:
            continue
        compared += 1
        pa, pb = a_at.get(x.stop_id), b_at.get(old.stop_id)
        moved = (
            x.stop_id != old.stop_id
            if pa is None or pb is None
            else haversine_m(*pa, *pb) >= SAME_STOP_M
        )
        if moved:
            changes.append(
                StopChange(x.rider_id, x.direction, old.stop_id, x.stop_id, old.walk_m, x.walk_m)
            )
    return compared, changes


def compare_plans(before: Plan | Evaluation, after: Plan | Evaluation) -> Comparison:
    """Tabulate two plans (or evaluations) side by side with deltas (after - before).

    Rows: trips, buses (and by type), vehicle-km, vehicle-hours, mean / p95 / max ride (min),
    mean walk (m), rides served, unserved (total and by reason), seat utilisation, total
    cost, cost per ride, violations when either is an evaluation, then the stop churn (riders
    served on both sides, how many change stop, their extra walk: in the ``after`` column).
    KPIs are recomputed with :func:`routing.shuttle.kpi.compute_kpis`, so both sides use the
    same definitions; :attr:`Comparison.changes` lists who changes stop.
    """
    kb, vb = _kpis(before)
    ka, va = _kpis(after)
    rows: list[tuple[str, float | None, float | None, float | None]] = []

    def add(name: str, b: float | None, a: float | None) -> None:
        d = None if b is None or a is None else round(a - b, 4)
        rows.append((name, b, a, d))

    add("trips", kb["trips"], ka["trips"])
    add("buses", kb["buses"], ka["buses"])
    for t in sorted(set(kb["buses_by_type"]) | set(ka["buses_by_type"])):
        add(f"buses {t}", kb["buses_by_type"].get(t, 0), ka["buses_by_type"].get(t, 0))
    add("vehicle-km", kb["vehicle_km"], ka["vehicle_km"])
    add("vehicle-hours", kb["vehicle_hours"], ka["vehicle_hours"])
    for stat in ("mean", "p95", "max"):
        add(f"ride {stat} (min)", kb["ride_min"][stat], ka["ride_min"][stat])
    add("walk mean (m)", kb["walk_m"]["mean"], ka["walk_m"]["mean"])
    add("riders served", kb["riders_served"], ka["riders_served"])
    add("riders unserved", kb["riders_unserved"], ka["riders_unserved"])
    for reason in sorted(set(kb["unserved_by_reason"]) | set(ka["unserved_by_reason"])):
        add(
            f"unserved {reason}",
            kb["unserved_by_reason"].get(reason, 0),
            ka["unserved_by_reason"].get(reason, 0),
        )
    add("seat utilisation", kb["seat_utilisation"], ka["seat_utilisation"])
    add("total cost", kb["total_cost"], ka["total_cost"])
    add("cost per rider", kb["cost_per_rider"], ka["cost_per_rider"])
    if vb is not None or va is not None:
        add("violations", vb, va)
    compared, changes = stop_churn(before, after)
    extra = [c.extra_walk_m for c in changes]
    rows.append(("riders compared (both served)", None, float(compared), None))
    rows.append(("riders changing stop", None, float(len(changes)), None))
    share = round(len(changes) / compared, 4) if compared else None
    rows.append(("share changing stop", None, share, None))
    for name, value in (
        ("extra walk mean (m)", float(np.mean(extra)) if extra else None),
        ("extra walk p95 (m)", float(np.percentile(extra, 95)) if extra else None),
        ("extra walk max (m)", float(max(extra)) if extra else None),
    ):
        rows.append((name, None, round(value, 1) if value is not None else None, None))
    return Comparison(tuple(rows), tuple(changes))
