"""One row-problem record for every input reader, and one way to print and serialise it.

Every reader that checks an input row by row (station imports, shuttle riders and fleets,
existing lines, plan directories) reports what is wrong as :class:`RowProblem` objects:
where (``row``, ``field``) and what (``problem``). They are collected, never raised one at a
time, so a user fixes a file in one pass. :func:`format_problems` is the one text form (CLI
output and exception messages); :meth:`RowProblem.to_dict` / :func:`problems_to_dicts` the
one JSON form (``--json`` and HTTP bodies).

Rows count *data* records from 1: for a CSV or spreadsheet, row 1 is the first line after the
header; for GeoJSON, the first feature. ``row=None`` is a problem of the whole file (a missing
column, an undeclared coordinate system).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["RowProblem", "format_problems", "problems_to_dicts"]


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one row (or the whole file) of an input.

    Attributes
    ----------
    row
        1-based data row (see the module notes), or ``None`` for the whole file.
    field
        The field (canonical name, e.g. ``lat``, ``opening_hours``) or ``None`` when the
        problem is not about one field.
    problem
        What is wrong, written for the person who will fix the file: what was expected and
        what came.
    """

    row: int | None
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        return f"{where}, {self.field or '-'}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        """``{"row": ..., "field": ..., "problem": ...}`` (``None`` stays ``null``)."""
        return {"row": self.row, "field": self.field, "problem": self.problem}


def problems_to_dicts(problems: Iterable[RowProblem]) -> list[dict[str, Any]]:
    """JSON-ready list of problems, in order (see :meth:`RowProblem.to_dict`)."""
    return [p.to_dict() for p in problems]


def format_problems(
    problems: Iterable[RowProblem],
    *,
    label: str = "",
    limit: int | None = 50,
    indent: str = "  ",
) -> str:
    """Problems as text, one per line: ``<indent><label> row 3, lat: Expected ...``.

    Parameters
    ----------
    problems
        In the order to show them.
    label
        A word put before each line (``"error"``, ``"warning"``), padded to line up.
    limit
        Show at most this many, then ``... and N more``; ``None`` shows all.
    indent
        Put before every line.

    Returns
    -------
    str
        The lines joined by newlines (empty for no problems).
    """
    items = list(problems)
    shown = items if limit is None else items[:limit]
    head = f"{indent}{label:<7} " if label else indent
    lines = [f"{head}{p}" for p in shown]
    if len(items) > len(shown):
        lines.append(f"{indent}... and {len(items) - len(shown)} more")
    return "\n".join(lines)
