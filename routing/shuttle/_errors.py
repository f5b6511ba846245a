"""Errors and warnings raised by the shuttle planner."""

from __future__ import annotations

from routing.problems import RowProblem, format_problems

__all__ = [
    "InputProblem",
    "ShuttleInputError",
    "ShuttleSettingsError",
    "ShuttleWarning",
]

#: The row-problem record of the shuttle readers: :class:`routing.problems.RowProblem`
#: (this name is kept for code written against it).
InputProblem = RowProblem


class ShuttleSettingsError(ValueError):
    """A planner setting is missing, negative, non-numeric or inconsistent."""


class ShuttleInputError(ValueError):
    """Riders or fleet input is malformed. ``problems`` lists every bad row and field."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        self.problems: list[RowProblem] = list(problems or [])
        if self.problems:
            message = f"{message}\n{format_problems(self.problems)}"
        super().__init__(message)


class ShuttleWarning(UserWarning):
    """Suspicious but workable shuttle input (duplicate rider ids dropped, ...)."""
