"""The exact walk model of coverage: streets, station seeds, times anywhere on a street.

Stations and demand points are located on the nearest walk *street* (``Area.locate``). A
station at fraction ``f`` of street ``e`` (``u -> v``) with a straight leg of ``leg``
seconds is reached from ``u`` in ``leg + f * time[e]`` and from ``v`` (through the twin) in
``leg + (1 - f) * time[twin]``; those are the seeds of one multi-source search on the
reversed walk graph (:func:`stations._reach.relax_from`), which gives every node's walk to
its nearest station.

Between two *break points* of a street — its end nodes and the stations on it — the time
to the nearest station at position ``x`` is ``min(D_a + x * tb, D_b + (d - x) * tf)``:
walk back to the left break point (along the twin, ``tb`` seconds per street fraction) or
on to the right one (``tf``). :func:`break_points` gives each break point its exact time
(a station's own leg, or a neighbour's time plus the piece between them); from there
:func:`times_at` evaluates any position and :func:`covered_fraction` the part of a piece
within a budget, cut exactly where the budget ends.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from routing.paths import network_speed

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from routing.area import Area
    from routing.edges import EdgePoints, EdgeTable
    from routing.network import GraphArrays

__all__ = [
    "BreakPoints",
    "WalkModel",
    "break_points",
    "covered_fraction",
    "points_along",
    "station_seeds",
    "times_at",
    "walk_model",
]


@dataclass(frozen=True, eq=False)
class WalkModel:
    """The walk graph as coverage needs it (built once per graph, see :func:`walk_model`).

    Attributes
    ----------
    table
        The graph's :class:`~routing.edges.EdgeTable`.
    n
        Number of nodes.
    speed
        Walking speed (m/s) of the straight legs between a point and its street.
    rev_indptr, rev_indices, rev_data
        The reversed travel-time graph (CSR): a search on it from stations gives every
        node's walk *to* a station.
    fwd_indptr, fwd_indices, fwd_data
        The travel-time graph itself (to find a region's border on updates).
    streets
        The representative directed edge of every street (a two-way street once).
    street_of
        Per directed edge, the index of its street in ``streets`` (``-1`` for the twins).
    u, v, tf, tb, length
        Per street: tail and head node, seconds to walk the whole street forwards and
        backwards (``inf`` for a one-way street), and its length (m).
    """

    table: EdgeTable
    n: int
    speed: float
    rev_indptr: NDArray[np.int64]
    rev_indices: NDArray[np.int32]
    rev_data: NDArray[np.float64]
    fwd_indptr: NDArray[np.int64]
    fwd_indices: NDArray[np.int32]
    fwd_data: NDArray[np.float64]
    streets: NDArray[np.intp]
    street_of: NDArray[np.intp]
    u: NDArray[np.intp]
    v: NDArray[np.intp]
    tf: NDArray[np.float64]
    tb: NDArray[np.float64]
    length: NDArray[np.float64]

    @property
    def m(self) -> int:
        """Number of streets."""
        return int(self.streets.size)


_MODELS: weakref.WeakKeyDictionary[GraphArrays, WalkModel] = weakref.WeakKeyDictionary()


def walk_model(area: Area) -> WalkModel:
    """The :class:`WalkModel` of ``area``'s walk graph (cached per graph)."""
    arrays = area.arrays("walk")
    cached = _MODELS.get(arrays)
    if cached is None:
        cached = model_from_arrays(arrays, speed=network_speed(area, "walk")[0])
        _MODELS[arrays] = cached
    return cached


def model_from_arrays(arrays: GraphArrays, *, speed: float) -> WalkModel:
    """Build a :class:`WalkModel` from a graph's arrays and the walking speed (m/s)."""
    table = arrays.edges
    fwd = arrays.time.tocsr()
    rev = fwd.transpose().tocsr()
    rev.sort_indices()
    streets = np.flatnonzero(table.street == np.arange(table.m)).astype(np.intp)
    street_of = np.full(table.m, -1, dtype=np.intp)
    street_of[streets] = np.arange(streets.size)
    twin = table.twin[streets]
    tb = np.where(twin >= 0, table.time[np.maximum(twin, 0)], np.inf)
    return WalkModel(
        table=table,
        n=arrays.n,
        speed=float(speed),
        rev_indptr=rev.indptr.astype(np.int64),
        rev_indices=rev.indices.astype(np.int32),
        rev_data=rev.data.astype(np.float64),
        fwd_indptr=fwd.indptr.astype(np.int64),
        fwd_indices=fwd.indices.astype(np.int32),
        fwd_data=fwd.data.astype(np.float64),
        streets=streets,
        street_of=street_of,
        u=table.u[streets],
        v=table.v[streets],
        tf=table.time[streets].astype(np.float64),
        tb=tb.astype(np.float64),
        length=table.length[streets].astype(np.float64),
    )


def station_seeds(
    model: WalkModel, points: EdgePoints, leg_s: NDArray[np.float64], owner: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Search seeds ``(node, time, owner)`` of located stations: both ends of each street."""
    node, time, _ = points.entries(model.table)
    seed_time = time + leg_s[:, None]
    seed_owner = np.repeat(owner[:, None], 2, axis=1)
    keep = (node >= 0) & np.isfinite(seed_time)
    return node[keep].astype(np.int64), seed_time[keep], seed_owner[keep].astype(np.int64)


@dataclass(frozen=True, eq=False)
class BreakPoints:
    """Stations on streets, sorted by street then position, with their exact times.

    Attributes
    ----------
    street, frac
        Street index (into :attr:`WalkModel.streets`) and position on it.
    time, owner
        Time to the nearest station from the station's point on the street and which
        station that is (its own leg, or a neighbour's time plus the walk between them).
    key
        ``2 * street + frac``: sorted, for :func:`numpy.searchsorted`.
    """

    street: NDArray[np.int64]
    frac: NDArray[np.float64]
    time: NDArray[np.float64]
    owner: NDArray[np.int64]
    key: NDArray[np.float64]


def break_points(
    model: WalkModel,
    street: NDArray[np.int64],
    frac: NDArray[np.float64],
    leg_s: NDArray[np.float64],
    slot: NDArray[np.int64],
    dist: NDArray[np.float64],
    owner: NDArray[np.int64],
) -> BreakPoints:
    """The stations as break points of their streets (see :class:`BreakPoints`)."""
    order = np.lexsort((frac, street))
    street, frac = street[order].astype(np.int64), frac[order].astype(np.float64)
    time, who = _chain_times(
        street,
        frac,
        leg_s[order].astype(np.float64),
        slot[order].astype(np.int64),
        dist,
        owner,
        model.u,
        model.v,
        model.tf,
        model.tb,
    )
    return BreakPoints(street, frac, time, who, 2.0 * street + frac)


@njit(cache=True, nogil=True)
def _chain_times(
    street: NDArray[np.int64],
    frac: NDArray[np.float64],
    leg: NDArray[np.float64],
    slot: NDArray[np.int64],
    dist: NDArray[np.float64],
    owner: NDArray[np.int64],
    u: NDArray[np.intp],
    v: NDArray[np.intp],
    tf: NDArray[np.float64],
    tb: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:  # pragma: no cover - compiled
    m = street.size
    time = leg.copy()
    who = slot.copy()
    i = 0
    while i < m:
        j = i
        while j < m and street[j] == street[i]:
            j += 1
        s = street[i]
        # from the left: the tail node, then each station from its left neighbour
        t_left = dist[u[s]]
        o_left = owner[u[s]]
        p_left = 0.0
        for k in range(i, j):
            if tb[s] < np.inf and t_left < np.inf:
                cand = t_left + (frac[k] - p_left) * tb[s]
                if cand < time[k]:
                    time[k] = cand
                    who[k] = o_left
            t_left, o_left, p_left = time[k], who[k], frac[k]
        # from the right: the head node, then each station from its right neighbour
        t_right = dist[v[s]]
        o_right = owner[v[s]]
        p_right = 1.0
        for k in range(j - 1, i - 1, -1):
            if t_right < np.inf:
                cand = t_right + (p_right - frac[k]) * tf[s]
                if cand < time[k]:
                    time[k] = cand
                    who[k] = o_right
            t_right, o_right, p_right = time[k], who[k], frac[k]
        i = j
    return time, who


def _sides(
    bp: BreakPoints, street: NDArray[np.int64], frac: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.bool_], NDArray[np.bool_]]:
    """For positions on streets, the break points just left and right of them.

    ``(i, j, left_ok, right_ok)``: indices into ``bp`` and whether each exists on the same
    street (else the street's tail / head node bounds the piece).
    """
    k = bp.key.size
    if k == 0:
        none = np.zeros(street.size, dtype=bool)
        zero = np.zeros(street.size, dtype=np.intp)
        return zero, zero, none, none
    i = np.searchsorted(bp.key, 2.0 * street + frac, side="right") - 1
    j = i + 1
    ii, jj = np.clip(i, 0, k - 1), np.clip(j, 0, k - 1)
    left_ok = (i >= 0) & (bp.street[ii] == street)
    right_ok = (j < k) & (bp.street[jj] == street)
    return ii, jj, left_ok, right_ok


def times_at(
    model: WalkModel,
    bp: BreakPoints,
    dist: NDArray[np.float64],
    owner: NDArray[np.int64],
    street: NDArray[np.int64],
    frac: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Walk (s) from positions on streets to their nearest station, and that station's slot.

    ``inf`` / ``-1`` where no station is within the search's limit.
    """
    ii, jj, left_ok, right_ok = _sides(bp, street, frac)
    u, v = model.u[street], model.v[street]
    if bp.key.size:
        pa = np.where(left_ok, bp.frac[ii], 0.0)
        pb = np.where(right_ok, bp.frac[jj], 1.0)
        da = np.where(left_ok, bp.time[ii], dist[u])
        db = np.where(right_ok, bp.time[jj], dist[v])
        oa = np.where(left_ok, bp.owner[ii], owner[u])
        ob = np.where(right_ok, bp.owner[jj], owner[v])
    else:
        pa, pb = np.zeros(street.size), np.ones(street.size)
        da, db, oa, ob = dist[u], dist[v], owner[u], owner[v]
    with np.errstate(invalid="ignore"):
        back = np.where(frac > pa, (frac - pa) * model.tb[street], 0.0)
        ahead = np.where(pb > frac, (pb - frac) * model.tf[street], 0.0)
        ta = np.where(np.isfinite(da), da + back, np.inf)
        tb = np.where(np.isfinite(db), db + ahead, np.inf)
    ta = np.where(np.isnan(ta), np.inf, ta)
    tb = np.where(np.isnan(tb), np.inf, tb)
    best = np.minimum(ta, tb)
    who = np.where(ta <= tb, oa, ob)
    return best, np.where(np.isfinite(best), who, -1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Pieces:
    """Street pieces between consecutive break points, with the times at both ends."""

    street: NDArray[np.int64]
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    da: NDArray[np.float64]
    db: NDArray[np.float64]


def street_pieces(
    model: WalkModel,
    bp: BreakPoints,
    dist: NDArray[np.float64],
    streets: NDArray[np.int64] | None = None,
) -> Pieces:
    """Every piece of ``streets`` (default all) between break points, with end times."""
    streets = np.arange(model.m, dtype=np.int64) if streets is None else streets
    has = np.zeros(model.m, dtype=bool)
    has[bp.street] = True
    plain = streets[~has[streets]]  # most streets hold no station: one piece, end to end
    special = streets[has[streets]]
    take = np.isin(bp.street, special)
    st_street, st_frac, st_time = bp.street[take], bp.frac[take], bp.time[take]
    k = special.size
    s_all = np.concatenate([special, st_street, special])
    pos = np.concatenate([np.zeros(k), st_frac, np.ones(k)])
    rank = np.concatenate([np.zeros(k), np.ones(st_street.size), np.full(k, 2.0)])
    t_all = np.concatenate([dist[model.u[special]], st_time, dist[model.v[special]]])
    order = np.lexsort((rank, pos, s_all))
    s_all, pos, t_all = s_all[order], pos[order], t_all[order]
    same = s_all[1:] == s_all[:-1]
    return Pieces(
        street=np.concatenate([plain, s_all[:-1][same]]),
        a=np.concatenate([np.zeros(plain.size), pos[:-1][same]]),
        b=np.concatenate([np.ones(plain.size), pos[1:][same]]),
        da=np.concatenate([dist[model.u[plain]], t_all[:-1][same]]),
        db=np.concatenate([dist[model.v[plain]], t_all[1:][same]]),
    )


def covered_fraction(
    model: WalkModel, pieces: Pieces, budget_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fractions of each piece within ``budget_s`` walked back (from ``a``) and ahead (``b``).

    Each is clipped to the piece; the piece is covered on ``[a, a + back]`` and
    ``[b - ahead, b]`` (together at most its whole span).
    """
    span = pieces.b - pieces.a
    tb, tf = model.tb[pieces.street], model.tf[pieces.street]
    with np.errstate(invalid="ignore", divide="ignore"):
        back = (budget_s - pieces.da) / tb
        ahead = (budget_s - pieces.db) / tf
    back = np.clip(np.nan_to_num(back, nan=0.0, posinf=np.inf, neginf=0.0), 0.0, span)
    ahead = np.clip(np.nan_to_num(ahead, nan=0.0, posinf=np.inf, neginf=0.0), 0.0, span)
    ahead = np.minimum(ahead, span - back)
    return back, ahead


def points_along(
    table: EdgeTable, edge: NDArray[np.intp], frac: NDArray[np.float64], *, lonlat: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates of the points at fractions ``frac`` of edges ``edge`` (vectorised)."""
    edge = np.asarray(edge, dtype=np.int64)
    total = table.geometry_m[edge]
    s = np.clip(frac, 0.0, 1.0) * total
    lo, hi = table.ptr[edge], table.ptr[edge + 1] - 1  # first and last point of each edge
    # the segment holding s: the last j in [lo, hi) with cum[j] <= s (binary search)
    left, right = lo.copy(), hi.copy()
    for _ in range(int(np.log2(max(int((hi - lo).max(initial=1)), 1))) + 2):
        mid = (left + right) // 2
        active = mid > left
        below = table.cum[mid] <= s
        left, right = np.where(active & below, mid, left), np.where(active & ~below, mid, right)
    j = left
    c0, c1 = table.cum[j], table.cum[j + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(c1 > c0, (s - c0) / (c1 - c0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    pts = table.lonlat if lonlat else table.xy
    p = pts[j] + t[:, None] * (pts[j + 1] - pts[j])
    return p[:, 0], p[:, 1]
