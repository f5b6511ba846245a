"""Run the benchmarks in fresh processes and write their figures to ``docs/benchmarks.md``.

Each ``bench_*.py`` prints its own figures (and ratios against its peer); this runner runs
them one after another, shows their output live, and puts each script's output in its own
section of ``docs/benchmarks.md`` with the machine, date and load average (see
:mod:`_report`). Naming benchmarks re-runs only those; the other sections stay. A script
whose output starts with ``<!-- markdown -->`` is included as Markdown, any other as
preformatted text. Benchmarks never assert timings.

Usage::

    .venv/bin/python benchmarks/run_all.py [NAME ...] [--no-write]   # e.g. area locator
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

from _report import DOC, load_average, stamp, write_section

HERE = Path(__file__).resolve().parent
MARKDOWN = "<!-- markdown -->"


def _title(script: Path) -> str:
    """The first line of the script's docstring, as the section title."""
    text = script.read_text(encoding="utf-8")
    for quote in ('"""', "'''"):
        if quote in text:
            first = text.split(quote, 2)[1].strip().splitlines()
            if first:
                return first[0].rstrip(".")
    return script.stem


def run(script: Path, *, write: bool) -> int:
    """Run one benchmark, echo its output, and (with ``write``) publish its section."""
    print(f"\n=== {script.name} ===", flush=True)
    started = dt.datetime.now(dt.UTC)
    load_before = load_average()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    rc = proc.wait()
    seconds = time.perf_counter() - start
    print(f"=== {script.name}: exit {rc} after {seconds:.0f} s ===")
    if write:
        output = "".join(lines).strip()
        if output.startswith(MARKDOWN):  # its headings go one level under the section's
            body = re.sub(r"^#", "##", output.removeprefix(MARKDOWN).strip(), flags=re.M)
        else:
            body = f"```text\n{output}\n```"
        line = stamp(started=started, load_before=load_before, seconds=seconds, exit_code=rc)
        command = f"`python benchmarks/{script.name}`"
        write_section(
            script.stem.removeprefix("bench_"), _title(script), f"{command}\n\n{line}\n\n{body}"
        )
    return rc


def main(argv: list[str]) -> int:
    write = "--no-write" not in argv
    names = [a for a in argv if not a.startswith("--")]
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in names}
        unknown = wanted - {s.name for s in scripts}
        if unknown:
            valid = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
            print(f"Unknown benchmark(s) {sorted(unknown)}; expected some of: {valid}")
            return 2
        scripts = [s for s in scripts if s.name in wanted]
    failed = [s.name for s in scripts if run(s, write=write) != 0]
    if write:
        print(f"\nFigures written to {DOC}")
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
