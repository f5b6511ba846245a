"""App-wide state: the Area, the station store, the locator and the shuttle plan, loaded once.

:class:`WarmheartState` is built by ``create_app`` and kept in
``app.extensions["warmheart"]``; views read it through ``current_app``. It also turns
domain objects into the JSON shapes the API and the pages share (see ``common`` web
contracts), so both speak the same language.

Concurrency: the production server (waitress) runs requests on several threads. A station
write commits in the store's own transaction; the one locator then catches up from the
store's change log (``changes_since``) before its next query and answers every query from an
immutable snapshot of one revision, so a reader sees either the old or the new registry,
never half of it. The cached station list is patched from the same change log.

Several processes, one registry: with a PostGIS store (``WARMHEART_STORE=postgresql://...``)
every process subscribes to the database's change feed (LISTEN/NOTIFY, see
:mod:`stations._pgfeed`); on each change, and after each reconnect, the feed thread brings
the locator and the station list up to date from the change log, so a write through any
process is answered by all of them without waiting for their next query to do the work.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from ._bodies import station_fields
from ._errors import ConfigError, ParameterError, StationNotFound
from .hours_text import today_and_next
from .schemas import STATION_PROPERTIES

if TYPE_CHECKING:
    from routing.area import Area
    from routing.shuttle import Plan
    from stations.model import Station

__all__ = ["StationNotFound", "WarmheartState", "default_store_path", "get_state"]

logger = logging.getLogger(__name__)

#: The reason of an answer to an origin outside the Area.
OUTSIDE_AREA = "origin outside this map's service area"
#: Cached station Features (per station object and language) before the cache starts afresh.
_FEATURE_CACHE_SIZE = 50_000


def get_state() -> WarmheartState:
    """The app's :class:`WarmheartState` (loaded once by ``create_app``), for views."""
    from flask import current_app

    state: WarmheartState = current_app.extensions["warmheart"]
    return state


def default_store_path(area_name: str) -> Path:
    """``<WARMHEART_HOME>/stations/<area>.gpkg``: where an area's stations live by default."""
    from stations.store import default_store_path as store_path

    return Path(store_path(area_name))


def _kinds_or_any(kinds: Sequence[str]) -> list[str | None]:
    return list(kinds) if kinds else [None]


def _hit_time(hit: Any) -> float:
    return float(hit.time_s)


def _utcnow() -> datetime:
    # A zoneinfo zone, not datetime.UTC: opening-hours-py needs a named time zone.
    return datetime.now(ZoneInfo("UTC")).replace(microsecond=0)


@dataclass(eq=False)
class WarmheartState:
    """What the app serves, loaded once per process.

    Attributes
    ----------
    area
        The :class:`~routing.area.Area` (walk and drive graphs).
    store
        The station store (a :class:`stations.store.StationStore`).
    locator
        The :class:`stations.locate.Locator` over the store on ``area``'s walk graph; it
        follows the store's revision, so writes are seen by the next query.
    plan
        The shuttle :class:`~routing.shuttle.Plan` read from ``WARMHEART_PLAN_DIR``, or
        ``None``.
    """

    area: Area
    store: Any
    locator: Any
    plan: Plan | None = None
    store_path: Path | str | None = None
    plan_dir: Path | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _all_cache: tuple[int, list[Station]] | None = field(default=None, repr=False)
    _feature_cache: dict[tuple[int, str | None], tuple[Station, dict[str, Any]]] = field(
        default_factory=dict, repr=False
    )

    # ------------------------------------------------------------------------- loading

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WarmheartState:
        """Load area, store, locator and plan as the ``WARMHEART_*`` keys say."""
        area = load_area_from_config(config.get("WARMHEART_AREA"))
        store_path = store_target(config.get("WARMHEART_STORE") or default_store_path(area.name))
        store = open_store(store_path)
        plan_dir = config.get("WARMHEART_PLAN_DIR")
        plan = load_plan(Path(plan_dir)) if plan_dir else None
        if plan is not None and plan.area and plan.area != area.name:
            logger.warning(
                "The shuttle plan in %s was made for area %r, not %r",
                plan_dir,
                plan.area,
                area.name,
            )
        state = cls(
            area=area,
            store=store,
            locator=None,
            plan=plan,
            store_path=store_path,
            plan_dir=Path(plan_dir) if plan_dir else None,
        )
        state.locator = state._build_locator()
        state.follow_store()
        if config.get("WARMHEART_PREPARE", True):
            # Build the locator's labels now, so the first visitor does not wait for them.
            started = time.perf_counter()
            state.locator.prepare()
            logger.info("Locator prepared in %.1f s", time.perf_counter() - started)
        logger.info(
            "Serving area %r, %d stations from %s%s",
            area.name,
            len(state.all_stations()),
            store.location,
            f", plan from {plan_dir}" if plan_dir else "",
        )
        return state

    def _build_locator(self) -> Any:
        from stations.locate import Locator

        return Locator(self.area, self.store)

    def follow_store(self) -> None:
        """Subscribe to the store's change feed, where it has one (the PostGIS store).

        Each change (and each reconnect) then refreshes the locator and the cached station
        list on the feed's thread, before any request asks.
        """
        subscribe = getattr(self.store, "subscribe", None)
        if subscribe is not None:
            subscribe(self._on_store_change)

    def _on_store_change(self, revision: int) -> None:
        self.locator.refresh()
        self.all_stations()
        logger.debug("Caught up with store revision %d", revision)

    # ------------------------------------------------------------------------ vocabularies

    @property
    def kinds(self) -> tuple[str, ...]:
        """Valid station kinds."""
        from stations.model import KINDS

        return tuple(KINDS)

    @property
    def amenities(self) -> tuple[str, ...]:
        """Valid amenities."""
        from stations.model import AMENITIES

        return tuple(AMENITIES)

    # ---------------------------------------------------------------------------- stations

    @property
    def revision(self) -> int:
        """The store's revision: changes after every committed write (key caches on it)."""
        return int(self.store.revision)

    def all_stations(self) -> list[Station]:
        """Every station in the store, sorted by id (cached until the next write)."""
        revision = self.revision
        cached = self._all_cache
        if cached is None or cached[0] != revision:
            # Patch the cached list with what changed since (one write costs about that write),
            # or re-read everything when the store cannot say.
            since = getattr(self.store, "changes_since", None)
            changes = since(cached[0]) if since is not None and cached is not None else None
            if changes is None or cached is None:
                cached = (revision, list(self.store.all()))
            else:
                now, changed, removed = changes
                by_id = {s.id: s for s in cached[1]}
                for sid in removed:
                    by_id.pop(sid, None)
                by_id.update((s.id, s) for s in changed)
                cached = (now, [by_id[sid] for sid in sorted(by_id)])
            self._all_cache = cached
        return list(cached[1])

    def query_stations(
        self,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        kinds: Sequence[str] = (),
        amenities: Sequence[str] = (),
        open_at: datetime | None = None,
    ) -> list[Station]:
        """Stations in ``bbox`` of any of ``kinds`` with all ``amenities`` (open at ``open_at``).

        Sorted by id so that paging with ``offset`` is stable.
        """
        from stations.store import matches

        # Filter the per-revision cached list in memory rather than reading and validating
        # every row of the GeoPackage again.
        kind_set = frozenset(kinds) if kinds else None
        amenity_set = frozenset(amenities) if amenities else None
        return [
            s
            for s in self.all_stations()
            if matches(s, bbox=bbox, kinds=kind_set, amenities=amenity_set, open_at=open_at)
        ]

    def get_station(self, station_id: str) -> Station:
        """The station with ``station_id``; raises :class:`StationNotFound`."""
        from stations._errors import StationNotFoundError

        try:
            station: Station = self.store.get(station_id)
        except StationNotFoundError:
            msg = f"Expected an existing station id, got {station_id!r}"
            raise StationNotFound(msg) from None
        return station

    def station_feature(
        self, station: Station, *, lang: str | None = None, at: datetime | None = None
    ) -> dict[str, Any]:
        """The API's GeoJSON Feature of ``station``.

        ``name`` is in ``lang`` where a variant exists; ``open_now`` says whether it is open
        at ``at`` (default: now), ``None`` when its hours are unknown.
        """
        # Everything but ``open_now`` depends only on the (frozen) station and ``lang``:
        # built once per station object, copied per call (nested lists/dicts too, so a
        # caller may edit its feature freely).
        key = (id(station), lang)
        cached = self._feature_cache.get(key)
        if cached is None or cached[0] is not station:
            record = station.to_record()
            record["name"] = station.name_in(lang)
            static = {n: None if n == "open_now" else record[n] for n in STATION_PROPERTIES}
            if len(self._feature_cache) >= _FEATURE_CACHE_SIZE:
                self._feature_cache.clear()  # old revisions' stations: start afresh
            cached = (station, static)
            self._feature_cache[key] = cached
        props = {k: v.copy() if isinstance(v, list | dict) else v for k, v in cached[1].items()}
        try:
            props["open_now"] = station.is_open(at or _utcnow())
        except ValueError:  # pragma: no cover - hours are validated on the way in
            props["open_now"] = None
        return {
            "type": "Feature",
            "id": station.id,
            "geometry": {
                "type": "Point",
                "coordinates": [round(station.lon, 7), round(station.lat, 7)],
            },
            "properties": props,
        }

    # ------------------------------------------------------------------------------ writes

    def create_station(self, body: Mapping[str, Any]) -> Station:
        """Validate ``body`` (a GeoJSON Point Feature or flat record) and add it to the store.

        A missing id is generated (``<kind>-<random hex>``); ``updated_at`` is set to now and
        ``source`` defaults to ``"api"``.
        """
        from stations.model import Station

        record = station_fields(body, partial=False)
        if not record.get("id"):
            kind = str(record.get("kind") or "station")
            record["id"] = f"{kind}-{secrets.token_hex(5)}"
        record.setdefault("source", "api")
        record["updated_at"] = _utcnow()
        station = Station.from_record(record)
        with self._lock:
            if station.id in self.store:
                msg = f"Expected a new station id, got {station.id!r} which already exists"
                raise ParameterError(msg)
            self.store.add(station)
        return station

    def update_station(self, station_id: str, body: Mapping[str, Any]) -> Station:
        """Apply the properties (and geometry) in ``body`` to the stored station."""
        from stations._errors import StationNotFoundError
        from stations.model import Station

        changes = station_fields(body, partial=True)
        if changes.get("id") not in (None, station_id):
            msg = f"Expected the body's id to match the URL ({station_id!r}), got {changes['id']!r}"
            raise ParameterError(msg)
        with self._lock:
            current = self.get_station(station_id)
            record = current.to_record()
            record.update(changes)
            record["id"] = station_id
            record["updated_at"] = _utcnow()
            station = Station.from_record(record)
            try:
                self.store.update(station)
            except StationNotFoundError:  # deleted meanwhile by another process
                msg = f"Expected an existing station id, got {station_id!r}"
                raise StationNotFound(msg) from None
        return station

    def delete_station(self, station_id: str) -> None:
        """Remove a station; raises :class:`StationNotFound` if it does not exist."""
        from stations._errors import StationNotFoundError

        with self._lock:
            self.get_station(station_id)
            try:
                self.store.delete(station_id)
            except StationNotFoundError:
                msg = f"Expected an existing station id, got {station_id!r}"
                raise StationNotFound(msg) from None

    # ---------------------------------------------------------------------- walking queries

    def nearest(
        self,
        lon: float,
        lat: float,
        *,
        k: int,
        kinds: Sequence[str] = (),
        amenities: Sequence[str] = (),
        open_at: datetime | None = None,
        at: datetime | None = None,
        lang: str | None = None,
    ) -> dict[str, Any]:
        """The ``/api/nearest`` answer: the ``k`` stations nearest by walking time.

        ``open_at`` filters to stations open then; ``at`` only says when ``open``,
        ``hours_today`` and ``next_change`` are evaluated (default ``open_at``, else now).
        An origin outside the Area's bounds answers ``reason_code`` ``outside_area``.

        Several kinds are searched one by one and merged by walking time. Each result's
        ``route`` runs from the origin straight to its projection on the nearest street,
        along the streets to the station's projection, and straight to the station (drawn
        end to end). ``origin.snap_distance_m`` is the distance to that street. An empty
        ``results`` comes with the locator's ``reason`` (origin off the map, nothing in reach).
        """
        if not self.in_service_area(lon, lat):
            return {
                "origin": {"lon": lon, "lat": lat, "snap_distance_m": None},
                "results": [],
                "reason": OUTSIDE_AREA,
                "reason_code": "outside_area",
            }
        answers = [
            self.locator.nearest(
                lon, lat, k=k, kind=kind, amenities=list(amenities), open_at=open_at
            )
            for kind in _kinds_or_any(kinds)
        ]
        hits = sorted((hit for answer in answers for hit in answer.hits), key=_hit_time)[:k]
        reasons = list(dict.fromkeys(a.reason for a in answers if a.reason))
        snap_m = answers[0].snap_m
        at = open_at or at or _utcnow()
        results = []
        for hit in hits:
            feature = self.station_feature(hit.station, lang=lang, at=at)
            coords: list[list[float]] = [[round(lon, 7), round(lat, 7)]]
            if hit.geometry is not None:
                # One C call out of shapely and one rounding pass: per-point Python
                # iteration over ``.coords`` cost more than finding the route. 6 decimals
                # (~0.1 m) for the network part; the ends keep the inputs' precision.
                coords.extend(np.round(shapely.get_coordinates(hit.geometry), 6).tolist())
            coords.append(feature["geometry"]["coordinates"])
            results.append(
                {
                    "station": feature,
                    "walk_time_s": round(hit.time_s),
                    "walk_distance_m": round(hit.distance_m),
                    "open": feature["properties"]["open_now"],
                    **today_and_next(hit.station, at),
                    "route": {"type": "LineString", "coordinates": coords},
                }
            )
        off_map = snap_m != snap_m or snap_m > self.area._limit(None)
        code = None if results else ("off_map" if off_map else "no_match")
        return {
            "origin": {
                "lon": lon,
                "lat": lat,
                "snap_distance_m": None if snap_m != snap_m else round(float(snap_m), 1),
            },
            "results": results,
            "reason": None if results else ("; ".join(reasons) or "No station matches"),
            "reason_code": code,
        }

    def in_service_area(self, lon: float, lat: float) -> bool:
        """Whether ``(lon, lat)`` lies in the Area's bounds (plus the snapping distance)."""
        minlon, minlat, maxlon, maxlat = self.area.bounds
        margin = self.area._limit(None) / 111_000.0
        lon_margin = margin / max(0.05, math.cos(math.radians((minlat + maxlat) / 2)))
        return (
            minlon - lon_margin <= lon <= maxlon + lon_margin
            and minlat - margin <= lat <= maxlat + margin
        )

    def isochrone(self, lon: float, lat: float, *, minutes: Sequence[int]) -> dict[str, Any]:
        """The ``/api/isochrone`` FeatureCollection: walkable area per budget in ``minutes``.

        Polygons follow the streets (see :mod:`stations.isochrone`); each Feature carries
        ``minutes`` and ``area_km2``, largest budget first so that smaller ones draw on top.
        """
        from stations.isochrone import isochrones_geojson

        return isochrones_geojson(self.area, lon, lat, minutes=list(minutes))

    def route(
        self, origin: tuple[float, float], destination: tuple[float, float]
    ) -> dict[str, Any]:
        """The ``/api/route`` Feature: the fastest walking path between two points.

        ``length_m``/``time_s`` are door to door (the straight legs to and from the nearest
        streets at walking speed included); the ``network_*`` figures run along the streets
        from projection to projection.
        """
        from routing.paths import shortest_path

        found = shortest_path(self.area, origin, destination, network="walk")
        coords = [[round(origin[0], 7), round(origin[1], 7)]]
        coords.extend([round(x, 7), round(y, 7)] for x, y, *_ in found.geometry.coords)
        coords.append([round(destination[0], 7), round(destination[1], 7)])
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {
                "length_m": round(found.total_length_m, 1),
                "time_s": round(found.total_time_s, 1),
                "network_length_m": round(found.length_m, 1),
                "network_time_s": round(found.time_s, 1),
                "snap_m": [round(v, 1) for v in found.snap_m],
            },
        }

    # ------------------------------------------------------------------------- plan / lines

    def lines(self) -> dict[str, Any]:
        """The plan as a FeatureCollection of lines with ``kpis`` and ``unserved``."""
        return plan_geojson(self.plan)


# ------------------------------------------------------------------------------- loaders


def load_area_from_config(value: Any) -> Area:
    """An :class:`Area` object as is, or an area name / source loaded through the cache."""
    from routing.area import Area

    if isinstance(value, Area):
        return value
    if not isinstance(value, str | Path) or not str(value).strip():
        msg = f"Expected WARMHEART_AREA as an area name, source path or Area, got {value!r}"
        raise ConfigError(msg)
    from routing import load_area

    return load_area(str(value))


def store_target(value: Any) -> Path | str:
    """``WARMHEART_STORE`` as a GeoPackage path, or a ``postgresql://`` URL kept as text."""
    from stations.store import is_database_url

    if is_database_url(value):
        return str(value)
    if not isinstance(value, str | Path) or not str(value).strip():
        msg = f"Expected WARMHEART_STORE as a GeoPackage path or a postgresql:// URL, got {value!r}"
        raise ConfigError(msg)
    return Path(value)


def open_store(target: Path | str) -> Any:
    """Open (creating if absent) the station store: a GeoPackage path or a PostGIS URL."""
    from stations.store import open_store as open_any

    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    return open_any(path=target)


def load_plan(plan_dir: Path) -> Plan:
    """Read a plan directory written by ``routing.shuttle.export.write_plan``."""
    if not plan_dir.is_dir():
        msg = f"Expected WARMHEART_PLAN_DIR to be a plan directory, got {str(plan_dir)!r}"
        raise ConfigError(msg)
    from routing.shuttle.export import read_plan

    return read_plan(plan_dir)


def plan_geojson(plan: Plan | None) -> dict[str, Any]:
    """A :class:`~routing.shuttle.Plan` as the ``/api/lines`` FeatureCollection.

    The line Features are the plan files' own (:mod:`routing.shuttle.geojson`); the answer
    adds the plan's ``kpis``, ``unserved`` riders and ``workplace``.
    """
    if plan is None:
        return {
            "type": "FeatureCollection",
            "features": [],
            "kpis": None,
            "unserved": [],
            "message": "No shuttle plan is loaded (set WARMHEART_PLAN_DIR)",
        }
    from routing.shuttle.geojson import lines_feature_collection

    return {
        **lines_feature_collection(plan),
        "kpis": plan.kpis,
        "unserved": [
            {
                "rider_id": u.rider_id,
                "direction": u.direction,
                "reason": u.reason,
                "message": u.message,
            }
            for u in plan.unserved
        ],
        "workplace": list(plan.workplace),
    }
