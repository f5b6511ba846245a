"""The coordinate systems a point list may be in: names only, no numerics imported here.

The command line offers these names at start-up; the conversions are in
:mod:`routing.coords`.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["CRS_LABELS", "CRS_NAMES", "Crs"]

Crs = Literal["wgs84", "gcj02", "bd09"]
#: Coordinate systems an import can declare.
CRS_NAMES: tuple[str, ...] = get_args(Crs)
#: How to name each system to a user (where such coordinates come from).
CRS_LABELS = {
    "wgs84": "WGS-84 (OSM, GPS)",
    "gcj02": "GCJ-02 (Amap, Tencent)",
    "bd09": "BD-09 (Baidu)",
}
