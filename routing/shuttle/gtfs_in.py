"""Read today's lines from a GTFS feed (zip or folder) as :class:`ExistingLine` s.

Used files: ``stops.txt`` (``stop_id, stop_name, stop_lat, stop_lon``), ``trips.txt``
(``route_id, trip_id``; ``direction_id``, ``block_id`` when present), ``stop_times.txt``
(``trip_id, stop_id, stop_sequence, arrival_time, departure_time``; ``pickup_type``,
``drop_off_type`` when present) and ``routes.txt`` (``route_desc`` may name the bus type, as
the feeds :func:`routing.shuttle.gtfs.write_gtfs` writes do). Each trip is one line.

Which end of a trip is the workplace: with a ``workplace`` given, the end call nearer to it
(the last call: the trip runs to work; the first: home). Without, the pick-up and drop-off
types: a trip picking up at several calls and setting down at one runs to work, one picking
up once and setting down at several runs home; failing that ``direction_id`` (0 to work,
1 home, as the planner writes it).
The workplace call ends (or starts) the line and gives its time: the arrival deadline of a
trip to work, the departure of a trip home. ``block_id`` becomes the bus
(``ExistingLine.vehicle_id``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from ..lonlat import lonlat_problem
from ._errors import InputProblem, ShuttleInputError
from ._existing import ExistingLine, parse_number
from .gtfs import haversine_m
from .model import CandidateStop, Direction
from .settings import parse_clock

__all__ = ["is_gtfs", "read_gtfs_lines"]

_FILES = ("stops.txt", "trips.txt", "stop_times.txt")


def is_gtfs(path: str | Path) -> bool:
    """Whether ``path`` is a GTFS zip or folder (it holds ``stop_times.txt``)."""
    p = Path(path)
    if p.is_dir():
        return (p / "stop_times.txt").is_file()
    if p.is_file() and zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as zf:
            return any(Path(n).name == "stop_times.txt" for n in zf.namelist())
    return False


def _tables(path: Path) -> dict[str, list[dict[str, str]]]:
    texts: dict[str, str] = {}
    wanted = (*_FILES, "routes.txt")
    try:
        if path.is_dir():
            for name in wanted:
                if (path / name).is_file():
                    texts[name] = (path / name).read_text(encoding="utf-8-sig")
        else:
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    name = Path(member).name
                    if name in wanted:
                        texts[name] = zf.read(member).decode("utf-8-sig")
    except (UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
        msg = f"Expected a readable UTF-8 GTFS feed in {path.name}, got: {exc}"
        raise ShuttleInputError(msg) from None
    missing = [n for n in _FILES if n not in texts]
    if missing:
        msg = f"Expected {list(_FILES)} in the GTFS feed {path.name}, missing {missing}"
        raise ShuttleInputError(msg)
    out: dict[str, list[dict[str, str]]] = {}
    for name, text in texts.items():
        reader = csv.DictReader(io.StringIO(text))
        out[name] = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    return out


def read_gtfs_lines(
    path: str | Path,
    *,
    workplace: tuple[float, float] | None = None,
    bus_type: str | None = None,
) -> list[ExistingLine]:
    """Every trip of a GTFS feed as an existing line (see the module docstring).

    Parameters
    ----------
    path
        A GTFS zip or a folder of its text files.
    workplace
        ``(lon, lat)`` of the workplace, to tell the trips' directions; the feed's own
        pick-up / drop-off types and ``direction_id`` otherwise.
    bus_type
        Bus type of every line; default: the first word of ``route_desc`` (as the planner's
        feeds write it), else empty (the evaluation takes the fleet's largest bus).

    Raises
    ------
    ShuttleInputError
        A missing file or column, a bad time or coordinate, a trip of fewer than two calls or
        one calling at an unknown stop; every problem named by file, row and field.
    """
    p = Path(path)
    t = _tables(p)
    problems: list[InputProblem] = []

    def need(name: str, columns: tuple[str, ...]) -> None:
        header = set(t[name][0]) if t[name] else set(columns)
        gone = [c for c in columns if c not in header]
        if gone:
            msg = f"Expected columns {list(columns)} in {name} of {p.name}, missing {gone}"
            raise ShuttleInputError(msg)

    need("stops.txt", ("stop_id", "stop_lat", "stop_lon"))
    need("trips.txt", ("route_id", "trip_id"))
    need("stop_times.txt", ("trip_id", "stop_id", "stop_sequence"))
    stops: dict[str, CandidateStop] = {}
    for i, r in enumerate(t["stops.txt"], start=1):
        lon, lat = parse_number(r.get("stop_lon", "")), parse_number(r.get("stop_lat", ""))
        problem = lonlat_problem(lon, lat, names=("stop_lon", "stop_lat"))
        if lon is None or lat is None or problem is not None:
            problems.append(InputProblem(i, "stop_lat/stop_lon", f"stops.txt: {problem}"))
            continue
        stops[r["stop_id"]] = CandidateStop(
            r["stop_id"], lon, lat, source="given", name=r.get("stop_name", "")
        )
    route_bus = {
        r.get("route_id", ""): (r.get("route_desc", "").split(",")[0].strip())
        for r in t.get("routes.txt", [])
    }
    trips = {r["trip_id"]: r for r in t["trips.txt"]}
    calls: dict[str, list[tuple[int, int, dict[str, str]]]] = {}
    for i, r in enumerate(t["stop_times.txt"], start=1):
        trip = r.get("trip_id", "")
        if trip not in trips:
            problems.append(InputProblem(i, "trip_id", f"stop_times.txt: unknown trip {trip!r}"))
            continue
        if r.get("stop_id") not in stops:
            problems.append(
                InputProblem(i, "stop_id", f"stop_times.txt: unknown stop {r.get('stop_id')!r}")
            )
            continue
        try:
            seq = int(r["stop_sequence"])
        except ValueError:
            problems.append(
                InputProblem(
                    i,
                    "stop_sequence",
                    f"stop_times.txt: expected a whole number, got {r['stop_sequence']!r}",
                )
            )
            continue
        calls.setdefault(trip, []).append((seq, i, r))
    out: list[ExistingLine] = []
    for trip_id, rows in calls.items():
        rows.sort()
        if len(rows) < 2:
            problems.append(
                InputProblem(
                    rows[0][1], "trip_id", f"stop_times.txt: trip {trip_id!r} has one call"
                )
            )
            continue
        first, last = rows[0][2], rows[-1][2]
        direction = _direction([r for _, _, r in rows], trips[trip_id], stops, workplace)
        terminal, ride = (last, rows[:-1]) if direction == "to_work" else (first, rows[1:])
        column = "arrival_time" if direction == "to_work" else "departure_time"
        when = terminal.get(column) or terminal.get("arrival_time", "")
        try:
            time_s: int | None = parse_clock(when, name=column) if when else None
        except ValueError:
            row = rows[-1][1] if direction == "to_work" else rows[0][1]
            problems.append(
                InputProblem(row, column, f"stop_times.txt: expected HH:MM:SS, got {when!r}")
            )
            continue
        wp_stop = stops[terminal["stop_id"]]
        route = trips[trip_id].get("route_id", "")
        out.append(
            ExistingLine(
                trip_id,
                bus_type or route_bus.get(route, ""),
                tuple(stops[r["stop_id"]] for _, _, r in ride),
                (wp_stop.lon, wp_stop.lat) if workplace is None else workplace,
                time_s,
                direction,
                trips[trip_id].get("block_id", ""),
            )
        )
    if problems:
        msg = f"Malformed GTFS feed {p.name} ({len(problems)} problems)"
        raise ShuttleInputError(msg, problems)
    if not out:
        msg = f"Expected at least one trip with stop times in {p.name}, got none"
        raise ShuttleInputError(msg)
    return out


def _direction(
    rows: list[dict[str, str]],
    trip: dict[str, str],
    stops: dict[str, CandidateStop],
    workplace: tuple[float, float] | None,
) -> Direction:
    first, last = rows[0], rows[-1]
    if workplace is not None:
        a, b = stops[first["stop_id"]], stops[last["stop_id"]]
        near_first = haversine_m(a.lon, a.lat, *workplace) < haversine_m(b.lon, b.lat, *workplace)
        return "from_work" if near_first else "to_work"
    pickups = sum(1 for r in rows if r.get("pickup_type", "0") in ("", "0"))
    drop_offs = sum(1 for r in rows if r.get("drop_off_type", "0") in ("", "0"))
    if pickups > 1 and drop_offs == 1:
        return "to_work"
    if drop_offs > 1 and pickups == 1:
        return "from_work"
    return "from_work" if trip.get("direction_id") == "1" else "to_work"
