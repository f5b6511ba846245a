"""``warmheart serve`` (waitress) and ``warmheart demo`` (prepare, then serve)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from webmap.cli import main

# prepare_demo writes one folder under WARMHEART_HOME: keep these tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("webmap-demo")


@pytest.fixture(scope="module")
def demo_config(helsinki_area) -> dict:
    """The demo prepared once (small plan, short optimiser budget) in the session cache."""
    from webmap.demo import prepare_demo

    return prepare_demo(riders=25, time_limit_s=1.0, quiet=True)


def test_prepare_demo_makes_stations_and_plan_then_serves_them(demo_config):
    """prepare_demo writes sample stations and a plan, and the app serves both."""
    from webmap import create_app

    report = demo_config["demo"]
    assert Path(demo_config["WARMHEART_STORE"]).is_file()
    assert (Path(demo_config["WARMHEART_PLAN_DIR"]) / "summary.json").is_file()
    assert all(n > 0 for n in report["stations"]["by_kind"].values())
    assert report["plan"]["lines"] >= 1
    config = {k: v for k, v in demo_config.items() if k != "demo"}
    app = create_app({"TESTING": True, "WARMHEART_TILES": "none", **config})
    client = app.test_client()
    stations = client.get("/api/stations?limit=1").get_json()
    assert stations["numberMatched"] == sum(report["stations"]["by_kind"].values())
    lines = client.get("/api/lines").get_json()
    assert len(lines["features"]) == report["plan"]["lines"]
    assert lines["kpis"]
    near = client.get("/api/nearest?lon=24.944&lat=60.17&k=3").get_json()
    assert len(near["results"]) == 3


def test_prepare_demo_reuses_what_exists(demo_config):
    """A second run reuses the stations and the plan instead of making them again."""
    from webmap.demo import prepare_demo

    again = prepare_demo(riders=25, time_limit_s=1.0, quiet=True)
    assert again["demo"]["stations"]["made"] == 0
    assert again["demo"]["plan"]["made"] is False
    assert again["WARMHEART_PLAN_DIR"] == demo_config["WARMHEART_PLAN_DIR"]


def test_demo_command_no_serve_json(demo_config):
    """`warmheart demo --no-serve --json` prints the config and summary and exits."""
    result = CliRunner().invoke(
        main, ["demo", "--no-serve", "--json", "--riders", "25", "--time-limit", "1"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["config"]["WARMHEART_AREA"] == "helsinki"
    assert body["urls"] is None
    assert body["demo"]["plan"]["lines"] >= 1


def test_serve_help_lists_options():
    """`warmheart serve --help` documents area, host, port, store, plan and threads."""
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--area", "--host", "--port", "--store", "--plan", "--threads"):
        assert option in result.output


def test_serve_rejects_unknown_area_cleanly(tmp_path):
    """An unknown area stops `warmheart serve` with a message, not a traceback."""
    result = CliRunner().invoke(
        main, ["serve", "--area", str(tmp_path / "nowhere.osm.pbf"), "--port", "0"]
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_serve_runs_under_waitress(helsinki_area, webmap_store, webmap_plan_dir, tmp_path):
    """`warmheart serve` answers API requests from waitress on a free loopback port."""
    store = tmp_path / "stations.gpkg"
    store.write_bytes(webmap_store.read_bytes())
    env = dict(os.environ, WARMHEART_RATELIMIT_ENABLED="0", PYTHONUNBUFFERED="1")
    cmd = [
        sys.executable,
        "-c",
        "from webmap.cli import main; main()",
        "serve",
        "--area",
        "helsinki",
        "--port",
        "0",
        "--store",
        str(store),
        "--plan",
        str(webmap_plan_dir),
        "--threads",
        "4",
        "--tiles",
        "none",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base = None
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.strip().startswith("locator:"):
                base = line.split("locator:", 1)[1].strip().rstrip("/")
                break
        assert base, proc.stderr.read() if proc.stderr else "no output"
        with urllib.request.urlopen(
            f"{base}/api/nearest?lon=24.944&lat=60.17&k=2", timeout=30
        ) as response:
            assert response.headers["Server"] == "waitress"
            body = json.load(response)
        assert len(body["results"]) == 2
        with urllib.request.urlopen(f"{base}/api/lines", timeout=30) as response:
            assert len(json.load(response)["features"]) == 2
        # A chunked upload past the largest body cap (the planner's uploads) is refused by the
        # server itself (413), instead of being spooled to disk up to waitress's 1 GB default.
        from webmap.planner_api import UPLOAD_MAX_BYTES

        assert _chunked_upload_status(base, megabytes=UPLOAD_MAX_BYTES // 1_000_000 + 2) == 413
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _chunked_upload_status(base: str, *, megabytes: int) -> int:
    """POST ``megabytes`` of chunked JSON-ish bytes without a token; the answer's status."""
    import contextlib
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    chunk = b"x" * 65536

    def body():
        for _ in range(megabytes * 16):
            yield chunk

    # The server may close before the whole body is sent.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        conn.request(
            "POST",
            "/api/stations",
            body=body(),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
    response = conn.getresponse()
    status = response.status
    conn.close()
    return status
