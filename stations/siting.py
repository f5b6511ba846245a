"""Siting new stations among candidate hosts, with a certified optimality gap.

Objectives (existing stations stay open and count):

* ``mclp`` — maximal covering: open ``p`` candidates to cover the most demand weight
  within ``radius``.
* ``pmedian`` — least total weighted walking time, each demand walking to its nearest open
  site; a demand farther than ``radius`` from every open site counts as ``radius`` (it is
  unserved, and more time would not make it worse), so only pairs within it are stored.
* ``lscp`` — fewest new stations covering a target share of all demand weight (several
  targets give the coverage curve).

Capacitated variants (candidates with a ``capacity`` in demand weight, demand may be split)
of ``mclp`` and ``pmedian`` are solved as MILPs.

How: covering demand with the same candidate set is merged first
(:mod:`stations._siting_reduce`); lazy greedy + fast-interchange swaps give the solution,
which for large ``mclp`` is then improved by simulated annealing
(:mod:`stations._siting_anneal`) and region exchanges (:mod:`stations._siting_lns`); the
bound comes from HiGHS (exact MILP when the instance is small, its dual bound otherwise) or,
on large instances, from the Lagrangian dual of the assignment constraints (equal to the LP
bound at its optimum; for ``mclp`` subgradient steps then the smoothed dual,
:mod:`stations._siting_dual`, in a thread beside the search), so every answer reports
``lower``, ``upper`` and the ``gap``. Only pairs within
the budget are kept (a sparse matrix, never a dense candidates x demand one). Decisions
from HiGHS are read as ``> 0.5``.

The matrix-level entry :func:`read_costs` builds a :class:`SitingProblem` from a long CSV
``demand_id,candidate_id,cost``; :func:`site_stations` builds one from an Area.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import StationValueError
from ._siting_core import assignment, greedy, lagrangian, swap
from ._siting_reduce import merge_demand

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "OBJECTIVES",
    "SitingProblem",
    "SitingResult",
    "solve_siting",
]

logger = logging.getLogger(__name__)

OBJECTIVES = ("mclp", "pmedian", "lscp")
#: Instances up to this many pairs and candidates are solved exactly by HiGHS (MILP).
EXACT_PAIRS = 150_000
EXACT_CANDIDATES = 3_000


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """Demand, candidates and the sparse costs between them.

    Attributes
    ----------
    demand_ids, weight
        One weight (>= 0) per demand.
    candidate_ids
        One id per candidate site.
    fixed
        Candidates that are open already (existing stations): always open, not counted in
        ``p``.
    capacity
        Demand weight a candidate can serve (``inf``: unlimited).
    host_type
        Per candidate, for host-type filters (``None`` where unknown).
    ptr, dem, cost
        Candidate-major pairs: candidate ``j`` reaches demands ``dem[ptr[j]:ptr[j+1]]`` at
        ``cost[...]`` (minutes from an Area; the file's unit from :func:`read_costs`).
    meta
        Where the problem came from (positions of candidates for maps, units).
    """

    demand_ids: list[str]
    weight: np.ndarray
    candidate_ids: list[str]
    fixed: np.ndarray
    capacity: np.ndarray
    host_type: list[str | None]
    ptr: np.ndarray
    dem: np.ndarray
    cost: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of demands."""
        return len(self.demand_ids)

    @property
    def k(self) -> int:
        """Number of candidates (fixed ones included)."""
        return len(self.candidate_ids)

    @classmethod
    def from_pairs(
        cls,
        demand: ArrayLike,
        candidate: ArrayLike,
        cost: ArrayLike,
        *,
        demand_ids: Sequence[str],
        candidate_ids: Sequence[str],
        weight: ArrayLike | None = None,
        fixed: Iterable[str] = (),
        capacity: ArrayLike | None = None,
        host_type: Sequence[str | None] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> SitingProblem:
        """Build from pair arrays (indices into the id lists) and validate them."""
        d = np.asarray(demand, dtype=np.int64)
        c = np.asarray(candidate, dtype=np.int64)
        t = np.asarray(cost, dtype=np.float64)
        n, k = len(demand_ids), len(candidate_ids)
        if not (d.shape == c.shape == t.shape):
            msg = (
                f"Expected as many demands, candidates and costs, got {d.size}, {c.size}, {t.size}"
            )
            raise StationValueError(msg, field="cost")
        if k == 0:
            msg = "Expected at least one candidate site, got none"
            raise StationValueError(msg, field="candidates")
        if d.size and (d.min() < 0 or d.max() >= n or c.min() < 0 or c.max() >= k):
            msg = "Expected pair indices within the demand and candidate lists"
            raise StationValueError(msg, field="cost")
        if not np.all(np.isfinite(t) & (t >= 0)):
            bad = int(np.flatnonzero(~(np.isfinite(t) & (t >= 0)))[0])
            msg = f"Expected finite costs >= 0, got {t[bad]!r} (pair {bad + 1})"
            raise StationValueError(msg, field="cost")
        order = np.lexsort((d, c))
        d, c, t = d[order], c[order], t[order]
        dup = (d[1:] == d[:-1]) & (c[1:] == c[:-1])
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            msg = (
                f"Expected each (demand, candidate) pair once, got {demand_ids[d[i]]!r}, "
                f"{candidate_ids[c[i]]!r} twice"
            )
            raise StationValueError(msg, field="cost")
        w = np.ones(n) if weight is None else np.asarray(weight, dtype=float)
        if w.shape != (n,) or not np.all(np.isfinite(w) & (w >= 0)):
            msg = "Expected one finite weight >= 0 per demand"
            raise StationValueError(msg, field="weight")
        index = {cid: j for j, cid in enumerate(candidate_ids)}
        fixed_mask = np.zeros(k, dtype=bool)
        for fid in fixed:
            if fid not in index:
                msg = f"Expected fixed candidates among the candidates, got {fid!r}"
                raise StationValueError(msg, field="fixed")
            fixed_mask[index[fid]] = True
        cap = np.full(k, np.inf) if capacity is None else np.asarray(capacity, dtype=float)
        ptr = np.zeros(k + 1, dtype=np.int64)
        np.add.at(ptr, c + 1, 1)
        return cls(
            demand_ids=list(demand_ids),
            weight=w,
            candidate_ids=list(candidate_ids),
            fixed=fixed_mask,
            capacity=np.where(np.isnan(cap), np.inf, cap),
            host_type=list(host_type) if host_type is not None else [None] * k,
            ptr=np.cumsum(ptr),
            dem=d,
            cost=t,
            meta=dict(meta or {}),
        )


@dataclass(frozen=True)
class SitingResult:
    """A siting answer with its certificate.

    Attributes
    ----------
    objective, p, radius
        What was solved (``p``: new stations; for ``lscp`` the number found).
    chosen
        New candidate ids, largest gain first.
    gains
        Per chosen site, what it adds when the sites are added in that order: demand weight
        newly covered (``mclp``, ``lscp``) or weighted cost saved (``pmedian``).
    value
        Covered weight (``mclp``), total weighted cost (``pmedian``) or stations (``lscp``).
    lower, upper
        Proven bounds on the optimum (``value`` is one of them).
    gap
        ``(upper - lower) / |best|``: 0 when proven optimal.
    optimal
        Proven optimal (within HiGHS's tolerance).
    method
        How the solution and the bound were found.
    before, after
        Figures with the existing stations only and with the new ones.
    curve
        ``lscp`` only: per target, the stations found and the proven lower bound.
    seconds
        Wall time of the solve.
    """

    objective: str
    p: int
    radius: float | None
    chosen: list[str]
    gains: list[float]
    value: float
    lower: float
    upper: float
    gap: float
    optimal: bool
    method: str
    before: dict[str, float]
    after: dict[str, float]
    curve: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "objective": self.objective,
            "p": self.p,
            "radius": self.radius,
            "chosen": [
                {"id": cid, "gain": round(g, 6)}
                for cid, g in zip(self.chosen, self.gains, strict=True)
            ],
            "value": round(self.value, 6),
            "lower": round(self.lower, 6),
            "upper": round(self.upper, 6),
            "gap": round(self.gap, 6),
            "optimal": self.optimal,
            "method": self.method,
            "before": {k: round(v, 6) for k, v in self.before.items()},
            "after": {k: round(v, 6) for k, v in self.after.items()},
            "curve": self.curve,
            "seconds": round(self.seconds, 3),
        }


# ---------------------------------------------------------------------------- solving


@dataclass(frozen=True, eq=False)
class _Instance:
    """A problem reduced to truncated facility location (see :mod:`stations._siting_core`).

    Covering objectives (``mclp``, ``lscp``) have their demand merged by candidate set
    (:func:`stations._siting_reduce.merge_demand`): the same covered weight for every open
    set, fewer demands and pairs.
    """

    ptr: np.ndarray
    dem: np.ndarray
    cost: np.ndarray
    w: np.ndarray
    u: np.ndarray
    fixed: np.ndarray
    allowed: np.ndarray
    members: np.ndarray


def _instance(
    problem: SitingProblem,
    objective: str,
    radius: float | None,
    allowed: np.ndarray,
    *,
    merge: bool = True,
) -> _Instance:
    keep = np.ones(problem.cost.size, dtype=bool) if radius is None else problem.cost <= radius
    cand = np.repeat(np.arange(problem.k), np.diff(problem.ptr))
    ptr = np.zeros(problem.k + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(cand[keep], minlength=problem.k))
    dem, cost = problem.dem[keep], problem.cost[keep]
    if objective == "pmedian":
        cap = float(radius) if radius is not None else float(cost.max(initial=0.0))
        u = np.full(problem.n, cap)
        members = np.ones(problem.n)
        return _Instance(ptr, dem, cost, problem.weight, u, problem.fixed.copy(), allowed, members)
    if not merge:
        cost, members = np.zeros(dem.size), np.ones(problem.n)
        u = np.ones(problem.n)
        return _Instance(ptr, dem, cost, problem.weight, u, problem.fixed.copy(), allowed, members)
    ptr, dem, w, members = merge_demand(ptr, dem, problem.weight, problem.fixed)
    u = np.ones(w.size)
    return _Instance(ptr, dem, np.zeros(dem.size), w, u, problem.fixed.copy(), allowed, members)


def _objective(inst: _Instance, is_open: np.ndarray) -> float:
    best, _, _ = assignment(inst.ptr, inst.dem, inst.cost, inst.u, is_open)
    return float(inst.w @ best)


def _ordered_gains(inst: _Instance, chosen: np.ndarray) -> tuple[list[int], list[float]]:
    """The chosen sites in greedy order over the final set, each with its marginal gain."""
    allowed = np.zeros(inst.allowed.size, dtype=bool)
    allowed[chosen] = True
    order, gains = greedy(
        inst.ptr, inst.dem, inst.cost, inst.w, inst.u, inst.fixed, allowed, int(chosen.size)
    )
    return order.tolist(), gains.tolist()


def _check(
    problem: SitingProblem,
    objective: str,
    p: int | None,
    radius: float | None,
    target: Sequence[float] | float | None,
) -> None:
    if objective not in OBJECTIVES:
        msg = f"Expected objective to be one of {', '.join(OBJECTIVES)}, got {objective!r}"
        raise StationValueError(msg, field="objective")
    if radius is not None and not (math.isfinite(radius) and radius > 0):
        msg = f"Expected a budget (radius) > 0, got {radius!r}"
        raise StationValueError(msg, field="radius")
    if objective in ("mclp", "lscp") and radius is None:
        msg = f"Expected a budget (radius) for objective {objective}, got none"
        raise StationValueError(msg, field="radius")
    if objective != "lscp" and (p is None or p < 1):
        msg = f"Expected p (new stations) >= 1, got {p!r}"
        raise StationValueError(msg, field="p")
    if objective == "lscp":
        targets = [target] if isinstance(target, int | float) else list(target or [])
        if not targets or not all(0 < float(t) <= 1 for t in targets):
            msg = f"Expected target shares in (0, 1] for lscp (e.g. 0.95), got {target!r}"
            raise StationValueError(msg, field="target")


def solve_siting(
    problem: SitingProblem,
    *,
    objective: str,
    p: int | None = None,
    radius: float | None = None,
    target: Sequence[float] | float | None = None,
    exclude: Iterable[str] = (),
    host_types: Iterable[str] | None = None,
    capacitated: bool = False,
    time_limit: float = 60.0,
    gap: float = 0.005,
    exact: bool | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SitingResult:
    """Choose new sites for ``objective`` and certify the answer with a bound.

    Parameters
    ----------
    problem
        Demand, candidates, sparse costs (see :class:`SitingProblem`).
    objective
        ``mclp``, ``pmedian`` or ``lscp``.
    p
        New stations to open (``mclp``, ``pmedian``).
    radius
        The budget in the costs' unit: covering radius (``mclp``, ``lscp``), unserved cap
        (``pmedian``, optional: default the largest cost).
    target
        ``lscp``: share(s) of all demand weight to cover, e.g. ``(0.9, 0.95, 0.99, 1.0)``;
        the answer is the first, the curve holds all.
    exclude
        Candidate ids refused by their owners.
    host_types
        Only candidates of these host types.
    capacitated
        Respect candidates' ``capacity`` (MILP).
    time_limit
        Seconds for the whole solve (the bound stops early once within ``gap``).
    gap
        Relative gap at which the bound search stops.
    exact
        Force (``True``) or forbid (``False``) the exact MILP; default: when small.
    on_progress
        Called with a line of text at each stage.

    Raises
    ------
    StationValueError
        Unknown objective, ``p`` < 1 or above the usable candidates, no candidates, a budget
        <= 0, a target that cannot be reached (the message says the largest share possible).
    """
    started = time.perf_counter()
    _check(problem, objective, p, radius, target)
    say = on_progress or (lambda _text: None)
    refused = set(exclude)
    unknown = refused - set(problem.candidate_ids)
    if unknown:
        msg = f"Expected excluded ids among the candidates, got {sorted(unknown)[:5]}"
        raise StationValueError(msg, field="exclude")
    types = set(host_types) if host_types is not None else None
    allowed = (
        np.array(
            [
                cid not in refused and (types is None or ht in types)
                for cid, ht in zip(problem.candidate_ids, problem.host_type, strict=True)
            ],
            dtype=bool,
        )
        & ~problem.fixed
    )
    n_free = int(allowed.sum())
    if n_free == 0:
        msg = "Expected at least one usable candidate (not fixed, excluded or filtered), got none"
        raise StationValueError(msg, field="candidates")
    if objective != "lscp" and p is not None and p > n_free:
        msg = f"Expected p <= the {n_free} usable candidates, got {p}"
        raise StationValueError(msg, field="p")
    # with capacities a fixed station may be full: its demand keeps every pair
    inst = _instance(problem, objective, radius, allowed, merge=not capacitated)
    if objective == "lscp":
        from ._siting_lscp import solve_lscp

        return solve_lscp(problem, inst, radius, target, time_limit, exact, say, started)
    assert p is not None
    small = inst.dem.size <= EXACT_PAIRS and problem.k <= EXACT_CANDIDATES
    use_milp = capacitated or (small if exact is None else exact)
    total_w = float(problem.weight.sum())
    before = _objective(inst, inst.fixed)
    merged = f" (merged from {problem.n})" if inst.w.size < problem.n else ""
    pairs = f"{inst.dem.size} pairs"
    say(f"greedy: {n_free} candidates, {inst.w.size} demands{merged}, {pairs}, p = {p}")
    order, _ = greedy(inst.ptr, inst.dem, inst.cost, inst.w, inst.u, inst.fixed, allowed, p)
    is_open = inst.fixed.copy()
    is_open[order] = True
    say("swaps")
    passes = 500 if not use_milp else 10  # a pass costs about one sweep of the pairs
    is_open, swaps = swap(
        inst.ptr, inst.dem, inst.cost, inst.w, inst.u, is_open, inst.fixed, allowed, passes,
        1e-9 * max(before, 1.0),
    )  # fmt: skip
    value = _objective(inst, is_open)
    method = f"greedy + {swaps} swaps"
    lower = -math.inf
    optimal = False
    remaining = max(time_limit - (time.perf_counter() - started), 1.0)
    if use_milp:
        from ._siting_milp import covering_model, facility_model, run

        say("HiGHS MILP")
        if objective == "mclp" and not capacitated:
            model = covering_model(inst.ptr, inst.dem, inst.w, inst.fixed, allowed, p=p)
        else:
            cap = problem.capacity if capacitated else None
            model = facility_model(
                inst.ptr, inst.dem, inst.cost, inst.w, inst.u, inst.fixed, allowed, p, cap
            )
        solved = run(model, time_limit=remaining, gap=1e-6)
        if solved.x is None:
            milp_value = math.inf
        elif capacitated:  # assignments under capacity: HiGHS's own objective
            milp_value = solved.value
        else:  # the open set's objective, recomputed from the columns read as > 0.5
            milp_value = _objective(inst, solved.x | inst.fixed)
        lower = total_w - solved.bound if objective == "mclp" and not capacitated else solved.bound
        if capacitated:
            # the heuristic ignores capacity: only HiGHS's solution counts
            value, is_open = milp_value, solved.x if solved.x is not None else is_open
            if solved.x is None:
                msg = f"Expected HiGHS to find a capacitated solution, got {solved.status}"
                raise StationValueError(msg, field="capacity")
        elif solved.x is not None and milp_value < value - 1e-9:
            value, is_open = milp_value, solved.x | inst.fixed
        optimal = solved.optimal
        method = f"{method}; HiGHS MILP ({solved.status})"
    else:
        best, _, _ = assignment(inst.ptr, inst.dem, inst.cost, inst.u, is_open)
        lam = inst.w * best
        if objective == "mclp":
            say("Lagrangian bound, and annealing meanwhile")
            # the rest (ordered gains, figures) takes well under a second after this
            deadline = started + time_limit - min(1.0, 0.02 * time_limit)
            bound, is_open, regions = _bound_while_improving(
                inst, allowed, p, lam, is_open, value, gap, deadline, say
            )
            value = _objective(inst, is_open)
            method = f"{method}; {regions}"
        else:
            say("Lagrangian bound")
            bound = _lagrangian_bound(inst, allowed, p, lam, value, gap, started + time_limit)
        lower, relaxed, relaxed_value, iterations = bound
        method = f"{method}; Lagrangian bound ({iterations} subgradient steps)"
        if relaxed_value < value - 1e-9:  # the Lagrangian heuristic did better: polish it
            relaxed, more = swap(
                inst.ptr, inst.dem, inst.cost, inst.w, inst.u, relaxed, inst.fixed, allowed,
                passes, 1e-9 * max(before, 1.0),
            )  # fmt: skip
            value = _objective(inst, relaxed)
            is_open = relaxed
            method = f"{method}; Lagrangian heuristic + {more} swaps"
    lower = min(lower, value)
    chosen = np.flatnonzero(is_open & ~inst.fixed)
    order_ids, gains = _ordered_gains(inst, chosen)
    if objective == "mclp":
        covered, before_cov = total_w - value, total_w - before
        upper_cov = total_w - lower
        result_value, lo, hi = covered, covered, upper_cov
        gap_value = (hi - lo) / hi if hi > 0 else 0.0
        figures_before = {"covered": before_cov, "share": before_cov / total_w if total_w else 0}
        figures_after = {"covered": covered, "share": covered / total_w if total_w else 0}
    else:
        result_value, lo, hi = value, lower, value
        gap_value = (hi - lo) / hi if hi > 0 else 0.0
        mean = total_w if total_w > 0 else 1.0
        figures_before = {"total_cost": before, "mean_cost": before / mean}
        figures_after = {"total_cost": value, "mean_cost": value / mean}
    return SitingResult(
        objective=objective,
        p=int(chosen.size),
        radius=radius,
        chosen=[problem.candidate_ids[j] for j in order_ids],
        gains=gains,
        value=result_value,
        lower=lo,
        upper=hi,
        gap=max(gap_value, 0.0) if not optimal else 0.0,
        optimal=optimal or gap_value <= 1e-9,
        method=method,
        before=figures_before,
        after=figures_after,
        seconds=time.perf_counter() - started,
    )


def _lagrangian_bound(
    inst: _Instance,
    allowed: np.ndarray,
    p: int,
    lam: np.ndarray,
    value: float,
    gap: float,
    deadline: float,
    *,
    settled: float = 1e-6,
) -> tuple[float, np.ndarray, float, int]:
    """Subgradient steps in chunks until the gap is reached, the steps stall or time is up.

    The steps stall once their factor falls below ``settled``. Returns the best bound, the
    best relaxed site choice, its value and the steps made.
    """
    theta, lower, steps = 2.0, -math.inf, 0
    best_open, best_value = inst.fixed.copy(), math.inf
    while True:
        bound, relaxed, relaxed_value, done, theta = lagrangian(
            inst.ptr, inst.dem, inst.cost, inst.w, inst.u, inst.fixed, allowed, p, lam,
            min(value, best_value), _CHUNK, gap, theta, inst.members,
        )  # fmt: skip
        steps += done
        lower = max(lower, bound)
        if relaxed_value < best_value:
            best_open, best_value = relaxed, relaxed_value
        upper = min(value, best_value)
        if (
            upper - lower <= gap * upper
            or done < _CHUNK
            or theta < settled
            or time.perf_counter() >= deadline
        ):
            return lower, best_open, best_value, steps


#: Subgradient steps between two looks at the clock.
_CHUNK = 25


def _bound_while_improving(
    inst: _Instance,
    allowed: np.ndarray,
    p: int,
    lam: np.ndarray,
    is_open: np.ndarray,
    value: float,
    gap: float,
    deadline: float,
    say: Callable[[str], None],
) -> tuple[tuple[float, np.ndarray, float, int], np.ndarray, str]:
    """Maximal covering: the Lagrangian bound in a thread (compiled, without the GIL)
    while :func:`stations._siting_anneal.anneal_covering` moves sites, then
    :func:`stations._siting_lns.improve_covering` re-solves regions exactly.

    The bound is subgradient steps until they settle (or ``_SUBGRADIENT`` of the time),
    then :func:`stations._siting_dual.smooth_covering_bound` from their multipliers. Both
    sides share their best figures: either stops once they certify ``gap``, the bound also
    when its stages end, both at ``deadline``. Returns the bound's answer (as
    :func:`_lagrangian_bound`), the improved open set and a summary.
    """
    from ._siting_anneal import anneal_covering
    from ._siting_dual import smooth_covering_bound
    from ._siting_lns import improve_covering

    total = float(inst.w.sum())
    # the best bound and covering so far, shared by the two threads (covered weight)
    state = {"most": math.inf, "covered": total - value, "iterations": 0.0}
    found: list[tuple[float, np.ndarray, float, int]] = []
    failed: list[BaseException] = []

    def close_enough() -> bool:
        most = state["most"]
        return math.isfinite(most) and most - state["covered"] <= gap * most

    def tightened(most: float) -> bool:
        state["most"] = min(state["most"], most)
        return close_enough()

    def bound() -> None:
        try:
            # subgradient steps until they settle (fast at first), then the smoothed dual
            now = time.perf_counter()
            switch = now + _SUBGRADIENT * max(deadline - now, 0.0)
            lower, relaxed, relaxed_value, steps = _lagrangian_bound(
                inst, allowed, p, lam, value, gap, switch, settled=_SETTLED
            )
            say(f"bound: {total - lower:,.1f} covered at most ({steps} subgradient steps)")
            if not tightened(total - lower) and time.perf_counter() < deadline:
                most, state["iterations"] = smooth_covering_bound(
                    inst.ptr, inst.dem, inst.w, inst.fixed, allowed, p, lam,
                    deadline=deadline, enough=tightened,
                )  # fmt: skip
                lower = max(lower, total - most)
                say(f"bound: {total - lower:,.1f} covered at most (smoothed dual)")
            found.append((lower, relaxed, relaxed_value, steps))
        except BaseException as error:  # handed to the caller below
            failed.append(error)

    def enough(covered: float) -> bool:
        state["covered"] = max(state["covered"], covered)
        return close_enough()

    thread = threading.Thread(target=bound, name="siting-bound", daemon=True)
    thread.start()
    try:
        settle = deadline - _POLISH * max(deadline - time.perf_counter(), 0.0)
        is_open, moves = anneal_covering(
            inst.ptr, inst.dem, inst.w, inst.fixed, allowed, is_open,
            deadline=settle, enough=enough, say=say,
        )  # fmt: skip
        is_open, exchanged = improve_covering(
            inst.ptr, inst.dem, inst.w, inst.fixed, allowed, is_open,
            deadline=deadline, enough=enough, say=say,
        )  # fmt: skip
    finally:
        thread.join()
    if failed:
        raise failed[0]
    summary = f"annealing ({moves:,} moves); {exchanged} region exchanges"
    if state["iterations"]:
        summary += f"; smoothed dual ({state['iterations']:.0f} L-BFGS-B iterations)"
    return found[0], is_open, summary


#: Share of the search time left to the region exchanges after the annealing.
_POLISH = 0.05
#: Share of the bound's time for subgradient steps at most, and the step factor at which
#: they count as settled: the smoothed dual (:mod:`stations._siting_dual`) takes over.
_SUBGRADIENT = 0.1
_SETTLED = 1e-2


# The Area and file entries build on the solver above (imported last: they import it).
from ._siting_inputs import CostFileError as CostFileError  # noqa: E402
from ._siting_inputs import adopt_sites as adopt_sites  # noqa: E402
from ._siting_inputs import proposal_features as proposal_features  # noqa: E402
from ._siting_inputs import proposal_rows as proposal_rows  # noqa: E402
from ._siting_inputs import read_costs as read_costs  # noqa: E402
from ._siting_inputs import site_station_id as site_station_id  # noqa: E402
from ._siting_inputs import site_stations as site_stations  # noqa: E402
