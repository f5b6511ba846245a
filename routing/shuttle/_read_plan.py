"""Read a plan directory (see :mod:`routing.shuttle.export`) back into a :class:`Plan`.

Both formats are read: the current one (directions, buses, ``vehicles.csv``) and the first
one (trips to work only, each on a bus of its own). Every problem is reported with its file,
row and field in one :class:`~routing.shuttle.export.PlanFileError`.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from shapely.geometry import LineString

from ..lonlat import coordinate_problem
from ._errors import InputProblem
from .model import (
    DIRECTIONS,
    UNSERVED_REASONS,
    Assignment,
    BusType,
    CandidateStop,
    Direction,
    Fleet,
    Line,
    Plan,
    StopVisit,
    Unserved,
    Vehicle,
)
from .settings import ShuttleSettings, parse_clock

__all__ = ["read_plan"]


def _error(
    message: str, problems: list[InputProblem] | None = None, *, file: str = ""
) -> Exception:
    from .export import PlanFileError

    return PlanFileError(message, problems, file=file)


#: ``stop_id`` of the workplace call in ``timetable.csv``.
WORKPLACE_STOP_ID = "workplace"
# What the first format required (it had no direction, vehicle or name columns).
_V1_TIMETABLE = ("line_id", "seq", "stop_id", "lon", "lat", "arrival", "departure", "boarding")
_V1_ASSIGNMENTS = ("rider_id", "line_id", "stop_id", "walk_m", "board_time", "arrival_time")


class _Rows:
    """Typed field access over the rows of one CSV, collecting problems instead of failing."""

    def __init__(self, path: Path, required: tuple[str, ...]) -> None:
        self.path = path
        self.name = path.name
        self.problems: list[InputProblem] = []
        if not path.is_file():
            msg = f"Expected {self.name} in the plan directory {str(path.parent)!r}, got none"
            raise _error(msg, file=self.name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"Expected UTF-8 text in {self.name}, got undecodable bytes ({exc.reason})"
            raise _error(msg, file=self.name) from None
        reader = csv.DictReader(text.splitlines())
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            msg = f"Expected columns {list(required)} in {self.name}, missing {missing}"
            raise _error(msg, file=self.name)
        self.header = header
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

    def direction(self, row: int, rec: dict[str, str]) -> Direction:
        """The ``direction`` cell; empty (or no column: the first format) means to work."""
        value = rec.get("direction", "") or "to_work"
        if value not in DIRECTIONS:
            self.bad(row, "direction", f"expected one of {list(DIRECTIONS)}, got {value!r}")
            return "to_work"
        return value

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
            raise _error(msg, self.problems, file=self.name)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        msg = f"Expected {path.name} in the plan directory {str(path.parent)!r}, got none"
        raise _error(msg, file=path.name)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"Expected valid UTF-8 JSON in {path.name}, got: {exc}"
        raise _error(msg, file=path.name) from None


def _summary_parts(
    summary: Any,
) -> tuple[ShuttleSettings, tuple[float, float], int, Fleet | None, dict[str, Any]]:
    name = "summary.json"
    if not isinstance(summary, dict):
        msg = f"Expected a JSON object in {name}, got {type(summary).__name__}"
        raise _error(msg, file=name)
    try:
        settings = ShuttleSettings.from_dict(summary.get("settings") or {})
    except (ValueError, TypeError) as exc:
        msg = f"Expected valid settings in {name}, got: {exc}"
        raise _error(msg, file=name) from None
    try:
        wp = summary["workplace"]
        workplace = (float(wp[0]), float(wp[1]))
        deadline = parse_clock(summary["deadline"], name="deadline")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        msg = f"Expected workplace [lon, lat] and deadline HH:MM:SS in {name}, got: {exc!r}"
        raise _error(msg, file=name) from None
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
            raise _error(msg, file=name) from None
    return settings, workplace, deadline, fleet, summary


def _line_features(path: Path) -> dict[str, dict[str, Any]]:
    data = _read_json(path)
    name = path.name
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        msg = f"Expected a GeoJSON FeatureCollection in {name}"
        raise _error(msg, file=name)
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
        raise _error(msg, problems, file=name)
    return out


def _read_timetable(
    folder: Path, features: dict[str, dict[str, Any]]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Direction]]:
    """Each line's calls in ``seq`` order (the workplace call included) and its direction."""
    tt = _Rows(folder / "timetable.csv", _V1_TIMETABLE)
    calls: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    direction: dict[str, Direction] = {}
    has_alighting = "alighting" in tt.header
    for i, rec in enumerate(tt.rows, start=1):
        line_id = tt.text(i, rec, "line_id")
        d = tt.direction(i, rec)
        if direction.setdefault(line_id, d) != d:
            tt.bad(i, "direction", f"line {line_id!r} is already {direction[line_id]}, got {d}")
        call: dict[str, Any] = {
            "stop_id": tt.text(i, rec, "stop_id"),
            "name": rec.get("stop_name", ""),
            "lonlat": tt.lonlat(i, rec),
            "arrival": tt.clock(i, rec, "arrival"),
            "departure": tt.clock(i, rec, "departure"),
            "boarding": tt.integer(i, rec, "boarding"),
            "alighting": tt.integer(i, rec, "alighting") if has_alighting else 0,
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
        rows.sort(key=lambda r: r[0])
        to_work = direction.get(line_id) == "to_work"
        end = rows[-1] if to_work else rows[0]
        if end[2]["stop_id"] != WORKPLACE_STOP_ID:
            where = "last" if to_work else "first"
            tt.bad(
                end[1],
                "stop_id",
                f"expected the {where} call of line {line_id!r} at {WORKPLACE_STOP_ID!r}, "
                f"got {end[2]['stop_id']!r}",
            )
    for line_id in features:
        if line_id not in calls:
            tt.bad(0, "line_id", f"line {line_id!r} of lines.geojson has no timetable rows")
    tt.raise_if_bad()
    return {k: [c for _, _, c in rows] for k, rows in calls.items()}, direction


def _build_lines(
    features: dict[str, dict[str, Any]],
    calls: dict[str, list[dict[str, Any]]],
    direction: dict[str, Direction],
) -> tuple[list[Line], dict[str, CandidateStop]]:
    lines: list[Line] = []
    stops: dict[str, CandidateStop] = {}
    for line_id, feat in features.items():
        props = feat["props"]
        d = direction[line_id]
        to_work = d == "to_work"
        rows = calls[line_id]
        wp_call, visits = (rows[-1], rows[:-1]) if to_work else (rows[0], rows[1:])
        counts = [c["boarding"] if to_work else (c["alighting"] or c["boarding"]) for c in visits]
        total = sum(counts)
        load = 0 if to_work else total
        called = props.get("stops")
        if isinstance(called, list):  # the stops' own records (older files: stop_names)
            stop_names = [c.get("name") if isinstance(c, dict) else None for c in called]
        else:
            stop_names = list(props.get("stop_names") or [])
        seq_visits = []
        for k, (c, n) in enumerate(zip(visits, counts, strict=True)):
            load += n if to_work else -n
            name = c["name"] or (
                str(stop_names[k]) if k < len(stop_names) and stop_names[k] else ""
            )
            seq_visits.append(
                StopVisit(
                    stop_id=c["stop_id"],
                    lon=c["lonlat"][0],
                    lat=c["lonlat"][1],
                    arrival_s=c["arrival"],
                    departure_s=c["departure"],
                    boarding=n,
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
            lines.append(
                Line(
                    id=line_id,
                    bus_type=str(props["bus_type"]),
                    stops=tuple(seq_visits),
                    distance_m=float(props["distance_m"]),
                    duration_s=int(props["duration_s"]),
                    workplace=wp_call["lonlat"],
                    arrival_s=wp_call["arrival"],
                    deadline_s=parse_clock(props["deadline"], name="deadline"),
                    cost=float(props.get("cost") or 0.0),
                    path=path,
                    direction=d,
                    workplace_departure_s=None if to_work else wp_call["departure"],
                    vehicle_id=str(props.get("vehicle_id") or ""),
                )
            )
        except (TypeError, ValueError) as exc:
            msg = f"Expected numeric distance_m, duration_s, cost of line {line_id!r}: {exc}"
            raise _error(msg, file="lines.geojson") from None
    return lines, stops


def _read_vehicles(folder: Path, lines: dict[str, Line]) -> list[Vehicle]:
    """The buses of ``vehicles.csv`` (none when the file is absent: the first format)."""
    if not (folder / "vehicles.csv").is_file():
        return []
    vs = _Rows(folder / "vehicles.csv", ("vehicle_id", "bus_type", "seq", "line_id"))
    trips: dict[str, list[tuple[int, str, float, int]]] = {}
    types: dict[str, str] = {}
    for i, rec in enumerate(vs.rows, start=1):
        vid = vs.text(i, rec, "vehicle_id")
        line_id = vs.text(i, rec, "line_id")
        if line_id and line_id not in lines:
            vs.bad(i, "line_id", f"line {line_id!r} is not in lines.geojson")
        types.setdefault(vid, rec.get("bus_type", ""))
        dm = vs.number(i, rec, "deadhead_m") if rec.get("deadhead_m") else 0.0
        ds = vs.integer(i, rec, "deadhead_s") if rec.get("deadhead_s") else 0
        trips.setdefault(vid, []).append((vs.integer(i, rec, "seq"), line_id, dm, ds))
    vs.raise_if_bad()
    out = []
    for vid, rows in trips.items():
        rows.sort()
        try:
            out.append(
                Vehicle(
                    vid,
                    types[vid],
                    tuple(r[1] for r in rows),
                    tuple(r[2] for r in rows[1:]),
                    tuple(r[3] for r in rows[1:]),
                )
            )
        except ValueError as exc:
            raise _error(str(exc), file="vehicles.csv") from None
    return out


def read_plan(plan_dir: str | Path) -> Plan:
    """Read a plan directory written by :func:`write_plan` (or by hand in the same format).

    The returned plan has lines, buses, assignments, unserved riders, KPIs, settings, fleet and
    the served stops; it carries no riders (the files hold none), so pass riders to the
    checker or the evaluator separately when needed.

    Raises
    ------
    PlanFileError
        A file is missing or malformed; the message names the file, and every bad row and
        field (rows count data rows from 1).
    """
    folder = Path(plan_dir)
    if not folder.is_dir():
        msg = f"Expected a plan directory, got {str(folder)!r} (not a directory)"
        raise _error(msg)
    settings, workplace, deadline, fleet, summary = _summary_parts(
        _read_json(folder / "summary.json")
    )
    features = _line_features(folder / "lines.geojson")
    calls, direction = _read_timetable(folder, features)
    lines, stops = _build_lines(features, calls, direction)
    vehicles = _read_vehicles(folder, {ln.id: ln for ln in lines})

    asg = _Rows(folder / "assignments.csv", _V1_ASSIGNMENTS)
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
                direction=asg.direction(i, rec),
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
        d = un.direction(i, rec)
        if rider_id and reason:
            unserved.append(Unserved(rider_id, reason, rec.get("message", ""), direction=d))  # type: ignore[arg-type]
    un.raise_if_bad()

    return Plan(
        lines=tuple(lines),
        vehicles=tuple(vehicles),
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
