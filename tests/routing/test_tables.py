"""Tables for people: Excel CSV (BOM, CRLF, formula guard), XLSX (text stays text)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from routing.tables import guard_cell, unguard_cell, write_table


def test_excel_csv_has_bom_crlf_and_guards_formulas(tmp_path: Path) -> None:
    """Chinese text survives, formula-like text gets a leading quote, numbers do not."""
    path = tmp_path / "t.csv"
    rows = [["甘露园", '=HYPERLINK("http://x")', "-12.5", "@sum", "+86 10", "-"]]
    write_table(path, ["名称", "a", "b", "c", "d", "e"], rows, excel=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    with path.open(encoding="utf-8-sig", newline="") as fh:
        back = list(csv.reader(fh))
    assert back[1] == ["甘露园", '\'=HYPERLINK("http://x")', "-12.5", "'@sum", "'+86 10", "'-"]
    assert [unguard_cell(v) for v in back[1]] == rows[0]
    plain = tmp_path / "p.csv"
    write_table(plain, ["a"], [["=1+1"]])
    assert plain.read_bytes() == b"a\n=1+1\n"


def test_xlsx_writes_text_never_formulas(tmp_path: Path) -> None:
    """A cell whose text starts with '=' is stored as that text, not run as a formula."""
    path = tmp_path / "t.xlsx"
    write_table(path, ["名称", "值"], [["=1+1", 3.5], ["驿站", None]], sheet="表")
    sheet = load_workbook(path)["表"]
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 3.5 and sheet["A3"].value == "驿站"
    assert guard_cell(3) == 3 and guard_cell("abc") == "abc"
