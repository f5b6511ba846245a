"""The planner page's API: start a planning job from uploaded riders and fleet, follow it.

``POST /api/planner/jobs`` (bearer token, ``multipart/form-data``) takes the riders (CSV,
Excel or GeoJSON), optionally the fleet (CSV or Excel; default: a sample fleet sized to the
riders) and the lines running today (GTFS zip or a lines CSV, to compare against), the
workplace and the planner settings; everything is read and checked *before* the job starts
(a bad file answers 400 naming rows and fields). The job then runs in the background (see
:mod:`webmap.jobs`); ``GET /api/planner/jobs/current`` and ``/api/planner/jobs/<id>`` say where
it is. One job at a time: a second ``POST`` while one runs answers 409. Uploads are capped at
:data:`UPLOAD_MAX_BYTES` before they are read.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.datastructures import FileStorage

from routing._errors import WarmheartError

from . import schemas
from ._errors import ParameterError
from .auth import require_token
from .errors import error_response
from .jobs import Job, JobBoard, JobBusyError, JobResult
from .openapi import WRITE_ERRORS, operation
from .state import get_state

__all__ = ["UPLOAD_MAX_BYTES", "bp", "job_board"]

logger = logging.getLogger(__name__)

bp = Blueprint("planner_api", __name__, url_prefix="/api/planner")

#: Largest upload (all files of one job together), refused with 413 before it is read.
UPLOAD_MAX_BYTES = 8_000_000
#: Bounds of the optimiser budget a job may ask for (seconds).
TIME_LIMIT_RANGE = (1.0, 600.0)
MULTIPART = "multipart/form-data"
_SUFFIXES = {
    "riders": (".csv", ".xlsx", ".geojson", ".json"),
    "fleet": (".csv", ".xlsx"),
    "lines": (".zip", ".csv"),
}


def job_board() -> JobBoard:
    """The app's :class:`JobBoard` (one per app, made on first use)."""
    board = current_app.extensions.get("warmheart_jobs")
    if board is None:
        board = current_app.extensions["warmheart_jobs"] = JobBoard()
    return board


@bp.before_request
def _cap_uploads() -> None:
    request.max_content_length = UPLOAD_MAX_BYTES


def _job_body(job: Job) -> dict[str, Any]:
    body = job.to_dict()
    body["result_url"] = url_for("pages.planner", job=job.id) if job.state == "done" else None
    return body


def _save(upload: FileStorage, kind: str, folder: Path) -> Path:
    name = Path(upload.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in _SUFFIXES[kind]:
        msg = (
            f"Expected the {kind} file as one of {', '.join(_SUFFIXES[kind])}, got "
            f"{name or 'a file without a name'!r}"
        )
        raise ParameterError(msg)
    path = folder / f"{kind}{suffix}"
    upload.save(path)
    return path


def _number(form: Any, name: str, *, lo: float, hi: float, whole: bool = False) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        msg = f"Expected {name} as a number, got {raw!r}"
        raise ParameterError(msg) from None
    if not math.isfinite(value) or not lo <= value <= hi or (whole and value != int(value)):
        kind = "a whole number" if whole else "a number"
        msg = f"Expected {name} as {kind} in [{lo:g}, {hi:g}], got {raw!r}"
        raise ParameterError(msg)
    return value


def _settings(form: Any) -> Any:
    from routing.shuttle import ShuttleSettings

    changes: dict[str, Any] = {}
    for name in ("deadline", "evening_departure"):
        if name in form:
            changes[name] = (form.get(name) or "").strip()
    if changes.get("deadline") == "":
        del changes["deadline"]
    spec = {
        "max_walk_m": ("max_walk_m", 50, 3000, False),
        "max_ride_min": ("default_max_ride_min", 5, 240, False),
        "time_limit_s": ("time_limit_s", *TIME_LIMIT_RANGE, False),
        "max_lines": ("max_lines", 0, 10_000, True),
        "max_buses": ("max_buses", 0, 10_000, True),
    }
    for field, (setting, lo, hi, whole) in spec.items():
        value = _number(form, field, lo=lo, hi=hi, whole=whole)
        if value is not None:
            changes[setting] = int(value) if whole else value
    changes.setdefault("time_limit_s", 30.0)
    try:
        return ShuttleSettings(**changes)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def _workplace(form: Any, crs: str | None) -> tuple[float, float] | None:
    from routing.shuttle._cli_common import workplace_in

    raw = (form.get("workplace") or "").strip()
    if not raw:
        return None
    try:
        return workplace_in(raw, crs)
    except Exception as exc:  # click.BadParameter with the "Expected LON,LAT" message
        raise ParameterError(str(getattr(exc, "message", exc))) from None


def _read_inputs(folder: Path) -> dict[str, Any]:
    """Everything the job needs, read and checked now (a 400 before any work starts)."""
    from routing.shuttle import read_fleet, read_riders, sample_fleet
    from routing.shuttle._existing import read_lines

    form = request.form
    files = request.files
    if "riders" not in files or not files["riders"].filename:
        msg = "Expected a riders file (CSV, Excel or GeoJSON) in the field 'riders', got none"
        raise ParameterError(msg)
    crs = (form.get("crs") or "").strip().lower() or None
    if crs is not None and crs not in ("wgs84", "gcj02", "bd09"):
        msg = f"Expected crs as wgs84, gcj02 or bd09, got {crs!r}"
        raise ParameterError(msg)
    settings = _settings(form)
    area = get_state().area
    riders = read_riders(_save(files["riders"], "riders", folder), crs=crs, area=area)
    fleet = (
        read_fleet(_save(files["fleet"], "fleet", folder))
        if "fleet" in files and files["fleet"].filename
        else sample_fleet(len(riders))
    )
    workplace = _workplace(form, crs)
    if workplace is None:
        own = {r.workplace for r in riders if r.workplace is not None}
        if len(own) != 1 or any(r.workplace is None for r in riders):
            msg = "Expected the workplace as lon,lat (click the map), got none"
            raise ParameterError(msg)
        workplace = own.pop()
    if not riders:
        msg = "Expected at least one rider in the riders file, got none"
        raise ParameterError(msg)
    from routing.shuttle._prepare import locate_workplaces

    # A workplace off the map fails here, with the distance, not minutes later in the job.
    locate_workplaces(area, sorted({r.workplace or workplace for r in riders}), settings)
    lines = None
    if "lines" in files and files["lines"].filename:
        lines = read_lines(_save(files["lines"], "lines", folder), workplace=workplace)
    return {
        "riders": riders,
        "fleet": fleet,
        "workplace": workplace,
        "settings": settings,
        "lines": lines,
        "area": area,
    }


def _work(inputs: dict[str, Any]) -> Any:
    """The job: plan (and with existing lines, evaluate and compare), reporting progress."""
    from routing.shuttle import compare_plans, evaluate_lines, plan_shuttles

    def work(job: Job) -> JobResult:
        started = time.perf_counter()
        before = None
        if inputs["lines"] is not None:
            job.stage = "evaluating"
            before = evaluate_lines(
                inputs["area"],
                inputs["lines"],
                inputs["riders"],
                inputs["fleet"],
                workplace=inputs["workplace"],
                settings=inputs["settings"],
            )

        def progress(elapsed: float, cost: float | None, label: str) -> None:
            job.stage = "optimising"
            job.wave = label
            job.best_cost = cost
            job.elapsed_s = time.perf_counter() - started

        job.stage = "preparing"
        plan = plan_shuttles(
            inputs["area"],
            inputs["riders"],
            inputs["fleet"],
            inputs["workplace"],
            settings=inputs["settings"],
            progress=progress,
        )
        comparison = compare_plans(before, plan) if before is not None else None
        k = plan.kpis
        job.summary = {
            "buses": k["buses"],
            "trips": k["trips"],
            "riders_served": k["riders_served"],
            "riders": k["riders"],
            "total_cost": k["total_cost"],
            "compared": before is not None,
        }
        return JobResult(plan, before, comparison)

    return work


@bp.post("/jobs")
@operation(
    "startPlannerJob",
    "Plan shuttle lines from uploaded riders and fleet (admin token)",
    body=schemas.PlannerJobForm,
    body_media=MULTIPART,
    responses={202: (schemas.PlannerJob, "The job started; follow it at its Location.")},
    errors=(*WRITE_ERRORS, 409),
    secured=True,
)
@require_token
def start_job() -> Response:
    """Read and check the uploads, then plan in the background (202, or 409 when busy)."""
    if request.mimetype != MULTIPART:
        msg = f"Expected a {MULTIPART} upload (riders and fleet files), got {request.mimetype!r}"
        return error_response(415, msg)
    folder = Path(tempfile.mkdtemp(prefix="warmheart-job-"))
    try:
        inputs = _read_inputs(folder)
    except ParameterError:
        raise
    except WarmheartError as exc:  # malformed files, a refused datum, a bad setting
        raise ParameterError(str(exc)) from None
    finally:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    board = job_board()
    try:
        job = board.submit(_work(inputs), budget_s=inputs["settings"].time_limit_s)
    except JobBusyError as exc:
        return error_response(409, str(exc))
    logger.info("Planning job %s: %d riders", job.id, len(inputs["riders"]))
    response = jsonify(_job_body(job))
    response.status_code = 202
    response.headers["Location"] = url_for("planner_api.get_job", job_id=job.id)
    return response


@bp.get("/jobs/current")
@operation(
    "currentPlannerJob",
    "The running planning job, else the latest one",
    responses={200: (schemas.PlannerJob, "The job.")},
    errors=(404, 429, 500),
)
def current_job() -> Response:
    """Where the current (or latest) planning job is."""
    job = job_board().current()
    if job is None:
        return error_response(404, "No planning job has run on this server yet")
    return jsonify(_job_body(job))


@bp.get("/jobs/<job_id>")
@operation(
    "getPlannerJob",
    "One planning job",
    responses={200: (schemas.PlannerJob, "The job.")},
    errors=(404, 429, 500),
    path_params={"job_id": "Job id (from the POST answer)."},
)
def get_job(job_id: str) -> Response:
    """Where one planning job is."""
    job = job_board().get(job_id)
    if job is None:
        return error_response(404, f"No planning job {job_id!r} on this server (or forgotten)")
    return jsonify(_job_body(job))
