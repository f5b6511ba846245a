"""oEmbed provider (https://oembed.com/) for the public embed maps, as uMap offers one.

``GET /oembed?url=<embed URL>&format=json&maxwidth=&maxheight=`` answers a ``rich`` oEmbed
object whose ``html`` is an ``<iframe>`` of the ``/embed/...`` page, with
``allow="geolocation"`` so that "near me" works inside a cross-origin frame. Only
``/embed/<name>`` URLs of this app with a known name count (the locator ``/`` maps to the
default embed); anything else gets a JSON 404, an embed URL whose parameters the page would
refuse a 400, ``format`` other than ``json`` a JSON 501, as the specification asks. The
iframe's ``src`` is on ``WARMHEART_PUBLIC_URL`` when it is set (see :mod:`webmap.links`).
Pages advertise this endpoint with a discovery ``<link>``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from . import schemas
from ._errors import ParameterError
from ._params import EMBED_NAMES, EmbedQuery, OEmbedQuery, parse_query
from .errors import error_response
from .links import host_key, public_base, public_url
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
    origins = {request.host_url.rstrip("/").lower(), public_base().lower()}
    return origins


def _embed_path(raw: str) -> tuple[str, str] | None:
    """``(path, query)`` of the embed ``raw`` names on this app, or ``None`` if it is not one.

    Only ``/embed/<name>`` with a known name (and the locator ``/``, which maps to the
    default embed) on this app's origin counts: no ``..``, no other path.
    """
    try:
        parts = urlsplit(raw.strip())
        netloc = parts.netloc
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:  # "http://[/embed": a broken IPv6 literal, a bad port
        return None
    if parts.scheme not in ("http", "https") or not netloc:
        return None
    if f"{parts.scheme}://{netloc}".lower() not in _origins():
        return None
    path = parts.path or "/"
    if path == "/":
        return DEFAULT_EMBED, parts.query
    match = _EMBED_PATH.match(path)
    if match is None or match.group(1) not in EMBED_NAMES:
        return None
    return path, parts.query


_EMBED_PATH = re.compile(r"^/embed/([a-z_]+)$")


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
    found = _embed_path(url)
    shown = url if len(url) <= 100 else url[:97] + "..."
    if found is None:
        names = ", ".join(EMBED_NAMES)
        return error_response(
            404, f"Expected an {public_base()}/embed/<{names}> URL of this site, got {shown!r}"
        )
    path, raw_query = found
    try:  # the iframe would show an error page: say so now
        parse_query(EmbedQuery, MultiDict(parse_qsl(raw_query, keep_blank_values=True)))
    except ParameterError as exc:
        return error_response(400, f"Expected a working embed URL, got {shown!r}: {exc}")
    src = public_url(path) + (f"?{raw_query}" if raw_query else "")
    max_width, max_height = query.maxwidth, query.maxheight
    width = min(DEFAULT_WIDTH, max_width) if max_width else DEFAULT_WIDTH
    height = min(DEFAULT_HEIGHT, max_height) if max_height else DEFAULT_HEIGHT
    area = get_state().area
    title = f"warmheart map — {area.name}"
    payload: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "warmheart",
        "provider_url": public_url("/"),
        "title": title,
        "width": width,
        "height": height,
        "html": embed_snippet(src, width=width, height=height, title=title),
        "cache_age": int(current_app.config["WARMHEART_EMBED_MAX_AGE"]),
    }
    response = jsonify(payload)
    if host_key() is not None:
        response.vary.add("Host")
    return response
