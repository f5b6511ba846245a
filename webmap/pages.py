"""HTML pages: the locator ``/``, the planner ``/planner`` and embeds ``/embed/<name>``.

The blueprint :data:`bp` also serves the self-hosted front-end assets under ``/assets/``.
"""

from __future__ import annotations

import logging

from flask import Blueprint

logger = logging.getLogger(__name__)

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def locator() -> str:
    """The locator page (placeholder until the map lands)."""
    return "<!doctype html><title>warmheart</title><p>warmheart locator</p>"
