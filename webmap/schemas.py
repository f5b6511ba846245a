"""Response and request bodies of the HTTP API, declared once as pydantic models.

These models are the contract: :mod:`webmap.openapi` publishes their JSON Schema in
``/api/openapi.json``, and the test suite validates every real response against it, so a
renamed, missing or extra field fails a test. Views build plain dicts (cheap on the hot
path, written with orjson); they are not re-validated per request.

Vocabularies (kinds, amenities, access, host types, ...) come from :mod:`stations.model` and
the unserved reasons from :mod:`routing.shuttle.model`, so each is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from routing.lonlat import LAT_RANGE, LON_RANGE
from routing.shuttle.model import UNSERVED_REASONS
from stations.model import _LANG as LANGUAGE_TAG
from stations.model import (
    ACCESS,
    AMENITIES,
    CERTIFICATIONS,
    HOST_TYPES,
    ID_PATTERN,
    KINDS,
    LANGUAGES,
    MAX_TEXT,
    RECORD_FIELDS,
    SEVEN_HAVE,
)

#: Largest capacity a station may declare (people at once).
MAX_CAPACITY = 100_000

__all__ = [
    "MODELS",
    "STATION_PROPERTIES",
    "Error",
    "IsochroneCollection",
    "LinesCollection",
    "NearestResponse",
    "OEmbed",
    "PlannerJob",
    "PlannerJobForm",
    "RouteFeature",
    "StationCollection",
    "StationFeature",
    "StationWrite",
]


class Body(BaseModel):
    """Base of the bodies: every field declared, no others (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def one_of(values: Sequence[str], *, nullable: bool = False, **field: Any) -> Any:
    """A field whose value is one of ``values`` (``null`` too when ``nullable``)."""
    enum: list[Any] = [*values, None] if nullable else list(values)
    return Field(json_schema_extra={"enum": enum}, **field)


def some_of(values: Sequence[str], **field: Any) -> Any:
    """A list field whose items are among ``values`` (each at most once)."""
    extra: JsonDict = {"items": {"type": "string", "enum": list(values)}, "uniqueItems": True}
    return Field(json_schema_extra=extra, **field)


_POSITION: JsonDict = {
    "type": "array",
    "prefixItems": [
        {"type": "number", "minimum": LON_RANGE[0], "maximum": LON_RANGE[1]},
        {"type": "number", "minimum": LAT_RANGE[0], "maximum": LAT_RANGE[1]},
    ],
    "minItems": 2,
    "maxItems": 2,
}


def _nullable(schema: JsonDict, nullable: bool) -> JsonDict:
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def position(*, nullable: bool = False, **field: Any) -> Any:
    """A ``[lon, lat]`` pair in WGS-84 degrees (or ``null`` when ``nullable``)."""
    return Field(json_schema_extra=_nullable(_POSITION, nullable), **field)


# ---------------------------------------------------------------------------------- errors


class ErrorDetail(Body):
    status: int = Field(ge=400, le=599, description="The HTTP status, repeated.")
    message: str = Field(description="What was expected and what came, for the API's user.")


class Error(Body):
    """Every 4xx/5xx answer of the API."""

    error: ErrorDetail


# -------------------------------------------------------------------------------- geometry


class Point(Body):
    type: Literal["Point"]
    coordinates: list[float] = position()


class LineString(Body):
    type: Literal["LineString"]
    coordinates: list[list[float]] = Field(min_length=2, json_schema_extra={"items": _POSITION})


class Polygonal(Body):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(description="RFC 7946 (Multi)Polygon coordinates.")


# -------------------------------------------------------------------------------- stations


class StationProperties(Body):
    """A station's fields (its lon/lat are the geometry) plus ``open_now``."""

    id: str = Field(min_length=1)
    kind: str = one_of(KINDS)
    name: str = Field(description="In `lang` where a variant exists.")
    names: dict[str, str] = Field(
        description="Name variants by language.",
        json_schema_extra={"propertyNames": {"pattern": LANGUAGE_TAG.pattern}},
    )
    address: str | None
    host_type: str | None = one_of(HOST_TYPES, nullable=True)
    amenities: list[str] = some_of(AMENITIES)
    opening_hours: str | None = Field(description="OSM opening_hours syntax.")
    open_now: bool | None = Field(description="Open at open_at (default now); null if unknown.")
    access: str = one_of(ACCESS)
    capacity: int | None = Field(ge=0)
    certification: str | None = one_of(CERTIFICATIONS, nullable=True)
    seven_have: list[str] = some_of(SEVEN_HAVE)
    contact: str | None
    notes: str | None
    source: str | None
    updated_at: str | None = Field(json_schema_extra={"format": "date-time"})


#: Properties of a station Feature in the order the API writes them: the record fields without
#: lon/lat, ``open_now`` after ``opening_hours``. A test checks they are the model's fields.
STATION_PROPERTIES = tuple(
    prop
    for name in RECORD_FIELDS
    if name not in ("lon", "lat")
    for prop in ([name, "open_now"] if name == "opening_hours" else [name])
)


class StationFeature(Body):
    """One station as a GeoJSON Point Feature."""

    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: StationProperties


class StationCollection(Body):
    """A page of stations (``application/geo+json``)."""

    type: Literal["FeatureCollection"]
    numberMatched: int = Field(ge=0)  # noqa: N815 - OGC API Features names
    numberReturned: int = Field(ge=0)  # noqa: N815
    next: str | None = Field(
        description="URL of the next page, null on the last.", json_schema_extra={"format": "uri"}
    )
    features: list[StationFeature]


def _check_choice(values: Sequence[str]) -> Any:
    def check(value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is not None and item not in values:
                raise PydanticCustomError(
                    "choice",
                    "Expected one of {valid}, got {given!r}",
                    {"valid": ", ".join(values), "given": item},
                )
        if isinstance(value, list) and len(set(value)) != len(value):
            raise PydanticCustomError(
                "unique", "Expected each value once, got {given!r}", {"given": value}
            )
        return value

    return AfterValidator(check)


_Choice = Annotated[StrictStr | None, Field(max_length=40)]
_Lon = Annotated[StrictFloat, Field(ge=LON_RANGE[0], le=LON_RANGE[1])]
_Lat = Annotated[StrictFloat, Field(ge=LAT_RANGE[0], le=LAT_RANGE[1])]
_NAME = Annotated[StrictStr, Field(max_length=MAX_TEXT["name"])]
_LANG_KEY = Annotated[StrictStr, Field(pattern=LANGUAGE_TAG.pattern, max_length=20)]


class WriteBody(Body):
    """Base of the write bodies: strict types (no ``true`` for a number), bounded sizes."""

    model_config = ConfigDict(extra="forbid", frozen=True, regex_engine="python-re")


class StationFields(WriteBody):
    """Station fields of a write; on update only the given ones change."""

    id: Annotated[StrictStr | None, Field(pattern=ID_PATTERN)] = Field(
        None, description="Letters, digits and `- _ . : ~ ...` (no `/ ? # %`, no spaces)."
    )
    kind: Annotated[_Choice, _check_choice(KINDS)] = one_of(KINDS, nullable=True, default=None)
    name: StrictStr | None = Field(None, max_length=MAX_TEXT["name"])
    names: dict[_LANG_KEY, _NAME] | None = Field(None, max_length=len(LANGUAGES) + 4)
    address: StrictStr | None = Field(None, max_length=MAX_TEXT["address"])
    lon: _Lon | None = None
    lat: _Lat | None = None
    host_type: Annotated[_Choice, _check_choice(HOST_TYPES)] = one_of(
        HOST_TYPES, nullable=True, default=None
    )
    amenities: Annotated[list[StrictStr] | None, _check_choice(AMENITIES)] = some_of(
        AMENITIES, default=None, max_length=len(AMENITIES)
    )
    opening_hours: StrictStr | None = Field(
        None, max_length=MAX_TEXT["opening_hours"], description="OSM opening_hours syntax."
    )
    access: Annotated[_Choice, _check_choice(ACCESS)] = one_of(ACCESS, nullable=True, default=None)
    capacity: StrictInt | None = Field(None, ge=0, le=MAX_CAPACITY)
    certification: Annotated[_Choice, _check_choice(CERTIFICATIONS)] = one_of(
        CERTIFICATIONS, nullable=True, default=None
    )
    seven_have: Annotated[list[StrictStr] | None, _check_choice(SEVEN_HAVE)] = some_of(
        SEVEN_HAVE, default=None, max_length=len(SEVEN_HAVE)
    )
    contact: StrictStr | None = Field(None, max_length=MAX_TEXT["contact"])
    notes: StrictStr | None = Field(None, max_length=MAX_TEXT["notes"])
    source: StrictStr | None = Field(None, max_length=MAX_TEXT["source"])
    open_now: StrictBool | None = Field(None, description="Ignored (computed).")
    updated_at: Annotated[StrictStr | None, Field(max_length=40)] = Field(
        None, description="Ignored (set by the server)."
    )


class PointWrite(WriteBody):
    type: Literal["Point"]
    coordinates: tuple[_Lon, _Lat] = Field(description="[lon, lat] in WGS-84 degrees.")


class StationFeatureWrite(WriteBody):
    type: Literal["Feature"]
    id: Annotated[StrictStr | None, Field(pattern=ID_PATTERN)] = None
    geometry: PointWrite | None = Field(None, description="Required on create.")
    properties: StationFields


class StationWrite(RootModel[StationFeatureWrite | StationFields]):
    """A GeoJSON Point Feature whose properties are station fields, or those fields flat.

    On create ``kind``, ``name`` and the position are required and ``id`` is optional.
    Numbers must be JSON numbers, text JSON strings; sizes are bounded (see each field).
    """


# --------------------------------------------------------------------------------- walking


#: Why a nearest answer is empty.
REASON_CODES = ("outside_area", "off_map", "no_match")
_HHMM: JsonDict = {"type": "string", "pattern": r"^\d{2}:\d{2}$"}


class Origin(Body):
    lon: float
    lat: float
    snap_distance_m: float | None = Field(
        ge=0, description="Straight distance from the origin to the nearest walkable street (m)."
    )


class NearestHit(Body):
    station: StationFeature
    walk_time_s: int = Field(ge=0)
    walk_distance_m: int = Field(ge=0)
    open: bool | None = Field(description="Open at open_at (default now); null if unknown.")
    local_time: str | None = Field(
        description="The moment evaluated, in the station's time zone (ISO 8601)."
    )
    hours_today: list[list[str]] | None = Field(
        description="Opening intervals today at the station, local time: [['09:00', '17:00']].",
        json_schema_extra={
            "items": {"type": "array", "items": _HHMM, "minItems": 2, "maxItems": 2}
        },
    )
    next_change: str | None = Field(
        description="When `open` next flips (opens or closes), station's local time; null if "
        "not within 8 days or unknown."
    )
    route: LineString


class NearestResponse(Body):
    """``/api/nearest``: nearest first; empty ``results`` come with a ``reason``."""

    origin: Origin
    results: list[NearestHit]
    reason: str | None = Field(description="Why results are empty (off the map, none in reach).")
    reason_code: str | None = one_of(
        REASON_CODES,
        nullable=True,
        description="`outside_area`: the origin is outside the map's service area; `off_map`: "
        "too far from any footpath; `no_match`: no station matches within reach.",
    )


class IsochroneProperties(Body):
    minutes: int = Field(ge=1)
    area_km2: float = Field(ge=0)


class IsochroneFeature(Body):
    type: Literal["Feature"]
    geometry: Polygonal
    properties: IsochroneProperties


class IsochroneCollection(Body):
    """Walkable area per budget, largest first."""

    type: Literal["FeatureCollection"]
    features: list[IsochroneFeature]


class RouteProperties(Body):
    length_m: float = Field(ge=0, description="Door to door (m).")
    time_s: float = Field(ge=0, description="Door to door (s).")
    network_length_m: float = Field(
        ge=0, description="Along the streets, from projection to projection (m)."
    )
    network_time_s: float = Field(
        ge=0, description="Along the streets, from projection to projection (s)."
    )
    snap_m: list[float] = Field(
        min_length=2, max_length=2, description="Straight legs to and from the streets (m)."
    )


class RouteFeature(Body):
    """The fastest walking route between two points."""

    type: Literal["Feature"]
    geometry: LineString
    properties: RouteProperties


# ----------------------------------------------------------------------------------- lines

_HMS: JsonDict = {"type": "string", "pattern": r"^-?\d{2,}:\d{2}:\d{2}$"}


def clock(*, nullable: bool = False, **field: Any) -> Any:
    """A time of day as ``HH:MM:SS`` (hours may pass 23, as in GTFS; ``null`` if nullable)."""
    return Field(json_schema_extra=_nullable(_HMS, nullable), **field)


class LineStop(Body):
    stop_id: str
    name: str | None
    lon: float
    lat: float
    arrival: str = clock()
    departure: str = clock()
    boarding: int = Field(ge=0, description="Riders boarding (to work) or alighting (home).")
    load: int = Field(ge=0, description="Riders on board after the stop.")


class LineProperties(Body):
    """The properties :mod:`routing.shuttle.geojson` writes (in plan files too)."""

    line_id: str
    direction: str = one_of(["to_work", "from_work"])
    vehicle_id: str | None = Field(description="The bus running the trip (its block).")
    bus_type: str
    seats: int | None = Field(ge=1)
    riders: int = Field(ge=0, description="Riders carried.")
    distance_m: float = Field(ge=0)
    duration_s: int = Field(ge=0)
    departure: str = clock(description="When the trip starts: the first stop, or leaving work.")
    arrival: str = clock(description="At the workplace (to alight, or to board home).")
    deadline: str = clock(description="The wave's time: arrival deadline, or shift end (home).")
    cost: float = Field(ge=0, description="Running cost of the trip (fixed costs per bus).")
    workplace: list[float] = position()
    geometry_source: str = one_of(("drive_graph", "straight"))
    stops: list[LineStop]


class LineFeature(Body):
    type: Literal["Feature"]
    id: str
    geometry: LineString
    properties: LineProperties


class UnservedRider(Body):
    rider_id: str
    direction: str = one_of(["to_work", "from_work"])
    reason: str = one_of(list(UNSERVED_REASONS))
    message: str


class LinesCollection(Body):
    """The loaded shuttle plan; without one, no features and a ``message`` saying so."""

    type: Literal["FeatureCollection"]
    features: list[LineFeature]
    kpis: dict[str, Any] | None = Field(description="The plan's KPIs (null without a plan).")
    unserved: list[UnservedRider]
    workplace: list[float] | None = position(nullable=True, default=None)
    message: str | None = Field(None, description="Why there are no lines.")


# --------------------------------------------------------------------- coverage and siting


class Budget(Body):
    minutes: float = Field(gt=0)
    covered: float = Field(ge=0, description="Demand within the budget (the layer's unit).")
    share: float = Field(ge=0, le=1)


class LayerCoverage(Body):
    layer: str = one_of(("streets", "homes", "hotspots"))
    unit: str = Field(description="What amounts count: m of street, m² floor area, workers.")
    total: float = Field(ge=0)
    off_map: float = Field(ge=0, description="Demand too far from every footpath.")
    budgets: list[Budget]


class GapLayer(Body):
    uncovered: float = Field(ge=0)
    share_of_layer: float = Field(ge=0, le=1)


class Gap(Body):
    rank: int = Field(ge=1)
    score: float = Field(ge=0, description="Sum over layers of the cell's share of each.")
    lon: float
    lat: float
    polygon: list[list[float]] = Field(
        min_length=4, description="The grid cell, a closed WGS-84 ring.",
        json_schema_extra={"items": _POSITION},
    )  # fmt: skip
    layers: dict[str, GapLayer]


class CoverageSummary(Body):
    """``/api/coverage``: covered shares per layer and budget, and ranked gap cells."""

    area: str
    kind: str | None = one_of(KINDS, nullable=True)
    at: str | None = Field(description="The moment stations had to be open (local time).")
    minutes: list[float]
    stations: int = Field(ge=0, description="Stations that cover (kind, open, on the map).")
    stations_off_map: list[str]
    layers: list[LayerCoverage]
    districts: list[dict[str, Any]]
    gaps: list[Gap]


class BandProperties(Body):
    band: int = Field(ge=0)
    label: str
    min_minutes: float | None = Field(description="Walk above this (null: from 0).")
    max_minutes: float | None = Field(description="Walk up to this (null: beyond every budget).")


class BandFeature(Body):
    type: Literal["Feature"]
    geometry: dict[str, Any] = Field(description="A MultiLineString of street pieces.")
    properties: BandProperties


class CoverageStreets(Body):
    """Street pieces by minutes to the nearest station, cut exactly where budgets end."""

    type: Literal["FeatureCollection"]
    features: list[BandFeature]


class HourBudget(Body):
    minutes: float
    share: list[list[float]] = Field(description="7 rows (Monday first) of 24 hourly shares.")


class HourLayer(Body):
    layer: str
    unit: str
    total: float = Field(ge=0)
    budgets: list[HourBudget]


class CoverageHours(Body):
    """Coverage at every full hour of a reference week."""

    week: str = Field(json_schema_extra={"format": "date"}, description="Its Monday.")
    days: list[str]
    minutes: list[float]
    distinct_open_sets: int = Field(ge=0)
    open_stations: list[list[int]]
    layers: list[HourLayer]


class SitingRequest(Body):
    """A siting run (admin token): choose new stations among the area's candidate hosts."""

    objective: str = one_of(("mclp", "pmedian", "lscp"))
    add: int | None = Field(None, ge=1, le=500, description="New stations (mclp, pmedian).")
    minutes: float = Field(gt=0, le=30, description="Walking budget.")
    kind: str = one_of(KINDS, default="warm_station")
    demand: str = one_of(("streets", "homes", "hotspots"), default="streets")
    target: list[float] | None = Field(None, description="lscp: shares in (0, 1].")
    exclude: list[str] = Field(default_factory=list, description="Candidate ids refused.")
    host_types: list[str] | None = Field(None, description="Only these host types.")
    time_limit: float = Field(15, gt=0, le=30, description="Seconds.")


class ProposedSite(Body):
    rank: int = Field(ge=1)
    id: str
    name: str | None
    host_type: str | None
    lon: float | None
    lat: float | None
    gain: float = Field(description="Demand newly covered, or weighted minutes saved.")


class SitingProposal(Body):
    """Chosen hosts with their gains, the objective, its bounds and gap."""

    proposal_id: str
    objective: str
    p: int = Field(ge=0)
    radius: float | None
    value: float
    lower: float
    upper: float
    gap: float = Field(ge=0)
    optimal: bool
    method: str
    before: dict[str, float]
    after: dict[str, float]
    curve: list[dict[str, Any]]
    seconds: float = Field(ge=0)
    sites: list[ProposedSite]


class AdoptRequest(Body):
    """Turn (some of) a proposal's sites into stations."""

    proposal_id: str
    ids: list[str] | None = Field(None, description="The sites to adopt (default: all).")


class AdoptResponse(Body):
    added: list[str] = Field(description="Ids of the new stations.")


# ------------------------------------------------------------------------------ planner jobs

_BINARY: JsonDict = {"format": "binary"}


class PlannerJobForm(Body):
    """The ``multipart/form-data`` fields of a planning job."""

    riders: str = Field(
        json_schema_extra=_BINARY,
        description="Riders: CSV, Excel (.xlsx) or GeoJSON with id, lon, lat (and optional "
        "deadline, evening_departure, max_ride_min, workplace_lon/lat, district).",
    )
    fleet: str | None = Field(
        None,
        json_schema_extra=_BINARY,
        description="Fleet: CSV or Excel with type, seats, count, fixed_cost, cost_per_km, "
        "cost_per_hour (default: a sample fleet sized to the riders).",
    )
    lines: str | None = Field(
        None,
        json_schema_extra=_BINARY,
        description="The lines running today, to compare with: a GTFS zip or a lines CSV.",
    )
    workplace: str | None = Field(None, description="lon,lat of the workplace.")
    crs: str | None = one_of(
        ["wgs84", "gcj02", "bd09"],
        nullable=True,
        default=None,
        description="Coordinate system of the homes and workplace (Amap: gcj02, Baidu: bd09).",
    )
    deadline: str | None = Field(None, description="Arrival at work, HH:MM (default 08:30).")
    evening_departure: str | None = Field(
        None, description="Bus home leaves work, HH:MM (empty: no ride home)."
    )
    max_walk_m: float | None = Field(None, ge=50, le=3000, description="Longest walk (m).")
    max_ride_min: float | None = Field(None, ge=5, le=240, description="Longest ride (min).")
    time_limit_s: float | None = Field(None, ge=1, le=600, description="Optimiser seconds.")
    max_lines: int | None = Field(None, ge=0, description="At most this many trips each way.")
    max_buses: int | None = Field(None, ge=0, description="At most this many buses.")


class PlannerJobSummary(Body):
    buses: int = Field(ge=0)
    trips: int = Field(ge=0)
    riders_served: int = Field(ge=0, description="Rides served (per rider and direction).")
    riders: int = Field(ge=0, description="Rides asked for.")
    total_cost: float = Field(ge=0)
    compared: bool = Field(description="Whether the job compared with existing lines.")


class PlannerJob(Body):
    """Where a planning job is."""

    id: str
    state: str = one_of(["queued", "running", "done", "failed"])
    stage: str = one_of(["queued", "preparing", "evaluating", "optimising", "done", "failed"])
    progress: float = Field(ge=0, le=1, description="Share of the time budget used.")
    elapsed_s: float = Field(ge=0)
    budget_s: float = Field(ge=0)
    wave: str = Field(description="The wave being optimised (e.g. 'wave 2/4 (home 17:30)').")
    best_cost: float | None = Field(description="Best cost found so far in the wave.")
    error: str | None = Field(description="Why the job failed.")
    error_code: str | None = Field(description="The kind of failure (an error class name).")
    summary: PlannerJobSummary | None
    result_url: str | None = Field(description="The planner page showing the result.")


# ---------------------------------------------------------------------------------- oEmbed


class OEmbed(Body):
    """An oEmbed ``rich`` object (https://oembed.com/)."""

    version: Literal["1.0"]
    type: Literal["rich"]
    provider_name: str
    provider_url: str
    title: str
    html: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    cache_age: int = Field(ge=0)


#: Every model the OpenAPI document publishes under ``components/schemas``.
MODELS: tuple[type[BaseModel], ...] = (
    Error,
    StationCollection,
    StationFeature,
    StationWrite,
    NearestResponse,
    IsochroneCollection,
    RouteFeature,
    LinesCollection,
    PlannerJobForm,
    PlannerJob,
    OEmbed,
    CoverageSummary,
    CoverageStreets,
    CoverageHours,
    SitingRequest,
    SitingProposal,
    AdoptRequest,
    AdoptResponse,
)
