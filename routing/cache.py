"""Disk cache of built Areas under ``$WARMHEART_HOME`` and the registry of named areas.

Layout::

    $WARMHEART_HOME/
        areas/<key>.pickle     one built Area per cache key
        areas/<key>.lock       build lock (so two processes do not build the same Area)
        names/<name>.json      NAME -> key, source and settings (``warmheart area build --name``)

The key hashes the source (file bytes, or the Overpass query), the settings and
:data:`CACHE_VERSION`; bump the version whenever the build output changes shape.

Entries are written to a temporary file in the same folder and moved into place with
:func:`os.replace`, so a crash or a failed build never leaves a half-written entry.

Security: entries are pickles. That is acceptable only because :func:`load_entry` reads
nothing but files warmheart itself wrote into its own cache folder, found by key; no code
path here unpickles a path a user passes in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely
from filelock import FileLock

from ._errors import AreaBuildError
from ._home import warmheart_home

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .area import Area

__all__ = [
    "CACHE_VERSION",
    "cache_key",
    "entry_path",
    "file_digest",
    "list_names",
    "load_entry",
    "lookup_name",
    "register_name",
    "save_entry",
    "warmheart_home",
]

logger = logging.getLogger(__name__)

#: Bump when the built Area changes shape (graph attributes, POI columns, ...).
CACHE_VERSION = 7

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(source_id: str, settings_fingerprint: str) -> str:
    """Cache key of a source (``"sha256:..."`` or ``"overpass:..."``) built with settings."""
    text = f"warmheart-area-v{CACHE_VERSION}\n{source_id}\n{settings_fingerprint}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def entry_path(key: str) -> Path:
    """Where the Area of ``key`` is (or would be) stored."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", key):
        msg = f"Expected a hexadecimal cache key, got {key!r}"
        raise ValueError(msg)
    return warmheart_home() / "areas" / f"{key}.pickle"


def load_entry(key: str) -> Area | None:
    """The cached Area of ``key``, or ``None`` when absent or unreadable (then removed)."""
    path = entry_path(key)
    try:
        with path.open("rb") as fh:
            # Safe: a file warmheart wrote into its own cache folder (see module docstring).
            payload = pickle.load(fh)  # noqa: S301
        area = _unpack(payload)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a stale or damaged entry: drop it and rebuild
        logger.warning("Discarding unreadable cache entry %s: %s", path, exc)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    logger.info("Loaded area from cache %s", path)
    report = getattr(area, "report", None)
    if isinstance(report, dict):
        report["cache_path"] = str(path)  # where it is now (WARMHEART_HOME may have moved)
    return cast("Area", area)


def save_entry(key: str, area: Area) -> Path:
    """Write ``area`` atomically (temporary file + :func:`os.replace`) and return its path."""
    path = entry_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _packed(area) as payload:
        _atomic_write(path, lambda fh: pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL))
    return path


_NETWORKS = ("walk", "drive")


@contextlib.contextmanager
def _packed(area: Area) -> Iterator[dict[str, Any]]:
    """The pickle payload of ``area``: edge geometries as one WKB array per graph.

    Unpickling shapely LineStrings one by one dominated a reload; vectorised
    ``shapely.to_wkb``/``from_wkb`` does them in one call (reload times: the area benchmark in
    ``docs/benchmarks.md``). The geometries are taken off the live graphs while pickling and
    always put back.
    """
    taken: list[tuple[Any, list[tuple[Any, Any, Any]], Any]] = []
    payload: dict[str, Any] = {"format": "warmheart-area/1", "area": area, "edge_geometry": {}}
    try:
        for network in _NETWORKS:
            G = getattr(area, network)
            edges = [
                (u, v, k) for u, v, k, g in G.edges(keys=True, data="geometry") if g is not None
            ]
            geoms = np.empty(len(edges), dtype=object)
            geoms[:] = [G.edges[e]["geometry"] for e in edges]
            for e in edges:
                del G.edges[e]["geometry"]
            taken.append((G, edges, geoms))
            payload["edge_geometry"][network] = (edges, shapely.to_wkb(geoms))
        yield payload
    finally:
        for G, edges, geoms in taken:
            for e, geom in zip(edges, geoms, strict=True):
                G.edges[e]["geometry"] = geom


def _unpack(payload: Any) -> Any:
    """Inverse of :func:`_packed`; anything else is a stale entry (``TypeError``)."""
    if not (isinstance(payload, dict) and payload.get("format") == "warmheart-area/1"):
        msg = f"Expected a warmheart area entry, got {type(payload).__name__}"
        raise TypeError(msg)
    area = payload["area"]
    for network, (edges, wkb) in payload["edge_geometry"].items():
        G = getattr(area, network)
        for e, geom in zip(edges, shapely.from_wkb(wkb), strict=True):
            G.edges[e]["geometry"] = geom
    return area


@contextlib.contextmanager
def build_lock(key: str) -> Iterator[None]:
    """Hold an exclusive lock on ``key`` so concurrent processes build an Area only once.

    A :class:`filelock.FileLock` next to the entry (``fcntl`` on POSIX, ``msvcrt`` on
    Windows); released when the block ends, also on error.
    """
    path = entry_path(key).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


def check_name(name: str) -> str:
    """Validate an area name (letters, digits, ``_ . -``; at most 64 characters)."""
    if not isinstance(name, str) or not _NAME.match(name):
        msg = (
            "Expected an area name of letters, digits, '_', '.' or '-' (at most 64 characters,"
            f" starting with a letter or digit), got {name!r}"
        )
        raise AreaBuildError(msg)
    return name


def register_name(name: str, key: str, meta: dict[str, Any]) -> Path:
    """Record that ``name`` refers to the cache entry ``key`` (overwrites an older record)."""
    check_name(name)
    path = warmheart_home() / "names" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "key": key, "cache_version": CACHE_VERSION, **meta}
    data = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")
    _atomic_write(path, lambda fh: fh.write(data))
    return path


def lookup_name(name: str) -> dict[str, Any] | None:
    """The registry record of ``name`` or ``None``."""
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    path = warmheart_home() / "names" / f"{name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return record if isinstance(record, dict) and "key" in record else None


def list_names() -> list[str]:
    """Names registered in the cache."""
    folder = warmheart_home() / "names"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
