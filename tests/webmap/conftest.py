"""Fixtures of the web tests: the Flask app on the Helsinki sample with a small station store
and a small shuttle plan (shared by the API, security and page tests).

- ``webmap_stations``: 12 deterministic stations on real walk-graph nodes of the sample
  area (every kind, varied amenities and hours) plus one whose text fields are XSS payloads
  (id :data:`XSS_ID`).
- ``webmap_store``: a GeoPackage holding them, built once per session; ``app`` copies it
  so that each test may write to its own store.
- ``webmap_plan_dir``: a two-line plan (one stop named with an XSS payload, one unserved
  rider) written with ``routing.shuttle.export.write_plan``.
- ``make_app(**overrides)``: ``create_app`` with the test config plus overrides;
  ``app``/``client``: the default one (tiles off, rate limiting off, admin token
  :data:`ADMIN_TOKEN`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from _contract import ContractClient

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

    from routing import Area
    from stations.model import Station

ADMIN_TOKEN = "test-admin-token-0123456789"
XSS_ID = "xss-1"
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_ADDRESS = '<script>alert("address")</script>'
XSS_NOTES = '"><svg onload=alert(1)>'
XSS_LINE_STOP = "<img src=x onerror=alert('stop')>"

# (id, kind, amenities, opening_hours, host_type, access)
_SPECS: list[tuple[str, str, tuple[str, ...], str | None, str | None, str]] = [
    (
        "ws-01",
        "warm_station",
        ("drinking_water", "microwave", "rest_seats"),
        "24/7",
        "bank",
        "public",
    ),
    (
        "ws-02",
        "warm_station",
        ("drinking_water", "phone_charging"),
        "Mo-Fr 09:00-17:00",
        "supermarket",
        "public",
    ),
    ("ws-03", "warm_station", ("toilet", "rest_seats"), "Mo-Su 07:00-22:00", "fuel", "public"),
    ("ws-04", "warm_station", ("first_aid_kit",), None, "estate_agent", "public"),
    (
        "ws-05",
        "warm_station",
        ("drinking_water", "hot_meal", "toilet"),
        "Sa-Su 10:00-16:00",
        "union_centre",
        "public",
    ),
    ("ws-06", "warm_station", ("sewing_kit", "drinking_water"), "22:00-06:00", "bank", "public"),
    (
        "nr-01",
        "nursing_room",
        ("fridge", "sofa", "private_room"),
        "Mo-Fr 08:00-18:00",
        "enterprise",
        "employees",
    ),
    ("nr-02", "nursing_room", ("steriliser", "private_room"), "24/7", "enterprise", "public"),
    ("nr-03", "nursing_room", ("sofa",), "Mo-Sa 09:00-21:00", "community_centre", "public"),
    ("ss-01", "shuttle_stop", (), "24/7", "public_transport", "public"),
    ("ss-02", "shuttle_stop", ("shelter",), "24/7", "public_transport", "public"),
    ("ss-03", "shuttle_stop", (), None, "public_transport", "public"),
]


def _node_points(area: Area, n: int) -> list[tuple[float, float]]:
    """``n`` walk-graph node positions spread over the area (deterministic)."""
    arrays = area.arrays("walk")
    order = np.lexsort((arrays.lat, arrays.lon))
    picks = np.linspace(0, arrays.n - 1, n + 2)[1:-1].round().astype(int)
    return [(float(arrays.lon[order[i]]), float(arrays.lat[order[i]])) for i in picks]


@pytest.fixture(scope="session")
def webmap_stations(helsinki_area: Area) -> list[Station]:
    """Deterministic test stations on the sample area's walk graph, plus the XSS station."""
    from stations.model import Station

    points = _node_points(helsinki_area, len(_SPECS) + 1)
    out = []
    for (sid, kind, amenities, hours, host, access), (lon, lat) in zip(
        _SPECS, points, strict=False
    ):
        out.append(
            Station(
                id=sid,
                kind=kind,
                name=f"Test {sid}",
                names={"zh": f"测试站 {sid}", "en": f"Test {sid}"},
                lon=lon,
                lat=lat,
                address=f"{sid} street 1, Helsinki",
                host_type=host,
                amenities=frozenset(amenities),
                opening_hours=hours,
                access=access,
                capacity=4,
                source="test",
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    lon, lat = points[-1]
    out.append(
        Station(
            id=XSS_ID,
            kind="warm_station",
            name=XSS_NAME,
            names={"en": XSS_NAME, "zh": "<b>粗体</b>"},
            lon=lon,
            lat=lat,
            address=XSS_ADDRESS,
            host_type="bank",
            amenities=frozenset({"drinking_water"}),
            opening_hours="24/7",
            contact="<a href=javascript:alert(1)>call</a>",
            notes=XSS_NOTES,
            source="test",
        )
    )
    return out


@pytest.fixture(scope="session")
def webmap_store(tmp_path_factory: pytest.TempPathFactory, webmap_stations: list[Station]) -> Path:
    """A GeoPackage store with :func:`webmap_stations` (a template: copy before writing)."""
    from stations.store import open_store

    path = tmp_path_factory.mktemp("webmap-store") / "stations.gpkg"
    store = open_store(path=path)
    store.add(webmap_stations)
    store.close()
    return path


@pytest.fixture(scope="session")
def webmap_plan(helsinki_area: Area) -> Any:
    """A small two-line plan in the sample area (one stop named with an XSS payload)."""
    from routing.shuttle import BusType, Fleet, Line, Plan, ShuttleSettings, StopVisit, Unserved

    points = _node_points(helsinki_area, 6)
    workplace = points[-1]
    deadline = 8 * 3600 + 30 * 60

    def visits(prefix: str, pts: list[tuple[float, float]], start: int) -> tuple[StopVisit, ...]:
        out = []
        load = 0
        for i, (lon, lat) in enumerate(pts):
            load += 3
            name = XSS_LINE_STOP if (prefix == "A" and i == 0) else f"Stop {prefix}{i + 1}"
            out.append(
                StopVisit(
                    stop_id=f"{prefix}{i + 1}",
                    lon=lon,
                    lat=lat,
                    arrival_s=start + 300 * i,
                    departure_s=start + 300 * i + 30,
                    boarding=3,
                    load_after=load,
                    name=name,
                )
            )
        return tuple(out)

    lines = []
    for line_id, pts, start in (
        ("L001", points[0:2], 7 * 3600 + 50 * 60),
        ("L002", points[2:5], 7 * 3600 + 40 * 60),
    ):
        stops = visits("A" if line_id == "L001" else "B", pts, start)
        arrival = stops[-1].departure_s + 600
        lines.append(
            Line(
                id=line_id,
                bus_type="minibus",
                stops=stops,
                distance_m=2500.0 + 100 * len(stops),
                duration_s=arrival - stops[0].arrival_s,
                workplace=workplace,
                arrival_s=arrival,
                deadline_s=deadline,
                cost=100.0,
            )
        )
    return Plan(
        lines=tuple(lines),
        assignments=(),
        unserved=(Unserved("r-99", "too_far_to_walk"),),
        kpis={"buses": 2, "riders_served": 15, "riders_unserved": 1},
        settings=ShuttleSettings(),
        workplace=workplace,
        deadline=deadline,
        fleet=Fleet((BusType("minibus", seats=19, count=4),)),
        area="helsinki",
    )


@pytest.fixture(scope="session")
def webmap_plan_dir(tmp_path_factory: pytest.TempPathFactory, webmap_plan: Any) -> Path:
    """:func:`webmap_plan` written as a plan directory."""
    from routing.shuttle.export import write_plan

    out = tmp_path_factory.mktemp("webmap-plan") / "plan"
    write_plan(webmap_plan, out)
    return out


def build_app(folder: Path, area: Area, store: Path, plan_dir: Path, **overrides: Any) -> Flask:
    """``create_app`` on a copy of ``store`` in ``folder``: the test data, tiles and limits off."""
    from webmap import create_app

    copy = folder / f"stations-{len(list(folder.glob('stations-*.gpkg')))}.gpkg"
    shutil.copyfile(store, copy)
    config: dict[str, Any] = {
        "TESTING": True,
        "WARMHEART_AREA": area,
        "WARMHEART_STORE": str(copy),
        "WARMHEART_PLAN_DIR": str(plan_dir),
        "WARMHEART_ADMIN_TOKEN": ADMIN_TOKEN,
        "WARMHEART_TILES": "none",
        "WARMHEART_RATELIMIT_ENABLED": False,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def make_app(
    tmp_path: Path, helsinki_area: Area, webmap_store: Path, webmap_plan_dir: Path
) -> Callable[..., Flask]:
    """Factory: ``make_app(**overrides)`` builds a test app on a private copy of the store."""

    def factory(**overrides: Any) -> Flask:
        app = build_app(tmp_path, helsinki_area, webmap_store, webmap_plan_dir, **overrides)
        app.test_client_class = ContractClient  # every response is checked against the document
        return app

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The test app (private store copy, plan loaded, tiles and rate limiting off)."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def payloads() -> dict[str, str]:
    """The XSS payloads planted in the test data: station ``id``/``name``/``address``/``notes``
    and the plan's ``stop`` name; plus the admin ``token``."""
    return {
        "id": XSS_ID,
        "name": XSS_NAME,
        "address": XSS_ADDRESS,
        "notes": XSS_NOTES,
        "stop": XSS_LINE_STOP,
        "token": ADMIN_TOKEN,
    }


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """Headers carrying the admin bearer token of the test app."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
