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

from ._errors import InputProblem as InputProblem
from ._errors import ShuttleInputError as ShuttleInputError
from ._errors import ShuttleSettingsError as ShuttleSettingsError
from ._errors import ShuttleWarning as ShuttleWarning
from ._existing import ExistingLine as ExistingLine
from ._existing import read_lines as read_lines
from .check import Violation as Violation
from .check import check_plan as check_plan
from .export import PlanFileError as PlanFileError
from .export import read_plan as read_plan
from .export import write_plan as write_plan
from .gtfs import write_gtfs as write_gtfs
from .inputs import read_fleet as read_fleet
from .inputs import read_riders as read_riders
from .inputs import riders_from_records as riders_from_records
from .kpi import compute_kpis as compute_kpis
from .matrix import StopMatrix as StopMatrix
from .model import UNSERVED_REASONS as UNSERVED_REASONS
from .model import Assignment as Assignment
from .model import BusType as BusType
from .model import CandidateStop as CandidateStop
from .model import District as District
from .model import Fleet as Fleet
from .model import Line as Line
from .model import Plan as Plan
from .model import Rider as Rider
from .model import StopVisit as StopVisit
from .model import Unserved as Unserved
from .plan import plan_from_matrix as plan_from_matrix
from .plan import plan_shuttles as plan_shuttles
from .plan import routes_of_plan as routes_of_plan
from .plan import workplace_id as workplace_id
from .redesign import Comparison as Comparison
from .redesign import Evaluation as Evaluation
from .redesign import compare_plans as compare_plans
from .redesign import evaluate_lines as evaluate_lines
from .redesign import reoptimise as reoptimise
from .sample import sample_fleet as sample_fleet
from .sample import sample_riders as sample_riders
from .sample import sample_workplace as sample_workplace
from .settings import ShuttleSettings as ShuttleSettings
from .settings import format_hms as format_hms
from .settings import parse_clock as parse_clock
