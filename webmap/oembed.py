"""oEmbed provider (https://oembed.com/) for the public embed maps, as uMap offers one.

``GET /oembed?url=<embed URL>&format=json&maxwidth=&maxheight=`` answers a ``rich`` oEmbed
object whose ``html`` is an ``<iframe>`` of the ``/embed/...`` page, with
``allow="geolocation"`` so that "near me" works inside a cross-origin frame. URLs that are not
an embed of this app get a JSON 404, ``format`` other than ``json`` a JSON 501, as the
specification asks. The locator page may also be given: it maps to the default embed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, jsonify, request
from markupsafe import escape

from . import schemas
from ._params import OEmbedQuery
from .errors import error_response
from .openapi import operation
from .state import get_state

__all__ = ["bp", "embed_snippet"]

bp = Blueprint("oembed", __name__)

DEFAULT_WIDTH = 640
DEFAULT_HEIGHT = 480
#: The embed a bare locator URL (``/``) maps to.
DEFAULT_EMBED = "/embed/stations"


def embed_snippet(src: str, *, width: int, height: int, title: str = "warmheart map") -> str:
    """The copy-paste ``<iframe>`` for an embed URL (every attribute value escaped)."""
    return (
        f'<iframe src="{escape(src)}" width="{int(width)}" height="{int(height)}" '
        f'style="border:0" loading="lazy" allow="geolocation" '
        f'referrerpolicy="strict-origin-when-cross-origin" title="{escape(title)}"></iframe>'
    )


def _origins() -> set[str]:
    origins = {request.host_url.rstrip("/").lower()}
    public = current_app.config.get("WARMHEART_PUBLIC_URL")
    if public:
        origins.add(str(public).rstrip("/").lower())
    return origins


def _embed_url(raw: str) -> str | None:
    """The embed URL ``raw`` names on this app, or ``None`` if it is not one of ours."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin not in _origins():
        return None
    path = parts.path or "/"
    if path == "/":
        path = DEFAULT_EMBED
    if not path.startswith("/embed/") or path.rstrip("/") == "/embed":
        return None
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


@bp.get("/oembed")
@operation(
    "oembed",
    "oEmbed (rich) for an /embed/... URL of this site",
    query=OEmbedQuery,
    responses={200: (schemas.OEmbed, "The oEmbed object.")},
    errors=(400, 404, 429, 500, 501),
)
def oembed(*, query: OEmbedQuery) -> Response:
    """The oEmbed answer for an embed URL of this app."""
    url = query.url
    fmt = query.format.strip().lower()
    if fmt != "json":
        return error_response(501, f"Expected format 'json' (the only one served), got {fmt!r}")
    max_width, max_height = query.maxwidth, query.maxheight
    src = _embed_url(url)
    if src is None:
        return error_response(
            404, f"Expected an {request.host_url}embed/... URL of this site, got {url!r}"
        )
    width = min(DEFAULT_WIDTH, max_width) if max_width else DEFAULT_WIDTH
    height = min(DEFAULT_HEIGHT, max_height) if max_height else DEFAULT_HEIGHT
    area = get_state().area
    title = f"warmheart map — {area.name}"
    payload: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "warmheart",
        "provider_url": request.host_url,
        "title": title,
        "width": width,
        "height": height,
        "html": embed_snippet(src, width=width, height=height, title=title),
        "cache_age": int(current_app.config["WARMHEART_EMBED_MAX_AGE"]),
    }
    return jsonify(payload)
