"""Nearest stations by walking time on an Area's walk graph.

:class:`Locator` answers "which ``k`` stations can I walk to fastest from here, of this kind,
with these amenities, open at that time" for one origin or many at once.

How it works
------------
* **On the street.** Origins and stations are located on their nearest walk-graph *edge*
  (:meth:`routing.Area.locate`: the projection onto the street geometry, one vectorised
  call for all of them). A hit's ``time_s`` is *origin leg + partial edge + network +
  partial edge + station leg*: the straight legs from the points to their projections at
  the Area's walking speed, the partial edges as the covered share of their edge's travel
  time, exact on the street geometry; ``distance_m`` likewise. Paths run from the origin's
  projection to the station's. An origin farther than ``max_snap_m`` (the Area's
  ``snap_max_distance``, 500 m by default) from every street is off the map and gets an
  empty result with a reason giving that distance; such stations are left out with a
  :class:`StationOffMapWarning`.
* **Precomputation.** Per Area and kind (and once for all kinds), one K-best multi-source
  Dijkstra pass on the reversed walk graph (compiled with numba) keeps the
  ``labels_per_node`` nearest stations of every node together with a certified radius (see
  :mod:`stations._labels`). Each station seeds it at both ends of its edge with the partial
  costs. Its cost does not grow with the number of stations. Built lazily on the first
  query for that kind.
* **Queries.** A query combines the labels of its edge's two ends with the partial costs
  from the origin to them, plus the stations on the origin's own street reached directly
  along it (:mod:`stations._onedge`, which also says why the combined radius certifies the
  answer). When the filters keep ``k`` hits inside that radius, or the time budget lies
  inside it, that is the exact answer. Otherwise an exact bounded Dijkstra from the two
  ends of the origin's street takes over (its bound grows until ``k`` matches are found,
  the budget is spent or the graph is exhausted).
* **Registry changes.** Given a store (anything with ``all()`` and a ``revision`` that changes
  on every committed write), the locator compares revisions before each query and applies
  the difference: added stations are inserted by a search bounded to the nodes they now
  serve, removed ones by recomputing the rows that held them (moves are both); other edits
  (amenities, hours) need no label work; large changes rebuild.

Empty results are answers: :class:`~stations._results.NearestResult` with ``reason`` set,
never an exception. Exceptions are for invalid input only (bad coordinates, unknown kind or
amenity, ``k`` outside ``[1, 100]``).
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import warnings
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from scipy.sparse.csgraph import dijkstra
from shapely import LineString

from routing.area import check_lonlat
from routing.paths import edge_lengths, network_speed, path_from_predecessors, path_lonlat

from ._errors import WarmheartWarning
from ._labels import Labels, add_sources, build_labels, remove_sources, search_graph
from ._labelstore import cached_labels
from ._onedge import (
    DIRECT,
    Found,
    combine_labels,
    entry_column,
    search_from_street,
    walk_pieces,
)
from ._query import MAX_K, Query, StationFilter, check_query, describe_empty, format_distance
from ._results import NearestBatch, NearestHit, NearestResult
from .model import AMENITIES, KINDS, Station

if TYPE_CHECKING:
    from datetime import datetime

    from numpy.typing import ArrayLike, NDArray

    from routing.area import Area
    from routing.edges import EdgePoints

__all__ = [
    "MAX_K",
    "Locator",
    "StationOffMapWarning",
    "StationSource",
    "nearest_stations",
    "nearest_stations_batch",
]

logger = logging.getLogger(__name__)


class StationOffMapWarning(WarmheartWarning):
    """Some stations lie too far from the walk graph to be reached on foot; they are skipped."""


#: A batch whose uncertified origins lie on more streets than this answers them from labels
#: built for the query (one K-best pass over the stations that pass its filters, no horizon)
#: instead of one exact search per street ...
_SEARCH_STREETS = 32
#: ... when those labels (nodes x k entries) stay this small.
_QUERY_LABEL_CELLS = 20_000_000


@runtime_checkable
class StationSource(Protocol):
    """What the locator needs from a store: every station, and a revision counter."""

    @property
    def revision(self) -> int: ...

    def all(self) -> Iterable[Station]: ...


class Locator:
    """Nearest-station queries on one Area's walk graph, kept in step with a registry.

    Parameters
    ----------
    area
        The Area whose walk graph is walked.
    stations
        A store (:class:`StationSource`: ``all()`` and ``revision``), re-read whenever its
        revision changes, or a fixed sequence of :class:`~stations.model.Station`.
    labels_per_node
        Stations kept per node in the precomputation (K). Larger K answers more filtered
        queries from the labels at the cost of ``16 * K`` bytes per node and kind.
    horizon_minutes
        Walking time the precomputation looks ahead. Farther stations are still found (by
        the exact fallback search), only more slowly.
    max_snap_m
        Largest straight distance (m) from an origin or station to the walk graph; defaults
        to the Area's ``snap_max_distance``.
    rebuild_fraction
        Registry changes touching more than this share of the stations rebuild the labels
        instead of updating them.
    precompute
        Build labels (the default). ``False`` answers every query with the exact search from
        the origin instead: no set-up cost, slower queries; right for one-off queries such as
        a single command-line call.
    """

    def __init__(
        self,
        area: Area,
        stations: StationSource | Iterable[Station],
        *,
        labels_per_node: int = 12,
        horizon_minutes: float = 45.0,
        max_snap_m: float | None = None,
        rebuild_fraction: float = 0.25,
        precompute: bool = True,
    ) -> None:
        if not 1 <= int(labels_per_node) <= 64:
            msg = f"Expected labels_per_node in [1, 64], got {labels_per_node!r}"
            raise ValueError(msg)
        if not (math.isfinite(horizon_minutes) and horizon_minutes > 0):
            msg = f"Expected horizon_minutes > 0, got {horizon_minutes!r}"
            raise ValueError(msg)
        self.area = area
        self.labels_per_node = int(labels_per_node)
        self.horizon_s = float(horizon_minutes) * 60.0
        if max_snap_m is None:
            max_snap_m = float(getattr(area.settings, "snap_max_distance", 500.0))
        self.max_snap_m = float(max_snap_m)
        self.rebuild_fraction = float(rebuild_fraction)
        self.precompute = bool(precompute)
        self._arrays = area.arrays("walk")
        self._table = self._arrays.edges
        self._tu = self._table.u.astype(np.int64)
        self._tv = self._table.v.astype(np.int64)
        self._ttwin = self._table.twin.astype(np.int64)
        self._speed, _, self._constant_speed = network_speed(area, "walk")
        # Graph metres per second of travel time (equal to the walking speed on Areas built
        # with one walking speed); exact for distances when the speed is constant.
        ratio = self._arrays.length.data / self._arrays.time.data
        self._graph_ratio = float(np.median(ratio)) if ratio.size else self._speed
        self._reverse = self._arrays.time.T.tocsr()
        self._graph = search_graph(self._reverse)  # CSR arrays for the label kernels
        self._lock = threading.RLock()
        self._source: StationSource | None
        if isinstance(stations, StationSource):
            self._source = stations
            self._revision: int | None = None
        else:
            self._source = None
            self._revision = 0
        self._reset()
        if self._source is None:
            self._sync(list(stations))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ registry state

    def _reset(self) -> None:
        self._stations: list[Station | None] = []
        self._slot_of: dict[str, int] = {}
        # where each station is on the walk graph: street edge (-1 off the map), position
        self._edge = np.empty(0, dtype=np.int64)
        self._frac = np.empty(0, dtype=np.float64)
        self._snap_m = np.empty(0, dtype=np.float64)  # straight leg (m)
        self._offset = np.empty(0, dtype=np.float64)  # straight leg (s)
        # the two nodes a station is entered from, and the time from each to its point
        self._seed_node = np.empty((0, 2), dtype=np.int64)
        self._seed_time = np.empty((0, 2), dtype=np.float64)
        self._kind = np.empty(0, dtype=np.int8)
        self._amen = np.empty(0, dtype=np.int64)
        self._public = np.empty(0, dtype=bool)
        self._alive = np.empty(0, dtype=bool)
        self._labels: dict[str | None, Labels] = {}
        self._same: dict[str | None, tuple[NDArray[Any], ...]] = {}
        self.off_map: dict[str, float] = {}

    @property
    def revision(self) -> int | None:
        """The store revision the locator last synchronised with."""
        return self._revision

    @property
    def stations(self) -> list[Station]:
        """The stations the locator currently knows (reachable or not)."""
        self.refresh()
        return [s for s in self._stations if s is not None]

    def refresh(self) -> bool:
        """Catch up with the store if its revision changed; return whether anything changed.

        A store with ``changes_since`` (the GeoPackage store) is asked only for what changed
        since the last revision seen, so one write costs time in proportion to the write; a
        store without it, or one that cannot say (see
        :meth:`~stations.store.StationStore.changes_since`), is re-read whole.
        """
        if self._source is None:
            return False
        revision = self._source.revision
        if revision == self._revision:
            return False
        with self._lock:
            revision = self._source.revision
            if revision == self._revision:
                return False
            since = getattr(self._source, "changes_since", None)
            changes = since(self._revision) if since and self._revision is not None else None
            if changes is None:
                self._sync(list(self._source.all()))
                self._revision = revision
            else:
                revision, changed, removed = changes
                self._apply(_unique(changed), removed)
                self._revision = revision
        return True

    def _sync(self, stations: list[Station]) -> None:
        """Bring slots and labels in line with ``stations`` (the whole registry)."""
        current = _unique(stations)
        self._apply(current, [sid for sid in self._slot_of if sid not in current])

    def _apply(self, changed: dict[str, Station], removed: Iterable[str]) -> None:
        """Apply added or updated stations ``changed`` and the ids ``removed``.

        Costs time in proportion to the change, not to the registry. Copy-on-write: the
        containers a query reads are replaced, never changed in place, so a snapshot taken by
        :meth:`_snapshot` stays valid while a later update runs.
        """
        self._stations = list(self._stations)
        self._slot_of = dict(self._slot_of)
        self._amen = self._amen.copy()
        self._public = self._public.copy()
        self._alive = self._alive.copy()
        self._labels = dict(self._labels)
        self._same = {}
        self.off_map = dict(self.off_map)
        dead: list[int] = []
        for sid in removed:
            slot = self._slot_of.pop(sid, None)
            if slot is not None:
                dead.append(slot)
                self._stations[slot] = None
        for sid, new in changed.items():
            slot = self._slot_of.get(sid)
            if slot is None:
                continue
            old = self._stations[slot]
            assert old is not None
            if (new.lon, new.lat, new.kind) != (old.lon, old.lat, old.kind):
                dead.append(slot)
                del self._slot_of[sid]
                self._stations[slot] = None
            elif new is not old:
                self._stations[slot] = new
                self._amen[slot] = _amenity_bits(new)
                self._public[slot] = new.access == "public"
        added = [st for sid, st in changed.items() if sid not in self._slot_of]
        alive_before = int(self._alive.sum())
        count = len(dead) + len(added)
        if not count:
            return
        big = count > self.rebuild_fraction * max(alive_before, 1)
        if big or len(dead) > len(self._stations) // 2:
            logger.info("registry changed a lot (%d stations): rebuilding the locator", count)
            everything = [s for s in self._stations if s is not None] + added
            self._reset()
            dead, added = [], sorted(everything, key=lambda s: s.id)
        if dead:
            self._alive[np.asarray(dead)] = False
        new_slots = self._add_slots(added)
        self._update_labels(np.asarray(dead, dtype=np.int32), new_slots)

    def _add_slots(self, added: Sequence[Station]) -> NDArray[np.int32]:
        if not added:
            return np.empty(0, dtype=np.int32)
        lon = np.array([s.lon for s in added])
        lat = np.array([s.lat for s in added])
        spots = self.area.locate(lon, lat, network="walk", max_distance=self.max_snap_m)
        far = [
            (s.id, float(d))
            for s, d, ok in zip(added, spots.distance, spots.ok, strict=True)
            if not ok
        ]
        if far:
            for sid, d in far:
                self.off_map[sid] = d
            sample = ", ".join(f"{sid} ({format_distance(d)})" for sid, d in far[:5])
            warnings.warn(
                f"{len(far)} station(s) lie more than {self.max_snap_m:.0f} m from every "
                f"street of the walk graph and cannot be reached on foot: {sample}",
                StationOffMapWarning,
                stacklevel=4,
            )
        first = len(self._stations)
        slots = np.arange(first, first + len(added), dtype=np.int32)
        for st in added:
            self._slot_of[st.id] = len(self._stations)
            self._stations.append(st)
        leg = spots.distance / self._speed
        node, cost, _ = spots.entries(self._table)
        self._edge = np.concatenate([self._edge, spots.edge.astype(np.int64)])
        self._frac = np.concatenate([self._frac, np.where(spots.ok, spots.frac, 0.0)])
        self._snap_m = np.concatenate([self._snap_m, spots.distance])
        self._offset = np.concatenate([self._offset, leg])
        self._seed_node = np.concatenate([self._seed_node, node.astype(np.int64)])
        self._seed_time = np.concatenate([self._seed_time, cost + leg[:, None]])
        self._kind = np.concatenate(
            [self._kind, np.array([KINDS.index(s.kind) for s in added], dtype=np.int8)]
        )
        self._amen = np.concatenate(
            [self._amen, np.array([_amenity_bits(s) for s in added], dtype=np.int64)]
        )
        self._public = np.concatenate(
            [self._public, np.array([s.access == "public" for s in added], dtype=bool)]
        )
        self._alive = np.concatenate([self._alive, spots.ok.astype(bool)])
        return slots[spots.ok]

    def _seeds(
        self, slots: NDArray[np.int32]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int32]]:
        """Label seeds of ``slots``: both entry nodes of each station with their times."""
        node = self._seed_node[slots]
        has = node >= 0
        return node[has], self._seed_time[slots][has], np.repeat(slots, 2).reshape(-1, 2)[has]

    def _same_street(self, key: str | None) -> tuple[NDArray[Any], ...]:
        """Live stations of label set ``key`` by street: (edge, slot, frac, leg s), sorted."""
        cached = self._same.get(key)
        if cached is None:
            slots = self._key_slots(key).astype(np.int64)
            order = np.argsort(self._edge[slots], kind="stable")
            slots = slots[order]
            cached = (self._edge[slots], slots, self._frac[slots], self._offset[slots])
            self._same[key] = cached
        return cached

    def _key_slots(
        self, key: str | None, slots: NDArray[np.int32] | None = None
    ) -> NDArray[np.int32]:
        """Live slots (of ``slots``, default all) belonging to label set ``key``."""
        if slots is None:
            slots = np.arange(len(self._stations), dtype=np.int32)
        slots = slots[self._alive[slots]]
        if key is not None:
            slots = slots[self._kind[slots] == KINDS.index(key)]
        return slots

    def _update_labels(self, dead: NDArray[np.int32], added: NDArray[np.int32]) -> None:
        for key, labels in list(self._labels.items()):
            gone = dead if key is None else dead[self._kind[dead] == KINDS.index(key)]
            new = self._key_slots(key, added)
            if gone.size:
                live = np.setdiff1d(self._key_slots(key), new).astype(np.int32)
                nodes, times, seed_slots = self._seeds(live)
                labels = remove_sources(
                    labels, self._graph, gone, nodes=nodes, offsets=times, live=seed_slots
                )
            if new.size:
                labels = add_sources(labels, self._graph, *self._seeds(new))
            self._labels[key] = labels

    def labels(self, kind: str | None = None) -> Labels:
        """The precomputed labels for ``kind`` (``None``: all kinds), built on first use."""
        if not self.precompute:  # no labels: nothing is certified, every query searches
            return Labels(
                time=np.full((self._arrays.n, 1), np.inf, dtype=np.float32),
                slot=np.full((self._arrays.n, 1), -1, dtype=np.int32),
                next=np.full((self._arrays.n, 1), -1, dtype=np.int32),
                radius=np.zeros(self._arrays.n, dtype=np.float32),
                horizon=0.0,
            )
        labels = self._labels.get(kind)
        if labels is None:
            with self._lock:
                labels = self._labels.get(kind)
                slots = self._key_slots(kind)
                if labels is None and kind is not None and slots.size == self._key_slots(None).size:
                    # every live station is of this kind: the same search as for all kinds
                    labels = self._labels[kind] = self.labels(None)
                if labels is None:
                    labels = cached_labels(  # from disk when seeds and graph are unchanged
                        self.area,
                        self._graph,
                        *self._seeds(slots),
                        k=self.labels_per_node,
                        horizon=self.horizon_s,
                    )
                    self._labels[kind] = labels
        return labels

    def prepare(self, kinds: Iterable[str | None] = (None, *KINDS)) -> None:
        """Build the labels of ``kinds`` (and the street index) now rather than on first query."""
        self.refresh()
        self.area.locate(*self.area.bounds[:2], max_distance=np.inf)  # builds the grid index
        for kind in kinds:
            self.labels(kind)

    # ------------------------------------------------------------------ queries

    def nearest(
        self,
        lon: float,
        lat: float,
        *,
        k: int = 3,
        kind: str | None = None,
        amenities: Iterable[str] | str = (),
        open_at: datetime | str | None = None,
        max_minutes: float | None = None,
        access: str | None = None,
        with_paths: bool = True,
    ) -> NearestResult:
        """The ``k`` stations nearest one origin by walking time.

        Parameters
        ----------
        lon, lat
            The origin (WGS-84).
        k
            How many stations, in ``[1, 100]``.
        kind
            One of :data:`~stations.model.KINDS`, or ``None`` for any.
        amenities
            Amenities every hit must offer (from :data:`~stations.model.AMENITIES`).
        open_at
            Only stations open at this time (datetime, ISO text or ``HH:MM`` today); stations
            with unknown hours are left out.
        max_minutes
            Only stations within this walking time (snap legs included).
        access
            Only stations with this access (``"public"``: open to everyone).
        with_paths
            Add each hit's path geometry.

        Returns
        -------
        NearestResult
            Hits sorted by walking time; empty with a ``reason`` when the origin is off the
            map or nothing matches within reach.

        Raises
        ------
        CoordinateError
            ``lon``/``lat`` NaN or out of range.
        ValueError
            ``k`` outside ``[1, 100]``, unknown kind, amenity or access (the message lists
            the valid ones), ``max_minutes <= 0``.
        """
        query = check_query(
            k=k,
            kind=kind,
            amenities=amenities,
            open_at=open_at,
            max_minutes=max_minutes,
            access=access,
        )
        lon_a, lat_a = check_lonlat(lon, lat)
        if lon_a.size != 1:
            msg = f"Expected one origin, got {lon_a.size}; use nearest_batch for many"
            raise ValueError(msg)
        # Answer from one consistent snapshot; the search and the paths run outside the lock.
        return self._snapshot(query.kind)._nearest_one(query, lon_a, lat_a, with_paths=with_paths)

    def _snapshot(self, kind: str | None) -> Locator:
        """A view of the current registry state for one query, taken under the lock.

        Catches up with the store, builds the labels of ``kind`` if missing, then returns a
        shallow copy: it shares the arrays, which :meth:`_sync` replaces rather than changes
        (copy-on-write), so later writes never show through. The copy has no source (it does
        not refresh) and its own labels dict.
        """
        self.refresh()
        with self._lock:
            self.labels(kind)
            snap = copy.copy(self)
            snap._source = None
            snap._labels = dict(self._labels)
        return snap

    def _nearest_one(
        self,
        query: Query,
        lon_a: NDArray[np.float64],
        lat_a: NDArray[np.float64],
        *,
        with_paths: bool,
    ) -> NearestResult:
        self.refresh()
        spot = self.area.locate(lon_a, lat_a, network="walk", max_distance=self.max_snap_m)
        origin = (float(lon_a[0]), float(lat_a[0]))
        snap_m = float(spot.distance[0])
        if not spot.ok[0]:
            return NearestResult(*origin, reason=_off_map(snap_m), snap_m=snap_m)
        leg = snap_m / self._speed
        labels = self.labels(query.kind)
        e, f = int(spot.edge[0]), float(spot.frac[0])
        found, pred = self._answer(query, labels, spot, np.array([query.budget_s - leg]))
        hits_of = found.row(0)
        if not hits_of:
            registry_empty = self._key_slots(query.kind).size == 0
            return NearestResult(
                *origin,
                reason=describe_empty(query, registry_empty=registry_empty),
                snap_m=snap_m,
            )
        hits = []
        for slot, t, how in hits_of:
            geometry = None
            network_m = (t - float(self._offset[slot])) * self._graph_ratio
            if with_paths or not self._constant_speed:
                line, metres = self._walk(labels, (e, f), slot, how, pred)
                geometry = line if with_paths else None
                if not self._constant_speed:
                    network_m = metres
            hits.append(
                NearestHit(
                    station=self._stations[slot],  # type: ignore[arg-type]
                    time_s=leg + t,
                    distance_m=snap_m + network_m + float(self._snap_m[slot]),
                    geometry=geometry,
                )
            )
        return NearestResult(*origin, hits=tuple(hits), snap_m=snap_m)

    def nearest_batch(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        k: int = 3,
        kind: str | None = None,
        amenities: Iterable[str] | str = (),
        open_at: datetime | str | None = None,
        max_minutes: float | None = None,
        access: str | None = None,
    ) -> NearestBatch:
        """The ``k`` stations nearest each of many origins, in one vectorised pass.

        Same options and meaning as :meth:`nearest`; no path geometry (ask :meth:`nearest`
        for the origins whose paths you draw). Origins off the map get a reason, not an
        exception; NaN or out-of-range coordinates raise ``CoordinateError``.
        """
        query = check_query(
            k=k,
            kind=kind,
            amenities=amenities,
            open_at=open_at,
            max_minutes=max_minutes,
            access=access,
        )
        lon_a, lat_a = check_lonlat(lon, lat)
        return self._snapshot(query.kind)._nearest_many(query, lon_a, lat_a)

    def _nearest_many(
        self, query: Query, lon_a: NDArray[np.float64], lat_a: NDArray[np.float64]
    ) -> NearestBatch:
        self.refresh()
        m, kq = lon_a.size, query.k
        spots = self.area.locate(lon_a, lat_a, network="walk", max_distance=self.max_snap_m)
        labels = self.labels(query.kind)
        ok = spots.ok
        leg = spots.distance / self._speed
        budget = query.budget_s - leg  # network budget per origin (inf without max_minutes)
        found, _ = self._answer(query, labels, spots, budget, paths=False)
        slot = found.slot
        has = slot >= 0
        time_net = np.where(has, found.time, np.nan)
        safe = np.where(has, slot, 0)
        if self._constant_speed:
            network_m = (time_net - self._offset[safe]) * self._graph_ratio
        else:
            network_m = self._batch_metres(labels, spots, found)
        distance = spots.distance[:, None] + network_m + self._snap_m[safe]
        total = leg[:, None] + time_net
        ids = np.full((m, kq), None, dtype=object)
        names = np.array(
            [s.id if s is not None else None for s in self._stations] or [None], dtype=object
        )
        ids[has] = names[slot[has]]
        reasons: list[str | None] = [None] * m
        if not has[:, 0].all():
            empty_reason = describe_empty(
                query, registry_empty=self._key_slots(query.kind).size == 0
            )
            for i in np.flatnonzero(~has[:, 0]).tolist():
                reasons[i] = empty_reason if ok[i] else _off_map(float(spots.distance[i]))
        used = {
            st.id: st
            for st in (self._stations[s_] for s_ in np.unique(slot[has]).tolist())
            if st is not None
        }
        return NearestBatch(
            lon=lon_a,
            lat=lat_a,
            station_id=ids,
            time_s=np.where(has, total, np.nan),
            distance_m=np.where(has, distance, np.nan),
            reasons=reasons,
            snap_m=spots.distance,
            stations=used,
        )

    # ------------------------------------------------------------------ internals

    def _filter(self, query: Query) -> StationFilter:
        return StationFilter(query, self._stations, self._amen, self._public)

    def _answer(
        self,
        query: Query,
        labels: Labels,
        spots: EdgePoints,
        budget: NDArray[np.float64],
        *,
        paths: bool = True,
    ) -> tuple[Found, NDArray[np.int32] | None]:
        """Exact hits ``(slot, network time incl. station leg, how)`` of each located origin.

        Labels first (:func:`~stations._onedge.combine_labels`); the origins they do not
        certify are searched exactly, grouped by street. The predecessor rows of the last
        search come back for drawing a single origin's paths.
        """
        key = query.kind
        table = self._table
        same_edge, same_slot, same_frac, same_leg = self._same_street(key)
        passes = self._filter(query)
        edge = np.where(spots.ok, spots.edge, -1).astype(np.int64)
        frac = np.where(spots.ok, spots.frac, 0.0)
        filtered = bool(query.amenities) or query.open_at is not None or query.access is not None
        allowed = self._allowed(passes, labels, spots, filtered)
        t, s, how, _count, certified = combine_labels(
            labels.time,
            labels.slot,
            labels.radius,
            edge,
            frac,
            self._tu,
            self._tv,
            self._ttwin,
            table.time,
            same_edge,
            same_slot,
            same_frac,
            same_leg,
            allowed,
            np.asarray(budget, dtype=np.float64),
            query.k,
        )
        todo = np.flatnonzero((edge >= 0) & ~certified)
        if todo.size:
            logger.debug("%d of %d origins need the exact search", todo.size, edge.size)
        pred = None
        streets = np.unique(edge[todo])
        if streets.size > _SEARCH_STREETS and self._arrays.n * query.k <= _QUERY_LABEL_CELLS:
            # many streets to search: one K-best pass over the stations that pass is cheaper
            candidates = self._key_slots(key)
            keep = candidates[passes(candidates)]
            mine = build_labels(self._graph, *self._seeds(keep), k=query.k, horizon=np.inf)
            allowed = np.zeros(max(len(self._stations), 1), dtype=np.bool_)
            allowed[keep] = True
            t2, s2, how2, _, _ = combine_labels(
                mine.time,
                mine.slot,
                mine.radius,
                edge[todo],
                frac[todo],
                self._tu,
                self._tv,
                self._ttwin,
                table.time,
                same_edge,
                same_slot,
                same_frac,
                same_leg,
                allowed,
                np.asarray(budget, dtype=np.float64)[todo],
                query.k,
            )  # labels without a horizon hold every reachable station: all certified
            t[todo], s[todo], how[todo] = t2, s2, how2
            todo = todo[:0]
        if todo.size:
            slots = self._key_slots(key).astype(np.int64)
            seed_node, seed_time = self._seed_node[slots], self._seed_time[slots]
            for e in streets.tolist():
                rows = todo[edge[todo] == e]
                lo, hi = np.searchsorted(same_edge, [e, e + 1])
                radius = float(labels.radius[table.v[e]])
                hits, _, pred = search_from_street(
                    self._arrays.time,
                    table,
                    e,
                    frac[rows],
                    np.asarray(budget, dtype=np.float64)[rows],
                    k=query.k,
                    slots=slots,
                    seed_node=seed_node,
                    seed_time=seed_time,
                    same=(same_slot[lo:hi], same_frac[lo:hi], same_leg[lo:hi]),
                    passes=passes,
                    start_limit=max(2.0 * radius, 900.0),
                    predecessors=paths and todo.size == 1,
                )
                for i, h in zip(rows.tolist(), hits, strict=True):
                    t[i], s[i], how[i] = np.inf, -1, -1
                    for j, (s_, t_, h_) in enumerate(h):
                        t[i, j], s[i, j], how[i, j] = t_, s_, h_
        return Found(t, s, how), pred

    def _allowed(
        self, passes: StationFilter, labels: Labels, spots: EdgePoints, filtered: bool
    ) -> NDArray[np.bool_]:
        """Per slot, whether a station passes the filters (evaluated for candidates only)."""
        size = max(len(self._stations), 1)
        if not filtered:
            return np.ones(size, dtype=np.bool_)
        ok = spots.ok
        e = spots.edge[ok]
        exits = np.concatenate([self._tv[e], np.where(self._ttwin[e] >= 0, self._tu[e], -1)])
        exits = exits[exits >= 0]
        cand = np.unique(labels.slot[exits])
        cand = cand[cand >= 0]
        allowed = np.zeros(size, dtype=np.bool_)
        on_street = self._edge >= 0
        street_slots = np.flatnonzero(on_street & np.isin(self._edge, e))
        cand = np.union1d(cand, street_slots).astype(np.int64)
        allowed[cand] = passes(cand)
        return allowed

    def _walk(
        self,
        labels: Labels,
        origin: tuple[int, float],
        slot: int,
        how: int,
        pred: NDArray[np.int32] | None,
    ) -> tuple[LineString, float]:
        """The walk to a hit as a WGS-84 LineString from projection to projection, and its
        network metres when the walking speed varies (partial edges included; with one
        speed the caller takes metres from the time, and only the partial edges count here).
        """
        table = self._table
        station = (int(self._edge[slot]), float(self._frac[slot]))
        if how == DIRECT:
            first, last, m0, m1 = walk_pieces(table, origin, how, station, 0)
            return LineString(first), m0
        start = int(table.v[origin[0]] if how == 0 else table.u[origin[0]])
        nodes, entry = self._node_path(labels, start, slot, None if pred is None else pred[how])
        first, last, m0, m1 = walk_pieces(table, origin, how, station, entry)
        middle = path_lonlat(self.area, nodes)[1:-1] if nodes.size > 1 else np.empty((0, 2))
        coords = np.vstack([first, middle, last])
        metres = m0 + m1
        if nodes.size > 1 and not self._constant_speed:  # else metres come from the time
            metres += float(np.sum(edge_lengths(self._arrays, nodes[:-1], nodes[1:])))
        return LineString(coords), metres

    def _node_path(
        self, labels: Labels, start: int, slot: int, pred: NDArray[np.int32] | None
    ) -> tuple[NDArray[np.intp], int]:
        """Dense node path from ``start`` to the entry node of ``slot``, and which entry."""
        entries = self._seed_node[slot]
        times = self._seed_time[slot]
        if pred is not None:
            dist = np.full(2, np.inf)
            for i in range(2):
                if entries[i] >= 0 and (entries[i] == start or pred[entries[i]] >= 0):
                    dist[i] = self._path_time(path_from_predecessors(pred, int(entries[i])))
            i = int(np.argmin(dist + times))
            return path_from_predecessors(pred, int(entries[i])), i
        path = [start]
        cur = start
        S, N, T = labels.slot, labels.next, labels.time
        for _ in range(self._arrays.n):
            row = np.flatnonzero(S[cur] == slot)
            if row.size == 0:
                break  # a tie cut the chain: finish with a direct search
            j = int(row[0])
            if N[cur, j] < 0:
                at = np.flatnonzero(entries == cur)
                if at.size and abs(float(T[cur, j]) - float(times[at].min())) <= 1e-3:
                    i = entry_column(self._table, cur, int(self._edge[slot]), times)
                    return np.asarray(path, dtype=np.intp), i
                break
            cur = int(N[cur, j])
            path.append(cur)
        _, tail = dijkstra(self._arrays.time, indices=cur, return_predecessors=True)
        rest, i = self._node_path(labels, cur, slot, tail)
        return np.concatenate([np.asarray(path[:-1], dtype=np.intp), rest]), i

    def _path_time(self, path: NDArray[np.intp]) -> float:
        if path.size < 2:
            return 0.0
        return float(np.sum(edge_lengths(self._arrays, path[:-1], path[1:], weight="time")))

    def _batch_metres(self, labels: Labels, spots: EdgePoints, found: Found) -> NDArray[np.float64]:
        """Network metres per (origin, hit) when speed varies: walk each path."""
        out = np.full(found.slot.shape, np.nan)
        for i, j in zip(*np.nonzero(found.slot >= 0), strict=True):
            origin = (int(spots.edge[i]), float(spots.frac[i]))
            slot, how = int(found.slot[i, j]), int(found.how[i, j])
            out[i, j] = self._walk(labels, origin, slot, how, None)[1]
        return out


def _unique(stations: Iterable[Station]) -> dict[str, Station]:
    """Stations by id; raise on anything that is not a Station or on a repeated id."""
    current: dict[str, Station] = {}
    for st in stations:
        if not isinstance(st, Station):
            msg = f"Expected stations.model.Station records, got {type(st).__name__}"
            raise TypeError(msg)
        if st.id in current:
            msg = f"Expected unique station ids, got {st.id!r} twice"
            raise ValueError(msg)
        current[st.id] = st
    return current


def _amenity_bits(station: Station) -> int:
    bits = 0
    for name in station.amenities:
        bits |= 1 << AMENITIES.index(name)
    return bits


def _off_map(snap_m: float) -> str:
    return f"origin off the map: {format_distance(snap_m)} from the nearest footpath"


# ---------------------------------------------------------------------- functional API

_LOCATORS: weakref.WeakKeyDictionary[Any, dict[Any, Locator]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _locator_for(area: Area, stations: StationSource | Iterable[Station] | Locator) -> Locator:
    """One cached Locator per (Area, store) or (Area, station list content).

    A list is keyed on its whole stations (``Station`` equality compares every field), so
    a list that differs in anything, amenities and hours included, gets its own Locator.
    """
    if isinstance(stations, Locator):
        return stations
    if isinstance(stations, StationSource):
        key: Any = ("store", id(stations))
        items = None
    else:
        items = list(stations)
        key = ("list", tuple(sorted(items, key=lambda s: str(getattr(s, "id", "")))))
    with _CACHE_LOCK:
        per_area = _LOCATORS.setdefault(area, {})
        locator = per_area.get(key)
        if locator is not None and (items is not None or locator._source is stations):
            return locator
        locator = Locator(area, stations if items is None else items)
        if len(per_area) >= 8:
            per_area.pop(next(iter(per_area)))
        per_area[key] = locator
        return locator


def nearest_stations(
    area: Area,
    stations: StationSource | Iterable[Station] | Locator,
    lon: float,
    lat: float,
    *,
    k: int = 3,
    kind: str | None = None,
    amenities: Iterable[str] | str = (),
    open_at: datetime | str | None = None,
    max_minutes: float | None = None,
    access: str | None = None,
    with_paths: bool = True,
) -> NearestResult:
    """The ``k`` stations nearest ``(lon, lat)`` by walking time on ``area``'s walk graph.

    A convenience over :meth:`Locator.nearest`: the Locator (with its precomputation) is
    cached per Area and store, so repeated calls are cheap. See :meth:`Locator.nearest` for
    the options, the result and the errors.
    """
    return _locator_for(area, stations).nearest(
        lon,
        lat,
        k=k,
        kind=kind,
        amenities=amenities,
        open_at=open_at,
        max_minutes=max_minutes,
        access=access,
        with_paths=with_paths,
    )


def nearest_stations_batch(
    area: Area,
    stations: StationSource | Iterable[Station] | Locator,
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    k: int = 3,
    kind: str | None = None,
    amenities: Iterable[str] | str = (),
    open_at: datetime | str | None = None,
    max_minutes: float | None = None,
    access: str | None = None,
) -> NearestBatch:
    """The ``k`` stations nearest each origin, vectorised; see :meth:`Locator.nearest_batch`."""
    return _locator_for(area, stations).nearest_batch(
        lon,
        lat,
        k=k,
        kind=kind,
        amenities=amenities,
        open_at=open_at,
        max_minutes=max_minutes,
        access=access,
    )
