"""Disk cache of built Areas under ``$WARMHEART_HOME`` and the registry of named areas.

Layout::

    $WARMHEART_HOME/
        areas/<key>/           one built Area per cache key (``routing._arraystore``:
                               memory-mapped arrays, POI layers and graph attributes)
        areas/<key>.lock       build lock (so two processes do not build the same Area)
        names/<name>.json      NAME -> key, source and settings (``warmheart area build --name``)

The key hashes the source (file bytes, or the Overpass query), the settings and
:data:`CACHE_VERSION`; bump the version whenever the build output changes shape.

Entries are written to a temporary folder beside them and moved into place with
:func:`os.replace`, so a crash or a failed build never leaves a half-written entry.

Security: entries hold pickles (POI layers, object columns, the meta). That is acceptable
only because :func:`load_entry` reads nothing but files warmheart itself wrote into its
own cache folder, found by key; no code path here unpickles a path a user passes in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock

from ._errors import AreaBuildError
from ._home import warmheart_home

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .area import Area

__all__ = [
    "CACHE_VERSION",
    "cache_key",
    "entry_bytes",
    "entry_path",
    "file_digest",
    "fsync_files",
    "list_names",
    "load_entry",
    "lookup_name",
    "new_entry",
    "register_name",
    "remove_entry",
    "warmheart_home",
]

logger = logging.getLogger(__name__)

#: Bump when the built Area changes shape (graph attributes, POI columns, ...).
#: 8: arrays in a folder per entry (``routing._arraystore``) instead of one pickle.
CACHE_VERSION = 8

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
    """The folder holding the Area of ``key`` (it may not exist yet)."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", key):
        msg = f"Expected a hexadecimal cache key, got {key!r}"
        raise ValueError(msg)
    return warmheart_home() / "areas" / key


def load_entry(key: str) -> Area | None:
    """The cached Area of ``key``, or ``None`` when absent or unreadable (then removed).

    Arrays are memory-mapped and everything else is read on first use (see
    :mod:`routing._arraystore`), so this takes milliseconds whatever the Area's size.
    """
    from ._arraystore import read_entry

    path = entry_path(key)
    if not (path / "meta.pickle").is_file():
        return None
    try:
        area = read_entry(path)
    except Exception as exc:  # a stale or damaged entry: drop it and rebuild
        logger.warning("Discarding unreadable cache entry %s: %s", path, exc)
        remove_entry(path)
        return None
    logger.info("Loaded area from cache %s", path)
    area.report["cache_path"] = str(path)  # where it is now (WARMHEART_HOME may have moved)
    return area


@contextlib.contextmanager
def new_entry(key: str, *, lock: bool = False) -> Iterator[Path]:
    """A new, empty folder to write the entry of ``key`` into, moved into place at the end.

    The build writes its parts into the folder as it makes them
    (:mod:`routing._arraystore`); when the block ends without error the files are
    fsynced and the folder replaces any older entry of ``key`` in one :func:`os.replace`
    (under :func:`build_lock` when ``lock``). A crash or an error leaves at most a hidden
    temporary folder (removed on error), never a half-written entry. Processes that mapped
    an older entry of the same key keep reading it (its files are unlinked, not changed).
    """
    path = entry_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        fsync_files(
            tmp
        )  # a build synced its data files in a measured stage: clean ones return at once
        with build_lock(key) if lock else contextlib.nullcontext():
            old = None
            if path.exists():
                old = path.with_name(f".{key}.{os.getpid()}.old")
                os.replace(path, old)
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def entry_bytes(path: Path) -> int | None:
    """Bytes on disk of the entry at ``path`` (``None`` when there is none)."""
    if not (path / "meta.pickle").is_file():
        return None
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def remove_entry(path: Path) -> None:
    """Delete a cache entry (folder of this version, or a file of an older one)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def remove_stale(record: dict[str, Any]) -> None:
    """Delete the entry an older warmheart wrote for a registry record (pickle or folder)."""
    key = str(record.get("key", ""))
    if re.fullmatch(r"[0-9a-f]{16,64}", key):
        folder = warmheart_home() / "areas"
        for path in (folder / f"{key}.pickle", folder / key):
            if path.exists():
                remove_entry(path)


def fsync_files(folder: Path) -> None:
    """Flush every file in ``folder`` to disk (an entry's files, before it moves into place)."""
    for file in folder.iterdir():
        _fsync(file)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
