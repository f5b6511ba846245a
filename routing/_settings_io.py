"""One loader for the project's settings files (``AreaSettings``, ``ShuttleSettings``).

Both are frozen dataclasses that validate themselves; what they share is reading TOML and
refusing unknown keys, with the same messages and one error type,
:class:`~routing.SettingsError`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._errors import SettingsError

__all__ = ["check_setting_keys", "read_settings_file"]


def read_settings_file(path: str | Path, *, table: str | None = None) -> dict[str, Any]:
    """The settings in a TOML file: its top-level keys, or the ``[table]`` when it has one.

    Raises
    ------
    SettingsError
        If the file does not exist or is not valid TOML.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"Expected a settings TOML file, got a path that does not exist: {p}"
        raise SettingsError(msg) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"Expected valid TOML in {p}, got a syntax error: {exc}"
        raise SettingsError(msg) from None
    if table is not None and isinstance(data.get(table), dict):
        data = data[table]
    return data


def check_setting_keys(data: Mapping[str, Any], names: Iterable[str], *, what: str) -> None:
    """Raise :class:`SettingsError` naming the keys of ``data`` that are not in ``names``."""
    known = sorted(names)
    unknown = sorted(set(data) - set(known))
    if unknown:
        msg = f"Expected {what} keys among {known}, got unknown {unknown}"
        raise SettingsError(msg)
