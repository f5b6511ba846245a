"""The nearest-segment grid index as data (no numba): what a cache entry stores and reloads.

The compiled search over it is :mod:`routing._segments`; keeping the dataclass here lets an
Area reload without importing numba until it first locates a point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["SegmentIndex"]


@dataclass(frozen=True, eq=False)
class SegmentIndex:
    """Segments ``a -> b`` (projected metres) and the grid cells that list them."""

    ax: NDArray[np.float64]
    ay: NDArray[np.float64]
    bx: NDArray[np.float64]
    by: NDArray[np.float64]
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    cell_ptr: NDArray[np.int64]
    cell_seg: NDArray[np.int32]
