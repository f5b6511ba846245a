"""A plan's tables for people: an XLSX workbook, or CSV that Excel/WPS open with Chinese intact."""

from __future__ import annotations

import csv
from pathlib import Path

from _shuttle_plans import make_plan
from click.testing import CliRunner
from openpyxl import load_workbook

from routing.shuttle.export import plan_tables, write_plan, write_plan_tables
from webmap.cli import main


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_excel_csv_tables_match_the_plan_files(tmp_path: Path) -> None:
    """The Excel CSVs carry a BOM and read back (BOM-aware) equal to the plan directory's files."""
    plan = make_plan()
    plan_dir = write_plan(plan, tmp_path / "plan")
    written = write_plan_tables(plan, tmp_path / "for-excel")
    assert [p.name for p in written] == [
        "timetable.csv",
        "vehicles.csv",
        "assignments.csv",
        "unserved.csv",
    ]
    for path in written:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        assert _rows(path) == _rows(plan_dir / path.name)


def test_xlsx_has_one_sheet_per_table_with_the_same_cells(tmp_path: Path) -> None:
    """The workbook's sheets hold the same header and values as the plan's tables."""
    plan = make_plan()
    book_path = write_plan_tables(plan, tmp_path / "plan.xlsx")[0]
    book = load_workbook(book_path, read_only=True)
    tables = plan_tables(plan)
    assert book.sheetnames == list(tables)
    for name, (columns, rows) in tables.items():
        cells = list(book[name].iter_rows(values_only=True))
        assert list(cells[0]) == list(columns)
        assert len(cells) - 1 == len(rows)
        for got, want in zip(cells[1:], rows, strict=True):
            padded = list(got) + [None] * (len(want) - len(got))
            assert padded == [None if v == "" else v for v in want]


def test_shuttles_export_tables_option(tmp_path: Path) -> None:
    """`warmheart shuttles export --plan DIR --tables FILE.xlsx` writes the workbook only."""
    plan_dir = write_plan(make_plan(), tmp_path / "plan")
    out = tmp_path / "班车.xlsx"
    result = CliRunner().invoke(
        main, ["shuttles", "export", "--plan", str(plan_dir), "--tables", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and "Wrote" in result.output
    nothing = CliRunner().invoke(main, ["shuttles", "export", "--plan", str(plan_dir)])
    assert nothing.exit_code == 2 and "--gtfs FILE.zip or --tables" in nothing.output


def test_planner_csv_download_is_for_excel_and_guards_formulas() -> None:
    """The planner page's timetable CSV: BOM, CRLF, and a stop name that starts like a
    formula (OSM text) written with a leading ``'`` so the spreadsheet shows it as text."""
    from dataclasses import replace

    from webmap.planner import download

    plan = make_plan()
    line = plan.lines[0]
    evil = replace(line.stops[0], name='=HYPERLINK("http://x","站")')
    plan = replace(plan, lines=(replace(line, stops=(evil, *line.stops[1:])), *plan.lines[1:]))
    data, media = download(plan, "csv", lang="zh")
    assert media == "text/csv" and data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    names = [r[rows[0].index("stop_name")] for r in rows[1:]]
    assert names[0] == '\'=HYPERLINK("http://x","站")' and "七贤岭" in names
