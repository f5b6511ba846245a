"""Folium map builders: the stations layer, the shuttle-lines layer, and the maps of each page.

Every map built here loads only self-hosted assets (:func:`webmap.assets.self_host`) and draws
its data with our own small front-end code (``webmap/static/warmheart.js``):

* Stations go to the browser as one compact JSON table (:func:`station_table`) and become
  canvas circle markers in a Leaflet.markercluster group with chunked loading, so 10,000
  stations stay fluid on a phone. Popups and tooltips are built on demand in JS with
  ``textContent`` — station data never passes through ``innerHTML``.
* Shuttle lines are a GeoJSON FeatureCollection whose popups are built here in Python with
  every user string passed through :func:`markupsafe.escape`.

Tiles come from the ``WARMHEART_TILES`` setting (:func:`resolve_tiles`): ``"none"`` (no
background, the offline default of tests and the demo), ``"osm"``, the AutoNavi preset
``"amap"`` (GCJ-02), or a custom URL template. On a GCJ-02 tile layer the JS shifts every
WGS-84 coordinate it draws to GCJ-02 and every click back to WGS-84, so markers sit on the
right street and the API still receives WGS-84.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import folium
import jinja2
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from markupsafe import Markup

from ._errors import ConfigError
from .assets import asset_url, self_host

if TYPE_CHECKING:
    from routing.shuttle import Plan
    from stations.model import Station

logger = logging.getLogger(__name__)

__all__ = [
    "LINE_COLOURS",
    "MapParts",
    "TileConfig",
    "locator_map",
    "render_parts",
    "resolve_tiles",
    "station_table",
]

#: Marker colour per station kind (also used by the legend).
KIND_COLOURS: dict[str, str] = {
    "warm_station": "#d9480f",
    "nursing_room": "#c2255c",
    "shuttle_stop": "#1971c2",
}

#: Distinct line colours (Okabe-Ito and Tableau-like, readable on white, colour-blind aware).
LINE_COLOURS = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#6a3d9a",
    "#b15928",
    "#1b9e77",
    "#e7298a",
    "#666666",
    "#a6761d",
)


# ------------------------------------------------------------------------------------ tiles


@dataclass(frozen=True)
class TileConfig:
    """A raster tile layer.

    Attributes
    ----------
    url
        Leaflet URL template (``https://{s}.example.org/{z}/{x}/{y}.png``).
    attribution
        Attribution HTML shown in the corner (required by most providers).
    datum
        ``"wgs84"`` or ``"gcj02"`` (the offset Chinese datum of AutoNavi, Tencent, Baidu-like
        tiles); markers and lines are shifted to match a GCJ-02 layer.
    subdomains
        Values of ``{s}``.
    max_zoom
        Highest zoom the provider serves.
    """

    url: str
    attribution: str
    datum: str = "wgs84"
    subdomains: str = "abc"
    max_zoom: int = 19


#: Named tile providers. Tianditu is not here: it needs a key and uses CGCS2000, which is
#: WGS-84 to within centimetres, so give it as a custom template (datum wgs84).
TILE_PRESETS: dict[str, TileConfig] = {
    "osm": TileConfig(
        url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution='&copy; <a href="https://www.openstreetmap.org/copyright">'
        "OpenStreetMap</a> contributors",
    ),
    "amap": TileConfig(
        url="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        attribution="&copy; AutoNavi (高德地图)",
        datum="gcj02",
        subdomains="1234",
        max_zoom=18,
    ),
}
TILE_PRESETS["autonavi"] = TILE_PRESETS["amap"]
#: The app's own tiles (webmap.tiles), drawn from the Area's OSM data: the default.
LOCAL_TILES = TileConfig(
    url="/tiles/{lang}/{z}/{x}/{y}.png",
    attribution='Map data &copy; <a href="https://www.openstreetmap.org/copyright">'
    "OpenStreetMap</a> contributors",
    subdomains="",
    max_zoom=19,
)
TILE_PRESETS["local"] = LOCAL_TILES

#: Hosts whose tiles are in GCJ-02 when given as a custom template.
_GCJ_HOSTS = ("autonavi.com", "amap.com", "gtimg.com", "map.qq.com", "google.cn")


def resolve_tiles(value: Any) -> TileConfig | None:
    """Turn a ``WARMHEART_TILES`` value into a :class:`TileConfig` (``None``: no tiles).

    Parameters
    ----------
    value
        ``None`` / ``"none"`` (no tile layer: the Area's walkable streets are drawn as a
        light vector layer); ``"local"`` (the default: tiles the app draws from the Area's
        own OSM data, :mod:`webmap.tiles`); a preset name (``"osm"``, ``"amap"``); a URL template,
        optionally followed by ``" | attribution"`` and ``" | gcj02"``; a JSON object string
        or a mapping with ``url``, ``attribution``, ``datum``, ``subdomains``, ``max_zoom``;
        or a :class:`TileConfig`.

    Raises
    ------
    ConfigError
        If the value is none of these.
    """
    if value is None or isinstance(value, TileConfig):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none", "off", "false"):
            return None
        if text.lower() in TILE_PRESETS:
            return TILE_PRESETS[text.lower()]
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                msg = f"Expected WARMHEART_TILES as JSON, got {text!r} ({exc})"
                raise ConfigError(msg) from None
        else:
            parts = [p.strip() for p in text.split("|")]
            value = {"url": parts[0]}
            for extra in parts[1:]:
                if extra.lower() in ("gcj02", "wgs84"):
                    value["datum"] = extra.lower()
                elif extra:
                    value["attribution"] = extra
    if not isinstance(value, Mapping):
        msg = (
            "Expected WARMHEART_TILES to be 'none', 'osm', 'amap', a URL template or a mapping, "
            f"got {value!r}"
        )
        raise ConfigError(msg)
    url = str(value.get("url") or "")
    if not url.startswith(("https://", "http://", "/")) or not all(
        f"{{{c}}}" in url for c in "xyz"
    ):
        msg = f"Expected a tile URL template with {{x}}, {{y}} and {{z}}, got {url!r}"
        raise ConfigError(msg)
    datum = str(value.get("datum") or "").lower()
    if not datum:
        datum = "gcj02" if any(h in url for h in _GCJ_HOSTS) else "wgs84"
    if datum not in ("wgs84", "gcj02"):
        msg = f"Expected the tile datum to be 'wgs84' or 'gcj02', got {datum!r}"
        raise ConfigError(msg)
    attribution = str(value.get("attribution") or "").strip()
    if not attribution:
        msg = f"Expected an attribution for the tile layer {url!r} (its licence requires one)"
        raise ConfigError(msg)
    try:
        max_zoom = int(value.get("max_zoom", 19))
    except (TypeError, ValueError):
        msg = f"Expected max_zoom as an integer, got {value.get('max_zoom')!r}"
        raise ConfigError(msg) from None
    return TileConfig(
        url=url,
        attribution=attribution,
        datum=datum,
        subdomains=str(value.get("subdomains") or "abc"),
        max_zoom=max_zoom,
    )


# ---------------------------------------------------------------------------- base and parts


#: The pages' viewport: device width, zoomable (WCAG 1.4.4).
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
_FOLIUM_VIEWPORT = re.compile(r"<meta\s+name=\"viewport\"[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class MapParts:
    """A rendered Folium map split for embedding in our own templates."""

    header: Markup
    html: Markup
    script: Markup
    name: str


def render_parts(m: folium.Map, *, prefix: str = "") -> MapParts:
    """Self-host the assets of ``m`` and render it into header, body and script parts."""
    self_host(m, prefix=prefix)
    root: Any = m.get_root()
    root.render()
    # Folium's viewport forbids zooming the page (maximum-scale=1, user-scalable=no), which
    # locks out low-vision users: the map pinches by itself, the page may zoom too.
    header = _FOLIUM_VIEWPORT.sub(VIEWPORT, root.header.render())
    return MapParts(
        header=Markup(header),  # noqa: S704 - Folium's own generated markup
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup(root.script.render()),  # noqa: S704
        name=m.get_name(),
    )


def base_map(
    *,
    center: tuple[float, float],
    zoom: int,
    tiles: TileConfig | None,
    zoom_control: bool = True,
) -> folium.Map:
    """A canvas-preferring Folium map with the configured tile layer (or none).

    Parameters
    ----------
    center
        ``(lon, lat)`` in WGS-84 (shifted for GCJ-02 tiles by the front end).
    zoom
        Initial zoom.
    tiles
        From :func:`resolve_tiles`.
    zoom_control
        Show the +/- buttons (off in compact embeds; pinch still zooms).
    """
    m = folium.Map(
        location=[center[1], center[0]],
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=True,
        control_scale=False,  # ours is metric-only, bottom right (warmheart.js)
        zoom_control="bottomright" if zoom_control else False,
        max_zoom=tiles.max_zoom if tiles else 19,
    )
    # The cluster layer needs the map's own maxZoom; without a tile layer Leaflet has none.
    m.options["max_zoom"] = tiles.max_zoom if tiles else 19
    m.options["min_zoom"] = 2
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name="tiles",
            max_zoom=tiles.max_zoom,
            subdomains=tiles.subdomains,
            control=False,
        ).add_to(m)
    return m


def _bounds_of(
    points: Iterable[tuple[float, float]],
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """``((minlon, minlat), (maxlon, maxlat))`` of ``points``, ``None`` when there are none."""
    lons: list[float] = []
    lats: list[float] = []
    for lon, lat in points:
        lons.append(lon)
        lats.append(lat)
    if not lons:
        return None
    return (min(lons), min(lats)), (max(lons), max(lats))


def zoom_for_bounds(bounds: Sequence[float], *, width_px: int = 900, height_px: int = 700) -> int:
    """The Web-Mercator zoom at which ``(minlon, minlat, maxlon, maxlat)`` fits the viewport."""
    minlon, minlat, maxlon, maxlat = bounds

    def merc_y(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max(maxlon - minlon, 1e-6) / 360.0
    dy = max(merc_y(maxlat) - merc_y(minlat), 1e-6) / (2 * math.pi)
    zoom = min(math.log2(width_px / 256 / dx), math.log2(height_px / 256 / dy))
    return int(max(1, min(18, math.floor(zoom))))


# ------------------------------------------------------------------------ offline streets

#: Street classes of the offline basemap, drawn thickest first.
STREET_CLASSES = ("major", "minor", "path")
_MAJOR = {"motorway", "trunk", "primary", "secondary", "tertiary"}
_PATH = {"footway", "path", "pedestrian", "steps", "cycleway", "track", "bridleway", "corridor"}


def _street_class(highway: Any) -> int:
    values = highway if isinstance(highway, list) else [highway]
    names = {str(v).removesuffix("_link") for v in values}
    if names & _MAJOR:
        return 0
    if names and names <= _PATH:
        return 2
    return 1


def street_basemap(area: Any, *, decimals: int = 5) -> dict[str, Any]:
    """The Area's walkable streets as a compact vector basemap for maps without tiles.

    Offline (``WARMHEART_TILES=none``) a map would otherwise show markers on a blank
    background; drawing the walk graph's streets (data © OpenStreetMap contributors) gives
    the reader the street pattern to find their bearings. Each street appears once (both
    directions of a two-way edge collapse) as ``[class, lon0, lat0, lon1, lat1, ...]``, class
    indexing :data:`STREET_CLASSES`; coordinates are rounded to ``decimals`` (1e-5 degrees is
    about a metre).
    """
    import numpy as np

    arrays = area.arrays("walk")  # arrays, not the networkx graph: no graph built to serve
    table = arrays.edges
    a, b = arrays.nodes[table.u], arrays.nodes[table.v]
    _, first = np.unique(  # one line per (node pair, length): both directions collapse
        np.column_stack(
            [np.minimum(a, b), np.maximum(a, b), np.round(table.length * 10.0).astype(np.int64)]
        ),
        axis=0,
        return_index=True,
    )
    first.sort()
    highway = area.edge_column("walk", "highway") if "highway" in area.columns("walk") else None
    coords = np.round(table.lonlat, decimals)
    lines: list[list[float]] = []
    for e in first.tolist():
        cls = _street_class(highway[e] if highway is not None else None)
        lines.append([cls, *coords[table.ptr[e] : table.ptr[e + 1]].ravel().tolist()])
    lines.sort(key=lambda line: -line[0])  # paths first, so major streets are drawn on top
    return {
        "classes": list(STREET_CLASSES),
        "lines": lines,
        "attribution": "Streets &copy; OpenStreetMap contributors",
    }


# -------------------------------------------------------------------------------- stations


def station_table(stations: Iterable[Station], *, lang: str | None) -> dict[str, Any]:
    """The stations as one compact table for the browser.

    Columns of each row: ``[id, lon, lat, kind, amenities, name, host, hours, access]`` with
    kind/host/access as indexes into the vocabularies, amenities as a bit mask over
    ``"amenities"`` and hours as an index into ``"hours"`` (the weekly hours in words of
    ``lang``, :func:`webmap.hours_text.describe_week`, or the OSM expression where one week
    cannot say; ``-1``: unknown); coordinates rounded to 6 decimals (0.1 m). ``name`` is in
    ``lang`` where the station has a variant. About 60 bytes per station, a tenth of a Folium
    marker.
    """
    from stations.model import ACCESS, AMENITIES, HOST_TYPES, KINDS

    from .hours_text import describe_week

    hours_index: dict[str, int] = {}
    hours_texts: list[str] = []

    def hours_of(expr: str | None) -> int:
        if not expr:
            return -1
        index = hours_index.get(expr)
        if index is None:
            index = hours_index[expr] = len(hours_texts)
            hours_texts.append(describe_week(expr, lang or "en") or expr)
        return index

    kind_index = {k: i for i, k in enumerate(KINDS)}
    host_index = {h: i for i, h in enumerate(HOST_TYPES)}
    bit = {a: 1 << i for i, a in enumerate(AMENITIES)}
    rows = []
    for s in stations:
        mask = 0
        for a in s.amenities:
            mask |= bit[a]
        rows.append(
            [
                s.id,
                round(s.lon, 6),
                round(s.lat, 6),
                kind_index[s.kind],
                mask,
                s.name_in(lang),
                host_index.get(s.host_type, -1) if s.host_type else -1,
                hours_of(s.opening_hours),
                ACCESS.index(s.access),
            ]
        )
    return {
        "columns": ["id", "lon", "lat", "kind", "amenities", "name", "host", "hours", "access"],
        "kinds": list(KINDS),
        "amenities": list(AMENITIES),
        "hosts": list(HOST_TYPES),
        "access": list(ACCESS),
        "hours": hours_texts,
        "rows": rows,
    }


# Our own template environment: compact UTF-8 JSON (CJK names stay 3 bytes, not 6 as \uXXXX).
# ``tojson`` still escapes < > & ' so no data can close the <script> element.
_ENV = jinja2.Environment(autoescape=False)  # noqa: S701 - JS, not HTML; data goes via tojson
_ENV.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":")}


class WarmheartScript(JSCSSMixin, MacroElement):
    """Loads ``warmheart.js`` and calls one of its entry points with the map and JSON options.

    Parameters
    ----------
    function
        Name of the entry point on ``window.warmheart`` (``"locator"``, ``"planner"``).
    options
        JSON-serialisable options; rendered with Jinja's ``tojson`` so no data can close the
        ``<script>`` element or break out of the JS string.
    """

    _template = _ENV.from_string(
        """
        {% macro script(this, kwargs) %}
            window.warmheart.{{ this.function }}({{ this._parent.get_name() }},
                {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, function: str, options: Mapping[str, Any], *, cluster: bool = True) -> None:
        super().__init__()
        self._name = "WarmheartScript"
        self.function = function
        self.options = dict(options)
        js = [("warmheart_js", asset_url("warmheart", "warmheart.js"))]
        css = [("warmheart_css", asset_url("warmheart", "warmheart.css"))]
        if cluster:
            js.insert(
                0,
                ("markerclusterjs", asset_url("leaflet.markercluster", "leaflet.markercluster.js")),
            )
            css[:0] = [
                ("markerclustercss", asset_url("leaflet.markercluster", "MarkerCluster.css")),
                (
                    "markerclusterdefaultcss",
                    asset_url("leaflet.markercluster", "MarkerCluster.Default.css"),
                ),
            ]
        self.default_js = js
        self.default_css = css


def locator_map(
    stations: Sequence[Station],
    *,
    lang: str,
    tiles: TileConfig | None,
    options: Mapping[str, Any],
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    bounds: Sequence[float] | None = None,
    zoom_control: bool = True,
) -> folium.Map:
    """The locator map (also used, chrome-less, by the embed).

    Parameters
    ----------
    stations
        What to draw (already filtered by kind for embeds).
    lang
        Language of station names and interface strings.
    tiles
        From :func:`resolve_tiles`.
    options
        Extra options for the front end (``api`` base URL, ``messages``, ``k``, ``kinds``...).
    center, zoom
        Initial view; default: fit ``bounds`` (the area), else the stations.
    bounds
        ``(minlon, minlat, maxlon, maxlat)`` of the area.
    """
    box = _bounds_of((s.lon, s.lat) for s in stations)
    fit = None
    if center is None and zoom is None:
        # The browser refits to the stations, keeping them clear of the panel.
        target = (box[0][0], box[0][1], box[1][0], box[1][1]) if box else bounds
        if target is not None:
            fit = [[target[1], target[0]], [target[3], target[2]]]
    if bounds is None:
        bounds = (box[0][0], box[0][1], box[1][0], box[1][1]) if box else (-180, -60, 180, 75)
    if center is None:
        center = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    if zoom is None:
        zoom = zoom_for_bounds(bounds)
    m = base_map(center=center, zoom=zoom, tiles=tiles, zoom_control=zoom_control)
    payload = {
        **options,
        "stations": station_table(stations, lang=lang),
        "datum": tiles.datum if tiles else "wgs84",
        "colours": KIND_COLOURS,
        "fit": fit,
    }
    WarmheartScript("locator", payload).add_to(m)
    return m


# ----------------------------------------------------------------------------------- planner


def line_colour(index: int) -> str:
    """Colour of the ``index``-th line (cycles through :data:`LINE_COLOURS`)."""
    return LINE_COLOURS[index % len(LINE_COLOURS)]


def plan_bounds(plan: Plan) -> tuple[float, float, float, float] | None:
    """``(minlon, minlat, maxlon, maxlat)`` of every stop, path vertex and the workplace."""
    points: list[tuple[float, float]] = [tuple(plan.workplace)]  # type: ignore[list-item]
    for line in plan.lines:
        points.extend((v.lon, v.lat) for v in line.stops)
        if line.path is not None:
            points.extend((c[0], c[1]) for c in line.path.coords)
    box = _bounds_of(points)
    return (box[0][0], box[0][1], box[1][0], box[1][1]) if box else None
