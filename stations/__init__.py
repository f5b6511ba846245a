"""Warm-heart stations, nursing rooms and shuttle stops: registry, store, locator."""

from __future__ import annotations

import lazy_loader

# The public names are listed once, in __init__.pyi (read by type checkers too); each is
# imported on first use, so that ``import stations`` and the CLI's ``--help`` stay light.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
