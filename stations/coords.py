"""Coordinate systems of station lists: re-exported from :mod:`routing.coords` and
:mod:`routing.datum` (the code moved down so the shuttle readers share it).

``check_crs`` here raises :class:`~stations._errors.StationValueError` (field ``crs``), as the
station readers expect.
"""

from __future__ import annotations

from routing._errors import CoordinateError
from routing.coords import CRS_LABELS as CRS_LABELS
from routing.coords import CRS_NAMES as CRS_NAMES
from routing.coords import Crs
from routing.coords import bd09_to_gcj02 as bd09_to_gcj02
from routing.coords import bd09_to_wgs84 as bd09_to_wgs84
from routing.coords import check_crs as _check_crs
from routing.coords import gcj02_to_bd09 as gcj02_to_bd09
from routing.coords import gcj02_to_wgs84 as gcj02_to_wgs84
from routing.coords import in_china as in_china
from routing.coords import to_wgs84 as to_wgs84
from routing.coords import wgs84_to_bd09 as wgs84_to_bd09
from routing.coords import wgs84_to_gcj02 as wgs84_to_gcj02
from routing.datum import OffsetCheck as OffsetCheck
from routing.datum import check_offset as check_offset

from ._errors import StationValueError

__all__ = [
    "CRS_LABELS",
    "CRS_NAMES",
    "OffsetCheck",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_crs",
    "check_offset",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]


def check_crs(crs: str) -> Crs:
    """Normalise a declared coordinate system name (see :func:`routing.coords.check_crs`)."""
    try:
        return _check_crs(crs)
    except CoordinateError as exc:
        raise StationValueError(str(exc), field="crs") from None
