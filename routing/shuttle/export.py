"""Write a :class:`~routing.shuttle.model.Plan` to a plan directory and read it back.

A plan directory holds five UTF-8 files that other tools (and independent checkers) can read:

``summary.json``
    KPIs, workplace, deadline, settings, fleet and solver figures
    (:meth:`Plan.summary <routing.shuttle.model.Plan.summary>` plus ``fleet`` and ``format``).
``lines.geojson``
    RFC 7946 FeatureCollection, one LineString per line, written by the one encoder
    :func:`routing.shuttle.geojson.lines_feature_collection` (the same Features as
    ``/api/lines``; properties listed there).
``timetable.csv``
    ``line_id, seq, stop_id, lon, lat, arrival, departure, boarding``: one row per call in
    driving order; the last row of each line is its arrival at the workplace (``stop_id``
    :data:`WORKPLACE_STOP_ID`, boarding 0).
``assignments.csv``
    ``rider_id, line_id, stop_id, walk_m, board_time, arrival_time``.
``unserved.csv``
    ``rider_id, reason`` (a code of :data:`~routing.shuttle.model.UNSERVED_REASONS`) and a
    trailing ``message`` column with the numbers.

Times are ``HH:MM:SS`` seconds since midnight (hours past 23 allowed, as in GTFS). A write is
atomic: the files go to a temporary sibling directory which is then renamed into place, so a
failed export leaves either the old directory or nothing, never a half-written one.
:func:`read_plan` raises :class:`PlanFileError` naming the file, row and field of every problem.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from shapely.geometry import LineString

from ..lonlat import coordinate_problem
from ._errors import InputProblem, ShuttleInputError
from .geojson import line_coordinates as line_coordinates
from .geojson import lines_feature_collection
from .model import (
    UNSERVED_REASONS,
    Assignment,
    BusType,
    CandidateStop,
    Fleet,
    Line,
    Plan,
    StopVisit,
    Unserved,
)
from .settings import ShuttleSettings, format_hms, parse_clock

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
    "assignments.csv",
    "unserved.csv",
)
#: ``stop_id`` of the workplace row that ends each line in ``timetable.csv``.
WORKPLACE_STOP_ID = "workplace"
FORMAT = "warmheart-shuttle-plan"
FORMAT_VERSION = 1

TIMETABLE_COLUMNS = ("line_id", "seq", "stop_id", "lon", "lat", "arrival", "departure", "boarding")
ASSIGNMENT_COLUMNS = ("rider_id", "line_id", "stop_id", "walk_m", "board_time", "arrival_time")
UNSERVED_COLUMNS = ("rider_id", "reason", "message")


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
        for seq, v in enumerate(line.stops, start=1):
            rows.append(
                [
                    line.id,
                    seq,
                    v.stop_id,
                    v.lon,
                    v.lat,
                    format_hms(v.arrival_s),
                    format_hms(v.departure_s),
                    v.boarding,
                ]
            )
        end = format_hms(line.arrival_s)
        rows.append(
            [
                line.id,
                len(line.stops) + 1,
                WORKPLACE_STOP_ID,
                line.workplace[0],
                line.workplace[1],
                end,
                end,
                0,
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
    """The plan's tables by name (``timetable``, ``assignments``, ``unserved``): columns, rows.

    The rows of the plan directory's CSV files; :func:`write_plan_tables` writes them for
    people (one XLSX workbook, or CSV that Excel/WPS open with Chinese text intact).
    """
    return {
        "timetable": (TIMETABLE_COLUMNS, _timetable_rows(plan)),
        "assignments": (
            ASSIGNMENT_COLUMNS,
            [
                [
                    a.rider_id,
                    a.line_id,
                    a.stop_id,
                    round(a.walk_m, 1),
                    format_hms(a.board_time_s),
                    format_hms(a.arrival_time_s),
                ]
                for a in plan.assignments
            ],
        ),
        "unserved": (UNSERVED_COLUMNS, [[u.rider_id, u.reason, u.message] for u in plan.unserved]),
    }


def write_plan_tables(plan: Plan, path: str | Path) -> list[Path]:
    """Write the plan's tables for a spreadsheet; return the files written.

    ``path`` ending in ``.xlsx``: one workbook with a sheet per table. Otherwise a directory
    (created if needed) of ``timetable.csv``, ``assignments.csv`` and ``unserved.csv`` in
    UTF-8 with a byte-order mark, which Excel and WPS need to show Chinese text (see
    :func:`routing.tables.write_table`).
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


# --------------------------------------------------------------------------- reading


class _Rows:
    """Typed field access over the rows of one CSV, collecting problems instead of failing."""

    def __init__(self, path: Path, required: tuple[str, ...]) -> None:
        self.path = path
        self.name = path.name
        self.problems: list[InputProblem] = []
        if not path.is_file():
            msg = f"Expected {self.name} in the plan directory {str(path.parent)!r}, got none"
            raise PlanFileError(msg, file=self.name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"Expected UTF-8 text in {self.name}, got undecodable bytes ({exc.reason})"
            raise PlanFileError(msg, file=self.name) from None
        reader = csv.DictReader(text.splitlines())
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            msg = f"Expected columns {list(required)} in {self.name}, missing {missing}"
            raise PlanFileError(msg, file=self.name)
        self.rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]

    def bad(self, row: int, field: str, problem: str) -> None:
        self.problems.append(InputProblem(row, field, problem))

    def text(self, row: int, rec: dict[str, str], field: str) -> str:
        value = rec.get(field, "")
        if not value:
            self.bad(row, field, "expected a value, got an empty cell")
        return value

    def number(self, row: int, rec: dict[str, str], field: str) -> float:
        value = rec.get(field, "")
        try:
            out = float(value)
        except ValueError:
            self.bad(row, field, f"expected a number, got {value!r}")
            return math.nan
        if not math.isfinite(out):
            self.bad(row, field, f"expected a finite number, got {value!r}")
        return out

    def integer(self, row: int, rec: dict[str, str], field: str) -> int:
        value = rec.get(field, "")
        try:
            out = int(value)
        except ValueError:
            self.bad(row, field, f"expected a whole number, got {value!r}")
            return 0
        if out < 0:
            self.bad(row, field, f"expected a number >= 0, got {value!r}")
        return out

    def clock(self, row: int, rec: dict[str, str], field: str) -> int:
        value = rec.get(field, "")
        try:
            return parse_clock(value, name=field)
        except ValueError:
            self.bad(row, field, f"expected a time HH:MM:SS, got {value!r}")
            return 0

    def lonlat(self, row: int, rec: dict[str, str]) -> tuple[float, float]:
        lon = self.number(row, rec, "lon")
        lat = self.number(row, rec, "lat")
        for axis, value in (("lon", lon), ("lat", lat)):
            problem = coordinate_problem(value, axis) if math.isfinite(value) else None
            if problem is not None:
                self.bad(row, axis, problem)
        return lon, lat

    def raise_if_bad(self) -> None:
        if self.problems:
            msg = f"Malformed plan file {self.name} ({len(self.problems)} problems)"
            raise PlanFileError(msg, self.problems, file=self.name)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        msg = f"Expected {path.name} in the plan directory {str(path.parent)!r}, got none"
        raise PlanFileError(msg, file=path.name)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"Expected valid UTF-8 JSON in {path.name}, got: {exc}"
        raise PlanFileError(msg, file=path.name) from None


def _summary_parts(
    summary: Any,
) -> tuple[ShuttleSettings, tuple[float, float], int, Fleet | None, dict[str, Any]]:
    name = "summary.json"
    if not isinstance(summary, dict):
        msg = f"Expected a JSON object in {name}, got {type(summary).__name__}"
        raise PlanFileError(msg, file=name)
    try:
        settings = ShuttleSettings.from_dict(summary.get("settings") or {})
    except (ValueError, TypeError) as exc:
        msg = f"Expected valid settings in {name}, got: {exc}"
        raise PlanFileError(msg, file=name) from None
    try:
        wp = summary["workplace"]
        workplace = (float(wp[0]), float(wp[1]))
        deadline = parse_clock(summary["deadline"], name="deadline")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        msg = f"Expected workplace [lon, lat] and deadline HH:MM:SS in {name}, got: {exc!r}"
        raise PlanFileError(msg, file=name) from None
    fleet = None
    if summary.get("fleet"):
        try:
            fleet = Fleet(
                tuple(
                    BusType(
                        name=t["type"],
                        seats=int(t["seats"]),
                        count=int(t["count"]),
                        fixed_cost=float(t["fixed_cost"]),
                        cost_per_km=float(t["cost_per_km"]),
                        cost_per_hour=float(t["cost_per_hour"]),
                    )
                    for t in summary["fleet"]["types"]
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"Expected fleet types with type, seats, count and costs in {name}, got: {exc}"
            raise PlanFileError(msg, file=name) from None
    return settings, workplace, deadline, fleet, summary


def _line_features(path: Path) -> dict[str, dict[str, Any]]:
    data = _read_json(path)
    name = path.name
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        msg = f"Expected a GeoJSON FeatureCollection in {name}"
        raise PlanFileError(msg, file=name)
    out: dict[str, dict[str, Any]] = {}
    problems: list[InputProblem] = []
    for i, feat in enumerate(data.get("features") or [], start=1):
        props = (feat or {}).get("properties") or {}
        geom = (feat or {}).get("geometry") or {}
        line_id = str(props.get("line_id") or "")
        if not line_id:
            problems.append(InputProblem(i, "line_id", "expected a line id, got none"))
            continue
        if geom.get("type") != "LineString" or len(geom.get("coordinates") or []) < 2:
            problems.append(InputProblem(i, "geometry", "expected a LineString of 2+ positions"))
            continue
        for field in ("bus_type", "distance_m", "duration_s", "deadline"):
            if props.get(field) in (None, ""):
                problems.append(InputProblem(i, field, "expected a value, got none"))
        out[line_id] = {"props": props, "coords": geom["coordinates"]}
    if problems:
        msg = f"Malformed plan file {name} ({len(problems)} problems)"
        raise PlanFileError(msg, problems, file=name)
    return out


def read_plan(plan_dir: str | Path) -> Plan:
    """Read a plan directory written by :func:`write_plan` (or by hand in the same format).

    The returned plan has lines, assignments, unserved riders, KPIs, settings, fleet and the
    served stops; it carries no riders (the files hold none), so pass riders to the checker or
    the evaluator separately when needed.

    Raises
    ------
    PlanFileError
        A file is missing or malformed; the message names the file, and every bad row and
        field (rows count data rows from 1).
    """
    folder = Path(plan_dir)
    if not folder.is_dir():
        msg = f"Expected a plan directory, got {str(folder)!r} (not a directory)"
        raise PlanFileError(msg)
    settings, workplace, deadline, fleet, summary = _summary_parts(
        _read_json(folder / "summary.json")
    )
    features = _line_features(folder / "lines.geojson")

    tt = _Rows(folder / "timetable.csv", TIMETABLE_COLUMNS)
    calls: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    for i, rec in enumerate(tt.rows, start=1):
        line_id = tt.text(i, rec, "line_id")
        call: dict[str, Any] = {
            "stop_id": tt.text(i, rec, "stop_id"),
            "lonlat": tt.lonlat(i, rec),
            "arrival": tt.clock(i, rec, "arrival"),
            "departure": tt.clock(i, rec, "departure"),
            "boarding": tt.integer(i, rec, "boarding"),
        }
        if call["departure"] < call["arrival"]:
            tt.bad(i, "departure", "expected a departure at or after the arrival")
        calls.setdefault(line_id, []).append((tt.integer(i, rec, "seq"), i, call))
    for line_id, rows in calls.items():
        if line_id and line_id not in features:
            tt.bad(rows[0][1], "line_id", f"line {line_id!r} is not in lines.geojson")
        seqs = [s for s, _, _ in rows]
        if len(set(seqs)) != len(seqs):
            tt.bad(rows[0][1], "seq", f"line {line_id!r} repeats a seq number")
        last = max(rows, key=lambda r: r[0])
        if last[2]["stop_id"] != WORKPLACE_STOP_ID:
            tt.bad(
                last[1],
                "stop_id",
                f"expected the last call of line {line_id!r} at {WORKPLACE_STOP_ID!r}, "
                f"got {last[2]['stop_id']!r}",
            )
    for line_id in features:
        if line_id not in calls:
            tt.bad(0, "line_id", f"line {line_id!r} of lines.geojson has no timetable rows")
    tt.raise_if_bad()

    lines: list[Line] = []
    stops: dict[str, CandidateStop] = {}
    for line_id, feat in features.items():
        props = feat["props"]
        rows = sorted(calls[line_id], key=lambda r: r[0])
        *visits, end = [c for _, _, c in rows]
        load = 0
        called = props.get("stops")
        if isinstance(called, list):  # the stops' own records (older files: stop_names)
            stop_names = [c.get("name") if isinstance(c, dict) else None for c in called]
        else:
            stop_names = list(props.get("stop_names") or [])
        seq_visits = []
        for k, c in enumerate(visits):
            load += c["boarding"]
            name = str(stop_names[k]) if k < len(stop_names) and stop_names[k] else ""
            seq_visits.append(
                StopVisit(
                    stop_id=c["stop_id"],
                    lon=c["lonlat"][0],
                    lat=c["lonlat"][1],
                    arrival_s=c["arrival"],
                    departure_s=c["departure"],
                    boarding=c["boarding"],
                    load_after=load,
                    name=name,
                )
            )
            stops.setdefault(
                c["stop_id"],
                CandidateStop(id=c["stop_id"], lon=c["lonlat"][0], lat=c["lonlat"][1], name=name),
            )
        path = None
        if props.get("geometry_source") == "drive_graph":
            path = LineString([(float(x), float(y)) for x, y, *_ in feat["coords"]])
        try:
            line_deadline = parse_clock(props["deadline"], name="deadline")
            lines.append(
                Line(
                    id=line_id,
                    bus_type=str(props["bus_type"]),
                    stops=tuple(seq_visits),
                    distance_m=float(props["distance_m"]),
                    duration_s=int(props["duration_s"]),
                    workplace=end["lonlat"],
                    arrival_s=end["arrival"],
                    deadline_s=line_deadline,
                    cost=float(props.get("cost") or 0.0),
                    path=path,
                )
            )
        except (TypeError, ValueError) as exc:
            msg = f"Expected numeric distance_m, duration_s, cost of line {line_id!r}: {exc}"
            raise PlanFileError(msg, file="lines.geojson") from None

    asg = _Rows(folder / "assignments.csv", ASSIGNMENT_COLUMNS)
    assignments = []
    for i, rec in enumerate(asg.rows, start=1):
        line_id = asg.text(i, rec, "line_id")
        if line_id and line_id not in features:
            asg.bad(i, "line_id", f"line {line_id!r} is not in lines.geojson")
        walk = asg.number(i, rec, "walk_m")
        if walk < 0:
            asg.bad(i, "walk_m", f"expected a walk >= 0, got {walk}")
        assignments.append(
            Assignment(
                rider_id=asg.text(i, rec, "rider_id"),
                line_id=line_id,
                stop_id=asg.text(i, rec, "stop_id"),
                walk_m=walk,
                board_time_s=asg.clock(i, rec, "board_time"),
                arrival_time_s=asg.clock(i, rec, "arrival_time"),
            )
        )
    asg.raise_if_bad()

    un = _Rows(folder / "unserved.csv", ("rider_id", "reason"))
    unserved = []
    for i, rec in enumerate(un.rows, start=1):
        reason = un.text(i, rec, "reason")
        if reason and reason not in UNSERVED_REASONS:
            un.bad(i, "reason", f"expected one of {sorted(UNSERVED_REASONS)}, got {reason!r}")
            continue
        rider_id = un.text(i, rec, "rider_id")
        if rider_id and reason:
            unserved.append(Unserved(rider_id, reason, rec.get("message", "")))  # type: ignore[arg-type]
    un.raise_if_bad()

    return Plan(
        lines=tuple(lines),
        assignments=tuple(assignments),
        unserved=tuple(unserved),
        kpis=dict(summary.get("kpis") or {}),
        settings=settings,
        workplace=workplace,
        deadline=deadline,
        fleet=fleet,
        stops=tuple(stops.values()),
        area=str(summary.get("area") or ""),
        meta=dict(summary.get("meta") or {}),
    )
