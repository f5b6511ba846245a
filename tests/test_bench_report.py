"""docs/benchmarks.md is written section by section: re-running one keeps the others."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from _report import machine_line, write_section


def test_rewriting_one_section_keeps_the_others(tmp_path: Path) -> None:
    """A second run of one benchmark replaces its section only; a new one is appended."""
    doc = tmp_path / "benchmarks.md"
    write_section("area", "Areas", "first area figures", doc=doc)
    write_section("api", "API", "api figures", doc=doc)
    write_section("area", "Areas", "second area figures", doc=doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks")
    assert "second area figures" in text and "first area figures" not in text
    assert "api figures" in text
    assert text.index("second area figures") < text.index("api figures")
    assert text.count("<!-- bench:area -->") == 1


def test_machine_line_names_cores_and_python() -> None:
    """Every section says on what it ran."""
    line = machine_line()
    assert "cores" in line and "Python" in line
