"""Where warmheart keeps its files: one function, :func:`warmheart_home`."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["warmheart_home"]


def warmheart_home() -> Path:
    """The cache folder: ``$WARMHEART_HOME``, else the platform's per-user cache folder.

    The platform folder comes from platformdirs: ``$XDG_CACHE_HOME/warmheart``
    (``~/.cache/warmheart``) on Linux, ``~/Library/Caches/warmheart`` on macOS,
    ``%LOCALAPPDATA%\\warmheart\\Cache`` on Windows. Read at call time, never at import.
    """
    env = os.environ.get("WARMHEART_HOME")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_cache_path("warmheart", appauthor=False)
