"""The planner page's content: the plan on the map, its tables, the comparison, downloads.

The page (``/planner``, views in :mod:`webmap.pages`) shows either the server's loaded plan or
the result of a planning job (``/planner?job=<id>``, see :mod:`webmap.jobs`): every trip on the
map (to work solid, home dashed, each line its colour), stops sized by riders, the workplace,
riders not served as squares coloured by reason (at a rounded position: the page shows where,
not which door), the lines running today (thin grey) when the job compared against them, and a
legend for every symbol. Popups and labels are built here, HTML-escaped, in the page language.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from routing.shuttle.model import UNSERVED_REASONS

from . import maps

if TYPE_CHECKING:
    import folium

    from routing.shuttle import Comparison, Plan

    from .i18n import Translator
    from .maps import TileConfig

__all__ = [
    "DOWNLOADS",
    "REASON_COLOURS",
    "download",
    "plan_tables",
    "planner_map",
]

#: Download formats of a plan: format -> (file suffix, media type).
DOWNLOADS = {
    "csv": (".csv", "text/csv"),
    "geojson": (".geojson", "application/geo+json"),
    "gtfs": (".zip", "application/zip"),
    "html": (".html", "text/html"),
}

#: Colour of each unserved reason's squares (and its legend entry).
REASON_COLOURS = dict(
    zip(
        UNSERVED_REASONS,
        (
            "#2b8a3e",  # walks_to_work
            "#868e96",  # off_map
            "#e8590c",  # too_far_to_walk
            "#c2255c",  # unreachable
            "#5f3dc4",  # ride_limit_shorter_than_direct_drive
            "#1971c2",  # deadline_too_early
            "#f08c00",  # fleet_too_small
            "#e03131",  # no_feasible_line
            "#495057",  # over_cap
        ),
        strict=True,
    )
)

#: Rider homes shown on the map are rounded to this many decimal degrees (~100 m).
HOME_DECIMALS = 3


def _hms(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def _table(rows: Sequence[tuple[str, Any]]) -> str:
    return "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)


def _stop_popup(
    t: Translator, line: Any, colour: str, visit: Any, seats: int | None, lang: str
) -> str:
    load = f"{visit.load_after}" + (f" / {seats}" if seats else "")
    rows = [
        (t("line"), line.id),
        (t("arrival"), _hms(visit.arrival_s)),
        (t("departure"), _hms(visit.departure_s)),
        (t("boarding") if line.to_work else t("alighting"), visit.boarding),
        (t("load"), load),
    ]
    name = visit.name_in(lang) or visit.stop_id
    return (
        f'<div class="wh-popup"><strong style="color:{colour}">{escape(name)}</strong>'
        f"<table>{_table(rows)}</table></div>"
    )


def _line_popup(t: Translator, line: Any, colour: str, seats: int | None, lang: str) -> str:
    rows = [
        (t("direction"), t(f"direction.{line.direction}")),
        (t("bus"), line.vehicle_id or "–"),
        (t("bus_type"), line.bus_type + (f" ({seats})" if seats else "")),
        (t("riders"), line.riders),
        (t("stops"), len(line.stops)),
        (t("distance"), t("km_total", km=f"{line.distance_m / 1000:.1f}")),
        (t("departure"), _hms(line.departure_s)),
        (t("arrives_work") if line.to_work else t("last_stop"), _hms(line.end_s)),
    ]
    sign = "+" if line.to_work else "−"
    timetable = "".join(
        f"<li>{escape(_hms(v.departure_s))} {escape(v.name_in(lang) or v.stop_id)} "
        f"({sign}{escape(v.boarding)})</li>"
        for v in line.stops
    )
    return (
        f'<div class="wh-popup"><strong style="color:{colour}">{escape(t("line"))} '
        f"{escape(line.id)}</strong><table>{_table(rows)}</table>"
        f"<p>{escape(t('timetable'))}</p><ol>{timetable}</ol></div>"
    )


def _point(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
        "properties": props,
    }


def lines_collection(
    plan: Plan, *, t: Translator, lang: str, before: Plan | None = None
) -> dict[str, Any]:
    """The plan as GeoJSON with escaped popups and tooltips: trips, stops, workplace,
    unserved riders (rounded homes) and, with ``before``, the lines running today."""
    from routing.shuttle.geojson import line_coordinates

    seats = {bus.name: bus.seats for bus in plan.fleet} if plan.fleet is not None else {}
    features: list[dict[str, Any]] = []
    if before is not None:
        for line in before.lines:
            coords, _ = line_coordinates(line)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        "role": "before",
                        "tooltip": str(escape(f"{t('before')}: {t('line')} {line.id}")),
                        "popup": _line_popup(t, line, "#495057", seats.get(line.bus_type), lang),
                    },
                }
            )
    for i, line in enumerate(plan.lines):
        colour = maps.line_colour(i)
        bus_seats = seats.get(line.bus_type)
        coords, _ = line_coordinates(line)
        way = t(f"direction.{line.direction}")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "role": "line",
                    "line_id": line.id,
                    "direction": line.direction,
                    "colour": colour,
                    "popup": _line_popup(t, line, colour, bus_seats, lang),
                    "tooltip": str(escape(f"{t('line')} {line.id} · {way} · {line.riders}")),
                },
            }
        )
        for visit in line.stops:
            name = visit.name_in(lang) or visit.stop_id
            features.append(
                _point(
                    visit.lon,
                    visit.lat,
                    {
                        "role": "stop",
                        "colour": colour,
                        "boarding": visit.boarding,
                        "popup": _stop_popup(t, line, colour, visit, bus_seats, lang),
                        "tooltip": str(escape(f"{name} · {_hms(visit.departure_s)}")),
                    },
                )
            )
    homes = {r.id: (r.lon, r.lat) for r in plan.riders}
    seen: set[str] = set()
    for u in plan.unserved:
        if u.rider_id in seen or u.rider_id not in homes:
            continue
        seen.add(u.rider_id)
        lon, lat = homes[u.rider_id]
        if not (abs(lon) <= 180 and abs(lat) <= 90):
            continue
        label = t(f"unserved_reason.{u.reason}")
        features.append(
            _point(
                round(lon, HOME_DECIMALS),
                round(lat, HOME_DECIMALS),
                {
                    "role": "unserved",
                    "reason": u.reason,
                    "colour": REASON_COLOURS[u.reason],
                    "tooltip": str(escape(f"{u.rider_id} · {label}")),
                    "popup": (
                        f'<div class="wh-popup"><strong>{escape(u.rider_id)}</strong>'
                        f"<p>{escape(label)}</p><p><small>{escape(u.message)}</small></p></div>"
                    ),
                },
            )
        )
    features.append(
        _point(
            plan.workplace[0],
            plan.workplace[1],
            {
                "role": "workplace",
                "colour": "#212529",
                "popup": f'<div class="wh-popup"><strong>{escape(t("workplace"))}</strong></div>',
                "tooltip": str(escape(t("workplace"))),
            },
        )
    )
    return {"type": "FeatureCollection", "features": features}


def legend(t: Translator, plan: Plan | None, *, before: bool) -> list[dict[str, str]]:
    """Every symbol the map shows, with its label in the page language."""
    items = [
        {"symbol": "line", "label": t("legend.to_work")},
        {"symbol": "line-home", "label": t("legend.from_work")},
        {"symbol": "stop", "label": t("legend.stop")},
        {"symbol": "workplace", "label": t("workplace")},
    ]
    if before:
        items.append({"symbol": "before", "label": t("legend.before")})
    reasons = sorted({u.reason for u in plan.unserved}) if plan is not None and plan.riders else []
    for r in reasons:
        items.append(
            {"symbol": "unserved", "colour": REASON_COLOURS[r], "label": t(f"unserved_reason.{r}")}
        )
    return items


def planner_map(
    plan: Plan | None,
    *,
    t: Translator,
    lang: str,
    tiles: TileConfig | None,
    fallback_bounds: Sequence[float] | None = None,
    basemap: Any = None,
    before: Plan | None = None,
    workplace_pick: bool = False,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
) -> folium.Map:
    """The planner map (see the module docstring); fits the plan, else ``fallback_bounds``,
    unless ``center`` / ``zoom`` are given (embeds)."""
    found = maps.plan_bounds(plan) if plan is not None else None
    if found is not None:
        bounds: tuple[float, ...] = found
    elif fallback_bounds is not None:
        bounds = tuple(fallback_bounds)
    else:
        bounds = (-180.0, -60.0, 180.0, 75.0)
    fit = center is None and zoom is None
    if center is None:
        center = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    m = maps.base_map(center=center, zoom=zoom or maps.zoom_for_bounds(bounds), tiles=tiles)
    collection = (
        lines_collection(plan, t=t, lang=lang, before=before)
        if plan is not None
        else {"type": "FeatureCollection", "features": []}
    )
    payload = {
        "lines": collection,
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]] if fit else None,
        "datum": tiles.datum if tiles else "wgs84",
        "basemap": basemap,
        "pick": workplace_pick,
    }
    maps.WarmheartScript("planner", payload, cluster=False).add_to(m)
    return m


def _format_number(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return None


_PERCENT_KPIS = ("share_served", "seat_utilisation", "max_load_factor")


def format_kpi(key: str, value: Any) -> str | None:
    """One KPI as text; ``None`` hides it (shown elsewhere, or not a figure)."""
    if key in ("unserved_by_reason", "by_direction", "lines"):
        # the unserved table says it in words; directions have their own table; lines = trips
        return None
    if key in _PERCENT_KPIS and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{100 * value:.1f} %"
    if isinstance(value, Mapping):
        if {"mean", "max"} <= set(value):
            parts = [_format_number(value.get(k)) for k in ("mean", "p95", "max") if k in value]
            return " / ".join(p if p is not None else "–" for p in parts)
        items = [(str(k), _format_number(v)) for k, v in value.items()]
        return ", ".join(f"{k} {v}" for k, v in items if v is not None) or None
    if isinstance(value, str):
        return value
    return _format_number(value)


def metric_label(t: Translator, metric: str) -> str:
    """A row name of :func:`routing.shuttle.compare_plans` in the page language."""
    for prefix, key in (("buses ", "metric.buses_of"), ("unserved ", None)):
        rest = metric.removeprefix(prefix)
        if rest != metric and metric not in ("buses",):
            if key is None:
                return t(f"unserved_reason.{rest}")
            return t(key, bus_type=rest)
    slug = "".join(c if c.isalnum() else "_" for c in metric).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    return t(f"metric.{slug}")


def plan_tables(
    plan: Plan, *, t: Translator, lang: str, listed: int, comparison: Comparison | None = None
) -> dict[str, Any]:
    """The side panel's tables: KPIs, directions, buses' days, trips, unserved, comparison."""
    seats = {bus.name: bus.seats for bus in plan.fleet} if plan.fleet is not None else {}
    kpis = []
    for key, value in (plan.kpis or {}).items():
        text = format_kpi(key, value)
        if text is not None:
            kpis.append((t(f"kpi.{key}"), text))
    directions = [
        {
            "label": t(f"direction.{d}"),
            "trips": part.get("trips"),
            "served": part.get("riders_served"),
            "riders": part.get("riders"),
            "ride": format_kpi("ride_min", part.get("ride_min") or {}),
        }
        for d, part in (plan.kpis or {}).get("by_direction", {}).items()
    ]
    index = {ln.id: i for i, ln in enumerate(plan.lines)}
    lines = [
        {
            "id": line.id,
            "colour": maps.line_colour(i),
            "direction": t(f"direction.{line.direction}"),
            "vehicle": line.vehicle_id,
            "bus_type": line.bus_type,
            "riders": line.riders,
            "seats": seats.get(line.bus_type),
            "stops": len(line.stops),
            "km": f"{line.distance_m / 1000:.1f}",
            "departure": _hms(line.departure_s),
            "arrival": _hms(line.end_s),
        }
        for i, line in enumerate(plan.lines)
    ]
    by_id = {ln.id: ln for ln in plan.lines}
    vehicles = [
        {
            "id": v.id,
            "bus_type": v.bus_type,
            "trips": [
                {
                    "id": lid,
                    "colour": maps.line_colour(index[lid]),
                    "from": _hms(by_id[lid].start_s),
                    "to": _hms(by_id[lid].end_s),
                    "way": t(f"direction.{by_id[lid].direction}"),
                }
                for lid in v.line_ids
            ],
            "empty_km": f"{sum(v.deadhead_m) / 1000:.1f}",
        }
        for v in plan.vehicles
    ]
    by_reason = sorted(plan.unserved_by_reason().items(), key=lambda kv: -kv[1])
    out: dict[str, Any] = {
        "kpis": kpis,
        "directions": directions,
        "lines": lines,
        "vehicles": vehicles,
        "unserved_total": len(plan.unserved),
        "unserved_reasons": [
            (r, t(f"unserved_reason.{r}"), n, REASON_COLOURS[r]) for r, n in by_reason
        ],
        "unserved": [
            {
                "rider_id": u.rider_id,
                "direction": t(f"direction.{u.direction}"),
                "label": t(f"unserved_reason.{u.reason}"),
                "message": u.message,
            }
            for u in plan.unserved[:listed]
        ],
        "unserved_more": max(0, len(plan.unserved) - listed),
    }
    if comparison is not None:
        out["comparison"] = [
            {
                "metric": metric_label(t, m),
                "before": _format_number(b) if b is not None else "–",
                "after": _format_number(a) if a is not None else "–",
                "delta": (("+" if d > 0 else "") + (_format_number(d) or "")) if d else "",
            }
            for m, b, a, d in comparison.rows
        ]
        out["changes"] = [c.to_dict() for c in comparison.changes[:listed]]
        out["changes_more"] = max(0, len(comparison.changes) - listed)
    return out


def download(plan: Plan, fmt: str, *, lang: str) -> tuple[bytes, str]:
    """A plan as a downloadable file: ``(content, media type)`` for ``csv`` (every call of
    every trip, one row each, for Excel), ``geojson`` (the trips as LineStrings) or ``gtfs``
    (a zip)."""
    from routing.shuttle.export import _timetable_rows
    from routing.shuttle.geojson import lines_feature_collection
    from routing.shuttle.gtfs import write_gtfs

    if fmt == "csv":
        from routing.shuttle.export import TIMETABLE_COLUMNS
        from routing.tables import write_table

        # For Excel/WPS: a byte-order mark, CRLF, and stop names that start like a formula
        # guarded (the names come from OSM).
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "timetable.csv"
            write_table(path, TIMETABLE_COLUMNS, _timetable_rows(plan), excel=True)
            return path.read_bytes(), DOWNLOADS["csv"][1]
    if fmt == "geojson":
        data = json.dumps(lines_feature_collection(plan), ensure_ascii=False).encode("utf-8")
        return data, DOWNLOADS["geojson"][1]
    if fmt == "gtfs":
        with tempfile.TemporaryDirectory() as tmp:
            path = write_gtfs(plan, Path(tmp) / "feed.zip", agency_lang=lang)
            return path.read_bytes(), DOWNLOADS["gtfs"][1]
    msg = f"Expected a download format among {list(DOWNLOADS)}, got {fmt!r}"
    raise ValueError(msg)
