"""Quality of the planner's solver layer on public instances with best-known solutions.

For each instance in ``../shared/bench/vrp`` (VRPLIB files, read by ``pyvrp.read`` with the
DIMACS rounding its best-known solutions use) two runs with the same budget of *CPU* seconds
and the same seed (on a shared machine a wall-clock budget buys each run a different share of
a core, which swamps any difference between the paths):

* **direct**: ``pyvrp.solve(data, stop=...)`` with PyVRP's default parameters, stopped after
  ``t`` CPU seconds of the process;
* **planner path**: the instance as the planner's :class:`~routing.shuttle.vrp.VrpProblem`
  (``VrpProblem.from_data``) solved by :func:`routing.shuttle.vrp.solve_vrp` exactly as a
  wave is: the planner's ``ProblemData`` builder, its penalty cap
  (:func:`~routing.shuttle.vrp.penalty_cap`: PyVRP's default here, these instances have no
  prizes), its stopping criterion (the clock includes building the initial solution).

The best-known solution is evaluated by PyVRP on the same data (``read_solution``), so the
gaps are in one unit. Each run is a forked process (one core each, run one after another).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["QualityRow", "instances", "run_quality"]


@dataclass
class QualityRow:
    """One instance: best-known cost and the cost of each path (``None``: infeasible)."""

    name: str
    kind: str
    clients: int
    bks: float
    direct: float | None
    planner: float | None
    seconds: float

    @property
    def gap_direct(self) -> float | None:
        return None if self.direct is None else self.direct / self.bks - 1

    @property
    def gap_planner(self) -> float | None:
        return None if self.planner is None else self.planner / self.bks - 1

    @property
    def ratio(self) -> float | None:
        if self.direct is None or self.planner is None:
            return None
        return self.planner / self.direct


def instances(root: Path) -> list[Path]:
    """The ``.vrp`` files with a ``.sol`` beside them, smallest folders first."""
    out = []
    for folder in ("MTVRPTWR", "HFVRP", "VRPTW"):
        out += sorted(p for p in (root / folder).glob("*.vrp") if p.with_suffix(".sol").is_file())
    return out


def _cost(sol: Any) -> float | None:
    if not sol.is_feasible():
        return None
    return float(sol.distance_cost() + sol.duration_cost() + sol.fixed_vehicle_cost())


def _child(path: str, which: str, seconds: float, seed: int, queue: Any) -> None:
    import pyvrp

    from routing.shuttle.vrp import VrpProblem, solve_vrp

    data = pyvrp.read(path, round_func="dimacs")
    if which == "direct":
        start = time.process_time()

        def cpu_budget(_: float) -> bool:
            return time.process_time() - start >= seconds

        res = pyvrp.solve(data, stop=cpu_budget, seed=seed, display=False)
        queue.put(_cost(res.best))
        return
    out = solve_vrp(
        VrpProblem.from_data(data), time_limit=seconds, seed=seed, clock=time.process_time
    )
    queue.put(out.route_cost)


def _run(path: Path, which: str, seconds: float, seed: int) -> float | None:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(str(path), which, seconds, seed, queue))
    proc.start()
    try:
        value = queue.get(timeout=seconds * 3 + 300)
    except Exception:
        proc.kill()
        proc.join()
        msg = f"the {which} run of {path.name} failed (exit {proc.exitcode})"
        raise RuntimeError(msg) from None
    proc.join()
    return value


def run_quality(root: Path, *, seconds: float, big_seconds: float, seed: int) -> list[QualityRow]:
    """Both paths on every instance (``big_seconds`` for those of 1,000 clients)."""
    import pyvrp

    rows = []
    for path in instances(root):
        data = pyvrp.read(str(path), round_func="dimacs")
        bks = _cost(pyvrp.read_solution(str(path.with_suffix(".sol")), data))
        assert bks is not None, f"best-known solution of {path.name} infeasible on the data"
        t = big_seconds if data.num_clients >= 1000 else seconds
        started = time.perf_counter()
        direct = _run(path, "direct", t, seed)
        planner = _run(path, "planner", t, seed)
        rows.append(
            QualityRow(
                path.stem,
                path.parent.name,
                data.num_clients,
                bks,
                direct,
                planner,
                round(time.perf_counter() - started, 1),
            )
        )
        row = rows[-1]
        print(
            f"  {row.kind}/{row.name}: {row.clients} clients, {t:.0f} s each: "
            f"BKS {bks:.0f}, direct {direct}, planner path {planner}",
            file=sys.stderr,
            flush=True,
        )
    return rows
