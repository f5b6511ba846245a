"""Areas from the Overpass API (place name or bounding box) through osmnx.

This is the real code path for users with internet. Before osmnx is asked for anything, a
short TCP probe of the Overpass endpoint checks that the network is there, so an offline
machine gets an :class:`~routing.OfflineError` within seconds (osmnx itself would retry for
minutes) with a message pointing at file sources instead.
"""

from __future__ import annotations

import logging
import math
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import geopandas as gpd

from ._errors import AreaBuildError, OfflineError
from .lonlat import coordinate_problem
from .pois import FEATURE_TAGS

if TYPE_CHECKING:
    from collections.abc import Callable

    import networkx as nx

__all__ = ["check_overpass_reachable", "parse_bbox", "read_overpass"]

logger = logging.getLogger(__name__)

#: Seconds the reachability probe may take (DNS + TCP connect).
PROBE_TIMEOUT = 3.0
#: Largest bounding box (square degrees) sent to Overpass in one build.
MAX_BBOX_DEG2 = 1.0

_OSMNX_NETWORK = {"walk": "walk", "drive": "drive"}


def parse_bbox(text: str | tuple[float, ...] | list[float]) -> tuple[float, float, float, float]:
    """Parse ``"min_lon,min_lat,max_lon,max_lat"`` (WGS-84) and validate it.

    Raises
    ------
    AreaBuildError
        Not four numbers, values out of range (naming a likely lat/lon swap), min >= max, or
        a box larger than :data:`MAX_BBOX_DEG2`.
    """
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",")]
    else:
        parts = [str(p) for p in text]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        msg = f"Expected a bounding box 'min_lon,min_lat,max_lon,max_lat' of numbers, got {text!r}"
        raise AreaBuildError(msg) from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        msg = f"Expected 4 finite numbers 'min_lon,min_lat,max_lon,max_lat', got {text!r}"
        raise AreaBuildError(msg)
    min_lon, min_lat, max_lon, max_lat = values
    hint = " (lat/lon swapped? the order is min_lon,min_lat,max_lon,max_lat)"
    corners = [("lat", "min_lat", min_lat), ("lat", "max_lat", max_lat)]
    corners += [("lon", "min_lon", min_lon), ("lon", "max_lon", max_lon)]
    for axis, label, value in corners:
        problem = coordinate_problem(value, axis, name=label)
        if problem is not None:
            swapped = axis == "lat" and all(
                coordinate_problem(v, "lat") is None for v in (min_lon, max_lon)
            )
            raise AreaBuildError(problem + (hint if swapped else ""))
    if min_lon >= max_lon or min_lat >= max_lat:
        msg = (
            "Expected min_lon < max_lon and min_lat < max_lat, got "
            f"{min_lon},{min_lat},{max_lon},{max_lat}" + hint
        )
        raise AreaBuildError(msg)
    size = (max_lon - min_lon) * (max_lat - min_lat)
    if size > MAX_BBOX_DEG2:
        msg = (
            f"Expected a bounding box of at most {MAX_BBOX_DEG2} square degrees for Overpass, "
            f"got {size:.2f}; use an .osm.pbf extract for regions"
        )
        raise AreaBuildError(msg)
    return min_lon, min_lat, max_lon, max_lat


def _offline_message(host: str, reason: str) -> str:
    return (
        f"No network: cannot reach the Overpass API at {host} ({reason}). "
        "Build the area from a file instead, e.g. `warmheart area build city.osm.pbf` with an "
        "extract from download.geofabrik.de or an .osm export from openstreetmap.org."
    )


def check_overpass_reachable(url: str | None = None, *, timeout: float = PROBE_TIMEOUT) -> None:
    """Raise :class:`OfflineError` quickly when the Overpass endpoint cannot be reached.

    Parameters
    ----------
    url
        Overpass endpoint (default: ``osmnx.settings.overpass_url``).
    timeout
        Seconds for the DNS lookup plus TCP connect.
    """
    if url is None:
        import osmnx as ox

        url = str(ox.settings.overpass_url)
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    # getaddrinfo ignores socket timeouts: resolve in a worker thread so a hanging resolver
    # cannot stall the caller beyond ``timeout``.
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        infos = future.result(timeout=timeout)
    except FutureTimeout:
        raise OfflineError(_offline_message(host, "DNS lookup timed out")) from None
    except OSError as exc:
        raise OfflineError(_offline_message(host, str(exc) or type(exc).__name__)) from None
    finally:
        pool.shutdown(wait=False)
    last: OSError | None = None
    for family, kind, proto, _, address in infos[:3]:
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
            return
        except OSError as exc:
            last = exc
    reason = str(last) if last is not None else "no address"
    raise OfflineError(_offline_message(host, reason or "connection failed"))


def read_overpass(
    *,
    query: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph, gpd.GeoDataFrame, Any]:
    """Walk graph, drive graph (EPSG:4326) and POI features of a place or bbox via osmnx.

    Exactly one of ``query`` (a place name osmnx can geocode) or ``bbox``.
    """
    import osmnx as ox

    if (query is None) == (bbox is None):
        msg = "Expected exactly one of a place name or a bounding box"
        raise AreaBuildError(msg)
    step = on_step or (lambda _text: None)
    step("checking the network")
    check_overpass_reachable()
    step("downloading roads (Overpass)")
    graphs = {}
    try:
        for network in ("walk", "drive"):
            if bbox is not None:
                graphs[network] = ox.graph_from_bbox(
                    bbox, network_type=_OSMNX_NETWORK[network], retain_all=True
                )
            else:
                graphs[network] = ox.graph_from_place(
                    str(query), network_type=_OSMNX_NETWORK[network], retain_all=True
                )
        step("downloading POIs (Overpass)")
        try:
            if bbox is not None:
                features = ox.features_from_bbox(bbox, tags=FEATURE_TAGS)
            else:
                features = ox.features_from_place(str(query), tags=FEATURE_TAGS)
        except ox._errors.InsufficientResponseError:
            features = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    except (ConnectionError, OSError) as exc:
        raise OfflineError(_offline_message("Overpass", str(exc))) from exc
    except ox._errors.InsufficientResponseError as exc:
        what = f"bbox {bbox}" if bbox is not None else f"place {query!r}"
        msg = f"Expected roads in {what}, got none from Overpass: {exc}"
        raise AreaBuildError(msg) from exc
    except ValueError as exc:  # geocoding failures (osmnx raises ValueError subclasses)
        msg = f"Expected a place Overpass/Nominatim can find, got {query!r}: {exc}"
        raise AreaBuildError(msg) from exc
    return graphs["walk"], graphs["drive"], features_to_frame(features), None


def features_to_frame(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """osmnx features (index ``(element, id)``) to the common frame with ``osm_type``/``osm_id``."""
    if len(features) == 0:
        return gpd.GeoDataFrame({"osm_type": [], "osm_id": []}, geometry=[], crs="EPSG:4326")
    frame = features.reset_index()
    rename = {"element": "osm_type", "element_type": "osm_type", "id": "osm_id", "osmid": "osm_id"}
    frame = frame.rename(columns={k: v for k, v in rename.items() if k in frame.columns})
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=features.crs or "EPSG:4326")
