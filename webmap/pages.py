"""HTML pages: the locator ``/``, the planner ``/planner`` and embeds ``/embed/<name>``.

The blueprint :data:`bp` also serves the self-hosted front-end assets under
``/assets/<library>/<path>`` (see :mod:`webmap.assets`). Pages read the app state through
``current_app`` and never touch the network themselves: the map data is in the page, and the
page's JS calls our own ``/api``.

Malformed query parameters (``zoom=abc``, ``center=200,95``, ``kind=castle``, ``lang=fr``)
answer 400: a small HTML error page when the client asks for HTML (browsers), the API's JSON
error body otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, render_template, request, send_file, url_for
from markupsafe import Markup

from routing._errors import WarmheartError

from . import maps
from ._errors import ParameterError
from ._params import (
    EMBED_NAMES,
    EmbedQuery,
    LocatorQuery,
    PlannerDownloadQuery,
    PlannerQuery,
    parse_query,
)
from .assets import AssetError, asset_path, asset_url, asset_version, inline_assets
from .errors import error_response
from .i18n import HTML_LANG, LANGUAGE_NAMES, LANGUAGES, Translator, negotiate_language
from .icons import icon_sprite
from .links import host_key, oembed_link, public_url
from .openapi import HTML, JSON, operation
from .planner import DOWNLOADS
from .state import get_state

if TYPE_CHECKING:
    from stations.model import Station

    from .state import WarmheartState

logger = logging.getLogger(__name__)

__all__ = ["bp"]

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.record_once
def _check_tiles(setup: Any) -> None:
    """Fail at ``create_app``, not on the first page view, on a malformed WARMHEART_TILES."""
    maps.resolve_tiles(setup.app.config.get("WARMHEART_TILES"))


#: Nearest stations listed on the locator.
NEAREST_K = 5
#: Unserved riders listed by name on the planner (all are counted by reason).
UNSERVED_LISTED = 200
#: One year: for asset URLs carrying the right ``?v=`` token.
IMMUTABLE_MAX_AGE = 31_536_000
#: Rendered pages kept per process (a locator page grows with the station count).
PAGE_CACHE_SIZE = 16

_cache_lock = threading.Lock()


# ----------------------------------------------------------------------------------- helpers


def _stations(state: WarmheartState) -> list[Station]:
    """All stations (the state caches them until the next write)."""
    return state.all_stations()


def _tiles(lang: str | None = None) -> maps.TileConfig | None:
    """The tile layer of this request: the app's own tiles in the page language and mount."""
    config = maps.resolve_tiles(current_app.config.get("WARMHEART_TILES"))
    if config is not None and config.url.startswith("/tiles/"):
        url = request.script_root + config.url.replace("{lang}", lang or _lang())
        config = dataclasses.replace(config, url=url)
    return config


def _lang() -> str:
    """The page language: ``?lang=`` when we speak it, else Accept-Language, else zh."""
    raw = (request.args.get("lang") or "").strip().lower().split("-")[0]
    return negotiate_language(raw if raw in LANGUAGES else None, request.accept_languages)


def _url_with(endpoint: str, **changes: Any) -> str:
    args: dict[str, Any] = request.args.to_dict(flat=False)
    args.update({k: v for k, v in changes.items()})
    return url_for(endpoint, **(request.view_args or {}), **args)


def _context(lang: str, **extra: Any) -> dict[str, Any]:
    tiles = _tiles()
    endpoint = request.endpoint or "pages.locator"
    prefix = request.script_root

    def asset(library: str, filename: str) -> str:
        return asset_url(library, filename, prefix=prefix)

    return {
        "t": Translator(lang),
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "short_names": {"zh": "中", "en": "EN", "ja": "日", "ko": "한"},
        "lang_urls": {code: _url_with(endpoint, lang=code) for code in LANGUAGES},
        "asset": asset,
        "no_tiles": tiles is None,
        "parts": None,
        "icons": icon_sprite(),
        **extra,
    }


def _messages(t: Translator) -> dict[str, str]:
    """The interface strings the front end needs."""
    return t.subset(
        (
            "kind.",
            "amenity.",
            "host.",
            "access.",
            "reason.",
            "host",
            "amenities",
            "opening_hours",
            "open_now",
            "closed_now",
            "hours_unknown",
            "nearest_title",
            "walk_minutes",
            "meters",
            "kilometers",
            "no_results",
            "searching",
            "locating",
            "geo_denied",
            "network_error",
            "stations_shown",
            "copied",
            "day.",
            "today_hours",
            "closed_today",
            "open_all_day",
            "opens_at",
            "opens_tomorrow",
            "opens_on",
            "closes_at",
            "choose_kind",
            "show_whole_map",
        )
    )


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _error(status: int, message: str) -> Response:
    if _wants_html():
        lang = _lang()
        html = render_template(
            "error.html",
            status=status,
            message=message,
            home_url=url_for("pages.locator", lang=lang),
            **{k: v for k, v in _context(lang).items() if k != "lang_urls"},
        )
        response = Response(html, status=status, mimetype="text/html")
    else:
        response = error_response(status, message)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ParameterError)
def _bad_parameter(exc: ParameterError) -> Response:
    return _error(400, str(exc))


@bp.errorhandler(AssetError)
def _missing_asset(exc: AssetError) -> Response:
    return _error(404, str(exc))


def cached_page(view: Callable[..., Any]) -> Callable[..., Response]:
    """Serve a page from a small per-app cache, with an ETag so phones can revalidate.

    The key holds only what the HTML depends on: the endpoint and its arguments, the
    parameters *as parsed* (unknown ones dropped, values normalised; the map view —
    ``center``, ``zoom`` — and the locator's filters are applied by the page's script from
    its own URL, so they are not part of the HTML), the negotiated language, the host when
    links are built from it (:func:`webmap.links.host_key`), the tile setting and the store
    revision, so a write shows on the next request. A query string that only differs in
    noise is a cache hit. Error answers are not cached.
    """
    spec = getattr(view, "__openapi__", None)
    model = spec.query if spec is not None else None
    ignored = frozenset(getattr(view, "client_side_parameters", ()))
    depends: Callable[[], Any] | None = getattr(view, "page_depends_on", None)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        state = get_state()
        parsed = parse_query(model, request.args) if model is not None else None
        params = (
            tuple((k, str(v)) for k, v in sorted(parsed.model_dump().items()) if k not in ignored)
            if parsed is not None
            else ()
        )
        key = (
            request.endpoint,
            tuple(sorted((request.view_args or {}).items())),
            params,
            _lang(),
            host_key(),
            request.script_root,
            str(current_app.config.get("WARMHEART_TILES")),
            getattr(state, "revision", None),
            id(state.plan),
            depends() if depends is not None else None,
        )
        cache: OrderedDict[Any, tuple[str, str]] = current_app.extensions.setdefault(
            "warmheart_page_cache", OrderedDict()
        )
        with _cache_lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
        if hit is None:
            result = view(*args, **kwargs)
            if isinstance(result, Response):
                return result
            html = str(result)
            etag = hashlib.sha1(html.encode("utf-8"), usedforsecurity=False).hexdigest()[:20]
            hit = (html, etag)
            with _cache_lock:
                cache[key] = hit
                while len(cache) > PAGE_CACHE_SIZE:
                    cache.popitem(last=False)
        response = Response(hit[0], mimetype="text/html")
        response.set_etag(hit[1])
        response.vary.add("Accept-Language")
        if host_key() is not None:
            response.vary.add("Host")
        if not (request.endpoint or "").endswith("embed"):
            # Embeds get a public max-age from the app; other pages revalidate every time.
            response.headers["Cache-Control"] = "no-cache"
        response.make_conditional(request)
        return response

    return wrapper


def client_side(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark parameters a page's script applies itself (checked by the server, not rendered)."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.client_side_parameters = names  # type: ignore[attr-defined]
        return view

    return mark


def depends_on(fact: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a fact of the server (not of the request) that a page's HTML depends on: part of
    its cache key and so of its ETag."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.page_depends_on = fact  # type: ignore[attr-defined]
        return view

    return mark


# ------------------------------------------------------------------------------------ assets


@bp.get("/assets/<library>/<path:filename>")
@operation(
    "asset",
    "Self-hosted front-end assets (Leaflet, MarkerCluster, ...)",
    responses={200: (None, "The file.")},
    media="*/*",
    errors=(404,),
    path_params={"library": "Library.", "filename": "File inside the library."},
    tag="pages",
)
def asset(library: str, filename: str) -> Response:
    """A self-hosted front-end file (Leaflet, MarkerCluster, jQuery, Font Awesome, ours).

    Paths are resolved inside the library directory only (``..`` and absolute paths are
    404). A URL carrying the current ``?v=`` token may be cached for a year.
    """
    path = asset_path(library, filename)
    response = send_file(path, conditional=True, max_age=None)
    if request.args.get("v") == asset_version(library, filename):
        response.headers["Cache-Control"] = f"public, max-age={IMMUTABLE_MAX_AGE}, immutable"
    else:
        max_age = int(current_app.config.get("WARMHEART_STATIC_MAX_AGE", 86400))
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# ----------------------------------------------------------------------------------- basemap


def _basemap_cached() -> tuple[str, str]:
    cache: dict[str, tuple[str, str]] = current_app.extensions.setdefault("warmheart_basemap", {})
    with _cache_lock:
        hit = cache.get("streets")
    if hit is None:
        import json

        data = maps.street_basemap(get_state().area)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        hit = (body, hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:20])
        with _cache_lock:
            cache["streets"] = hit
    return hit


def _basemap_option(*, inline: bool = False, tiles: Any = "request") -> Any:
    """What the front end gets for the light street layer: nothing when tiles are on."""
    if (_tiles() if tiles == "request" else tiles) is not None:
        return None
    if inline:
        import json

        return json.loads(_basemap_cached()[0])
    return url_for("pages.basemap")


@bp.get("/basemap.json")
@operation(
    "streetBasemap",
    "The Area's walkable streets as a compact vector basemap (tiles off)",
    responses={200: (None, "classes, lines ([class, lon0, lat0, lon1, lat1, ...]), attribution.")},
    media=JSON,
    errors=(429, 500),
    tag="pages",
)
def basemap() -> Response:
    """The Area's streets as a compact vector basemap (drawn when tiles are off)."""
    body, etag = _basemap_cached()
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.make_conditional(request)
    return response


def _renderer() -> Any:
    from .tiles import TileRenderer

    renderer = current_app.extensions.get("warmheart_tiles")
    if renderer is None:
        with _cache_lock:
            renderer = current_app.extensions.get("warmheart_tiles")
            if renderer is None:
                renderer = current_app.extensions["warmheart_tiles"] = TileRenderer(
                    get_state().area
                )
    return renderer


@bp.get("/tiles/<lang>/<int:z>/<int:x>/<int:y>.png")
@operation(
    "mapTile",
    "A map tile drawn from the Area's own OSM data (streets, names, water, parks)",
    responses={200: (None, "256 px PNG (Web Mercator).")},
    media="image/png",
    errors=(404, 429, 500),
    path_params={
        "lang": "Language of the names: " + ", ".join(LANGUAGES) + ".",
        "z": "Zoom, 2-19.",
        "x": "Column.",
        "y": "Row.",
    },
    tag="pages",
)
def tile(lang: str, z: int, x: int, y: int) -> Response:
    """One map tile, drawn on first request and cached (blank outside the area)."""
    from .tiles import MAX_ZOOM, MIN_ZOOM

    if (
        lang not in LANGUAGES
        or not MIN_ZOOM <= z <= MAX_ZOOM
        or not (0 <= x < 2**z and 0 <= y < 2**z)
    ):
        return error_response(
            404,
            f"Expected /tiles/<{'|'.join(LANGUAGES)}>/<z {MIN_ZOOM}-{MAX_ZOOM}>/<x>/<y>.png "
            f"inside the zoom's grid, got {request.path!r}",
        )
    renderer = _renderer()
    etag = renderer.etag(lang, z, x, y)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        return response
    png = renderer.cached(lang, z, x, y)
    if png is None:
        png = renderer.render(lang, z, x, y)
    response = Response(png, mimetype="image/png")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# ----------------------------------------------------------------------------------- locator


def _embed_snippet(lang: str, t: Translator) -> str:
    src = public_url(url_for("pages.embed", name="stations", lang=lang))
    title = t("app_title")
    return (
        f'<iframe src="{Markup.escape(src)}" title="{Markup.escape(title)}" width="100%" '
        'height="480" style="border:0" loading="lazy" allow="geolocation" '
        'referrerpolicy="strict-origin-when-cross-origin"></iframe>'
    )


_PAGE_ERRORS = (400, 404, 429, 500)


def _discovery(page_url: str, t: Translator) -> Markup:
    """The oEmbed discovery ``<link>`` of a page (escaped)."""
    return Markup(oembed_link(page_url, title=t("app_title")))  # noqa: S704 - escaped inside


@bp.get("/")
@cached_page
@client_side("center", "zoom", "kind", "amenity")
@operation(
    "locatorPage",
    "Locator: stations, near me, walking route",
    query=LocatorQuery,
    responses={200: (None, "HTML page.")},
    media=HTML,
    errors=_PAGE_ERRORS,
    tag="pages",
)
def locator(*, query: LocatorQuery) -> str:
    """The locator: all stations, filters, "near me" / tap-to-search and the walking route.

    ``center``, ``zoom``, ``kind`` and ``amenity`` are checked here (a bad value is a 400)
    and applied by the page's script from its own URL, so every such view is one cached page.
    """
    from stations.model import AMENITIES, KINDS

    lang = _lang()
    state = get_state()
    stations = _stations(state)
    t = Translator(lang)
    m = maps.locator_map(
        stations,
        lang=lang,
        tiles=_tiles(),
        bounds=state.area.bounds,
        options={
            "api": request.script_root + "/api",
            "lang": lang,
            "k": NEAREST_K,
            "messages": _messages(t),
            "basemap": _basemap_option(),
            "area_bounds": list(state.area.bounds),
        },
    )
    parts = maps.render_parts(m, prefix=request.script_root)
    return render_template(
        "locator.html",
        parts=parts,
        kinds=KINDS,
        amenities=AMENITIES,
        colours=maps.KIND_COLOURS,
        station_count=len(stations),
        embed_snippet=_embed_snippet(lang, t),
        planner_url=url_for("pages.planner", lang=lang),
        discovery=_discovery(public_url(url_for("pages.locator", lang=lang)), t),
        **{k: v for k, v in _context(lang).items() if k != "parts"},
    )


# ------------------------------------------------------------------------------------- embed


@bp.get("/embed/<name>")
@cached_page
@client_side("center", "zoom")
@operation(
    "embedPage",
    "Chrome-less map for iframes",
    query=EmbedQuery,
    responses={200: (None, "HTML page.")},
    media=HTML,
    errors=_PAGE_ERRORS,
    path_params={"name": "Which map: " + ", ".join(EMBED_NAMES) + "."},
    tag="pages",
)
def embed(name: str, *, query: EmbedQuery) -> Response | str:
    """A chrome-less map for iframes: ``?kinds=``, ``center=lon,lat``, ``zoom=``, ``lang=``.

    Any site may frame it under the default ``WARMHEART_FRAME_ANCESTORS`` (``*``).
    """

    if name not in EMBED_NAMES:
        return _error(404, f"Expected an embed name among {', '.join(EMBED_NAMES)}, got {name!r}")
    lang = _lang()
    state = get_state()
    t = Translator(lang)
    args: dict[str, Any] = {"lang": lang}
    if name == "lines":
        from .planner import planner_map

        m = planner_map(
            state.plan,
            t=t,
            lang=lang,
            tiles=_tiles(),
            fallback_bounds=state.area.bounds,
            basemap=_basemap_option(),
        )
        parts = maps.render_parts(m, prefix=request.script_root)
        return render_template(
            "embed_lines.html",
            parts=parts,
            plan=state.plan,
            full_url=public_url(url_for("pages.planner", lang=lang)),
            discovery=_discovery(public_url(url_for("pages.embed", name=name, **args)), t),
            **{k: v for k, v in _context(lang).items() if k != "parts"},
        )
    kinds = list(dict.fromkeys([*query.kinds, *query.kind])) if name == "stations" else [name]
    stations = [s for s in _stations(state) if not kinds or s.kind in kinds]
    m = maps.locator_map(
        stations,
        lang=lang,
        tiles=_tiles(),
        bounds=state.area.bounds,
        zoom_control=True,
        options={
            "api": request.script_root + "/api",
            "lang": lang,
            "k": 3,
            "kinds": kinds,
            "messages": _messages(t),
            "basemap": _basemap_option(),
            "area_bounds": list(state.area.bounds),
        },
    )
    parts = maps.render_parts(m, prefix=request.script_root)
    if kinds and name == "stations":
        args["kinds"] = ",".join(kinds)
    return render_template(
        "embed.html",
        parts=parts,
        full_url=public_url(url_for("pages.locator", lang=lang, kind=kinds or None)),
        discovery=_discovery(public_url(url_for("pages.embed", name=name, **args)), t),
        **{k: v for k, v in _context(lang).items() if k != "parts"},
    )


# ----------------------------------------------------------------------------------- planner


def _job_result(job_id: str | None) -> Any:
    """The finished job ``job_id`` (:class:`webmap.jobs.JobResult`), or a 404 answer."""
    if not job_id:
        return None
    from .planner_api import job_board

    job = job_board().get(job_id)
    if job is None or job.result is None:
        raise _PageNotFoundError(f"No finished planning job {job_id!r} on this server")
    return job.result


def _has_job() -> bool:
    """Whether a planning job has run on this server (the page then polls for it)."""
    from .planner_api import job_board

    return job_board().current() is not None


class _PageNotFoundError(WarmheartError, LookupError):
    """A planner page for a job this server does not know (answered 404)."""


def _planner_context(lang: str, *, standalone: bool, job: str | None) -> dict[str, Any]:
    from . import planner as planner_view

    state = get_state()
    result = _job_result(job)
    plan = result.plan if result is not None else state.plan
    before = result.before.plan if result is not None and result.before is not None else None
    t = Translator(lang)
    tiles = _tiles(lang)
    if standalone and tiles is not None and tiles.url.startswith(request.script_root + "/tiles/"):
        tiles = None  # a downloaded file cannot reach this server's tiles: inline streets
    m = planner_view.planner_map(
        plan,
        t=t,
        lang=lang,
        tiles=tiles,
        fallback_bounds=state.area.bounds,
        basemap=_basemap_option(inline=standalone, tiles=tiles),
        before=before,
        workplace_pick=not standalone,
    )
    parts = maps.render_parts(m, prefix=request.script_root)
    context: dict[str, Any] = {
        "parts": parts,
        "plan": plan,
        "standalone": standalone,
        "job": job,
        "legend": planner_view.legend(t, plan, before=before is not None),
        "reason_colours": planner_view.REASON_COLOURS,
        "writes": bool(current_app.config.get("WARMHEART_ADMIN_TOKEN")),
        "api_jobs": url_for("planner_api.start_job"),
        # only when a job has run: a fresh page asks nothing that can only answer 404
        "api_current": url_for("planner_api.current_job") if _has_job() else "",
        "plan_messages": t.subset(("plan.", "stage.")),
    }
    if plan is not None:
        context.update(
            planner_view.plan_tables(
                plan,
                t=t,
                lang=lang,
                listed=UNSERVED_LISTED,
                comparison=result.comparison if result is not None else None,
            )
        )
        context["downloads"] = [
            (fmt, url_for("pages.planner_download", lang=lang, job=job, format=fmt))
            for fmt in planner_view.DOWNLOADS
        ]
    return context


@bp.get("/planner")
@cached_page
@depends_on(_has_job)
@operation(
    "plannerPage",
    "Planner: plan lines from uploads, trips both ways, buses, KPIs, unserved riders",
    query=PlannerQuery,
    responses={200: (None, "HTML page.")},
    media=HTML,
    errors=_PAGE_ERRORS,
    tag="pages",
)
def planner(*, query: PlannerQuery) -> Response | str:
    """The planner: the plan (or a job's result) on the map with its tables, and the form
    that starts a planning job."""
    lang = _lang()
    try:
        context = _planner_context(lang, standalone=False, job=query.job)
    except _PageNotFoundError as exc:
        return _error(404, str(exc))
    return render_template(
        "planner.html",
        locator_url=url_for("pages.locator", lang=lang),
        **{k: v for k, v in _context(lang).items() if k != "parts"},
        **context,
    )


@bp.get("/planner/download")
@operation(
    "plannerDownload",
    "The plan (or a job's result) as standalone HTML, timetable CSV, GeoJSON or GTFS",
    query=PlannerDownloadQuery,
    responses={200: (None, "The file, as an attachment.")},
    media=HTML,
    other_media=tuple(m for _, m in DOWNLOADS.values() if m != HTML),
    errors=_PAGE_ERRORS,
    tag="pages",
)
def planner_download(*, query: PlannerDownloadQuery) -> Response:
    """The planner map as one self-contained HTML file (assets inlined; opens offline), or
    the plan as a timetable CSV, a GeoJSON of its trips or a GTFS feed."""
    from . import planner as planner_view

    lang = _lang()
    area = (
        "".join(c for c in (get_state().area.name or "area") if c.isalnum() or c in "-_") or "area"
    )
    fmt = query.format
    suffix, media = planner_view.DOWNLOADS[fmt]
    try:
        if fmt == "html":
            html = render_template(
                "planner.html",
                **{k: v for k, v in _context(lang).items() if k != "parts"},
                **_planner_context(lang, standalone=True, job=query.job),
            )
            response = Response(inline_assets(html), mimetype=media)
        else:
            result = _job_result(query.job)
            plan = result.plan if result is not None else get_state().plan
            if plan is None:
                return _error(404, "No shuttle plan to download: plan one first")
            data, media = planner_view.download(plan, fmt, lang=lang)
            response = Response(data, mimetype=media)
    except _PageNotFoundError as exc:
        return _error(404, str(exc))
    name = f"warmheart-planner-{area}-{lang}" if fmt == "html" else f"warmheart-plan-{area}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}{suffix}"'
    return response
