"""The planner page end to end in headless Debian Chromium: upload -> plan -> compare -> download.

The real app runs with an admin token on a loopback port (werkzeug, threaded); the page is
driven as staff would: token, riders and fleet files, the lines running today (a GTFS feed),
the workplace by clicking the map, the times; the job runs in the background while the page
polls; a reload in the middle finds it again; the result shows both directions, the buses'
days, the before/after table, unserved riders with their reasons in the page language and a
legend; the four downloads are real files. Screenshots at phone and desktop size go to
``tests/artifacts/``.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
TOKEN = "planner-secret-1"
XSS = "<img src=x onerror=alert(1)>"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}

# Headless Debian Chromium, launched as the other browser tests do (skips without it).
from tests.webmap import test_browser as _browser_tests  # noqa: E402

browser = _browser_tests.browser


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, helsinki_area: Any) -> dict[str, Path]:
    """Riders (one off the map), a fleet, and today's lines as a GTFS feed."""
    from routing.shuttle import (
        Rider,
        ShuttleSettings,
        plan_shuttles,
        sample_fleet,
        sample_riders,
        sample_workplace,
        write_gtfs,
    )
    from routing.shuttle.inputs import write_fleet_csv, write_riders_csv

    folder = tmp_path_factory.mktemp("planner-files")
    riders = sample_riders(helsinki_area, 60, seed=11)
    wp = sample_workplace(helsinki_area, riders=riders)
    old = plan_shuttles(
        helsinki_area,
        riders,
        sample_fleet(60),
        wp,
        settings=ShuttleSettings(time_limit_s=1, max_walk_m=300, evening_departure="17:30"),
    )
    write_gtfs(old, folder / "today.zip", start_date="2026-01-05")
    riders.append(Rider("far-away", 24.70, 60.30))
    riders.append(Rider(XSS, 24.95, 60.05))  # off the map too: listed, its id shown as text
    write_riders_csv(riders, folder / "riders.csv")
    write_fleet_csv(sample_fleet(60), folder / "fleet.csv")
    return {
        "riders": folder / "riders.csv",
        "fleet": folder / "fleet.csv",
        "lines": folder / "today.zip",
        "workplace": Path(f"{wp[0]},{wp[1]}"),
    }


@pytest.fixture(scope="module")
def live(helsinki_area: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _page(browser: Any, live: str, viewport: dict[str, int], errors: list[str]) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog {d.message}"), d.dismiss()))
    page.on(
        "request",
        lambda r: (
            errors.append(f"outside request {r.url}")
            if not r.url.startswith((live, "data:", "blob:"))
            else None
        ),
    )
    page.set_default_timeout(60_000)
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_upload_plan_compare_download(browser: Any, live: str, files: dict[str, Path]) -> None:
    """Staff plan from uploads in Chinese: progress while the job runs (and after a reload),
    then both directions, buses, the comparison with today's lines, unserved reasons in
    Chinese, a legend, and four downloads that are real files."""
    errors: list[str] = []
    page = _page(browser, live, DESK, errors)
    page.goto(f"{live}/planner?lang=zh")
    page.wait_for_selector("html[data-wh-ready]", state="attached")
    assert page.locator("#wh-plan-form").is_visible()
    page.fill("#wh-token", TOKEN)
    page.set_input_files("#wh-riders", str(files["riders"]))
    page.set_input_files("#wh-fleet", str(files["fleet"]))
    page.set_input_files("#wh-lines-file", str(files["lines"]))
    # the workplace by clicking the map, then exactly the sample workplace typed in
    page.locator("#wh-map .leaflet-container").click(position={"x": 300, "y": 300})
    assert "," in page.input_value("#wh-workplace")
    page.fill("#wh-workplace", str(files["workplace"]))
    page.fill("#wh-time-limit", "6")
    page.fill("#wh-max-walk", "300")
    _shot(page, "planner-form-desktop")
    page.click("#wh-run")
    page.wait_for_selector("html[data-wh-job=running]", state="attached")
    assert page.locator("#wh-progress").is_visible()
    # the page stays usable while the job runs: the map pans, a reload finds the job again
    page.reload()
    page.wait_for_selector("html[data-wh-job]", state="attached")
    assert page.get_attribute("html", "data-wh-job") in ("running", "done")
    page.wait_for_selector("html[data-wh-job=done]", state="attached", timeout=120_000)
    page.click("#wh-job-link")
    page.wait_for_selector("#wh-compare")
    page.wait_for_selector("html[data-wh-ready]", state="attached")
    _shot(page, "planner-result-desktop")
    text = page.inner_text("aside")
    assert "上班" in text and "下班" in text  # both directions
    assert page.locator("#wh-vehicles tbody tr").count() >= 1
    assert "调整前" in page.inner_text("#wh-compare") and "换站" in page.inner_text("#wh-compare")
    reasons = page.inner_text("#wh-unserved-reasons")
    assert "住址不在地图范围内" in reasons  # the riders off the map, in Chinese
    assert XSS in page.inner_text("#wh-unserved")  # a hostile id shows as text
    legend = page.inner_text("#wh-legend")
    assert "下班车次" in legend and "现有线路" in legend
    lines_on_map = page.get_attribute("html", "data-wh-lines")
    assert lines_on_map is not None and int(lines_on_map) >= 2
    for fmt, check in (
        ("csv", lambda p: p.read_bytes().decode("utf-8-sig").startswith("line_id,direction")),
        ("geojson", lambda p: b'"FeatureCollection"' in p.read_bytes()),
        ("gtfs", lambda p: "stop_times.txt" in zipfile.ZipFile(p).namelist()),
        ("html", lambda p: b"<html" in p.read_bytes()[:400]),
    ):
        with page.expect_download() as info:
            page.click(f"#wh-downloads a[data-format={fmt}]")
        path = Path(info.value.path())
        assert check(path), fmt
    phone = _page(browser, live, PHONE, errors)
    phone.goto(page.url)
    phone.wait_for_selector("html[data-wh-ready]", state="attached")
    _shot(phone, "planner-result-phone")
    assert not errors, errors


def test_wrong_token_and_bad_file_are_told_in_the_page_language(
    browser: Any, live: str, files: dict[str, Path], tmp_path: Path
) -> None:
    """A wrong token and a malformed riders file are reported in Japanese (with the rows)."""
    errors: list[str] = []
    page = _page(browser, live, PHONE, errors)
    page.goto(f"{live}/planner?lang=ja")
    page.wait_for_selector("html[data-wh-ready]", state="attached")
    page.fill("#wh-token", "not-the-token")
    page.set_input_files("#wh-riders", str(files["riders"]))
    page.fill("#wh-workplace", str(files["workplace"]))
    page.click("#wh-run")
    page.wait_for_selector("#wh-job-error:not([hidden])")
    assert "管理トークンが違います" in page.inner_text("#wh-job-error")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\na,east,60.17\n", encoding="utf-8")
    page.fill("#wh-token", TOKEN)
    page.set_input_files("#wh-riders", str(bad))
    page.click("#wh-run")
    page.locator("#wh-job-error", has_text="row 1").wait_for()
    assert "アップロードまたは設定に誤りがあります" in page.inner_text("#wh-job-error")
    _shot(page, "planner-error-phone")
    assert not errors, errors


def test_a_fresh_server_s_planner_page_asks_nothing_that_fails(
    browser: Any, helsinki_area: Any
) -> None:
    """Out of the box (no token, no job ever run) the page loads without one failed request:
    it only polls for a current job when the server has one."""
    from werkzeug.serving import make_server

    from webmap import create_app

    app = create_app({"WARMHEART_AREA": helsinki_area, "WARMHEART_TILES": "none"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        errors: list[str] = []
        page = _page(browser, url, PHONE, errors)
        failed: list[str] = []
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.goto(f"{url}/planner")
        page.wait_for_selector("html[data-wh-ready]", state="attached")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("#wh-plan-form", "data-current") == ""
        assert not failed, failed
        assert not errors, errors
    finally:
        server.shutdown()
        thread.join(timeout=5)
