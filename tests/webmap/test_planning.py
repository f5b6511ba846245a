"""The station planner's API: coverage, street bands, hour table, siting and adoption."""

from __future__ import annotations

import pytest

from stations.coverage import coverage
from stations.siting import site_station_id
from stations.weekly import parse_week_time


def test_coverage_matches_the_library(app, client) -> None:
    """/api/coverage reports the shares the library computes for the same stations."""
    state = app.extensions["warmheart"]
    answer = client.get("/api/coverage?kind=warm_station&minutes=5,10&at=Tu 12:00").get_json()
    at = parse_week_time("Tu 12:00")
    want = coverage(
        state.area, state.all_stations(), minutes=(5, 10), kind="warm_station", at=at,
        demand=("streets", "homes", "hotspots"),
    )  # fmt: skip
    assert answer["stations"] == want.stations
    for layer in answer["layers"]:
        shares = [b["share"] for b in layer["budgets"]]
        assert shares == pytest.approx(list(want.layers[layer["layer"]].share), abs=1e-6)
    assert [g["rank"] for g in answer["gaps"]] == list(range(1, len(answer["gaps"]) + 1))


def test_street_bands_add_up_to_the_street_length(client) -> None:
    """Every street metre is drawn in exactly one band (pieces cut where budgets end)."""
    import numpy as np
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    fc = client.get("/api/coverage/streets?minutes=5,10").get_json()
    assert [f["properties"]["band"] for f in fc["features"]] == [0, 1, 2]
    total = 0.0
    for feature in fc["features"]:
        for line in feature["geometry"]["coordinates"]:
            xy = np.asarray(line)
            total += geod.line_length(xy[:, 0], xy[:, 1])
    streets = client.get("/api/coverage?minutes=5,10&demand=streets").get_json()["layers"][0]
    assert total == pytest.approx(streets["total"], rel=0.01)


def test_hour_table_is_7_by_24(client) -> None:
    """The hour table has 7 rows of 24 shares per budget, and counts open stations."""
    data = client.get("/api/coverage/hours?minutes=10&kind=warm_station").get_json()
    share = data["layers"][0]["budgets"][0]["share"]
    assert len(share) == 7 and all(len(row) == 24 for row in share)
    assert 1 <= data["distinct_open_sets"] <= 168


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("minutes=0", "minutes in [1, 30]"),
        ("minutes=5,10,15,20", "at most 3 budgets"),
        ("minutes=45", "minutes in [1, 30]"),
        ("at=Xy 12:00", "time of the week"),
        ("kind=castle", "kind to be one of"),
        ("demand=parks", "demand to be one of"),
        ("week=yesterday", "week as a date"),
    ],
)
def test_bad_coverage_parameters_answer_400(client, query, match) -> None:
    """Bad parameters answer 400 with a message for the API's user."""
    response = client.get(f"/api/coverage?{query}")
    assert response.status_code == 400
    assert match in response.get_json()["error"]["message"]


def test_siting_needs_the_token_and_adoption_adds_stations(client, admin_headers) -> None:
    """Siting and adopt are token-only; an adopted proposal becomes stations once."""
    body = {"objective": "pmedian", "add": 2, "minutes": 8, "demand": "homes"}
    assert client.post("/api/siting", json=body).status_code == 401
    proposal = client.post("/api/siting", json=body, headers=admin_headers).get_json()
    assert len(proposal["sites"]) == 2 and proposal["lower"] <= proposal["value"]
    first = proposal["sites"][0]["id"]
    adopt = {"proposal_id": proposal["proposal_id"], "ids": [first]}
    added = client.post("/api/siting/adopt", json=adopt, headers=admin_headers)
    sid = site_station_id(first)
    assert added.status_code == 201 and added.get_json()["added"] == [sid]
    assert client.get(f"/api/stations/{sid}").status_code == 200
    again = client.post("/api/siting/adopt", json=adopt, headers=admin_headers)
    assert again.status_code == 400
    gone = client.post("/api/siting/adopt", json={"proposal_id": "nope"}, headers=admin_headers)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"objective": "best", "add": 1, "minutes": 5}, "objective"),
        ({"objective": "mclp", "add": 1, "minutes": 90}, "minutes"),
        ({"objective": "mclp", "add": 999, "minutes": 5}, "add"),
        ({"objective": "lscp", "minutes": 5, "target": [2]}, "target shares"),
    ],
)
def test_bad_siting_bodies_answer_400(client, admin_headers, body, match) -> None:
    """Unknown objectives, budgets out of range and impossible targets answer 400."""
    response = client.post("/api/siting", json=body, headers=admin_headers)
    assert response.status_code == 400
    assert match in response.get_json()["error"]["message"]
