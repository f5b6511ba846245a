"""Errors and warnings raised by the shuttle planner."""

from __future__ import annotations

from routing.problems import RowProblem, format_problems

from .._errors import SettingsError, WarmheartError, WarmheartWarning

__all__ = [
    "InputProblem",
    "ShuttleInputError",
    "ShuttleSettingsError",
    "ShuttleWarning",
]

#: The row-problem record of the shuttle readers: :class:`routing.problems.RowProblem`
#: (this name is kept for code written against it).
InputProblem = RowProblem


#: A planner setting is missing, negative, non-numeric or inconsistent: the one settings error
#: of the project (:class:`routing.SettingsError`), under the name the planner always used.
ShuttleSettingsError = SettingsError


class ShuttleInputError(WarmheartError, ValueError):
    """Riders or fleet input is malformed. ``problems`` lists every bad row and field."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        self.problems: list[RowProblem] = list(problems or [])
        if self.problems:
            message = f"{message}\n{format_problems(self.problems)}"
        super().__init__(message)


class ShuttleWarning(WarmheartWarning):
    """Suspicious but workable shuttle input (duplicate rider ids dropped, ...)."""
