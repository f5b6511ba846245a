"""Warm-heart stations, nursing rooms and shuttle stops: registry, store, locator."""

from __future__ import annotations

from ._errors import CoordinateOffsetWarning as CoordinateOffsetWarning
from ._errors import DuplicateStationError as DuplicateStationError
from ._errors import FileFormatError as FileFormatError
from ._errors import OpeningHoursError as OpeningHoursError
from ._errors import StationCoordinateError as StationCoordinateError
from ._errors import StationImportError as StationImportError
from ._errors import StationNotFoundError as StationNotFoundError
from ._errors import StationValueError as StationValueError
from ._errors import StoreUnavailableError as StoreUnavailableError
from ._errors import WarmheartError as WarmheartError
from ._errors import WarmheartWarning as WarmheartWarning
from ._results import NearestBatch as NearestBatch
from ._results import NearestHit as NearestHit
from ._results import NearestResult as NearestResult
from .hours import is_open as is_open
from .hours import parse_opening_hours as parse_opening_hours
from .io import ImportReport as ImportReport
from .io import export_stations as export_stations
from .io import import_stations as import_stations
from .io import read_stations as read_stations
from .isochrone import isochrones as isochrones
from .locate import Locator as Locator
from .locate import StationOffMapWarning as StationOffMapWarning
from .locate import nearest_stations as nearest_stations
from .locate import nearest_stations_batch as nearest_stations_batch
from .model import AMENITIES as AMENITIES
from .model import KINDS as KINDS
from .model import Station as Station
from .osm import stations_from_pois as stations_from_pois
from .postgis import PostGISStore as PostGISStore
from .sample import make_sample_stations as make_sample_stations
from .store import GeoPackageStore as GeoPackageStore
from .store import MemoryStore as MemoryStore
from .store import StationStore as StationStore
from .store import default_store_path as default_store_path
from .store import open_store as open_store
