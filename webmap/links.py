"""Absolute links the app hands out: embed snippets, oEmbed answers, discovery ``<link>``\\ s.

They start with ``WARMHEART_PUBLIC_URL`` when it is set (the origin users reach, behind a
proxy); only when it is unset does the request's own ``Host`` stand in, and then every cached
page that carries such a link is keyed by that host too (:func:`host_key`), so one client's
``Host`` header never ends up in another client's page.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import current_app, request

__all__ = ["host_key", "oembed_link", "public_base", "public_url"]


def public_base() -> str:
    """``WARMHEART_PUBLIC_URL`` without its trailing ``/``, else this request's host URL."""
    configured = current_app.config.get("WARMHEART_PUBLIC_URL")
    base = str(configured) if configured else request.host_url
    return base.rstrip("/")


def public_url(path: str) -> str:
    """``path`` (starting with ``/``) on the public base."""
    return public_base() + path


def host_key() -> str | None:
    """What a cached page with absolute links depends on: the host, unless one is configured."""
    return None if current_app.config.get("WARMHEART_PUBLIC_URL") else request.host_url


def oembed_link(page_url: str, *, title: str) -> str:
    """The oEmbed discovery ``<link>`` for ``page_url`` (attribute values escaped)."""
    from markupsafe import escape

    href = public_url("/oembed?" + urlencode({"url": page_url, "format": "json"}, quote_via=quote))
    return (
        f'<link rel="alternate" type="application/json+oembed" href="{escape(href)}" '
        f'title="{escape(title)}">'
    )
