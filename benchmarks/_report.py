"""``docs/benchmarks.md``: one section per benchmark, each stamped with where and when it ran.

The file is made of sections delimited by ``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->``
markers. :func:`write_section` replaces one section (or appends it) and leaves the others as
they were, so re-running one benchmark never loses the figures of the rest. Every section
starts with the machine (CPU model, cores, memory, Python), the date and the load average
before and after the run: on a shared machine those say how far to trust the wall times.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

__all__ = ["DOC", "machine_line", "write_section"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

Written by `make bench` (`benchmarks/run_all.py`); do not edit by hand. Each section is the
output of one `benchmarks/bench_*.py`, re-run alone with
`.venv/bin/python benchmarks/run_all.py NAME` (the other sections stay). Benchmarks print
figures and ratios against the peer a user would otherwise pick; they never assert timings.
Wall times on a shared machine vary with its load (printed with every section); CPU times
and ratios taken in one run are the comparable figures.
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "? GiB"


def load_average() -> str:
    """The 1/5/15-minute load averages, e.g. ``1.49 / 0.69 / 0.37``."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover - not on POSIX
        return "n/a"


def machine_line() -> str:
    """CPU model, cores, memory and Python of this machine, in one line."""
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {_memory_gib()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def _block(name: str, body: str) -> str:
    return f"<!-- bench:{name} -->\n{body.strip()}\n<!-- /bench:{name} -->"


def write_section(name: str, title: str, body: str, *, doc: Path = DOC) -> Path:
    """Replace (or append) the section ``name`` of ``doc`` with ``title`` and ``body``."""
    text = doc.read_text(encoding="utf-8") if doc.is_file() else HEADER
    block = _block(name, f"## {title}\n\n{body.strip()}")
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    return doc


def stamp(*, started: dt.datetime, load_before: str, seconds: float, exit_code: int) -> str:
    """The where/when line of a section."""
    status = "" if exit_code == 0 else f" — **exited {exit_code}: figures incomplete**"
    return (
        f"*{started:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s; {machine_line()}; load average "
        f"{load_before} before, {load_average()} after{status}.*"
    )
