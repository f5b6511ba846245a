"""Station labels kept on disk between processes, keyed by what they are computed from.

A K-best label pass over a city's walk graph takes seconds, and every server start and
every ``warmheart nearest`` call on an unchanged registry would pay it again. The labels
are a pure function of the walk graph (the Area's cache entry), the seeds (node, time and
slot of each station entry) and ``K`` / horizon, so :func:`cached_labels` hashes exactly
those and keeps the result under ``$WARMHEART_HOME/labels/<digest>/`` as ``.npy`` files
that a later process maps (``mmap_mode="c"``: a change in memory never reaches the file).
A changed station changes the seeds, hence the digest: the labels are computed afresh (and
stored), never reused wrong. Only Areas that live in the cache (``report["cache_path"]``)
are stored; the :data:`KEEP` newest entries are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._labels import Labels, build_labels

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["KEEP", "cached_labels"]

logger = logging.getLogger(__name__)

#: Label sets kept on disk (the newest by use); a city's is ~12 bytes x K per walk node.
KEEP = 8
_VERSION = "warmheart-labels/1"
_FIELDS = ("time", "slot", "next", "radius")


def _folder() -> Path:
    from routing._home import warmheart_home  # the one definition of $WARMHEART_HOME

    return warmheart_home() / "labels"


def _digest(area_key: str, nodes: Any, offsets: Any, slots: Any, *, k: int, horizon: float) -> str:
    h = hashlib.sha256(f"{_VERSION}\n{area_key}\n{k}\n{float(horizon)!r}\n".encode())
    for arr, dtype in ((nodes, np.int64), (offsets, np.float64), (slots, np.int32)):
        a = np.ascontiguousarray(arr, dtype=dtype)
        h.update(f"{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:40]


def cached_labels(
    area: Any,
    graph: Any,
    nodes: NDArray[np.int64],
    offsets: NDArray[np.float64],
    slots: NDArray[np.int32],
    *,
    k: int,
    horizon: float,
) -> Labels:
    """:func:`~stations._labels.build_labels` through the disk store (see the module)."""
    cache_path = (getattr(area, "report", None) or {}).get("cache_path")
    if not cache_path:
        return build_labels(graph, nodes, offsets, slots, k=k, horizon=horizon)
    digest = _digest(Path(cache_path).name, nodes, offsets, slots, k=k, horizon=horizon)
    folder = _folder() / digest
    found = _read(folder, horizon)
    if found is not None:
        logger.info("Station labels loaded from %s", folder)
        return found
    labels = build_labels(graph, nodes, offsets, slots, k=k, horizon=horizon)
    try:
        _write(folder, labels)
    except OSError as exc:  # a full or read-only disk: serve anyway
        logger.warning("Could not keep the station labels in %s: %s", folder, exc)
    return labels


def _read(folder: Path, horizon: float) -> Labels | None:
    try:
        arrays = {
            name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="c")) for name in _FIELDS
        }
    except (OSError, ValueError):
        return None
    with contextlib.suppress(OSError):
        os.utime(folder)  # recently used: kept by the eviction below
    return Labels(horizon=float(horizon), **arrays)


def _write(folder: Path, labels: Labels) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name in _FIELDS:
            np.save(tmp / f"{name}.npy", np.asarray(getattr(labels, name)))
        try:
            os.replace(tmp, folder)
        except OSError:  # another process stored the same labels first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    entries = sorted(
        (p for p in folder.parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
