"""Export a shuttle :class:`~routing.shuttle.model.Plan` as a GTFS Schedule feed (zip).

One route per line (``route_type`` 3, bus) with its trip: to work (``direction_id`` 0) the
stops are pick-up only and the workplace, last, drop-off only; home (``direction_id`` 1) the
workplace, first, is pick-up only and the stops drop-off only. Trips run by one bus share its
``block_id``. ``stop_name`` is the stop's name in ``agency_lang`` (never an internal id),
``calendar`` covers the service days between ``start_date`` and ``end_date``, ``shapes`` come
from the line geometry (the driven path where the plan has one, else straight segments
through the stops) with ``shape_dist_traveled`` in kilometres, plus ``feed_info``. Times past
midnight are written as GTFS allows (``25:10:00``).

The feed validates with gtfs-kit's ``Feed.validate()`` without errors (the tests check it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ._errors import ShuttleInputError
from .model import Line, Plan
from .settings import format_hms

__all__ = ["GTFS_WEEKDAYS", "haversine_m", "write_gtfs"]

logger = logging.getLogger(__name__)

#: GTFS ``calendar.txt`` day columns, Monday first.
GTFS_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALIASES = {d[:3]: d for d in GTFS_WEEKDAYS}
_EARTH_RADIUS_M = 6_371_008.8
_TZ = re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_\-+]+){0,2}$|^UTC$")


def _parse_days(days: str | Iterable[str]) -> tuple[str, ...]:
    """``"mon-fri"``, ``"mon,wed,fri"`` or an iterable of day names -> calendar columns."""
    if isinstance(days, str):
        parts: list[str] = []
        for chunk in days.lower().replace(" ", "").split(","):
            if "-" in chunk:
                a, b = chunk.split("-", 1)
                ia, ib = _day_index(a), _day_index(b)
                if ib < ia:
                    msg = f"Expected a day range such as mon-fri, got {chunk!r}"
                    raise ShuttleInputError(msg)
                parts += GTFS_WEEKDAYS[ia : ib + 1]
            elif chunk:
                parts.append(GTFS_WEEKDAYS[_day_index(chunk)])
    else:
        parts = [GTFS_WEEKDAYS[_day_index(str(d).lower())] for d in days]
    if not parts:
        msg = f"Expected at least one service day, got {days!r}"
        raise ShuttleInputError(msg)
    return tuple(d for d in GTFS_WEEKDAYS if d in set(parts))


def _day_index(name: str) -> int:
    key = name.strip().lower()[:3]
    if key not in _DAY_ALIASES:
        msg = f"Expected a weekday (mon..sun), got {name!r}"
        raise ShuttleInputError(msg)
    return GTFS_WEEKDAYS.index(_DAY_ALIASES[key])


def _as_date(value: dt.date | str, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    msg = f"Expected {name} as YYYY-MM-DD, got {value!r}"
    raise ShuttleInputError(msg)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle metres between two lon/lat points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


#: The workplace's stop name per language.
WORKPLACE_NAMES = {"zh": "工作单位", "en": "Workplace", "ja": "職場", "ko": "직장"}


def _shape_points(line: Line) -> list[tuple[float, float]]:
    if line.path is not None and not line.path.is_empty and len(line.path.coords) >= 2:
        pts = [(float(c[0]), float(c[1])) for c in line.path.coords]
    else:
        calls = [(v.lon, v.lat) for v in line.stops]
        pts = [*calls, line.workplace] if line.to_work else [line.workplace, *calls]
    dedup = [pts[0]]
    for p in pts[1:]:
        if p != dedup[-1]:
            dedup.append(p)
    if len(dedup) < 2:
        dedup.append((dedup[0][0] + 1e-6, dedup[0][1]))
    return dedup


def _cumulative_km(points: Sequence[tuple[float, float]]) -> list[float]:
    out = [0.0]
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        out.append(out[-1] + haversine_m(x1, y1, x2, y2) / 1000.0)
    return out


def _project_km(
    point: tuple[float, float],
    shape: Sequence[tuple[float, float]],
    cum: Sequence[float],
    start: int,
) -> tuple[float, int]:
    """Distance along ``shape`` (km) of its vertex nearest ``point`` at or after ``start``."""
    best, best_i = math.inf, start
    for i in range(start, len(shape)):
        d = haversine_m(point[0], point[1], shape[i][0], shape[i][1])
        if d < best:
            best, best_i = d, i
    return cum[best_i], best_i


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _stop_key(lon: float, lat: float) -> tuple[float, float]:
    return (round(lon, 7), round(lat, 7))


def write_gtfs(
    plan: Plan,
    path_zip: str | Path,
    *,
    agency_name: str = "Union commuter shuttles",
    agency_url: str = "https://www.openstreetmap.org/copyright",
    agency_timezone: str = "Asia/Shanghai",
    agency_lang: str = "zh",
    service_days: str | Iterable[str] = "mon-fri",
    start_date: dt.date | str | None = None,
    end_date: dt.date | str | None = None,
    feed_version: str = "",
) -> Path:
    """Write ``plan`` as a GTFS feed zip.

    Parameters
    ----------
    plan
        A plan (from the planner, or read back with :func:`routing.shuttle.export.read_plan`).
    path_zip
        The ``.zip`` to write (replaced atomically if it exists).
    agency_name, agency_url, agency_timezone, agency_lang
        ``agency.txt`` fields (GTFS requires a URL and an IANA time zone; set them to the
        operating union's). The URL defaults to the OSM copyright page because the stops and
        shapes derive from OSM data.
    service_days
        Weekdays the lines run: ``"mon-fri"`` (default), ``"mon,wed,fri"`` or day names.
    start_date, end_date
        Validity of the service calendar (``YYYY-MM-DD``); default today and one year on.
    feed_version
        ``feed_info.feed_version`` (default: the start date).

    Returns
    -------
    Path
        ``path_zip``.
    """
    days = _parse_days(service_days)
    start = _as_date(start_date, "start_date") if start_date is not None else dt.date.today()
    end = (
        _as_date(end_date, "end_date")
        if end_date is not None
        else start.replace(year=start.year + 1) - dt.timedelta(days=1)
        if not (start.month == 2 and start.day == 29)
        else start + dt.timedelta(days=364)
    )
    if end < start:
        msg = f"Expected end_date on or after start_date {start}, got {end}"
        raise ShuttleInputError(msg)
    if not agency_name.strip():
        msg = "Expected a non-empty agency name, got an empty string"
        raise ShuttleInputError(msg)
    if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", agency_url):
        msg = f"Expected agency_url as an http(s) URL, got {agency_url!r}"
        raise ShuttleInputError(msg)
    if not _TZ.match(agency_timezone):
        msg = f"Expected an IANA time zone such as Asia/Shanghai, got {agency_timezone!r}"
        raise ShuttleInputError(msg)
    if not plan.lines:
        msg = "Expected a plan with at least one line to export as GTFS, got none"
        raise ShuttleInputError(msg)

    # Stops: the plan's stop ids, and one stop per distinct workplace.
    lang = agency_lang.split("-")[0].lower()
    work_name = WORKPLACE_NAMES.get(lang, WORKPLACE_NAMES["en"])
    stops: dict[str, tuple[str, float, float]] = {}
    workplace_ids: dict[tuple[float, float], str] = {}
    unnamed = 0
    for line in plan.lines:
        for v in line.stops:
            if v.arrival_s < 0:
                msg = f"Expected times after midnight in GTFS, got {v.arrival_s} s on {line.id}"
                raise ShuttleInputError(msg)
            if v.stop_id not in stops:
                name = v.name_in(lang)
                if not name:
                    unnamed += 1
                    name = f"Stop {unnamed}"
                stops[v.stop_id] = (name, v.lon, v.lat)
        key = _stop_key(*line.workplace)
        if key not in workplace_ids:
            wid = "workplace" if not workplace_ids else f"workplace-{len(workplace_ids) + 1}"
            while wid in stops:
                wid = f"_{wid}"
            workplace_ids[key] = wid
            stops[wid] = (
                work_name if len(workplace_ids) == 1 else f"{work_name} {len(workplace_ids)}",
                line.workplace[0],
                line.workplace[1],
            )

    service_id = "weekdays" if days == GTFS_WEEKDAYS[:5] else "service"
    agency_id = "union-shuttles"
    route_rows, trip_rows, stop_time_rows, shape_rows = [], [], [], []
    for line in plan.lines:
        route_id = line.id
        trip_id = f"{line.id}-{format_hms(line.departure_s).replace(':', '')[:4]}"
        shape_id = f"shape-{line.id}"
        wid = workplace_ids[_stop_key(*line.workplace)]
        ends = [stops[line.stops[0].stop_id][0], stops[wid][0]] if line.stops else [line.id]
        if not line.to_work:
            ends = [stops[wid][0], stops[line.stops[-1].stop_id][0]] if line.stops else ends
        route_rows.append(
            [
                route_id,
                agency_id,
                line.id,
                " - ".join(ends),
                3,
                f"{line.bus_type}, {line.riders} riders",
            ]
        )
        trip_rows.append(
            [
                route_id,
                service_id,
                trip_id,
                ends[-1],
                0 if line.to_work else 1,
                line.vehicle_id,
                shape_id,
            ]
        )
        points = _shape_points(line)
        cum = _cumulative_km(points)
        for k, ((x, y), d) in enumerate(zip(points, cum, strict=True), start=1):
            shape_rows.append([shape_id, round(y, 7), round(x, 7), k, round(d, 4)])
        # (stop id, lon, lat, arrival, departure, pickup_type, drop_off_type) in driving order
        calls = [
            (
                v.stop_id,
                v.lon,
                v.lat,
                v.arrival_s,
                v.departure_s,
                *((0, 1) if line.to_work else (1, 0)),
            )
            for v in line.stops
        ]
        wp_lon, wp_lat = line.workplace
        if line.to_work:
            calls.append((wid, wp_lon, wp_lat, line.arrival_s, line.arrival_s, 1, 0))
        else:
            calls.insert(0, (wid, wp_lon, wp_lat, line.arrival_s, line.departure_s, 0, 1))
        pos = 0
        last_km = 0.0
        for seq, (sid, lon, lat, arr, dep, pick, drop) in enumerate(calls, start=1):
            km, pos = _project_km((lon, lat), points, cum, pos)
            last_km = max(last_km, km)
            if seq == len(calls):
                last_km = max(last_km, cum[-1])
            stop_time_rows.append(
                [
                    trip_id,
                    format_hms(arr),
                    format_hms(dep),
                    sid,
                    seq,
                    pick,
                    drop,
                    round(last_km, 4),
                    1,
                ]
            )

    files: dict[str, bytes] = {
        "agency.txt": _csv_bytes(
            ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"],
            [[agency_id, agency_name, agency_url, agency_timezone, agency_lang]],
        ),
        "stops.txt": _csv_bytes(
            ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type"],
            [
                [sid, name, round(lat, 7), round(lon, 7), 0]
                for sid, (name, lon, lat) in stops.items()
            ],
        ),
        "routes.txt": _csv_bytes(
            [
                "route_id",
                "agency_id",
                "route_short_name",
                "route_long_name",
                "route_type",
                "route_desc",
            ],
            route_rows,
        ),
        "trips.txt": _csv_bytes(
            [
                "route_id",
                "service_id",
                "trip_id",
                "trip_headsign",
                "direction_id",
                "block_id",
                "shape_id",
            ],
            trip_rows,
        ),
        "stop_times.txt": _csv_bytes(
            [
                "trip_id",
                "arrival_time",
                "departure_time",
                "stop_id",
                "stop_sequence",
                "pickup_type",
                "drop_off_type",
                "shape_dist_traveled",
                "timepoint",
            ],
            stop_time_rows,
        ),
        "calendar.txt": _csv_bytes(
            ["service_id", *GTFS_WEEKDAYS, "start_date", "end_date"],
            [
                [
                    service_id,
                    *(int(d in days) for d in GTFS_WEEKDAYS),
                    start.strftime("%Y%m%d"),
                    end.strftime("%Y%m%d"),
                ]
            ],
        ),
        "shapes.txt": _csv_bytes(
            [
                "shape_id",
                "shape_pt_lat",
                "shape_pt_lon",
                "shape_pt_sequence",
                "shape_dist_traveled",
            ],
            shape_rows,
        ),
        "feed_info.txt": _csv_bytes(
            [
                "feed_publisher_name",
                "feed_publisher_url",
                "feed_lang",
                "feed_start_date",
                "feed_end_date",
                "feed_version",
            ],
            [
                [
                    agency_name,
                    agency_url,
                    agency_lang,
                    start.strftime("%Y%m%d"),
                    end.strftime("%Y%m%d"),
                    feed_version or start.isoformat(),
                ]
            ],
        ),
    }
    out = Path(path_zip)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    logger.info("Wrote GTFS feed with %d routes, %d stops to %s", len(route_rows), len(stops), out)
    return out
