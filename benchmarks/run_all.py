"""Run every benchmark script in this folder, one after another, in fresh processes.

Each ``bench_*.py`` prints its own figures (and ratios against its peer); this runner only
sequences them and reports which ones failed. Benchmarks never assert timings.

Usage::

    .venv/bin/python benchmarks/run_all.py [NAME ...]   # e.g. area locator shuttle
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in argv}
        unknown = wanted - {s.name for s in scripts}
        if unknown:
            valid = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
            print(f"Unknown benchmark(s) {sorted(unknown)}; expected some of: {valid}")
            return 2
        scripts = [s for s in scripts if s.name in wanted]
    failed: list[str] = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)])
        print(f"=== {script.name}: exit {rc} after {time.perf_counter() - start:.0f} s ===")
        if rc != 0:
            failed.append(script.name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
