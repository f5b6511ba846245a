"""Tables for people: CSV that Excel and WPS open with Chinese text intact, and XLSX.

Exports people open in a spreadsheet (station lists, plan timetables and assignments,
coverage tables) go through :func:`write_table`: ``.xlsx`` by suffix (one sheet, bold frozen
header, widths fitted to the text), else CSV in UTF-8 — with ``excel=True`` a byte-order mark,
which Excel and WPS need to read UTF-8 instead of the system code page, and CRLF line ends.
Files are written to a temporary sibling and moved into place.

Spreadsheets run text that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV
injection). XLSX cells are always written as text where the value is text; in ``excel`` CSV
such text gets a leading ``'`` (which Excel hides), and :func:`unguard_cell` takes it off
again when warmheart reads the file back.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["guard_cell", "replace_atomically", "unguard_cell", "write_table", "write_xlsx"]

_FORMULA = re.compile(r"^[=+@\t\r]|^-(?![\d.])")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def guard_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, with a leading ``'``; anything else as is."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.match(value):
        return "'" + value
    return value


def unguard_cell(value: Any) -> Any:
    """Undo :func:`guard_cell` (``'=x`` back to ``=x``); other values unchanged."""
    if isinstance(value, str) and value.startswith("'") and _FORMULA.match(value[1:]):
        return value[1:]
    return value


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then move it into place.

    A failed write leaves ``path`` as it was (or absent); the temporary file and any SQLite
    ``-wal``/``-shm`` sidecars a writer left are removed either way.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(
    path: str | os.PathLike[str],
    sheets: Mapping[str, tuple[Sequence[str], Iterable[Sequence[Any]]]],
) -> None:
    """Write sheets ``{name: (columns, rows)}`` to an XLSX workbook (text stays text)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    def write(tmp: Path) -> None:
        book = Workbook(write_only=True)
        for title, (columns, rows) in sheets.items():
            sheet = book.create_sheet(title=title[:31])
            sheet.freeze_panes = "A2"
            table = [list(r) for r in rows]
            widths = [
                min(60, max([_width(c), *(_width(r[i]) for r in table if i < len(r))]) + 2)
                for i, c in enumerate(columns)
            ]
            for i, w in enumerate(widths):
                letter = _column_letter(i)
                sheet.column_dimensions[letter].width = w
            header = []
            for name in columns:
                cell = WriteOnlyCell(sheet, value=str(name))
                cell.font = Font(bold=True)
                header.append(cell)
            sheet.append(header)
            for row in table:
                cells = []
                for value in row:
                    if isinstance(value, float) and not math.isfinite(value):
                        value = None
                    cell = WriteOnlyCell(sheet, value=value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # never a formula, whatever the text starts with
                    cells.append(cell)
                sheet.append(cells)
        book.save(tmp)

    replace_atomically(path, write)


def _column_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(i + 1))


def write_table(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    excel: bool = False,
    sheet: str = "Sheet1",
) -> None:
    """Write one table as ``.xlsx`` (by suffix) or CSV (``excel=True``: BOM, CRLF, guarded).

    Parameters
    ----------
    path
        The file; ``.xlsx`` writes a workbook, anything else CSV.
    columns
        Header row.
    rows
        Records, one value per column (``None`` is an empty cell).
    excel
        CSV for Excel/WPS: UTF-8 with a byte-order mark, CRLF line ends, formula-like text
        guarded (see :func:`guard_cell`). Otherwise plain UTF-8 with LF.
    sheet
        Sheet name of an ``.xlsx``.
    """
    file = Path(path)
    if file.suffix.lower() == ".xlsx":
        write_xlsx(file, {sheet: (columns, rows)})
        return

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n" if excel else "\n")
            writer.writerow(columns)
            for row in rows:
                cells = ["" if v is None else v for v in row]
                writer.writerow([guard_cell(v) for v in cells] if excel else cells)

    replace_atomically(file, write)
