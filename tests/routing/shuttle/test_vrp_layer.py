"""The solver layer is PyVRP, faithfully: public instances through VrpProblem give PyVRP's own
answer at equal iterations and seed, multi-trip (reloads) and heterogeneous fleets included."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.shuttle.vrp import VrpClient, VrpDepot, VrpProblem, VrpVehicleType, penalty_cap

pyvrp = pytest.importorskip("pyvrp")
VRP = Path(__file__).resolve().parents[3].parent / "shared" / "bench" / "vrp"


@pytest.mark.parametrize("name", ["MTVRPTWR/C201R0.25", "HFVRP/X101-FSMFD"])
def test_planner_path_equals_pyvrp_direct_at_equal_iterations(name: str) -> None:
    """Same seed and iteration count: the same cost as pyvrp.solve on the same data."""
    from pyvrp.stop import MaxIterations

    from routing.shuttle.vrp import solve_vrp

    path = VRP / f"{name}.vrp"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    data = pyvrp.read(str(path), round_func="dimacs")
    direct = pyvrp.solve(data, stop=MaxIterations(150), seed=5, display=False)
    ours = solve_vrp(VrpProblem.from_data(data), time_limit=1e6, seed=5, max_iterations=150)
    assert ours.feasible and direct.is_feasible()
    assert ours.cost == pytest.approx(direct.cost())
    if name.startswith("MTVRPTWR"):
        assert any(max(r.trips) > 0 for r in ours.routes)  # vehicles reload: several trips


def test_penalty_cap_follows_the_prizes() -> None:
    """Without prizes PyVRP's default cap; with prizes, 100 x the prize per unit of load."""
    import numpy as np

    m = np.zeros((3, 3), dtype=np.int64)
    base = dict(
        duration=m, distance=m, depots=(VrpDepot(0),), vehicle_types=(VrpVehicleType(1, 10),)
    )
    plain = VrpProblem(clients=(VrpClient(1, pickup=2), VrpClient(2, delivery=1)), **base)
    assert penalty_cap(plain) == 100_000.0
    prized = VrpProblem(clients=(VrpClient(1, pickup=4, prize=40_000_000, required=False),), **base)
    assert penalty_cap(prized) == 100 * 10_000_000
