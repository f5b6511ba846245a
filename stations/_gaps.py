"""Gap maps and the street-by-minutes drawing of a coverage.

* :func:`gap_cells` — uncovered demand (the street metres beyond the budget, the points
  whose walk exceeds it, the points off the map) summed into square grid cells of the
  Area's metric CRS and ranked. Layers of different units are ranked together by each
  cell's share of every layer's demand: ``score = sum over layers (uncovered in cell /
  layer total)``, so one layer ranks by its own amounts.
* :func:`street_bands` — every street piece cut exactly where each budget ends, grouped by
  minute band (within the first budget, between the first and the second, ..., beyond the
  last), as WGS-84 polylines.
* :func:`read_districts` — district polygons for per-district coverage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from routing.edges import _ranges

from ._errors import StationValueError
from ._walkmodel import covered_fraction, points_along, street_pieces

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    from .coverage import CoverageModel

__all__ = ["gap_cells", "read_districts", "street_bands"]


def read_districts(value: Any) -> gpd.GeoDataFrame:
    """District polygons with a ``name`` column from a GeoDataFrame or a file (GeoJSON, ...)."""
    import geopandas as gpd

    if isinstance(value, str | Path):
        path = Path(value)
        if not path.is_file():
            msg = f"Expected a districts file (GeoJSON / GeoPackage), got {str(path)!r}"
            raise StationValueError(msg, field="districts")
        try:
            frame = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises assorted types for unreadable files
            msg = f"Expected a readable districts file, got {path.name}: {exc}"
            raise StationValueError(msg, field="districts") from None
    elif isinstance(value, gpd.GeoDataFrame):
        frame = value
    else:
        msg = f"Expected districts as a GeoDataFrame or a file path, got {type(value).__name__}"
        raise StationValueError(msg, field="districts")
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    polygonal = frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if len(frame) == 0 or not bool(polygonal.all()):
        msg = (
            "Expected districts to be (Multi)Polygons, got "
            f"{sorted(set(frame.geometry.geom_type)) or 'nothing'}"
        )
        raise StationValueError(msg, field="districts")
    if "name" not in frame.columns:
        frame = frame.assign(name=[f"district {i + 1}" for i in range(len(frame))])
    return frame.reset_index(drop=True)


def _uncovered_streets(
    model: CoverageModel, budget_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Midpoint (x, y) and metres of every street part beyond ``budget_s``."""
    m = model.model
    pieces = street_pieces(m, model._bp, model.dist)
    back, ahead = covered_fraction(m, pieces, budget_s)
    lo, hi = pieces.a + back, pieces.b - ahead
    keep = hi - lo > 1e-12
    street = pieces.street[keep]
    x, y = points_along(m.table, m.streets[street], 0.5 * (lo[keep] + hi[keep]))
    return x, y, (hi[keep] - lo[keep]) * m.length[street]


def gap_cells(
    model: CoverageModel, *, minutes: float | None = None, cell_m: float = 400.0, top: int = 20
) -> list[dict[str, Any]]:
    """The ``top`` grid cells holding the most uncovered demand at ``minutes``.

    Each gap: ``rank``, ``score`` (see the module notes), the cell as a WGS-84 ring
    (``polygon``), its centre (``lon``, ``lat``) and per layer the uncovered amount and its
    share of the layer.
    """
    if not (np.isfinite(cell_m) and 10.0 <= cell_m <= 10_000.0):
        msg = f"Expected cell_m in [10, 10000] metres, got {cell_m!r}"
        raise StationValueError(msg, field="cell_m")
    minute = max(model.minutes) if minutes is None else float(minutes)
    if minute not in model.minutes:
        msg = f"Expected minutes to be one of the budgets {list(model.minutes)}, got {minutes!r}"
        raise StationValueError(msg, field="minutes")
    budget = minute * 60.0
    parts: list[tuple[str, float, NDArray[np.float64], NDArray[np.float64], NDArray[Any]]] = []
    if model.streets:
        x, y, w = _uncovered_streets(model, budget)
        parts.append(("streets", float(model.model.length.sum()), x, y, w))
    for layer in model.points:
        far = ~(layer.time <= budget)
        if not far.any():
            continue
        d = layer.demand
        x, y = model.area.project(d.lon[far], d.lat[far])
        parts.append((d.name, float(d.weight.sum()), x, y, d.weight[far]))
    if not parts:
        return []
    x0 = min(float(p[2].min()) for p in parts if p[2].size)
    y0 = min(float(p[3].min()) for p in parts if p[3].size)
    cells: dict[str, dict[int, float]] = {}
    for name, _total, x, y, w in parts:
        ix = np.floor((x - x0) / cell_m).astype(np.int64)  # >= 0: x0 is the minimum
        iy = np.floor((y - y0) / cell_m).astype(np.int64)
        uniq, inv = np.unique(ix * 1_000_003 + iy, return_inverse=True)
        sums = np.bincount(inv, w)
        cells[name] = dict(zip(uniq.tolist(), sums.tolist(), strict=True))
    score: dict[int, float] = {}
    for name, total, *_ in parts:
        for cell, amount in cells[name].items():
            score[cell] = score.get(cell, 0.0) + (amount / total if total > 0 else 0.0)
    ranked = sorted(score.items(), key=lambda kv: -kv[1])[: max(int(top), 0)]
    gaps = []
    for rank, (cell, value) in enumerate(ranked, start=1):
        col, row = divmod(cell, 1_000_003)
        cx0, cy0 = x0 + col * cell_m, y0 + row * cell_m
        ring_x = np.array([cx0, cx0 + cell_m, cx0 + cell_m, cx0, cx0])
        ring_y = np.array([cy0, cy0, cy0 + cell_m, cy0 + cell_m, cy0])
        lon, lat = model.area.unproject(ring_x, ring_y)
        clon, clat = model.area.unproject(cx0 + cell_m / 2, cy0 + cell_m / 2)
        layers = {}
        for name, total, *_ in parts:
            amount = cells[name].get(cell, 0.0)
            layers[name] = {
                "uncovered": round(amount, 3),
                "share_of_layer": round(amount / total, 6) if total > 0 else 0.0,
            }
        gaps.append(
            {
                "rank": rank,
                "score": round(value, 6),
                "lon": round(float(np.ravel(clon)[0]), 6),
                "lat": round(float(np.ravel(clat)[0]), 6),
                "polygon": [
                    [round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)
                ],
                "layers": layers,
            }
        )
    return gaps


def street_bands(
    model: CoverageModel,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    max_pieces: int | None = None,
) -> list[list[NDArray[np.float64]]]:
    """Street pieces as WGS-84 polylines by minute band (``len(minutes) + 1`` bands).

    Band ``k`` holds the parts whose walk to the nearest station is within budget ``k`` but
    not budget ``k - 1``; the last band the parts beyond every budget. Pieces are cut
    exactly where each budget ends. ``bbox`` (lon/lat) keeps streets with an end inside it.

    Raises
    ------
    StationValueError
        More than ``max_pieces`` pieces would be drawn (ask for a smaller bbox).
    """
    m = model.model
    streets = np.arange(m.m, dtype=np.int64)
    if bbox is not None:
        lonlat = m.table.lonlat
        first = lonlat[m.table.ptr[m.streets]]
        last = lonlat[m.table.ptr[m.streets + 1] - 1]

        def inside(p: NDArray[np.float64]) -> NDArray[np.bool_]:
            return (
                (p[:, 0] >= bbox[0]) & (p[:, 0] <= bbox[2]) & (p[:, 1] >= bbox[1])
                & (p[:, 1] <= bbox[3])
            )  # fmt: skip

        streets = streets[inside(first) | inside(last)]
    pieces = street_pieces(m, model._bp, model.dist, streets)
    span = pieces.b - pieces.a
    tb, tf = m.tb[pieces.street], m.tf[pieces.street]
    # where walking back to a and on to b take equally long: each side owns its part
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = (pieces.db + span * tf - pieces.da) / (tb + tf)
    cross = np.where(~np.isfinite(pieces.da) | ~np.isfinite(tb), 0.0, cross)
    only_back = ~np.isfinite(pieces.db) & np.isfinite(pieces.da) & np.isfinite(tb)
    cross = np.where(only_back, span, cross)
    cross = np.clip(np.nan_to_num(cross, nan=0.0), 0.0, span)
    cuts_left = [np.zeros(span.size)]
    cuts_right = [np.zeros(span.size)]
    for minute in model.minutes:
        with np.errstate(invalid="ignore", divide="ignore"):
            back = np.nan_to_num((minute * 60.0 - pieces.da) / tb, nan=0.0, neginf=0.0)
            ahead = np.nan_to_num((minute * 60.0 - pieces.db) / tf, nan=0.0, neginf=0.0)
        cuts_left.append(np.clip(back, 0.0, cross))
        cuts_right.append(np.clip(ahead, 0.0, span - cross))
    n_bands = len(model.minutes) + 1
    out_street, out_f0, out_f1, out_band = [], [], [], []
    for k in range(1, n_bands):
        for cuts, from_left in ((cuts_left, True), (cuts_right, False)):
            lo, hi = cuts[k - 1], cuts[k]
            keep = hi - lo > 1e-9
            if from_left:
                f0, f1 = pieces.a + lo, pieces.a + hi
            else:
                f0, f1 = pieces.b - hi, pieces.b - lo
            out_street.append(pieces.street[keep])
            out_f0.append(f0[keep])
            out_f1.append(f1[keep])
            out_band.append(np.full(int(keep.sum()), k - 1))
    lo = pieces.a + cuts_left[-1]
    hi = pieces.b - cuts_right[-1]
    keep = hi - lo > 1e-9
    out_street.append(pieces.street[keep])
    out_f0.append(lo[keep])
    out_f1.append(hi[keep])
    out_band.append(np.full(int(keep.sum()), n_bands - 1))
    street = np.concatenate(out_street)
    f0, f1, band = np.concatenate(out_f0), np.concatenate(out_f1), np.concatenate(out_band)
    if max_pieces is not None and street.size > max_pieces:
        msg = (
            f"Expected at most {max_pieces} street pieces to draw, got {street.size}: "
            "ask for a smaller bbox"
        )
        raise StationValueError(msg, field="bbox")
    lines = cut_polylines(model, m.streets[street], f0, f1)
    bands: list[list[NDArray[np.float64]]] = [[] for _ in range(n_bands)]
    for b, line in zip(band.tolist(), lines, strict=True):
        bands[b].append(line)
    return bands


def cut_polylines(
    model: CoverageModel, edge: NDArray[np.intp], f0: NDArray[np.float64], f1: NDArray[np.float64]
) -> list[NDArray[np.float64]]:
    """WGS-84 points of each edge between fractions ``f0 < f1`` (vectorised)."""
    table = model.model.table
    if edge.size == 0:
        return []
    total = table.geometry_m[edge]
    s0, s1 = f0 * total, f1 * total
    # every vertex strictly inside (s0, s1): a global key cum + base[edge] is sorted
    counts = np.diff(table.ptr)
    base = np.concatenate([[0.0], np.cumsum(table.geometry_m + 1.0)[:-1]])
    key = table.cum + np.repeat(base, counts)
    lo = np.searchsorted(key, base[edge] + s0, side="right")
    hi = np.searchsorted(key, base[edge] + s1, side="left")
    lo = np.maximum(lo, table.ptr[edge])
    hi = np.minimum(hi, table.ptr[edge + 1])
    inner = np.maximum(hi - lo, 0)
    ax, ay = points_along(table, edge, f0, lonlat=True)
    bx, by = points_along(table, edge, f1, lonlat=True)
    take = _ranges(lo.astype(np.int64), inner.astype(np.int64))
    mids = table.lonlat[take]
    splits = np.cumsum(inner)[:-1]
    parts = np.split(mids, splits)
    return [np.vstack([[ax[i], ay[i]], parts[i], [bx[i], by[i]]]) for i in range(edge.size)]
