"""Which coordinate system are these points in? The check for an undeclared GCJ-02 / BD-09 datum.

Lists copied from Chinese web maps are GCJ-02 (Amap, Tencent) or BD-09 (Baidu): every point of a
neighbourhood sits the same 100-700 m (BD-09: up to ~1 km) away from where OSM puts it. Read in
the right system, points sit where such places are: beside the streets and inside mapped
buildings; read in a wrong one they land anywhere. :func:`check_offset` reads the points as each
system in turn and scores, point by point, how much better each reading fits the Area than the
declared (or assumed WGS-84) one:

* **street network**: ``log((d_assumed + 20 m) / (d_reading + 20 m))``, where ``d`` is the
  distance to the nearest walk-network street (:func:`network_distance`); the 20 m keep 2 m vs
  6 m from counting as evidence;
* **buildings**: ``4 x (inside_reading - inside_assumed)``, whether the point falls inside a
  mapped building outline (the Area's ``buildings`` layer; skipped when it has none). Places
  that host stations are inside buildings, and the same places shifted by an offset mostly
  are not. It is the stronger signal: in dense street networks (footways, service roads) a
  random spot is about as close to a street as a shop is (docs/union-data.md has the figures).

The mean over the points is a reading's *score*. A reading wins only when its score exceeds
``2 / sqrt(n)`` (the evidence needed shrinks as points accumulate) *and* beats at least three
quarters of the *control shifts*: the same per-point displacement turned to 11 other
directions, which tell how well an arbitrary shift of that size fits here (near the edge of an
extract, any shift towards the middle fits better; the controls cancel that). Once a reading
wins, the verdict names the best-scoring one.
Those constants were calibrated on the real POIs of the Chinese extracts in ``../shared/osm``
(``benchmarks/bench_datum.py`` prints the false alarms and detections they give).

The verdict (:class:`OffsetCheck`) carries its evidence: the median distance to the street
network and the share inside buildings under each reading, and the ``--crs`` to use. Undeclared
points whose verdict is another system are refused (:attr:`OffsetCheck.refused`); declared ones
only get a warning (the user said what they are).
"""

from __future__ import annotations

import logging
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .coords import CRS_LABELS, CRS_NAMES, check_crs, in_china, to_wgs84
from .lonlat import valid_lonlat
from .problems import RowProblem

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from .area import Area

__all__ = ["OffsetCheck", "check_offset", "network_distance"]

logger = logging.getLogger(__name__)

_PSEUDO_M = 20.0  # metres added to both distances of a ratio
_BUILDING_WEIGHT = 4.0  # one point moving into a building counts as much as e^4 on distance
_THRESHOLD = 2.0  # a reading's score must exceed this / sqrt(n)
_CONTROLS = 12  # directions of the control shifts, the reading's own included
_BEAT = 0.75  # share of control shifts a reading must beat
_SEED = 20240101  # subsampling of large inputs (deterministic)

_BUILDINGS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class OffsetCheck:
    """How well points fit the Area under each coordinate-system reading, and the verdict.

    Attributes
    ----------
    declared
        The system the user declared, or ``None`` when nothing was declared (the points are
        then read as WGS-84, and an offset verdict refuses them).
    assumed
        The reading the points are used in: ``declared``, else ``"wgs84"``.
    median_distance
        Per reading (``wgs84``/``gcj02``/``bd09``): median metres from the points, converted to
        WGS-84 as if in that system, to the nearest street of the walk network.
    in_building
        Per reading: share of the points inside a mapped building; ``None`` when the Area has
        no building outlines.
    score
        Per reading: the evidence that it fits better than ``assumed`` (see the module notes;
        ``0`` for ``assumed`` itself).
    threshold
        The score a reading had to exceed (``2 / sqrt(n_points)``).
    likely
        The reading that fits best: another system when the evidence is clear, else
        ``assumed``; ``None`` when too few points could be compared.
    n_points
        Points compared (inside China, where the offsets exist, and inside the Area).
    close
        Other readings that fit about as well as ``likely`` (within ``threshold`` of its
        score): then the message names them too, and the user has to say which.
    """

    declared: str | None
    assumed: str
    median_distance: dict[str, float]
    in_building: dict[str, float] | None
    score: dict[str, float]
    threshold: float
    likely: str | None
    n_points: int
    close: tuple[str, ...] = ()

    @property
    def suspicious(self) -> bool:
        """Another reading fits markedly better than the one used."""
        return self.likely is not None and self.likely != self.assumed

    @property
    def refused(self) -> bool:
        """Suspicious and undeclared: the import should not go ahead as WGS-84."""
        return self.suspicious and self.declared is None

    def evidence(self) -> str:
        """Median distances (and building shares) as used vs as ``likely``: one clause."""
        other = self.likely or self.assumed
        d = self.median_distance
        text = (
            f"median distance to the street network {d[self.assumed]:.0f} m as "
            f"{'given' if self.declared is None else 'declared'} vs {d[other]:.0f} m read as "
            f"{other}"
        )
        if self.in_building is not None:
            b = self.in_building
            text += (
                f"; inside a mapped building {b[self.assumed]:.0%} vs {b[other]:.0%} of the "
                f"{self.n_points} points"
            )
        return text

    def message(self) -> str:
        """The verdict for a person: what was expected, what the points look like, what to do."""
        other = self.likely or self.assumed
        fits = CRS_LABELS[other] + "".join(f" (or {CRS_LABELS[c]})" for c in self.close)
        options = " or ".join(f"--crs {c}" for c in (other, *self.close))
        if self.declared is None:
            head = (
                f"Expected WGS-84 coordinates (no --crs given), but the {self.n_points} points "
                f"fit the map much better read as {fits}"
            )
            advice = (
                f"declare the system with {options} (or --crs wgs84 if the points are right "
                "as given)"
            )
        else:
            head = (
                f"Expected points in {CRS_LABELS[self.assumed]} as declared, but the "
                f"{self.n_points} points fit the map much better read as {fits}"
            )
            advice = f"check the declaration ({options}?)"
        return f"{head}: {self.evidence()}; {advice}"

    def problem(self) -> RowProblem | None:
        """A whole-file problem (field ``crs``) when :attr:`refused`, else ``None``."""
        return RowProblem(None, "crs", self.message()) if self.refused else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``NaN`` becomes ``None``; metres to 0.1, shares to 0.01)."""

        def clean(values: dict[str, float] | None, digits: int) -> dict[str, float | None] | None:
            if values is None:
                return None
            return {k: None if math.isnan(v) else round(v, digits) for k, v in values.items()}

        return {
            "declared": self.declared,
            "assumed": self.assumed,
            "likely": self.likely,
            "close": list(self.close),
            "refused": self.refused,
            "points": self.n_points,
            "median_distance_m": clean(self.median_distance, 1),
            "in_building": clean(self.in_building, 2),
            "score": clean(self.score, 2),
            "threshold": round(self.threshold, 2),
        }


def network_distance(area: Area, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Metres from projected points (the Area's CRS) to the nearest street of its walk network.

    The one place the datum check and the off-area report measure "distance to the streets":
    to the nearest point of any edge geometry, not to the nearest intersection (Chinese
    superblocks put 300-500 m between those).
    """
    px = np.atleast_1d(np.asarray(x, dtype=float))
    py = np.atleast_1d(np.asarray(y, dtype=float))
    located = area.locate(px, py, network="walk", max_distance=math.inf, projected=True)
    return np.asarray(located.distance, dtype=float)


def _building_tree(area: Area) -> Any:
    """STRtree of the Area's building outlines in its CRS (cached per Area), or ``None``."""
    if area in _BUILDINGS:
        return _BUILDINGS[area]
    import shapely

    layer = (getattr(area, "pois", None) or {}).get("buildings")
    tree = None
    if layer is not None and len(layer):
        tree = shapely.STRtree(np.asarray(layer.to_crs(area.crs).geometry.values))
    _BUILDINGS[area] = tree
    return tree


def _inside(tree: Any, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    import shapely

    hit = np.zeros(x.shape, dtype=float)
    pairs = tree.query(shapely.points(x, y), predicate="within")
    hit[pairs[0]] = 1.0
    return hit


def check_offset(
    lon: ArrayLike,
    lat: ArrayLike,
    area: Area,
    *,
    declared: str | None = None,
    min_points: int = 5,
    max_points: int = 500,
) -> OffsetCheck:
    """Say which coordinate system points fit the Area best, with the evidence.

    Parameters
    ----------
    lon, lat
        The points as given (not converted).
    area
        The Area whose streets (and building outlines) the points should fit.
    declared
        The system the user declared (``wgs84``, ``gcj02``, ``bd09``), or ``None`` when the
        input did not say (read as WGS-84; an offset verdict then makes :attr:`~OffsetCheck.
        refused` true).
    min_points
        With fewer usable points there is no verdict (``likely`` is ``None``).
    max_points
        Larger inputs are checked on a deterministic random sample of this many points.

    Returns
    -------
    OffsetCheck
    """
    assumed: str = check_crs(declared) if declared is not None else "wgs84"
    x = np.atleast_1d(np.asarray(lon, dtype=float)).ravel()
    y = np.atleast_1d(np.asarray(lat, dtype=float)).ravel()
    ok = valid_lonlat(x, y)
    ok &= in_china(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
    x0, y0, x1, y1 = area.bounds
    readings: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    on_map = np.zeros(x.shape, dtype=bool)
    for reading in CRS_NAMES:
        wx, wy = to_wgs84(np.where(ok, x, 0.0), np.where(ok, y, 0.0), reading)
        readings[reading] = (wx, wy)
        on_map |= (wx >= x0) & (wx <= x1) & (wy >= y0) & (wy <= y1)
    keep = np.flatnonzero(ok & on_map)
    if keep.size > max_points:
        keep = np.sort(np.random.default_rng(_SEED).choice(keep, max_points, replace=False))
    n = int(keep.size)
    nan = float("nan")
    if n == 0:
        return OffsetCheck(declared, assumed, dict.fromkeys(CRS_NAMES, nan), None, {}, nan, None, 0)
    tree = _building_tree(area)
    projected = {r: area.project(wx[keep], wy[keep]) for r, (wx, wy) in readings.items()}
    distance = {r: network_distance(area, *xy) for r, xy in projected.items()}
    inside = {r: _inside(tree, *xy) for r, xy in projected.items()} if tree is not None else None
    base_x, base_y = projected[assumed]

    def score(d: NDArray[np.float64], b: NDArray[np.float64] | None) -> float:
        fit = np.log((distance[assumed] + _PSEUDO_M) / (d + _PSEUDO_M))
        if b is not None and inside is not None:
            fit = fit + _BUILDING_WEIGHT * (b - inside[assumed])
        return float(np.mean(fit))

    threshold = _THRESHOLD / math.sqrt(n)
    scores: dict[str, float] = {assumed: 0.0}
    winners = []
    for reading in CRS_NAMES:
        if reading == assumed:
            continue
        scores[reading] = score(distance[reading], None if inside is None else inside[reading])
        dx, dy = projected[reading][0] - base_x, projected[reading][1] - base_y
        controls = []
        for k in range(1, _CONTROLS):
            angle = 2.0 * math.pi * k / _CONTROLS
            cx = base_x + dx * math.cos(angle) - dy * math.sin(angle)
            cy = base_y + dx * math.sin(angle) + dy * math.cos(angle)
            moved = None if tree is None else _inside(tree, cx, cy)
            controls.append(score(network_distance(area, cx, cy), moved))
        beaten = float(np.mean(scores[reading] > np.asarray(controls)))
        if scores[reading] > threshold and beaten >= _BEAT:
            winners.append(reading)
    likely: str | None = None
    close: tuple[str, ...] = ()
    if n >= min_points:
        likely = assumed
        if winners:
            # A shift is there once one reading beats its controls. Name the one that fits
            # best, and any other about as good: BD-09 read as GCJ-02 is already half-way.
            ranked = sorted(scores, key=lambda r: -scores[r])
            likely = ranked[0]
            close = tuple(
                r
                for r in ranked[1:]
                if r != assumed and scores[r] > max(threshold, scores[likely] - threshold)
            )
    return OffsetCheck(
        declared=None if declared is None else assumed,
        assumed=assumed,
        median_distance={r: float(np.median(d)) for r, d in distance.items()},
        in_building=None if inside is None else {r: float(np.mean(v)) for r, v in inside.items()},
        score=scores,
        threshold=threshold,
        likely=likely,
        n_points=n,
        close=close,
    )
