"""Before/after comparison of two shuttle plans (or evaluations of existing lines)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .kpi import compute_kpis

if TYPE_CHECKING:
    from .model import Plan
    from .redesign import Evaluation

__all__ = ["Comparison", "compare_plans"]


@dataclass(frozen=True)
class Comparison:
    """Before/after rows: ``(metric, before, after, delta)``; ``None`` where not defined."""

    rows: tuple[tuple[str, float | None, float | None, float | None], ...]

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


def _kpis(p: Plan | Evaluation) -> tuple[dict[str, Any], int | None]:
    plan: Plan = p.plan if hasattr(p, "violations") else p  # type: ignore[union-attr]
    kpis = compute_kpis(plan.lines, plan.assignments, plan.unserved, plan.fleet)
    violations = getattr(p, "violations", None)
    return kpis, (len(violations) if violations is not None else None)


def compare_plans(before: Plan | Evaluation, after: Plan | Evaluation) -> Comparison:
    """Tabulate two plans (or evaluations) side by side with deltas (after - before).

    Rows: lines, buses by type, vehicle-km, vehicle-hours, mean / p95 / max ride (min),
    mean walk (m), riders served, unserved (total and by reason), seat utilisation, total
    cost, cost per rider, and violations when both are evaluations. KPIs are recomputed with
    :func:`routing.shuttle.kpi.compute_kpis`, so both sides use the same definitions.
    """
    kb, vb = _kpis(before)
    ka, va = _kpis(after)
    rows: list[tuple[str, float | None, float | None, float | None]] = []

    def add(name: str, b: float | None, a: float | None) -> None:
        d = None if b is None or a is None else round(a - b, 4)
        rows.append((name, b, a, d))

    add("lines", kb["lines"], ka["lines"])
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
    return Comparison(tuple(rows))
