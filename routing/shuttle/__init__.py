"""Commuter-shuttle planner: riders -> districts -> stops -> PyVRP lines -> timetable and KPIs.

Public API (stable names)::

    plan = plan_shuttles(area, riders, fleet, (lon, lat), settings=ShuttleSettings(...))
    plan = plan_from_matrix(riders, stops, matrix, walk, fleet, workplace=(lon, lat))
    plan2 = plan_shuttles(..., initial_routes=routes_of_plan(plan))  # warm start
    violations = check_plan(plan, area)          # [] when every rule holds
    riders, fleet = read_riders(path), read_fleet(path)
    sample_riders(area, n), sample_fleet(n), sample_workplace(area)
    compute_kpis(lines, assignments, unserved, fleet)

Data classes: :class:`Rider`, :class:`BusType`, :class:`Fleet`, :class:`District`,
:class:`CandidateStop`, :class:`Plan`, :class:`Line`, :class:`StopVisit`,
:class:`Assignment`, :class:`Unserved` (reason codes in :data:`UNSERVED_REASONS`).
"""

from __future__ import annotations

import lazy_loader

# The public names are listed once, in __init__.pyi (read by type checkers too); each is
# imported on first use, so that ``import routing.shuttle`` and the CLI's ``--help`` stay light.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
