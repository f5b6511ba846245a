"""Errors and warnings raised by the stations package."""

from __future__ import annotations

from typing import TYPE_CHECKING

from routing._errors import CoordinateError, WarmheartError, WarmheartWarning

if TYPE_CHECKING:
    from routing.problems import RowProblem

    from .io import ImportReport

__all__ = [
    "CoordinateOffsetWarning",
    "DuplicateStationError",
    "FileFormatError",
    "OpeningHoursError",
    "StationCoordinateError",
    "StationImportError",
    "StationNotFoundError",
    "StationValueError",
    "StoreUnavailableError",
    "WarmheartError",
    "WarmheartWarning",
]


class StationValueError(WarmheartError, ValueError):
    """A station field has a value outside its domain.

    Attributes
    ----------
    field
        The offending field name (``"kind"``, ``"amenities"``, ``"lat"``, ...), or ``None``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StationCoordinateError(StationValueError, CoordinateError):
    """A station's longitude or latitude is NaN or out of range."""


class OpeningHoursError(StationValueError):
    """An ``opening_hours`` expression cannot be parsed.

    Attributes
    ----------
    expression
        The text that failed to parse.
    line, column
        1-based position of the parser's complaint (``None`` when the parser gave none).
    """

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, field="opening_hours")
        self.expression = expression
        self.line = line
        self.column = column


class DuplicateStationError(StationValueError):
    """A station id is already taken (in the store or earlier in the same batch).

    Attributes
    ----------
    ids
        The duplicated ids.
    """

    def __init__(self, message: str, *, ids: list[str]) -> None:
        super().__init__(message, field="id")
        self.ids = ids


class StationNotFoundError(WarmheartError, KeyError):
    """No station with the given id is in the store."""

    def __init__(self, station_id: str) -> None:
        super().__init__(station_id)
        self.station_id = station_id

    def __str__(self) -> str:
        return f"Expected an existing station id, got {self.station_id!r} (not in the store)"


class StoreUnavailableError(WarmheartError, ConnectionError):
    """The station database did not answer (down, restarting, unreachable, or busy).

    Raised by the PostGIS store for connection failures, a write that could not take the
    writers' lock in time, or a COMMIT whose answer was lost. The message names the store
    URL without its password. A write that raised this was not acknowledged: retrying it is
    safe once the database is back (an add may then report its id as already taken, if the
    lost answer was for a COMMIT that did reach the server).
    """


class FileFormatError(WarmheartError, ValueError):
    """A file cannot be read as the format it claims (wrong structure, missing columns)."""


class StationImportError(WarmheartError, ValueError):
    """An import found problems; nothing was written.

    Attributes
    ----------
    report
        The :class:`~stations.io.ImportReport` listing every problem by row and field.
    """

    def __init__(self, message: str, *, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report

    @property
    def problems(self) -> list[RowProblem]:
        """The report's problems (as every row-checking error in the project offers)."""
        return self.report.problems


class CoordinateOffsetWarning(WarmheartWarning):
    """Imported points sit where another coordinate system would put them on the road network.

    Typically a station list copied from a Chinese web map (GCJ-02) declared as WGS-84.
    """
