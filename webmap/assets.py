"""Self-hosted front-end assets: no page of ours loads anything from a public CDN.

A default Folium page pulls about 19 JS/CSS files from jsdelivr, cdnjs, code.jquery.com and
bootstrapcdn, which are unreachable offline and slow or blocked in mainland China. The
libraries we need come from XStatic packages installed with the project (PyPI
``XStatic-Leaflet``, ``XStatic-Leaflet-MarkerCluster``, ``XStatic-jQuery``,
``XStatic-Font-Awesome``); our own JS/CSS lives in ``webmap/static``. Both are served under
``/assets/<library>/<path>`` by :mod:`webmap.pages`.

:func:`self_host` rewrites the ``default_js`` / ``default_css`` of every Folium element of a map
to those URLs (and drops Bootstrap, awesome-markers and glyphicons, which our pages never use);
:func:`inline_assets` turns the ``/assets/`` links of a rendered page into inline ``<script>`` and
``<style>`` blocks for the standalone HTML download.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import logging
import mimetypes
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from routing._errors import WarmheartError

if TYPE_CHECKING:
    from branca.element import Element

logger = logging.getLogger(__name__)


class AssetError(WarmheartError, ValueError):
    """A front-end asset is unknown, missing or outside its library directory."""


__all__ = [
    "LIBRARIES",
    "AssetError",
    "asset_path",
    "asset_url",
    "external_urls",
    "inline_assets",
    "self_host",
]

#: URL prefix of every asset route.
ASSET_PREFIX = "/assets"

#: Our own front-end code.
OWN_LIBRARY = "warmheart"
#: Longest asset path looked up (characters); longer ones are 404 without touching the disk.
MAX_NAME = 200

#: Library name in the URL -> importable XStatic package holding the files (``BASE_DIR``).
LIBRARIES: dict[str, str] = {
    "leaflet": "xstatic.pkg.leaflet",
    "leaflet.markercluster": "xstatic.pkg.leaflet_markercluster",
    "jquery": "xstatic.pkg.jquery",
    "font-awesome": "xstatic.pkg.font_awesome",
}

# Folium resource name -> (library, file) served by us, or None to drop it.
_FOLIUM_JS: dict[str, tuple[str, str] | None] = {
    "leaflet": ("leaflet", "leaflet.js"),
    "jquery": ("jquery", "jquery.min.js"),
    "bootstrap": None,
    "awesome_markers": None,
    "markerclusterjs": ("leaflet.markercluster", "leaflet.markercluster.js"),
}
_FOLIUM_CSS: dict[str, tuple[str, str] | None] = {
    "leaflet_css": ("leaflet", "leaflet.css"),
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
    "markerclustercss": ("leaflet.markercluster", "MarkerCluster.css"),
    "markerclusterdefaultcss": ("leaflet.markercluster", "MarkerCluster.Default.css"),
}


@cache
def library_dir(library: str) -> Path:
    """Directory holding the files of ``library``.

    Parameters
    ----------
    library
        A key of :data:`LIBRARIES` or ``"warmheart"`` (our own ``webmap/static``).

    Raises
    ------
    AssetError
        If the library is unknown or its package is not installed.
    """
    if library == OWN_LIBRARY:
        return Path(__file__).parent / "static"
    module_name = LIBRARIES.get(library)
    if module_name is None:
        raise AssetError(
            f"Expected one of {sorted([*LIBRARIES, OWN_LIBRARY])}, got {library[:80]!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # pragma: no cover - the packages are runtime dependencies
        raise AssetError(
            f"Expected the {module_name} package to be installed (pip install -e .), got {exc}"
        ) from exc
    return Path(module.BASE_DIR)


@cache
def library_version(library: str) -> str:
    """Version string of ``library`` (the XStatic ``VERSION``; for our own code, ``own``)."""
    if library == OWN_LIBRARY:
        return "own"
    module = importlib.import_module(LIBRARIES[library])
    return str(module.VERSION)


def asset_path(library: str, filename: str) -> Path:
    """Absolute path of one asset file, refusing anything outside the library directory.

    Raises
    ------
    AssetError
        If the name escapes the library directory or the file does not exist.
    """
    shown = filename if len(filename) <= 80 else filename[:77] + "..."
    if len(filename) > MAX_NAME or "\x00" in filename:
        raise AssetError(f"Expected a file inside {library!r}, got {shown!r}")
    base = library_dir(library).resolve()
    try:
        path = (base / filename).resolve()
        found = path.is_relative_to(base) and path.is_file()
    except (OSError, ValueError):  # a name the file system refuses
        found = False
    if not found:
        raise AssetError(f"Expected a file inside {library!r}, got {shown!r}")
    return path


@cache
def _file_digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()[:10]


def asset_version(library: str, filename: str) -> str:
    """Cache-busting token for an asset URL (library version, or content hash for our files)."""
    if library == OWN_LIBRARY:
        path = asset_path(library, filename)
        return _file_digest(path, path.stat().st_mtime_ns)
    return library_version(library)


def asset_url(library: str, filename: str, *, prefix: str = "") -> str:
    """URL path of one asset, versioned so that browsers may cache it for a long time.

    Parameters
    ----------
    library, filename
        The asset (see :func:`library_dir`).
    prefix
        Script root of the app (``request.script_root``) when it is not mounted at ``/``.
    """
    return f"{prefix}{ASSET_PREFIX}/{library}/{filename}?v={asset_version(library, filename)}"


def _walk(element: Element) -> list[Element]:
    out: list[Element] = []
    stack = [element]
    while stack:
        el = stack.pop()
        out.append(el)
        stack.extend(el._children.values())
        for part in ("header", "html", "script"):
            child = getattr(el, part, None)
            if child is not None and hasattr(child, "_children") and child is not el:
                stack.append(child)
    return out


def self_host(element: Element, *, prefix: str = "", jquery: bool | None = None) -> Element:
    """Point every Folium resource of ``element`` (and its children) at our own asset routes.

    Parameters
    ----------
    element
        A Folium map, figure or plugin; modified in place (instance attributes, never the
        Folium classes) and returned.
    prefix
        Script root of the app.
    jquery
        Keep jQuery. ``None`` keeps it only when an element needs it: ``folium.Popup`` builds
        its content with ``$(...)``.

    Raises
    ------
    AssetError
        If an element asks for a resource we do not self-host (so a page never silently
        depends on a CDN).
    """
    import folium

    elements = _walk(element)
    if jquery is None:
        jquery = any(isinstance(el, folium.Popup) for el in elements) or any(
            getattr(el, "objects_to_stay_in_front", None) for el in elements
        )
    for el in elements:
        for attr, table in (("default_js", _FOLIUM_JS), ("default_css", _FOLIUM_CSS)):
            resources = getattr(el, attr, None)
            if not resources:
                continue
            rewritten: list[tuple[str, str]] = []
            for name, url in resources:
                if url.startswith(f"{prefix}{ASSET_PREFIX}/"):
                    rewritten.append((name, url))
                    continue
                if url.startswith(f"{ASSET_PREFIX}/"):
                    rewritten.append((name, prefix + url))
                    continue
                if name not in table:
                    raise AssetError(
                        f"Expected a Folium resource we self-host ({sorted(table)}), "
                        f"got {name!r} -> {url!r} on {type(el).__name__}"
                    )
                target = table[name]
                if target is None or (name == "jquery" and not jquery):
                    continue
                rewritten.append((name, asset_url(*target, prefix=prefix)))
            setattr(el, attr, rewritten)
    return element


_EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|link|source)\b[^>]*?\s(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)["']"""
    r"""|url\(\s*["']?((?:https?:)?//[^)"']+)""",
    re.IGNORECASE,
)


def external_urls(html: str) -> list[str]:
    """URLs of resources in ``html`` that a browser would fetch from another origin.

    Looks at ``<script src>``, ``<link href>``, ``<img src>``, ``<iframe src>`` and CSS
    ``url(...)``; plain ``<a href>`` links (e.g. the attribution) and ``<link rel="alternate">``
    (oEmbed discovery, read by other sites' servers) are not fetched and not listed.
    """
    return [a or b for a, b in _EXTERNAL.findall(_ALTERNATE.sub("", html))]


_ALTERNATE = re.compile(r"""<link\s+rel=["']alternate["'][^>]*>""", re.IGNORECASE)
_SCRIPT_TAG = re.compile(
    r"""<script\s+src=["'](?P<url>[^"']*?/assets/(?P<lib>[^/"']+)/(?P<file>[^"'?]+)(?:\?[^"']*)?)["']\s*>\s*</script>""",
)
_LINK_TAG = re.compile(
    r"""<link\s+rel=["']stylesheet["']\s+href=["'](?P<url>[^"']*?/assets/(?P<lib>[^/"']+)/(?P<file>[^"'?]+)(?:\?[^"']*)?)["']\s*/?>""",
)
_CSS_URL = re.compile(r"""url\((?P<q>["']?)(?P<ref>[^)"']+)(?P=q)\)""")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(library: str, filename: str) -> str:
    css = asset_path(library, filename).read_text(encoding="utf-8")
    folder = Path(filename).parent

    def replace(match: re.Match[str]) -> str:
        ref = match.group("ref")
        if ref.startswith(("data:", "#", "http:", "https:", "//")):
            return match.group(0)
        try:
            target = asset_path(library, str(folder / ref.split("?")[0].split("#")[0]))
        except AssetError:
            logger.warning("Cannot inline %s referenced by %s/%s", ref, library, filename)
            return match.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(replace, css)


def inline_assets(html: str) -> str:
    """Replace ``/assets/`` script and stylesheet links of a page by their content.

    The result opens offline from a file: JS inline, CSS inline with its images as data URIs.

    Raises
    ------
    AssetError
        If a linked asset does not exist.
    """

    def script(match: re.Match[str]) -> str:
        code = asset_path(match.group("lib"), match.group("file")).read_text(encoding="utf-8")
        code = re.sub(r"//# sourceMappingURL=\S+", "", code).replace("</script", "<\\/script")
        return f"<script>{code}</script>"

    def style(match: re.Match[str]) -> str:
        css = _inline_css(match.group("lib"), match.group("file")).replace("</style", "<\\/style")
        return f"<style>{css}</style>"

    return _LINK_TAG.sub(style, _SCRIPT_TAG.sub(script, html))
