"""A build's stages: progress on stderr, and the time and memory each took.

:class:`Steps` draws the stages with tqdm and records, per stage, wall and CPU seconds and
the peak resident memory so far (``area.report["stages"]``, ``warmheart area info``).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

__all__ = ["Steps"]

logger = logging.getLogger("routing.build")


class Steps:
    """Build stages drawn with tqdm on stderr when ``progress`` is on, and measured.

    ``step(text)`` announces the stage now starting; the bar counts finished stages.
    :attr:`stages` records, per finished stage, its wall and CPU seconds (this process and
    its finished children: the PBF feature reader's decoding child) and the peak resident
    memory so far of this process and of its largest child (``area.report["stages"]``,
    ``area info``).
    """

    def __init__(self, total: int, *, enabled: bool, label: str) -> None:
        self._bar: Any = None
        self._started = False
        self._t0 = time.perf_counter()
        self._current: tuple[str, float, float] | None = None
        self.stages: list[dict[str, Any]] = []
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(  # stages: n finished of total, postfix = current one
                total=total,
                desc=label,
                unit="step",
                file=sys.stderr,
                leave=False,
                bar_format="{desc} [{n}/{total}]{postfix} ({elapsed})",  # postfix: ", <stage>"
            )

    def _finish(self) -> None:
        if self._current is not None:
            text, wall, cpu = self._current
            peak, child_peak = _peak_mb()
            self.stages.append(
                {
                    "stage": text,
                    "wall_s": round(time.perf_counter() - wall, 3),
                    "cpu_s": round(_cpu_s() - cpu, 3),
                    "peak_mb": peak,
                    "child_peak_mb": child_peak,
                }
            )
            self._current = None

    def step(self, text: str) -> None:
        logger.info("%s (%.1fs)", text, time.perf_counter() - self._t0)
        self._finish()
        self._current = (text, time.perf_counter(), _cpu_s())
        if self._bar is not None:
            if self._started and self._bar.n < self._bar.total - 1:
                self._bar.update(1)
            self._bar.set_postfix_str(text)
        self._started = True

    def close(self) -> None:
        self._finish()
        if self._bar is not None:
            self._bar.update(self._bar.total - self._bar.n)
            self._bar.close()


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the feature reader's child)."""
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def _peak_mb() -> tuple[float | None, float | None]:
    """Peak resident memory (MB) so far of this process and of the largest feature reader
    child (as the child measured itself: the kernel's figure for a child starts from the
    high-water mark of the process that spawned it)."""
    from ._opl_table import child_peak_mb

    try:
        import resource
    except ImportError:  # Windows
        return None, child_peak_mb()
    scale = 1 << 20 if sys.platform == "darwin" else 1 << 10
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(own / scale, 1), child_peak_mb()
