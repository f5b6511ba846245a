"""Errors and warnings raised by the shuttle planner."""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import SettingsError, WarmheartError, WarmheartWarning

__all__ = [
    "InputProblem",
    "ShuttleInputError",
    "ShuttleSettingsError",
    "ShuttleWarning",
]


#: A planner setting is missing, negative, non-numeric or inconsistent: the one settings error
#: of the project (:class:`routing.SettingsError`), under the name the planner always used.
ShuttleSettingsError = SettingsError


@dataclass(frozen=True)
class InputProblem:
    """One problem found in one row of an input file (``row`` counts data rows from 1)."""

    row: int
    field: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.problem}"


class ShuttleInputError(WarmheartError, ValueError):
    """Riders or fleet input is malformed. ``problems`` lists every bad row and field."""

    def __init__(self, message: str, problems: list[InputProblem] | None = None) -> None:
        self.problems: list[InputProblem] = list(problems or [])
        if self.problems:
            shown = "\n".join(f"  {p}" for p in self.problems[:50])
            more = len(self.problems) - 50
            tail = f"\n  ... and {more} more" if more > 0 else ""
            message = f"{message}\n{shown}{tail}"
        super().__init__(message)


class ShuttleWarning(WarmheartWarning):
    """Suspicious but workable shuttle input (duplicate rider ids dropped, ...)."""
