"""Coverage of demand by stations on foot: shares per budget, times, incremental updates.

How much of an Area lies within T minutes' walk of a station? The answer is exact on the
street (see :mod:`stations._walkmodel`):

1. Stations are located on their nearest walk street (``Area.locate``); stations farther
   than the Area's ``snap_max_distance`` are left out (reported in ``off_map``).
2. One multi-source Dijkstra on the reversed walk graph, seeded at both ends of every
   station's street with its straight leg plus the partial edge, bounded by the largest
   budget, gives every node's walk to its nearest station — several budgets in one pass.
3. Streets are covered piece by piece, cut exactly where each budget ends; demand points
   (homes, hotspots, user points) walk their straight leg to their street, then along it.

:class:`CoverageModel` keeps the search's times, so :meth:`~CoverageModel.add` and
:meth:`~CoverageModel.remove` update coverage without a full recompute: an added station
is one search that only visits the nodes it brings closer; a removed one resets the nodes
it served and repairs them from their border. Only the streets and points whose times
changed are re-evaluated.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from routing.edges import _ranges

from ._demand import DemandPoints, demand_layer
from ._errors import StationValueError
from ._reach import relax_from
from ._walkmodel import (
    BreakPoints,
    break_points,
    covered_fraction,
    points_along,
    station_seeds,
    street_pieces,
    times_at,
    walk_model,
)
from .locate import StationOffMapWarning

if TYPE_CHECKING:
    from datetime import datetime

    from numpy.typing import NDArray

    from routing.area import Area

    from .model import Station

__all__ = [
    "MAX_COVERAGE_MINUTES",
    "CoverageModel",
    "CoverageResult",
    "LayerCoverage",
    "StationOffMapWarning",
    "check_minutes",
    "coverage",
    "select_stations",
]

logger = logging.getLogger(__name__)

#: Largest walking budget (minutes) of a coverage.
MAX_COVERAGE_MINUTES = 240.0


def check_minutes(minutes: Iterable[float] | float) -> tuple[float, ...]:
    """Budgets in minutes, sorted and unique; each in ``(0, 240]``."""
    values: list[Any] = [minutes] if isinstance(minutes, int | float) else list(minutes)
    if not values:
        msg = "Expected at least one walking budget in minutes, got none"
        raise StationValueError(msg, field="minutes")
    out = set()
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and 0 < number <= MAX_COVERAGE_MINUTES):
            msg = f"Expected each budget in minutes in (0, {MAX_COVERAGE_MINUTES:g}], got {value!r}"
            raise StationValueError(msg, field="minutes")
        out.add(number)
    return tuple(sorted(out))


def select_stations(
    stations: Iterable[Station],
    *,
    kind: str | Sequence[str] | None = None,
    at: datetime | None = None,
    assume_open_unknown: bool = False,
) -> list[Station]:
    """The stations of ``kind`` (any of several) open at ``at`` (all when ``None``).

    Stations whose hours are unknown count as closed at a given time unless
    ``assume_open_unknown`` (the locator's rule: an unknown is never promised as open).
    """
    from .model import KINDS

    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    for k in kinds:
        if k not in KINDS:
            msg = f"Expected kind to be one of {', '.join(KINDS)}, got {k!r}"
            raise StationValueError(msg, field="kind")
    out = []
    for station in stations:
        if kinds and station.kind not in kinds:
            continue
        if at is not None:
            state = station.is_open(at)
            if state is None and not assume_open_unknown:
                continue
            if state is False:
                continue
        out.append(station)
    return out


@dataclass(frozen=True)
class LayerCoverage:
    """Coverage of one demand layer.

    Attributes
    ----------
    layer, unit
        Layer name and what its amounts count (``m`` of street, ``m² floor area``, ...).
    total
        All of the layer's demand.
    off_map
        Demand farther from every footpath than the snap limit (never covered).
    covered
        Demand within each budget, in the order of :attr:`CoverageResult.minutes`.
    """

    layer: str
    unit: str
    total: float
    off_map: float
    covered: tuple[float, ...]

    @property
    def share(self) -> tuple[float, ...]:
        """Covered / total per budget (0 for an empty layer)."""
        return tuple(c / self.total if self.total > 0 else 0.0 for c in self.covered)

    def to_dict(self, minutes: Sequence[float]) -> dict[str, Any]:
        """JSON form: totals and ``{minutes, covered, share}`` per budget."""
        return {
            "layer": self.layer,
            "unit": self.unit,
            "total": round(self.total, 3),
            "off_map": round(self.off_map, 3),
            "budgets": [
                {"minutes": _number(m), "covered": round(c, 3), "share": round(s, 6)}
                for m, c, s in zip(minutes, self.covered, self.share, strict=True)
            ],
        }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


@dataclass(eq=False)
class _PointLayer:
    demand: DemandPoints
    street: NDArray[np.int64]  # -1 off the map
    frac: NDArray[np.float64]
    leg: NDArray[np.float64]
    time: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    owner: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    district: NDArray[np.int64] | None = None

    @property
    def ok(self) -> NDArray[np.bool_]:
        return self.street >= 0


class CoverageModel:
    """Coverage of demand layers by a set of stations, kept up to date under changes.

    Parameters
    ----------
    area
        The Area whose walk graph is walked.
    stations
        The stations that cover (already filtered by kind / opening hours).
    minutes
        Walking budgets (each in ``(0, 240]``); all are evaluated in one search.
    demand
        Layers: ``"streets"``, ``"homes"``, ``"hotspots"``, a CSV / GeoJSON path of weighted
        points, or :class:`~stations._demand.DemandPoints`.
    districts
        Optional polygons (GeoDataFrame in any CRS, or a GeoJSON / GeoPackage path) with a
        ``name`` column: coverage per district as well.
    horizon_minutes
        Search this far (default: the largest budget) so that times up to it are known
        (the gap map and p-median need walks beyond the budgets).
    """

    def __init__(
        self,
        area: Area,
        stations: Iterable[Station],
        *,
        minutes: Iterable[float] | float = (5, 10, 15),
        demand: Iterable[str | Path | DemandPoints] | str = ("streets",),
        districts: Any = None,
        horizon_minutes: float | None = None,
    ) -> None:
        self.area = area
        self.model = walk_model(area)
        self.minutes = check_minutes(minutes)
        horizon = max(self.minutes) if horizon_minutes is None else float(horizon_minutes)
        if not (math.isfinite(horizon) and horizon >= max(self.minutes)):
            msg = f"Expected horizon_minutes >= the largest budget, got {horizon_minutes!r}"
            raise StationValueError(msg, field="horizon_minutes")
        self.limit_s = horizon * 60.0
        specs = [demand] if isinstance(demand, str | Path | DemandPoints) else list(demand)
        if not specs:
            msg = "Expected at least one demand layer, got none"
            raise StationValueError(msg, field="demand")
        resolved = [demand_layer(area, spec) for spec in specs]
        self.streets = "streets" in resolved
        self._district_names: list[str] = []
        street_district = self._districts(districts)
        self._street_district = street_district
        self.points = [self._locate_points(d) for d in resolved if isinstance(d, DemandPoints)]
        self.stations: list[Station] = []
        self._slot: dict[str, int] = {}
        n_max = 0
        self._st_street = np.empty(n_max, dtype=np.int64)
        self._st_frac = np.empty(n_max)
        self._st_leg = np.empty(n_max)
        self._active = np.empty(n_max, dtype=bool)
        self.off_map: list[str] = []
        self.dist = np.full(self.model.n, np.inf)
        self.owner = np.full(self.model.n, -1, dtype=np.int64)
        self._street_cov = np.zeros((len(self.minutes), self.model.m))
        self._add_slots(list(stations))
        self.recompute()

    # ------------------------------------------------------------------------ inputs

    def _districts(self, districts: Any) -> NDArray[np.int64] | None:
        if districts is None:
            return None
        from ._gaps import read_districts

        frame = read_districts(districts)
        self._district_names = [str(n) for n in frame["name"]]
        self._district_frame = frame.to_crs(self.area.crs)
        mid_x, mid_y = points_along(
            self.model.table, self.model.streets, np.full(self.model.m, 0.5)
        )
        return self._district_of(mid_x, mid_y)

    def _district_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        import shapely

        tree = shapely.STRtree(self._district_frame.geometry.to_numpy())
        out = np.full(x.size, -1, dtype=np.int64)
        if x.size:
            pts, polys = tree.query(shapely.points(x, y), predicate="within")
            out[pts] = polys  # a point in overlapping districts counts in the last one
        return out

    def _locate_points(self, demand: DemandPoints) -> _PointLayer:
        if len(demand) == 0:
            empty = np.empty(0, dtype=np.int64)
            return _PointLayer(demand, empty, np.empty(0), np.empty(0), district=empty)
        located = self.area.locate(demand.lon, demand.lat, network="walk")
        street = np.where(located.ok, self.model.street_of[np.maximum(located.edge, 0)], -1)
        layer = _PointLayer(
            demand,
            street.astype(np.int64),
            np.where(located.ok, located.frac, 0.0),
            np.where(located.ok, located.distance / self.model.speed, np.inf),
        )
        if self._street_district is not None:
            x, y = self.area.project(demand.lon, demand.lat)
            layer.district = self._district_of(x, y)
        return layer

    def _add_slots(self, stations: list[Station]) -> NDArray[np.int64]:
        fresh = []
        for station in stations:
            if station.id in self._slot:
                msg = f"Expected each station once, got {station.id!r} twice"
                raise StationValueError(msg, field="id")
            self._slot[station.id] = len(self.stations)
            self.stations.append(station)
            fresh.append(station)
        k = len(fresh)
        street = np.full(k, -1, dtype=np.int64)
        frac = np.zeros(k)
        leg = np.full(k, np.inf)
        if k:
            located = self.area.locate(
                [s.lon for s in fresh], [s.lat for s in fresh], network="walk"
            )
            ok = located.ok
            street = np.where(ok, self.model.street_of[np.maximum(located.edge, 0)], -1)
            frac = np.where(ok, located.frac, 0.0)
            leg = np.where(ok, located.distance / self.model.speed, np.inf)
            far = [s.id for s, good in zip(fresh, ok, strict=True) if not good]
            if far:
                self.off_map.extend(far)
                warnings.warn(
                    f"{len(far)} station(s) lie farther from every footpath than the snap "
                    f"limit and are left out: {', '.join(far[:5])}"
                    + (" ..." if len(far) > 5 else ""),
                    StationOffMapWarning,
                    stacklevel=3,
                )
        self._st_street = np.concatenate([self._st_street, street.astype(np.int64)])
        self._st_frac = np.concatenate([self._st_frac, frac])
        self._st_leg = np.concatenate([self._st_leg, leg])
        self._active = np.concatenate([self._active, street >= 0])
        return np.arange(len(self.stations) - k, len(self.stations), dtype=np.int64)

    # ------------------------------------------------------------------------ searches

    def _seeds(
        self, slots: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        from routing.edges import EdgePoints

        slots = slots[self._active[slots]]
        edge = self.model.streets[self._st_street[slots]]
        nan = np.full(slots.size, np.nan)
        points = EdgePoints(
            edge=edge,
            offset_m=nan,
            frac=self._st_frac[slots],
            x=nan,
            y=nan,
            lon=nan,
            lat=nan,
            distance=nan,
            ok=np.ones(slots.size, dtype=bool),
        )
        return station_seeds(self.model, points, self._st_leg[slots], slots)

    def _relax(
        self, seeds: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]
    ) -> NDArray[np.int64]:
        m = self.model
        node, time, owner = seeds
        return relax_from(
            m.rev_indptr, m.rev_indices, m.rev_data, self.dist, self.owner, node, time, owner,
            self.limit_s,
        )  # fmt: skip

    def _break_points(self) -> BreakPoints:
        live = np.flatnonzero(self._active)
        return break_points(
            self.model,
            self._st_street[live],
            self._st_frac[live],
            self._st_leg[live],
            live.astype(np.int64),
            self.dist,
            self.owner,
        )

    def recompute(self) -> None:
        """Search from every active station afresh and evaluate all demand."""
        self.dist.fill(np.inf)
        self.owner.fill(-1)
        self._relax(self._seeds(np.arange(len(self.stations), dtype=np.int64)))
        self._bp = self._break_points()
        self._evaluate(None)

    def _evaluate(self, streets: NDArray[np.int64] | None) -> None:
        """Re-evaluate ``streets`` (default all) and the demand points on them."""
        m = self.model
        if self.streets:
            subset = np.arange(m.m, dtype=np.int64) if streets is None else streets
            pieces = street_pieces(m, self._bp, self.dist, subset)
            pos = np.searchsorted(subset, pieces.street)
            for b, minute in enumerate(self.minutes):
                back, ahead = covered_fraction(m, pieces, minute * 60.0)
                metres = (back + ahead) * m.length[pieces.street]
                self._street_cov[b, subset] = np.bincount(pos, metres, minlength=subset.size)
        for layer in self.points:
            if streets is None:
                which = np.flatnonzero(layer.ok)
                layer.time = np.full(len(layer.demand), np.inf)
                layer.owner = np.full(len(layer.demand), -1, dtype=np.int64)
            else:
                which = np.flatnonzero(layer.ok & np.isin(layer.street, streets))
            t, who = times_at(
                m, self._bp, self.dist, self.owner, layer.street[which], layer.frac[which]
            )
            layer.time[which] = t + layer.leg[which]
            layer.owner[which] = who

    def _affected(self, changed: NDArray[np.int64], extra: NDArray[np.int64]) -> NDArray[np.int64]:
        m = self.model
        mask = np.zeros(m.n, dtype=bool)
        mask[changed] = True
        hit = np.flatnonzero(mask[m.u] | mask[m.v])
        return np.union1d(hit, extra[extra >= 0]).astype(np.int64)

    # ------------------------------------------------------------------------ updates

    def add(self, station: Station) -> None:
        """Add a station (or bring a removed one back); one search from it alone."""
        slot_of = self._slot.get(station.id)
        if slot_of is not None:
            if self._active[slot_of] or self.stations[slot_of] != station:
                msg = f"Expected a new station id, got {station.id!r} which is already used"
                raise StationValueError(msg, field="id")
            if self._st_street[slot_of] < 0:
                return  # off the map: it never covers
            self._active[slot_of] = True
            slot = np.array([slot_of], dtype=np.int64)
        else:
            slot = self._add_slots([station])
        changed = self._relax(self._seeds(slot))
        self._bp = self._break_points()
        self._evaluate(self._affected(changed, self._st_street[slot]))

    def use(self, ids: Iterable[str]) -> None:
        """Make exactly the stations ``ids`` (all known to the model) the covering ones.

        Small changes go through :meth:`add` / :meth:`remove`; when more than a quarter of
        the stations change, one search afresh is cheaper.
        """
        wanted = np.zeros(len(self.stations), dtype=bool)
        for sid in ids:
            slot = self._slot.get(sid)
            if slot is None:
                msg = f"Expected a station id known to the coverage, got {sid!r}"
                raise StationValueError(msg, field="id")
            wanted[slot] = True
        wanted &= self._st_street >= 0
        diff = np.flatnonzero(wanted != self._active)
        if diff.size == 0:
            return
        if diff.size > max(1, len(self.stations) // 4):
            self._active = wanted
            self.recompute()
            return
        for slot in diff.tolist():
            if wanted[slot]:
                self.add(self.stations[slot])
            else:
                self.remove(self.stations[slot].id)

    def remove(self, station_id: str) -> None:
        """Remove a station; the nodes it served are repaired from their border."""
        slot = self._slot.get(station_id)
        if slot is None or not self._active[slot]:
            msg = f"Expected an id of a covering station, got {station_id!r}"
            raise StationValueError(msg, field="id")
        self._active[slot] = False
        m = self.model
        region = np.flatnonzero(self.owner == slot)
        inside = np.zeros(m.n, dtype=bool)
        inside[region] = True
        # border: each region node x, through its edges x -> y to nodes y outside the region
        starts, stops = m.fwd_indptr[region], m.fwd_indptr[region + 1]
        counts = stops - starts
        x = np.repeat(region, counts)
        k = _ranges(starts, counts)
        y = m.fwd_indices[k]
        out = ~inside[y] & np.isfinite(self.dist[y])
        border = (x[out], m.fwd_data[k][out] + self.dist[y[out]], self.owner[y[out]])
        self.dist[region] = np.inf
        self.owner[region] = -1
        node, time, who = self._seeds(np.arange(len(self.stations), dtype=np.int64))
        near = inside[node]
        seeds = (
            np.concatenate([border[0], node[near]]).astype(np.int64),
            np.concatenate([border[1], time[near]]),
            np.concatenate([border[2], who[near]]).astype(np.int64),
        )
        self._relax(seeds)
        self._bp = self._break_points()
        self._evaluate(self._affected(region, self._st_street[[slot]]))

    # ------------------------------------------------------------------------ results

    def result(self, **meta: Any) -> CoverageResult:
        """The coverage now, per layer and budget (and per district when given)."""
        layers: dict[str, LayerCoverage] = {}
        if self.streets:
            layers["streets"] = LayerCoverage(
                "streets",
                "m",
                float(self.model.length.sum()),
                0.0,
                tuple(float(v) for v in self._street_cov.sum(axis=1)),
            )
        for layer in self.points:
            w = layer.demand.weight
            layers[layer.demand.name] = LayerCoverage(
                layer.demand.name,
                layer.demand.unit,
                float(w.sum()),
                float(w[~layer.ok].sum()),
                tuple(float(w[layer.time <= m * 60.0].sum()) for m in self.minutes),
            )
        active = int(self._active.sum())
        return CoverageResult(
            minutes=self.minutes,
            layers=layers,
            stations=active,
            off_map=list(self.off_map),
            by_district=self._by_district(),
            meta=dict(meta),
            _model=self,
        )

    def _by_district(self) -> list[dict[str, Any]]:
        if self._street_district is None:
            return []
        k = len(self._district_names)
        rows: dict[int, dict[str, Any]] = {
            i: {"district": name, "layers": {}} for i, name in enumerate(self._district_names)
        }
        if self.streets:
            d = self._street_district
            ok = d >= 0
            total = np.bincount(d[ok], self.model.length[ok], minlength=k)
            cov = [np.bincount(d[ok], row[ok], minlength=k) for row in self._street_cov]
            for i in range(k):
                rows[i]["layers"]["streets"] = _district_layer(
                    total[i], [c[i] for c in cov], self.minutes
                )
        for layer in self.points:
            d = layer.district if layer.district is not None else np.empty(0, dtype=np.int64)
            ok = d >= 0
            w = layer.demand.weight
            total = np.bincount(d[ok], w[ok], minlength=k)
            cov = [
                np.bincount(d[ok], np.where(layer.time[ok] <= m * 60.0, w[ok], 0.0), minlength=k)
                for m in self.minutes
            ]
            for i in range(k):
                rows[i]["layers"][layer.demand.name] = _district_layer(
                    total[i], [c[i] for c in cov], self.minutes
                )
        return [rows[i] for i in range(k)]


def _district_layer(total: float, covered: list[float], minutes: Sequence[float]) -> dict[str, Any]:
    return {
        "total": round(float(total), 3),
        "budgets": [
            {
                "minutes": _number(m),
                "covered": round(float(c), 3),
                "share": round(float(c) / float(total), 6) if total > 0 else 0.0,
            }
            for m, c in zip(minutes, covered, strict=True)
        ],
    }


@dataclass(eq=False)
class CoverageResult:
    """Coverage of each demand layer within each budget (see :class:`CoverageModel`).

    Attributes
    ----------
    minutes
        The budgets, ascending.
    layers
        Layer name -> :class:`LayerCoverage`.
    stations
        Stations that cover (on the map, after filters).
    off_map
        Ids of stations left out for lying off the map.
    by_district
        Per district (when districts were given): ``{"district", "layers": {name: ...}}``.
    meta
        What was asked (kind, time, ...), echoed in :meth:`to_dict`.
    """

    minutes: tuple[float, ...]
    layers: dict[str, LayerCoverage]
    stations: int
    off_map: list[str]
    by_district: list[dict[str, Any]]
    meta: dict[str, Any]
    _model: CoverageModel = field(repr=False)

    def share(self, layer: str, minutes: float) -> float:
        """Covered share of ``layer`` within ``minutes`` (one of the budgets)."""
        return self.layers[layer].share[self.minutes.index(float(minutes))]

    def point_times(self, layer: str) -> tuple[list[str], NDArray[np.float64], list[str | None]]:
        """``(ids, seconds, nearest station id)`` of every point of a point layer.

        Seconds are ``inf`` (station ``None``) beyond the search horizon or off the map.
        """
        model = self._model
        for item in model.points:
            if item.demand.name == layer:
                ids = [model.stations[o].id if o >= 0 else None for o in item.owner]
                return list(item.demand.ids), item.time.copy(), ids
        msg = f"Expected a point layer among {', '.join(self.layers)}, got {layer!r}"
        raise StationValueError(msg, field="layer")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: budgets, layers (covered amounts and shares), districts, stations."""
        return {
            **self.meta,
            "minutes": [_number(m) for m in self.minutes],
            "stations": self.stations,
            "stations_off_map": list(self.off_map),
            "layers": [layer.to_dict(self.minutes) for layer in self.layers.values()],
            "districts": self.by_district,
        }


def coverage(
    area: Area,
    stations: Iterable[Station],
    *,
    minutes: Iterable[float] | float = (5, 10, 15),
    demand: Iterable[str | Path | DemandPoints] | str = ("streets",),
    kind: str | Sequence[str] | None = None,
    at: datetime | None = None,
    assume_open_unknown: bool = False,
    districts: Any = None,
) -> CoverageResult:
    """Coverage of ``demand`` by the ``stations`` of ``kind`` open at ``at``.

    Parameters
    ----------
    area
        The Area whose walk graph is walked.
    stations
        Any iterable of :class:`~stations.model.Station` (a store's ``all()``).
    minutes
        Walking budgets; all are answered by one search.
    demand
        Layers (see :class:`CoverageModel`).
    kind
        Only stations of this kind (or kinds).
    at
        Only stations open then (naive: local time at each station).
    assume_open_unknown
        Count stations with unknown hours as open at ``at``.
    districts
        Polygons for per-district figures (see :class:`CoverageModel`).

    Returns
    -------
    CoverageResult
        Covered amount and share of each layer per budget; ``to_dict()`` for JSON.
    """
    chosen = select_stations(stations, kind=kind, at=at, assume_open_unknown=assume_open_unknown)
    model = CoverageModel(area, chosen, minutes=minutes, demand=demand, districts=districts)
    meta: dict[str, Any] = {"kind": kind, "at": at.isoformat() if at is not None else None}
    return model.result(**meta)
