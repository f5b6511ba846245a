"""Set covering (LSCP): the fewest new stations that cover a target share of the demand.

Greedy covering gives, in one pass, the number of new stations each target needs (an upper
bound; the coverage curve); each count is then lowered while maximal covering with one
station fewer (greedy + swaps) still reaches the target. Small instances are solved exactly
by HiGHS (MILP); larger ones get the LP relaxation's bound (rounded up) from HiGHS.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import StationValueError
from ._siting_core import greedy, swap

if TYPE_CHECKING:
    from .siting import SitingProblem, SitingResult, _Instance

__all__ = ["solve_lscp"]

#: Pairs up to which HiGHS's LP relaxation bounds a large LSCP.
LP_PAIRS = 2_000_000


def _covered(inst: _Instance, is_open: np.ndarray) -> float:
    from .siting import _objective

    return float(inst.w.sum()) - _objective(inst, is_open)


def solve_lscp(
    problem: SitingProblem,
    inst: _Instance,
    radius: float | None,
    target: Sequence[float] | float | None,
    time_limit: float,
    exact: bool | None,
    say: Callable[[str], None],
    started: float,
) -> SitingResult:
    """See :func:`stations.siting.solve_siting` (``objective="lscp"``)."""
    from ._siting_milp import covering_model, run
    from .siting import EXACT_CANDIDATES, EXACT_PAIRS, SitingResult, _ordered_gains

    targets = sorted(
        {float(t) for t in ([target] if isinstance(target, int | float) else target or [])}
    )
    total = float(inst.w.sum())
    reach = inst.fixed | inst.allowed
    coverable = np.zeros(inst.u.size, dtype=bool)
    cand = np.repeat(np.arange(reach.size), np.diff(inst.ptr))
    coverable[inst.dem[reach[cand]]] = True
    best_share = float(inst.w[coverable].sum()) / total if total > 0 else 0.0
    unit = f" {problem.meta['unit']}" if problem.meta.get("unit") else ""
    if targets[-1] > best_share + 1e-12:
        missing = total - float(inst.w[coverable].sum())
        msg = (
            f"Expected target shares up to {best_share:.4f}, the most that candidates can "
            f"cover within {radius:g}{unit}, got {targets[-1]:g}: demand weight {missing:g} "
            f"({1 - best_share:.2%}) has no usable candidate within reach"
        )
        raise StationValueError(msg, field="target")
    n_free = int(inst.allowed.sum())
    say(f"greedy covering: {n_free} candidates, {inst.dem.size} pairs")
    order, gains = greedy(
        inst.ptr, inst.dem, inst.cost, inst.w, inst.u, inst.fixed, inst.allowed, n_free
    )
    base = _covered(inst, inst.fixed)
    reached = base + np.concatenate([[0.0], np.cumsum(gains)])
    small = inst.dem.size <= EXACT_PAIRS and problem.k <= EXACT_CANDIDATES
    use_milp = small if exact is None else exact
    curve: list[dict[str, Any]] = []
    solutions: list[np.ndarray] = []

    for share in targets:
        need = share * total - 1e-9 * max(total, 1.0)
        count = int(np.searchsorted(reached, need))
        is_open = inst.fixed.copy()
        is_open[order[:count]] = True
        while count > 0:  # fewer stations, rearranged by swaps, may still do
            trial = inst.fixed.copy()
            trial[order[: count - 1]] = True
            trial, _ = swap(
                inst.ptr, inst.dem, inst.cost, inst.w, inst.u, trial, inst.fixed,
                inst.allowed, 20, 1e-12,
            )  # fmt: skip
            if _covered(inst, trial) < need:
                break
            count -= 1
            is_open = trial
        lower = 0
        optimal = count == 0
        left = max(time_limit - (time.perf_counter() - started), 1.0)
        if not optimal and (use_milp or inst.dem.size <= LP_PAIRS):
            say(f"HiGHS {'MILP' if use_milp else 'LP bound'} for target {share:g}")
            model = covering_model(
                inst.ptr, inst.dem, inst.w, inst.fixed, inst.allowed, target=share * total
            )
            solved = run(model, relax=not use_milp, time_limit=left)
            if use_milp and solved.x is not None:
                found = solved.x | inst.fixed
                stations = int((found & ~inst.fixed).sum())
                if stations < count and _covered(inst, found) >= need:
                    is_open, count = found, stations
            if math.isfinite(solved.bound):
                lower = math.ceil(solved.bound - 1e-6)
            optimal = lower >= count

        curve.append(
            {
                "target": share,
                "stations": count,
                "lower_bound": max(lower, 0) if not optimal else count,
                "covered_share": round(_covered(inst, is_open) / total, 6) if total else 0.0,
            }
        )
        solutions.append(is_open)
    first = curve[0]
    chosen = np.flatnonzero(solutions[0] & ~inst.fixed)
    order_ids, gains_first = _ordered_gains(inst, chosen)
    covered = _covered(inst, solutions[0])
    return SitingResult(
        objective="lscp",
        p=int(chosen.size),
        radius=radius,
        chosen=[problem.candidate_ids[j] for j in order_ids],
        gains=gains_first,
        value=float(first["stations"]),
        lower=float(first["lower_bound"]),
        upper=float(first["stations"]),
        gap=(first["stations"] - first["lower_bound"]) / max(first["stations"], 1),
        optimal=bool(first["stations"] == first["lower_bound"]),
        method="greedy covering + swaps" + ("; HiGHS MILP" if use_milp else "; HiGHS LP bound"),
        before={"covered": base, "share": base / total if total else 0.0},
        after={"covered": covered, "share": covered / total if total else 0.0},
        curve=curve,
        seconds=time.perf_counter() - started,
    )
