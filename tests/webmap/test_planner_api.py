"""The planner's job API: token, uploads checked before any work, one job at a time, no 500."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest

TOKEN = "planner-api-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RIDERS = "id,lon,lat\n" + "".join(f"r{i},24.94{i},60.17{i}\n" for i in range(6))


@pytest.fixture(scope="module")
def client(helsinki_area: Any) -> Any:
    from webmap import create_app

    app = create_app(
        {
            "TESTING": True,
            "WARMHEART_AREA": helsinki_area,
            "WARMHEART_TILES": "none",
            "WARMHEART_RATELIMIT_ENABLED": False,
            "WARMHEART_ADMIN_TOKEN": TOKEN,
        }
    )
    return app.test_client()


def _post(client: Any, *, riders: str = RIDERS, name: str = "riders.csv", **fields: Any) -> Any:
    data: dict[str, Any] = {"riders": (io.BytesIO(riders.encode()), name)}
    data.update({"workplace": "24.9476,60.1698", "time_limit_s": "1", **fields})
    return client.post(
        "/api/planner/jobs", headers=AUTH, data=data, content_type="multipart/form-data"
    )


def _wait(client: Any, location: str) -> dict[str, Any]:
    for _ in range(200):
        job = client.get(location).get_json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_writes_need_the_token_and_a_multipart_body(client: Any, helsinki_area: Any) -> None:
    """No token: 401; JSON instead of an upload: 415; writes off on the server: 403."""
    from webmap import create_app

    assert client.post("/api/planner/jobs", data={}).status_code == 401
    r = client.post("/api/planner/jobs", headers=AUTH, json={"riders": "x"})
    assert r.status_code == 415 and "multipart/form-data" in r.get_json()["error"]["message"]
    off = create_app({"TESTING": True, "WARMHEART_AREA": helsinki_area, "WARMHEART_TILES": "none"})
    assert off.test_client().post("/api/planner/jobs", headers=AUTH).status_code == 403


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"riders": "id,lon,lat\na,east,60.17\n"}, "row 1, lon"),
        ({"name": "riders.txt"}, "riders file as one of"),
        ({"time_limit_s": "9000"}, "time_limit_s as a number in [1, 600]"),
        ({"max_lines": "2.5"}, "max_lines as a whole number"),
        ({"deadline": "25:99"}, "deadline"),
        ({"workplace": "999,60"}, "lon"),
        ({"workplace": ""}, "workplace as lon,lat"),
        ({"crs": "utm"}, "crs as wgs84, gcj02 or bd09"),
        ({"workplace": "25.5,60.5"}, "Expected the workplace within"),
        ({"riders": "id,lon,lat\n"}, "at least one rider"),
    ],
)
def test_bad_uploads_and_settings_are_400_with_the_reason(
    client: Any, fields: dict[str, str], expected: str
) -> None:
    """Every bad input is refused before a job starts, with what was expected."""
    kwargs = dict(fields)
    riders = kwargs.pop("riders", RIDERS)
    name = kwargs.pop("name", "riders.csv")
    r = _post(client, riders=riders, name=name, **kwargs)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert expected in r.get_json()["error"]["message"]


def test_upload_larger_than_the_cap_is_413(client: Any) -> None:
    """An upload over the cap is refused before it is read."""
    from webmap.planner_api import UPLOAD_MAX_BYTES

    big = "id,lon,lat\n" + "x" * (UPLOAD_MAX_BYTES + 10)
    r = _post(client, riders=big)
    assert r.status_code == 413 and r.get_json()["error"]["status"] == 413
    assert f"at most {UPLOAD_MAX_BYTES} bytes" in r.get_json()["error"]["message"]


def test_one_job_at_a_time_then_the_result(client: Any) -> None:
    """A second job while one runs is refused (409); the first ends with a summary, its page
    and its downloads; unknown jobs are 404."""
    first = _post(client, time_limit_s="3", evening_departure="17:30")
    assert first.status_code == 202
    busy = _post(client)
    assert busy.status_code == 409 and "already running" in busy.get_json()["error"]["message"]
    job = _wait(client, first.headers["Location"])
    assert job["state"] == "done" and job["summary"]["trips"] >= 0
    assert client.get("/api/planner/jobs/current").get_json()["id"] == job["id"]
    page = client.get(job["result_url"] + "&lang=en")
    assert page.status_code == 200 and b"wh-plan-form" in page.data
    for fmt in ("csv", "geojson", "gtfs"):
        d = client.get(f"/planner/download?job={job['id']}&format={fmt}")
        assert d.status_code in (200, 404), fmt  # 404 only when the plan has no trips
    assert client.get("/api/planner/jobs/0123456789ab").status_code == 404
    assert client.get("/planner?job=0123456789ab").status_code == 404
    assert client.get("/planner?job=nope").status_code == 400
    assert client.get("/planner/download?format=pdf").status_code == 400
