"""Flask app, Folium map builders, JSON/GeoJSON API, embeds and i18n."""

from __future__ import annotations

from routing._errors import WarmheartError as WarmheartError

from .app import create_app as create_app

__all__ = ["WarmheartError", "create_app"]
