"""Write a :class:`~routing.shuttle.model.Plan` to a plan directory and read it back.

A plan directory holds six UTF-8 files that other tools (and independent checkers) can read:

``summary.json``
    KPIs, workplace, deadline, settings, fleet and solver figures
    (:meth:`Plan.summary <routing.shuttle.model.Plan.summary>` plus ``fleet`` and ``format``).
``lines.geojson``
    RFC 7946 FeatureCollection, one LineString per trip, written by the one encoder
    :func:`routing.shuttle.geojson.lines_feature_collection` (the same Features as
    ``/api/lines``; properties listed there: direction, bus, stops, times, cost, geometry).
``timetable.csv``
    ``line_id, direction, vehicle_id, seq, stop_id, stop_name, lon, lat, arrival, departure,
    boarding, alighting``: one row per call in driving order, the workplace (``stop_id``
    :data:`WORKPLACE_STOP_ID`) included: the last call of a trip to work (everyone alights),
    the first of a trip home (everyone boards).
``vehicles.csv``
    Each bus's day: ``vehicle_id, bus_type, seq, line_id, direction, start, end, deadhead_m,
    deadhead_s`` (the empty drive *before* this trip, 0 for the first).
``assignments.csv``
    ``rider_id, direction, line_id, stop_id, walk_m, board_time, arrival_time``.
``unserved.csv``
    ``rider_id, direction, reason`` (a code of :data:`~routing.shuttle.model.UNSERVED_REASONS`)
    and a trailing ``message`` column with the numbers.

Times are ``HH:MM:SS`` seconds since midnight (hours past 23 allowed, as in GTFS). A write is
atomic: the files go to a temporary sibling directory which is then renamed into place, so a
failed export leaves either the old directory or nothing, never a half-written one.
:func:`read_plan` raises :class:`PlanFileError` naming the file, row and field of every problem;
it also reads the first format (no directions, no ``vehicles.csv``: every trip to work on a bus
of its own).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ._errors import InputProblem, ShuttleInputError
from ._read_plan import WORKPLACE_STOP_ID, read_plan
from .geojson import line_coordinates as line_coordinates
from .geojson import lines_feature_collection
from .model import Plan
from .settings import format_hms

__all__ = [
    "PLAN_FILES",
    "WORKPLACE_STOP_ID",
    "PlanFileError",
    "line_coordinates",
    "read_plan",
    "write_plan",
]

logger = logging.getLogger(__name__)

#: The files of a plan directory.
PLAN_FILES = (
    "summary.json",
    "lines.geojson",
    "timetable.csv",
    "vehicles.csv",
    "assignments.csv",
    "unserved.csv",
)
FORMAT = "warmheart-shuttle-plan"
FORMAT_VERSION = 2

TIMETABLE_COLUMNS = (
    "line_id",
    "direction",
    "vehicle_id",
    "seq",
    "stop_id",
    "stop_name",
    "lon",
    "lat",
    "arrival",
    "departure",
    "boarding",
    "alighting",
)
VEHICLE_COLUMNS = (
    "vehicle_id",
    "bus_type",
    "seq",
    "line_id",
    "direction",
    "start",
    "end",
    "deadhead_m",
    "deadhead_s",
)
ASSIGNMENT_COLUMNS = (
    "rider_id",
    "direction",
    "line_id",
    "stop_id",
    "walk_m",
    "board_time",
    "arrival_time",
)
UNSERVED_COLUMNS = ("rider_id", "direction", "reason", "message")


class PlanFileError(ShuttleInputError):
    """A plan directory file is missing or malformed; ``problems`` lists rows and fields."""

    def __init__(
        self, message: str, problems: list[InputProblem] | None = None, *, file: str = ""
    ) -> None:
        self.file = file
        super().__init__(message, problems)


# --------------------------------------------------------------------------- writing


def _timetable_rows(plan: Plan) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for line in plan.lines:
        lon, lat = line.workplace
        arrive = format_hms(line.arrival_s)
        calls = [
            [
                v.stop_id,
                v.name,
                round(v.lon, 7),
                round(v.lat, 7),
                format_hms(v.arrival_s),
                format_hms(v.departure_s),
                v.boarding if line.to_work else 0,
                0 if line.to_work else v.boarding,
            ]
            for v in line.stops
        ]
        if line.to_work:
            calls.append([WORKPLACE_STOP_ID, "", lon, lat, arrive, arrive, 0, line.riders])
        else:
            leave = format_hms(line.departure_s)
            calls.insert(0, [WORKPLACE_STOP_ID, "", lon, lat, arrive, leave, line.riders, 0])
        for seq, call in enumerate(calls, start=1):
            rows.append([line.id, line.direction, line.vehicle_id, seq, *call])
    return rows


def _vehicle_rows(plan: Plan) -> list[list[Any]]:
    lines = {ln.id: ln for ln in plan.lines}
    rows: list[list[Any]] = []
    for v in plan.vehicles:
        for seq, line_id in enumerate(v.line_ids, start=1):
            ln = lines[line_id]
            before = (round(v.deadhead_m[seq - 2], 1), v.deadhead_s[seq - 2]) if seq > 1 else (0, 0)
            rows.append(
                [
                    v.id,
                    v.bus_type,
                    seq,
                    line_id,
                    ln.direction,
                    format_hms(ln.start_s),
                    format_hms(ln.end_s),
                    *before,
                ]
            )
    return rows


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_files(plan: Plan, folder: Path) -> None:
    summary = plan.summary()
    summary["format"] = FORMAT
    summary["format_version"] = FORMAT_VERSION
    summary["fleet"] = plan.fleet.to_dict() if plan.fleet is not None else None
    summary["counts"] = {
        "lines": len(plan.lines),
        "vehicles": len(plan.vehicles),
        "assignments": len(plan.assignments),
        "unserved": len(plan.unserved),
    }
    (folder / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=_json_default) + "\n",
        encoding="utf-8",
    )
    (folder / "lines.geojson").write_text(
        json.dumps(lines_feature_collection(plan), ensure_ascii=False, default=_json_default)
        + "\n",
        encoding="utf-8",
    )
    for name, (columns, rows) in plan_tables(plan).items():
        _write_csv(folder / f"{name}.csv", columns, rows)


def plan_tables(plan: Plan) -> dict[str, tuple[tuple[str, ...], list[list[Any]]]]:
    """The plan's tables by name (``timetable``, ``vehicles``, ``assignments``, ``unserved``):
    columns and rows.

    The rows of the plan directory's CSV files; :func:`write_plan_tables` writes them for
    people (one XLSX workbook, or CSV that Excel/WPS open with Chinese text intact).
    """
    return {
        "timetable": (TIMETABLE_COLUMNS, _timetable_rows(plan)),
        "vehicles": (VEHICLE_COLUMNS, _vehicle_rows(plan)),
        "assignments": (
            ASSIGNMENT_COLUMNS,
            [
                [
                    a.rider_id,
                    a.direction,
                    a.line_id,
                    a.stop_id,
                    round(a.walk_m, 1),
                    format_hms(a.board_time_s),
                    format_hms(a.arrival_time_s),
                ]
                for a in plan.assignments
            ],
        ),
        "unserved": (
            UNSERVED_COLUMNS,
            [[u.rider_id, u.direction, u.reason, u.message] for u in plan.unserved],
        ),
    }


def write_plan_tables(plan: Plan, path: str | Path) -> list[Path]:
    """Write the plan's tables for a spreadsheet; return the files written.

    ``path`` ending in ``.xlsx``: one workbook with a sheet per table. Otherwise a directory
    (created if needed) of ``timetable.csv``, ``vehicles.csv``, ``assignments.csv`` and
    ``unserved.csv`` in UTF-8 with a byte-order mark, which Excel and WPS need to show
    Chinese text (see :func:`routing.tables.write_table`).
    """
    from routing.tables import write_table, write_xlsx

    target = Path(path)
    tables = plan_tables(plan)
    if target.suffix.lower() == ".xlsx":
        write_xlsx(target, tables)
        return [target]
    written = []
    for name, (columns, rows) in tables.items():
        write_table(target / f"{name}.csv", columns, rows, excel=True)
        written.append(target / f"{name}.csv")
    return written


def write_plan(plan: Plan, out_dir: str | Path) -> Path:
    """Write ``plan`` as a plan directory (see the module docstring), atomically.

    Parameters
    ----------
    plan
        The plan to write.
    out_dir
        Target directory. It may not exist yet, or hold an earlier plan (which is replaced);
        a directory holding other files is refused rather than overwritten.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out = Path(out_dir)
    if out.exists():
        if not out.is_dir():
            msg = f"Expected a directory for the plan, got an existing file {str(out)!r}"
            raise FileExistsError(msg)
        others = sorted(p.name for p in out.iterdir() if p.name not in PLAN_FILES)
        if others:
            msg = (
                f"Expected an empty or earlier plan directory at {str(out)!r}, got other "
                f"files in it: {others[:5]}"
            )
            raise FileExistsError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old: Path | None = None
    try:
        _write_files(plan, tmp)
        if out.exists():
            old = out.with_name(f".{out.name}.{os.getpid()}.old")
            os.replace(out, old)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    logger.info("Wrote plan with %d lines to %s", len(plan.lines), out)
    return out


__all__ += ["read_plan"]
