"""Map tiles drawn by the app itself from the Area's own OSM data: no tile server, no network.

``GET /tiles/<lang>/<z>/<x>/<y>.png`` answers a 256 px Web-Mercator PNG drawn with Skia
(skia-python) from the Area's base-map layers (:mod:`routing.basemap`): parks and water,
homes at street zooms, roads by class with casings, and labels — street names and
landmarks in the tile's language (``name:<lang>`` where tagged, else the name in its own
script), drawn with a CJK-capable font (``fonts-wqy-zenhei`` or Noto CJK when installed).

Labels are placed once per language and zoom for the whole area (the longest straight piece
of each named street, greedy collision avoidance, most important first), and every tile
draws the labels that touch it, so a name cut by a tile edge continues seamlessly in the
next tile. Tiles are cached in memory (:data:`TILE_CACHE_SIZE`) with a strong ETag; a tile
outside the area is a blank background, never drawn. A tile drawn afresh costs its client
the CPU it took (:mod:`webmap.budget`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

__all__ = ["MAX_ZOOM", "MIN_ZOOM", "TileRenderer", "find_fonts", "tile_bounds"]

logger = logging.getLogger(__name__)

TILE = 256
MIN_ZOOM = 2
MAX_ZOOM = 19
#: Tiles kept in memory per app (~10-30 KB each).
TILE_CACHE_SIZE = 4000
#: Bump when the drawing changes, so ETags change with it.
RENDER_VERSION = 1

_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
_LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)

# ------------------------------------------------------------------------------ styling


def _rgb(hex_colour: str) -> int:
    value = int(hex_colour.lstrip("#"), 16)
    return 0xFF000000 | value


BACKGROUND = _rgb("#f2efe9")
#: Road class -> (group, fill, casing, width in px at zoom 16, first zoom drawn).
_ROADS: dict[str, tuple[int, str, str, float, int]] = {}
for _names, _style in (
    (("motorway", "trunk"), (5, "#f9b29c", "#c77a6b", 12.0, 5)),
    (("primary",), (4, "#fcd6a4", "#c79a62", 11.0, 8)),
    (("secondary",), (3, "#f7fabf", "#a9ab7e", 10.0, 10)),
    (("tertiary",), (2, "#ffffff", "#b7b2a7", 9.0, 11)),
    (
        ("residential", "unclassified", "living_street", "road", "pedestrian"),
        (1, "#ffffff", "#c8c2b8", 7.0, 13),
    ),
    (("service",), (0, "#ffffff", "#cfc9bf", 4.0, 15)),
):
    for _name in _names:
        _ROADS[_name] = _style
        _ROADS[f"{_name}_link"] = _style
_PATH = (-1, "#a08a70", "", 1.4, 15)  # footway, path, steps, track, cycleway: thin, dashed
_PARKS = {
    "forest": "#add19e",
    "wood": "#add19e",
    "scrub": "#c8d7ab",
    "cemetery": "#aacbaf",
    "pitch": "#aae0cb",
    "golf_course": "#b5e3b5",
    "allotments": "#c9e1bf",
}
_PARK_DEFAULT = "#cdebb0"
_WATER = "#aad3df"
_BUILDING, _BUILDING_LINE = "#d9d0c9", "#c4b6ab"
_TEXT, _HALO = "#333333", "#ffffff"
_PLACES = ("town", "village", "suburb", "quarter", "neighbourhood", "island")


def _road_style(kind: str) -> tuple[int, str, str, float, int]:
    return _ROADS.get(kind, _PATH)


def _width(base16: float, z: int) -> float:
    return float(min(28.0, max(0.6, base16 * 2.0 ** ((z - 16) * 0.75))))


# ---------------------------------------------------------------------------- geometry


def _world(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS-84 to Web-Mercator "world" pixels at zoom 0 (0..256)."""
    lat = np.clip(lat, -85.05112878, 85.05112878)
    x = (np.asarray(lon) + 180.0) / 360.0 * TILE
    y = (1.0 - np.log(np.tan(np.radians(lat)) + 1.0 / np.cos(np.radians(lat))) / math.pi) / 2.0
    return x, y * TILE


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(minx, miny, maxx, maxy)`` of a tile in world pixels at zoom 0."""
    size = TILE / 2**z
    return x * size, y * size, (x + 1) * size, (y + 1) * size


def _to_world(geoms: Any) -> Any:
    def transform(coords: Any) -> Any:
        x, y = _world(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), transform)


@dataclass
class _Layer:
    geoms: Any  # world-pixel geometries (numpy array of shapely objects)
    tree: Any
    kind: Any  # numpy arrays of the source columns, read per drawn feature
    layer: Any
    names: dict[str, Any]

    @classmethod
    def of(cls, frame: Any) -> _Layer:
        geoms = _to_world(frame.geometry.to_numpy()) if len(frame) else np.array([], dtype=object)
        n = len(frame)
        kind = frame["kind"].astype(str).to_numpy() if "kind" in frame else np.full(n, "")
        level = frame["layer"].fillna(0).astype(int).to_numpy() if "layer" in frame else np.zeros(n)
        names = {c: frame[c].to_numpy() for c in frame.columns if c.startswith("name")}
        return cls(geoms=geoms, tree=shapely.STRtree(geoms), kind=kind, layer=level, names=names)

    def query(self, box: Any) -> Any:
        if len(self.geoms) == 0:
            return np.array([], dtype=int)
        return np.sort(self.tree.query(box))

    def name(self, i: int, lang: str) -> str | None:
        for column in (f"name_{lang}", "name"):
            values = self.names.get(column)
            if values is not None:
                value = values[i]
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return None


@dataclass(frozen=True)
class _Label:
    text: str
    x: float  # anchor, pixels at the label's zoom
    y: float
    angle: float  # degrees
    size: float
    box: tuple[float, float, float, float]  # axis-aligned bounds at the label's zoom
    dot: bool = False


def find_fonts() -> tuple[str | None, str | None]:
    """``(cjk, latin)`` font files found on this machine (``None`` where none is)."""
    cjk = next((f for f in _CJK_FONTS if Path(f).is_file()), None)
    latin = next((f for f in _LATIN_FONTS if Path(f).is_file()), None)
    return cjk, latin


@cache
def _typefaces() -> tuple[Any, Any]:
    import skia

    cjk_file, latin_file = find_fonts()
    if cjk_file is None:
        logger.warning(
            "No CJK font found (install fonts-wqy-zenhei): Chinese, Japanese and Korean "
            "names on map tiles will show as boxes"
        )
    cjk = skia.Typeface.MakeFromFile(cjk_file) if cjk_file else None
    latin = skia.Typeface.MakeFromFile(latin_file) if latin_file else None
    if cjk is None or latin is None:  # whatever the system's font manager offers
        fallback = skia.FontMgr.RefDefault().matchFamilyStyle("sans-serif", skia.FontStyle())
        cjk, latin = cjk or latin or fallback, latin or cjk or fallback
    return cjk, latin


def _is_cjk(text: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in text)


def _font(text: str, size: float) -> Any:
    import skia

    cjk, latin = _typefaces()
    return skia.Font(cjk if _is_cjk(text) else latin, size)


# ---------------------------------------------------------------------------- renderer


@dataclass
class TileRenderer:
    """Draws and caches the tiles of one Area (thread-safe; one per app)."""

    area: Any
    _layers: dict[str, _Layer] = field(default_factory=dict, repr=False)
    _labels: dict[tuple[str, int], tuple[list[_Label], Any]] = field(default_factory=dict)
    _cache: OrderedDict[tuple[str, int, int, int], bytes] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: One tile drawn at a time: drawing never takes more than one of the server's threads.
    _drawing: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _blank: bytes | None = None
    key: str = ""

    def __post_init__(self) -> None:
        from routing.basemap import basemap_layers

        layers = basemap_layers(self.area)
        roads = layers["roads"]
        if not len(roads):  # an Area cached before base-map layers: draw its walk graph
            roads = _graph_roads(self.area)
        for name, frame in (*layers.items(), ("roads", roads)):
            self._layers[name] = _Layer.of(frame)
        buildings = self.area.pois.get("residential_buildings")
        if buildings is not None and len(buildings):
            self._layers["buildings"] = _Layer.of(buildings)
        minlon, minlat, maxlon, maxlat = self.area.bounds
        (x0, x1), (y1, y0) = _world(np.array([minlon, maxlon]), np.array([minlat, maxlat]))
        pad = (x1 - x0) * 0.05 + 1e-4
        self.world_box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(repr((self.area.name, self.area.bounds, len(roads), RENDER_VERSION)).encode())
        self.key = digest.hexdigest()[:12]

    # -- public ---------------------------------------------------------------------------

    def etag(self, lang: str, z: int, x: int, y: int) -> str:
        """A strong ETag for a tile, known without drawing it."""
        return f"{self.key}-{lang}-{z}-{x}-{y}"

    def cached(self, lang: str, z: int, x: int, y: int) -> bytes | None:
        """The tile if it is cached or blank (outside the area), else ``None``."""
        if not self._touches_area(z, x, y):
            return self.blank()
        with self._lock:
            hit = self._cache.get((lang, z, x, y))
            if hit is not None:
                self._cache.move_to_end((lang, z, x, y))
            return hit

    def render(self, lang: str, z: int, x: int, y: int) -> bytes:
        """Draw (or fetch) one tile as PNG bytes."""
        hit = self.cached(lang, z, x, y)
        if hit is not None:
            return hit
        with self._drawing:
            hit = self.cached(lang, z, x, y)  # drawn by another thread while this one waited
            if hit is not None:
                return hit
            png = self._draw(lang, z, x, y)
        with self._lock:
            self._cache[(lang, z, x, y)] = png
            while len(self._cache) > TILE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return png

    def blank(self) -> bytes:
        """The background tile (outside the area)."""
        if self._blank is None:
            surface, _ = _surface()
            self._blank = _png(surface)
        return self._blank

    # -- drawing --------------------------------------------------------------------------

    def _touches_area(self, z: int, x: int, y: int) -> bool:
        a = tile_bounds(z, x, y)
        b = self.world_box
        return a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]

    def _draw(self, lang: str, z: int, x: int, y: int) -> bytes:
        import skia

        surface, canvas = _surface()
        scale = 2.0**z
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        margin = 40.0 / scale  # casings and labels reach over the edge
        box = shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)

        def to_px(geom: Any) -> Any:
            return shapely.transform(geom, lambda c: (c - (minx, miny)) * scale)

        fill = skia.Paint(AntiAlias=True, Style=skia.Paint.kFill_Style)
        stroke = skia.Paint(
            AntiAlias=True,
            Style=skia.Paint.kStroke_Style,
            StrokeCap=skia.Paint.kRound_Cap,
            StrokeJoin=skia.Paint.kRound_Join,
        )
        parks = self._layers["parks"]
        if z >= 11:
            for i in parks.query(box):
                fill.setColor(_rgb(_PARKS.get(str(parks.kind[i]), _PARK_DEFAULT)))
                canvas.drawPath(_path(to_px(parks.geoms[i])), fill)
        water = self._layers["water"]
        fill.setColor(_rgb(_WATER))
        stroke.setColor(_rgb(_WATER))
        for i in water.query(box):
            geom = to_px(water.geoms[i])
            if geom.geom_type in ("Polygon", "MultiPolygon"):
                canvas.drawPath(_path(geom), fill)
            elif z >= 12 or water.kind[i] in ("river", "canal"):
                river = water.kind[i] in ("river", "canal")
                stroke.setStrokeWidth(_width(6.0 if river else 2.0, z))
                canvas.drawPath(_path(geom), stroke)
        buildings = self._layers.get("buildings")
        if buildings is not None and z >= 15:
            line = skia.Paint(AntiAlias=True, Style=skia.Paint.kStroke_Style, StrokeWidth=0.8)
            line.setColor(_rgb(_BUILDING_LINE))
            fill.setColor(_rgb(_BUILDING))
            for i in buildings.query(box):
                path = _path(to_px(buildings.geoms[i]))
                canvas.drawPath(path, fill)
                canvas.drawPath(path, line)
        self._draw_roads(canvas, stroke, box, z, to_px)
        self._draw_labels(canvas, lang, z, minx * scale, miny * scale)
        return _png(surface)

    def _draw_roads(self, canvas: Any, stroke: Any, box: Any, z: int, to_px: Any) -> None:
        import skia

        roads = self._layers["roads"]
        items = []
        for i in roads.query(box):
            group, colour, casing, width, first = _road_style(str(roads.kind[i]))
            if z < first:
                continue
            level = int(roads.layer[i])
            items.append((level, group, i, colour, casing, _width(width, z)))
        items.sort()
        # Casings of a level first, then fills, so crossings join cleanly; bridges on top.
        dashed = skia.Paint(
            AntiAlias=True,
            Style=skia.Paint.kStroke_Style,
            PathEffect=skia.DashPathEffect.Make([3.0, 2.5], 0),
        )
        for level in sorted({item[0] for item in items}):
            row = [item for item in items if item[0] == level]
            paths = {item[2]: _path(to_px(roads.geoms[item[2]])) for item in row}
            for _, group, i, _, casing, width in row:
                if not casing:
                    continue
                stroke.setColor(_rgb(casing))
                stroke.setStrokeWidth(width + (2.0 if group >= 0 else 1.2))
                canvas.drawPath(paths[i], stroke)
            for _, group, i, colour, _, width in row:
                paint = dashed if group < 0 and z >= 16 else stroke
                paint.setColor(_rgb(colour))
                paint.setStrokeWidth(width)
                canvas.drawPath(paths[i], paint)

    def _draw_labels(self, canvas: Any, lang: str, z: int, ox: float, oy: float) -> None:
        import skia

        labels, boxes = self._placed(lang, z)
        if not labels:
            return
        hit = np.flatnonzero(
            (boxes[:, 0] <= ox + TILE)
            & (boxes[:, 2] >= ox)
            & (boxes[:, 1] <= oy + TILE)
            & (boxes[:, 3] >= oy)
        )
        halo = skia.Paint(AntiAlias=True, Style=skia.Paint.kStroke_Style, StrokeWidth=3.0)
        halo.setColor(_rgb(_HALO))
        halo.setStrokeJoin(skia.Paint.kRound_Join)
        ink = skia.Paint(AntiAlias=True, Color=_rgb(_TEXT))
        dot = skia.Paint(AntiAlias=True, Color=_rgb("#7a5c3e"))
        for i in hit:
            label = labels[i]
            font = _font(label.text, label.size)
            width = font.measureText(label.text)
            canvas.save()
            canvas.translate(label.x - ox, label.y - oy)
            if label.dot:
                canvas.drawCircle(0, 0, 3.0, halo)
                canvas.drawCircle(0, 0, 2.5, dot)
                start = 6.0
            else:
                canvas.rotate(label.angle)
                start = -width / 2
            baseline = label.size * 0.35
            canvas.drawString(label.text, start, baseline, font, halo)
            canvas.drawString(label.text, start, baseline, font, ink)
            canvas.restore()

    # -- label placement ------------------------------------------------------------------

    def _placed(self, lang: str, z: int) -> tuple[list[_Label], Any]:
        key = (lang, z)
        with self._lock:
            found = self._labels.get(key)
        if found is None:
            labels = _place_labels(self._layers, lang, z)
            boxes = np.array([lb.box for lb in labels], dtype=float).reshape(-1, 4)
            found = (labels, boxes)
            with self._lock:
                self._labels[key] = found
        return found


def _place_labels(layers: dict[str, _Layer], lang: str, z: int) -> list[_Label]:
    """Labels of zoom ``z`` for the whole area, without overlaps, most important first."""
    scale = 2.0**z
    candidates: list[tuple[float, _Label]] = []
    marks = layers["landmarks"]
    for i in range(len(marks.geoms)):
        kind = str(marks.kind[i])
        place = kind in _PLACES
        if (place and not 12 <= z <= 16) or (not place and z < 16):
            continue
        text = marks.name(i, lang)
        if not text:
            continue
        point = marks.geoms[i]
        size = 13.0 if place else 11.0
        width = _font(text, size).measureText(text)
        x, y = point.x * scale, point.y * scale
        if place:  # centred on the point, no dot
            box = (x - width / 2 - 2, y - size, x + width / 2 + 2, y + size)
            candidates.append((0.0, _Label(text, x, y, 0.0, size, box)))
        else:
            box = (x - 4, y - size, x + 7 + width, y + size)
            candidates.append((2.0, _Label(text, x, y, 0.0, size, box, dot=True)))
    roads = layers["roads"]
    for i in range(len(roads.geoms)):
        group, *_, first = _road_style(str(roads.kind[i]))
        if z < max(first + 1, 13 if group >= 2 else 15 if group >= 0 else 17):
            continue
        text = roads.name(i, lang)
        if not text:
            continue
        size = 11.0 if group >= 1 else 10.0
        placed = _along(roads.geoms[i], text, size, scale)
        if placed is not None:
            candidates.append((1.0 + (5 - group) * 0.1 - placed[1] * 1e-6, placed[0]))
    candidates.sort(key=lambda item: item[0])
    chosen: list[_Label] = []
    grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    seen: dict[str, list[tuple[float, float]]] = {}
    cell = 128.0
    for _, label in candidates:
        x0, y0, x1, y1 = label.box
        if any(abs(label.x - a) + abs(label.y - b) < 400 for a, b in seen.get(label.text, [])):
            continue  # the same street name again nearby
        cells = [
            (cx, cy)
            for cx in range(int(x0 // cell), int(x1 // cell) + 1)
            for cy in range(int(y0 // cell), int(y1 // cell) + 1)
        ]
        if any(
            x0 < b[2] and x1 > b[0] and y0 < b[3] and y1 > b[1]
            for c in cells
            for b in grid.get(c, ())
        ):
            continue
        chosen.append(label)
        seen.setdefault(label.text, []).append((label.x, label.y))
        for c in cells:
            grid.setdefault(c, []).append(label.box)
    return chosen


def _along(geom: Any, text: str, size: float, scale: float) -> tuple[_Label, float] | None:
    """A label along the longest straight piece of a street, if the name fits there."""
    parts = geom.geoms if hasattr(geom, "geoms") else [geom]
    best: tuple[float, Any, Any] | None = None
    for part in parts:
        xy = np.asarray(part.coords)[:, :2] * scale
        if len(xy) < 2:
            continue
        # Runs of segments that keep their direction within 20 degrees: a gently curving
        # street holds its name over the chord of the whole run.
        d = np.diff(xy, axis=0)
        heading = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
        start = 0
        for k in range(1, len(d) + 1):
            turn = abs((heading[k] - heading[start] + 180) % 360 - 180) if k < len(d) else 999
            if turn > 20:
                chord = float(np.hypot(*(xy[k] - xy[start])))
                if best is None or chord > best[0]:
                    best = (chord, xy[start], xy[k])
                start = k
    if best is None:
        return None
    width = _font(text, size).measureText(text)
    length, a, b = best
    if length < width + 12:
        return None
    angle = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    cx, cy = (a + b) / 2
    half = width / 2 + 2
    dx, dy = abs(math.cos(math.radians(angle))) * half, abs(math.sin(math.radians(angle))) * half
    pad = size * 0.7
    box = (cx - dx - pad, cy - dy - pad, cx + dx + pad, cy + dy + pad)
    return _Label(text, float(cx), float(cy), angle, size, box), length


def _graph_roads(area: Any) -> Any:
    """Roads from the walk graph (an Area cached before base-map layers: no name:xx)."""
    import geopandas as gpd

    from .maps import street_basemap

    data = street_basemap(area)
    kinds = ("primary", "residential", "footway")
    geoms = [
        shapely.LineString(np.asarray(line[1:], dtype=float).reshape(-1, 2))
        for line in data["lines"]
    ]
    return gpd.GeoDataFrame(
        {"kind": [kinds[line[0]] for line in data["lines"]], "name": None, "layer": 0},
        geometry=geoms,
        crs="EPSG:4326",
    )


def _surface() -> tuple[Any, Any]:
    import skia

    surface = skia.Surface(TILE, TILE)
    canvas = surface.getCanvas()
    canvas.clear(BACKGROUND)
    return surface, canvas


def _png(surface: Any) -> bytes:
    import skia

    image = surface.makeImageSnapshot()
    return bytes(image.encodeToData(skia.kPNG, 100))


def _path(geom: Any) -> Any:
    """A Skia path of a (multi) line or polygon in tile pixels."""
    import skia

    path = skia.Path()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        path.setFillType(skia.PathFillType.kEvenOdd)
        polygons = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
        for poly in polygons:
            for ring in (poly.exterior, *poly.interiors):
                path.addPoly([skia.Point(float(px), float(py)) for px, py in ring.coords], True)
    else:
        lines = geom.geoms if hasattr(geom, "geoms") else [geom]
        for line in lines:
            coords = list(line.coords)
            if len(coords) >= 2:
                path.addPoly([skia.Point(float(c[0]), float(c[1])) for c in coords], False)
    return path
