"""Compiled raster step of the isochrones (numba): street pieces to a distance field.

:func:`paint_pieces` writes, into every grid node within ``reach`` metres of a street piece,
the exact Euclidean distance from the node to the nearest piece painted so far (a running
minimum). A piece is a stretch ``[start, end]`` (metres from the tail) of an edge's flat
geometry (``ptr`` / ``xy`` / ``cum`` of :class:`routing.edges.EdgeTable`); each of its
straight segments is clipped to the stretch and painted column by column over the band of
the segment, so the work grows with the painted street length, not with the grid.

:class:`Grid` holds the field and traces it at the buffer width with contourpy; because it
holds true distances, the linear interpolation of the contour places the boundary between
grid nodes to well under a cell.

The functions are compiled on first call and cached on disk (``cache=True``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from routing.edges import EdgeTable

__all__ = ["Grid", "paint_pieces", "paint_segment"]


@njit(cache=True, nogil=True)
def paint_segment(
    field: NDArray[np.float64],
    x0: float,
    y0: float,
    cell: float,
    ax: float,
    ay: float,
    bx: float,
    by: float,
    reach: float,
    radius: float = 0.0,
) -> None:
    """Lower ``field`` to the squared distance from each grid node to the segment ``a -> b``.

    Grid node ``field[j, i]`` sits at ``(x0 + i * cell, y0 + j * cell)``; only nodes within
    ``reach`` of the segment are visited. With ``radius > 0`` the segment is a band that
    wide on either side (a disc for ``a == b``): distances are measured from its edge.
    """
    ny, nx = field.shape
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    reach = reach + radius
    i0 = max(0, math.ceil((min(ax, bx) - reach - x0) / cell))
    i1 = min(nx - 1, math.floor((max(ax, bx) + reach - x0) / cell))
    for i in range(i0, i1 + 1):
        cx = x0 + i * cell
        # the part of the segment within reach of this column bounds the rows to visit
        if dx != 0.0:
            t_a = (cx - reach - ax) / dx
            t_b = (cx + reach - ax) / dx
            t_lo = max(0.0, min(t_a, t_b))
            t_hi = min(1.0, max(t_a, t_b))
        else:
            t_lo, t_hi = 0.0, 1.0
        y_a, y_b = ay + t_lo * dy, ay + t_hi * dy
        j0 = max(0, math.ceil((min(y_a, y_b) - reach - y0) / cell))
        j1 = min(ny - 1, math.floor((max(y_a, y_b) + reach - y0) / cell))
        for j in range(j0, j1 + 1):
            cy = y0 + j * cell
            t = ((cx - ax) * dx + (cy - ay) * dy) / ll if ll > 0.0 else 0.0
            t = min(1.0, max(0.0, t))
            ex = ax + t * dx - cx
            ey = ay + t * dy - cy
            d2 = ex * ex + ey * ey
            if radius > 0.0:
                d2 = max(0.0, math.sqrt(d2) - radius) ** 2
            if d2 < field[j, i]:
                field[j, i] = d2


@njit(cache=True, nogil=True)
def paint_pieces(
    field: NDArray[np.float64],
    x0: float,
    y0: float,
    cell: float,
    edge: NDArray[np.intp],
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    ptr: NDArray[np.int64],
    xy: NDArray[np.float64],
    cum: NDArray[np.float64],
    reach: float,
) -> None:
    """Paint the stretch ``[start[k], end[k]]`` (metres from the tail) of each ``edge[k]``.

    Stretches with ``end < start`` are skipped; a stretch of zero length paints its point.
    """
    for k in range(edge.size):
        e = edge[k]
        s0, s1 = start[k], end[k]
        if s1 < s0:
            continue
        for p in range(ptr[e], ptr[e + 1] - 1):
            c0, c1 = cum[p], cum[p + 1]
            if c1 < s0 or c0 > s1:
                continue
            ax, ay = xy[p, 0], xy[p, 1]
            bx, by = xy[p + 1, 0], xy[p + 1, 1]
            seg = c1 - c0
            if seg > 0.0:
                t0 = max(0.0, (s0 - c0) / seg)
                t1 = min(1.0, (s1 - c0) / seg)
                px, py = ax + t0 * (bx - ax), ay + t0 * (by - ay)
                qx, qy = ax + t1 * (bx - ax), ay + t1 * (by - ay)
            else:
                px, py, qx, qy = ax, ay, bx, by
            paint_segment(field, x0, y0, cell, px, py, qx, qy, reach)


@dataclass(eq=False)
class Grid:
    """A distance field over a rectangle of the Area's CRS, contoured at ``level`` metres.

    Grid node ``field[j, i]`` sits at ``(x0 + i * cell, y0 + j * cell)`` and holds the
    *squared* distance to the nearest piece painted so far, capped at ``reach²``. Every node
    of a grid quad that the contour at ``level`` crosses lies within ``level + 1.5 * cell``
    of a piece (distances change by at most a quad's diagonal across it), so painting out to
    ``reach = level + 1.5 * cell`` makes the field exact wherever the contour is traced.
    """

    field: NDArray[np.float64]
    x0: float
    y0: float
    cell: float
    level: float
    reach: float

    @classmethod
    def around(
        cls,
        boxes: NDArray[np.float64],
        origin: tuple[float, float],
        *,
        level: float,
        cell: float,
        max_cells: int,
        hard_max_cells: int,
    ) -> Grid:
        """The grid covering ``boxes`` (``(k, 4)`` min x, min y, max x, max y) and ``origin``.

        ``cell`` grows when the extent would need more than ``max_cells`` nodes a side, but
        never beyond ``level / 2`` (a coarser grid would lose the band); up to
        ``hard_max_cells`` nodes a side are used to keep it there.

        Raises
        ------
        ValueError
            The extent needs more than ``hard_max_cells`` nodes a side at ``level / 2``.
        """
        lo, hi = _bounds(boxes, origin)
        extent = float((hi - lo).max() + 2 * level)
        cell = max(cell, extent / (max_cells - 8))
        if cell > level / 2:
            cell = level / 2
            if extent / cell > hard_max_cells - 8:
                msg = (
                    f"Expected a buffer of at least {2 * extent / (hard_max_cells - 8):.1f} m "
                    f"for an isochrone {extent / 1000:.1f} km across, got {level:g} m"
                )
                raise ValueError(msg)
        reach = level + 1.5 * cell
        margin = reach + cell  # the border holds the cap: every contour closes inside
        x0 = math.floor((lo[0] - margin) / cell) * cell
        y0 = math.floor((lo[1] - margin) / cell) * cell
        nx = math.ceil((hi[0] + margin - x0) / cell) + 1
        ny = math.ceil((hi[1] + margin - y0) / cell) + 1
        field = np.full((ny, nx), reach * reach, dtype=np.float64)
        return cls(field, x0, y0, cell, level, reach)

    def paint(
        self,
        table: EdgeTable,
        edge: NDArray[np.intp],
        start: NDArray[np.float64],
        end: NDArray[np.float64],
    ) -> None:
        """Paint the stretch ``[start[k], end[k]]`` (metres from the tail) of each ``edge[k]``."""
        paint_pieces(
            self.field,
            self.x0,
            self.y0,
            self.cell,
            np.ascontiguousarray(edge, dtype=np.intp),
            np.ascontiguousarray(start, dtype=np.float64),
            np.ascontiguousarray(end, dtype=np.float64),
            table.ptr,
            table.xy,
            table.cum,
            self.reach,
        )

    def paint_segment(
        self, a: tuple[float, float], b: tuple[float, float], *, radius: float = 0.0
    ) -> None:
        """Paint the straight segment ``a -> b``, widened by ``radius`` (a disc if ``a == b``)."""
        paint_segment(self.field, self.x0, self.y0, self.cell, *a, *b, self.reach, radius)

    def contour(
        self,
        boxes: NDArray[np.float64],
        origin: tuple[float, float],
        *,
        fill_holes_m2: float,
        simplify_m: float,
    ) -> shapely.Geometry:
        """The region closer than ``level`` to a painted piece, within ``boxes``' window.

        Traced with contourpy (filled contour, linear interpolation between grid nodes);
        holes smaller than ``fill_holes_m2`` are dropped and the boundary simplified
        (Douglas-Peucker, ``simplify_m``). A Polygon, or a MultiPolygon of several parts.
        """
        import contourpy

        lo, hi = _bounds(boxes, origin)
        margin = self.reach + self.cell
        ny, nx = self.field.shape
        i0 = max(0, math.floor((lo[0] - margin - self.x0) / self.cell))
        j0 = max(0, math.floor((lo[1] - margin - self.y0) / self.cell))
        i1 = min(nx, math.ceil((hi[0] + margin - self.x0) / self.cell) + 1)
        j1 = min(ny, math.ceil((hi[1] + margin - self.y0) / self.cell) + 1)
        z = np.sqrt(self.field[j0:j1, i0:i1])
        gen = contourpy.contour_generator(
            z=z, name="serial", fill_type=contourpy.FillType.ChunkCombinedOffsetOffset
        )
        points, offsets, outer = (
            cast("NDArray[Any] | None", part[0]) for part in gen.filled(-1.0, self.level)
        )
        if points is None or offsets is None or outer is None:
            return shapely.Polygon()
        area = _ring_areas(points, offsets) * self.cell**2
        keep = area >= fill_holes_m2
        keep[outer[:-1]] = True  # exterior rings always stay
        if not keep.all():
            sizes = np.diff(offsets)
            points = points[np.repeat(keep, sizes)]
            per_polygon = np.add.reduceat(keep.astype(np.int64), outer[:-1])
            offsets = np.concatenate([[0], np.cumsum(sizes[keep])])
            outer = np.concatenate([[0], np.cumsum(per_polygon)])
        xy = points * self.cell + np.array([self.x0 + i0 * self.cell, self.y0 + j0 * self.cell])
        geom = shapely.from_ragged_array(
            shapely.GeometryType.MULTIPOLYGON, xy, (offsets, outer, np.array([0, outer.size - 1]))
        )[0]
        simple = shapely.simplify(geom, simplify_m, preserve_topology=False)
        if simple.is_empty or not simple.is_valid:  # rare: Douglas-Peucker folded a ring
            simple = shapely.simplify(geom, simplify_m, preserve_topology=True)
        if isinstance(simple, shapely.MultiPolygon) and len(simple.geoms) == 1:
            return simple.geoms[0]
        return simple


def _bounds(
    boxes: NDArray[np.float64], origin: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower-left and upper-right corner of ``boxes`` and ``origin`` together."""
    ox, oy = origin
    lo = np.array([boxes[:, 0].min(initial=ox), boxes[:, 1].min(initial=oy)])
    hi = np.array([boxes[:, 2].max(initial=ox), boxes[:, 3].max(initial=oy)])
    return lo, hi


def _ring_areas(points: NDArray[np.float64], offsets: NDArray[Any]) -> NDArray[np.float64]:
    """Unsigned area of each ring ``points[offsets[r]:offsets[r + 1]]`` (shoelace)."""
    sizes = np.diff(offsets)
    ring = np.repeat(np.arange(sizes.size), sizes)
    nxt = np.arange(points.shape[0]) + 1
    nxt[offsets[1:] - 1] = offsets[:-1]  # each ring's last point joins its first
    x, y = points[:, 0], points[:, 1]
    cross = x * y[nxt] - x[nxt] * y
    return np.asarray(0.5 * np.abs(np.bincount(ring, cross, minlength=sizes.size)))
