"""Existing lines to evaluate or redesign: the :class:`ExistingLine` shape and its readers.

Two file formats are read by :func:`read_lines`:

* a **plan directory** (see :mod:`routing.shuttle.export`): every line with its stops in
  order, bus type, workplace and deadline;
* a **lines CSV**, one row per stop call, UTF-8, with columns
  ``line_id, bus_type, seq, stop_id, lon, lat`` (``seq`` orders the calls of a line from 1;
  ``stop_id`` or ``lon``/``lat`` may be empty but not both: a stop id seen with coordinates
  elsewhere in the file reuses them, a stop without an id gets ``<line_id>-<seq>``). Optional
  columns: ``stop_name``, ``direction`` (``to_work``, the default, or ``from_work``),
  ``deadline`` (``HH:MM`` per line: the arrival deadline to work, or the departure from work
  of a line home; ``departure`` is read too), ``vehicle_id`` (the bus: lines with one id run
  on one bus), ``workplace_lon`` and ``workplace_lat`` (per line; default: the evaluation's
  workplace). A row with ``stop_id`` ``workplace`` is skipped (the workplace ends or starts
  every line anyway), so a ``timetable.csv`` with a ``bus_type`` column added reads as a lines
  CSV too;
* a **GTFS feed** (zip or folder; see :mod:`routing.shuttle.gtfs_in`).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from ..lonlat import lonlat_problem
from ._errors import InputProblem, ShuttleInputError
from .model import DIRECTIONS, CandidateStop, Direction, Plan
from .settings import parse_clock

__all__ = ["ExistingLine", "lines_from_plan", "read_lines"]

_REQUIRED = ("line_id", "bus_type", "seq")


@dataclass(frozen=True)
class ExistingLine:
    """A trip as it runs today: ordered stops and a bus type; times are recomputed.

    ``direction`` says whether it runs to work (stops, then the workplace) or home. For a
    line to work ``deadline_s`` is the arrival deadline, for a line home the departure from
    work; ``None``, and ``workplace`` ``None``, take the evaluation's. ``vehicle_id`` names the
    bus running it (a GTFS ``block_id``): trips with one id run on one bus.
    """

    id: str
    bus_type: str
    stops: tuple[CandidateStop, ...]
    workplace: tuple[float, float] | None = None
    deadline_s: int | None = None
    direction: Direction = "to_work"
    vehicle_id: str = ""


def lines_from_plan(plan: Plan) -> list[ExistingLine]:
    """The lines of a plan as existing lines (stops in order, bus type, workplace, time, bus)."""
    known = {s.id: s for s in plan.stops}
    bus = {lid: v.id for v in plan.vehicles for lid in v.line_ids}
    out = []
    for ln in plan.lines:
        stops = tuple(
            known.get(v.stop_id) or CandidateStop(v.stop_id, v.lon, v.lat, name=v.name)
            for v in ln.stops
        )
        out.append(
            ExistingLine(
                ln.id,
                ln.bus_type,
                stops,
                ln.workplace,
                ln.deadline_s,
                ln.direction,
                bus.get(ln.id, ln.vehicle_id),
            )
        )
    return out


def parse_number(value: str) -> float | None:
    """A finite float from a cell, ``None`` for anything else."""
    try:
        out = float(value)
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def read_lines(
    path: str | Path,
    *,
    workplace: tuple[float, float] | None = None,
    bus_type: str | None = None,
) -> list[ExistingLine]:
    """Read existing lines from a plan directory, a lines CSV or a GTFS feed (zip or folder).

    ``workplace`` and ``bus_type`` help read a GTFS feed (see
    :func:`routing.shuttle.gtfs_in.read_gtfs_lines`); the other formats say both.

    Raises
    ------
    ShuttleInputError
        The file is missing or malformed; ``problems`` names every bad row and field.
    """
    p = Path(path)
    from .gtfs_in import is_gtfs, read_gtfs_lines

    if is_gtfs(p):
        return read_gtfs_lines(p, workplace=workplace, bus_type=bus_type)
    if p.is_dir():
        from .export import read_plan

        return lines_from_plan(read_plan(p))
    if not p.is_file():
        msg = f"Expected a lines CSV or a plan directory, got a missing path {str(p)!r}"
        raise ShuttleInputError(msg)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"Expected UTF-8 text in {p.name}, got undecodable bytes ({exc.reason})"
        raise ShuttleInputError(msg) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in _REQUIRED if c not in header]
    if missing or not ({"stop_id"} <= set(header) or {"lon", "lat"} <= set(header)):
        msg = (
            f"Expected columns line_id, bus_type, seq and stop_id and/or lon, lat in "
            f"{p.name}, got {header}"
        )
        raise ShuttleInputError(msg)
    problems: list[InputProblem] = []
    rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    coords: dict[str, tuple[float, float]] = {}
    for r in rows:
        lon, lat = parse_number(r.get("lon", "")), parse_number(r.get("lat", ""))
        if r.get("stop_id") and lon is not None and lat is not None:
            coords.setdefault(r["stop_id"], (lon, lat))
    calls: dict[str, list[tuple[int, CandidateStop]]] = {}
    bus: dict[str, str] = {}
    deadline: dict[str, int] = {}
    line_wp: dict[str, tuple[float, float]] = {}
    direction: dict[str, Direction] = {}
    vehicle: dict[str, str] = {}
    for i, r in enumerate(rows, start=1):
        line_id, bus_type, stop_id = (
            r.get("line_id", ""),
            r.get("bus_type", ""),
            r.get("stop_id", ""),
        )
        if stop_id == "workplace":
            continue
        if not line_id:
            problems.append(InputProblem(i, "line_id", "expected a line id, got an empty cell"))
            continue
        if not bus_type:
            problems.append(InputProblem(i, "bus_type", "expected a bus type, got an empty cell"))
        elif bus.setdefault(line_id, bus_type) != bus_type:
            problems.append(
                InputProblem(
                    i, "bus_type", f"line {line_id} already runs {bus[line_id]!r}, got {bus_type!r}"
                )
            )
        try:
            seq = int(r.get("seq", ""))
        except ValueError:
            problems.append(
                InputProblem(i, "seq", f"expected a whole number, got {r.get('seq')!r}")
            )
            continue
        lon, lat = parse_number(r.get("lon", "")), parse_number(r.get("lat", ""))
        if (lon is None or lat is None) and stop_id in coords:
            lon, lat = coords[stop_id]
        if lon is None or lat is None:
            problems.append(
                InputProblem(
                    i,
                    "lon/lat",
                    "expected coordinates (or a stop_id given with coordinates on another row)",
                )
            )
            continue
        problem = lonlat_problem(lon, lat)
        if problem is not None:
            problems.append(InputProblem(i, "lon/lat", problem))
            continue
        d = r.get("direction", "") or "to_work"
        if d not in DIRECTIONS:
            problems.append(
                InputProblem(i, "direction", f"expected one of {list(DIRECTIONS)}, got {d!r}")
            )
        elif direction.setdefault(line_id, d) != d:
            problems.append(
                InputProblem(i, "direction", f"line {line_id} already runs {direction[line_id]}")
            )
        if r.get("vehicle_id"):
            vehicle.setdefault(line_id, r["vehicle_id"])
        for column in ("deadline", "departure"):
            if r.get(column):
                try:
                    deadline[line_id] = parse_clock(r[column], name=column)
                except ValueError:
                    problems.append(InputProblem(i, column, f"expected HH:MM, got {r[column]!r}"))
        if r.get("workplace_lon") or r.get("workplace_lat"):
            wlon, wlat = (
                parse_number(r.get("workplace_lon", "")),
                parse_number(r.get("workplace_lat", "")),
            )
            if wlon is None or wlat is None:
                problems.append(InputProblem(i, "workplace_lon/lat", "expected numbers"))
            else:
                line_wp[line_id] = (wlon, wlat)
        sid = stop_id or f"{line_id}-{seq}"
        calls.setdefault(line_id, []).append(
            (seq, CandidateStop(sid, lon, lat, source="given", name=r.get("stop_name", "")))
        )
    for line_id, seq_stops in calls.items():
        seqs = [s for s, _ in seq_stops]
        if len(set(seqs)) != len(seqs):
            problems.append(InputProblem(0, "seq", f"line {line_id} repeats a seq number"))
    if problems:
        msg = f"Malformed lines file {p.name} ({len(problems)} problems)"
        raise ShuttleInputError(msg, problems)
    if not calls:
        msg = f"Expected at least one line in {p.name}, got none"
        raise ShuttleInputError(msg)
    return [
        ExistingLine(
            line_id,
            bus[line_id],
            tuple(st for _, st in sorted(seq_stops, key=lambda x: x[0])),
            line_wp.get(line_id, workplace) if workplace else line_wp.get(line_id),
            deadline.get(line_id),
            direction.get(line_id, "to_work"),
            vehicle.get(line_id, ""),
        )
        for line_id, seq_stops in calls.items()
    ]
