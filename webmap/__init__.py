"""Flask app, Folium map builders, JSON/GeoJSON API, embeds and i18n."""

from __future__ import annotations

from .app import create_app as create_app

__all__ = ["create_app"]
