"""The station planner page in headless Debian Chromium, at phone and desktop size."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

from test_browser import (  # noqa: E402 - fixtures and helpers of the browser tests
    DESK,
    PHONE,
    _Server,
    _shot,
    browser,
    open_page,
)

__all__ = ["browser", "open_page"]  # fixtures used by name

TOKEN = "planner-token-0123456789"


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, helsinki_area: Any, webmap_store: Path
) -> Iterator[str]:
    """The app with an admin token (for proposals), tiles off, served on loopback."""
    from webmap import create_app

    store = tmp_path_factory.mktemp("planner-store") / "stations.gpkg"
    shutil.copyfile(webmap_store, store)
    app = create_app(
        {
            "TESTING": True,
            "WARMHEART_AREA": helsinki_area,
            "WARMHEART_STORE": str(store),
            "WARMHEART_TILES": "none",
            "WARMHEART_RATELIMIT_ENABLED": False,
            "WARMHEART_ADMIN_TOKEN": TOKEN,
        }
    )
    server = _Server(app)
    yield server.url
    server.close()


def _ready(page: Any) -> None:
    page.wait_for_selector("html[data-wh-ready][data-wh-hours]", state="attached")


def test_planner_page_colours_streets_lists_gaps_and_hours(
    open_page: Callable[..., Any], live: str
) -> None:
    """Streets are drawn in minute bands with a legend, gaps ranked, the week table filled."""
    for name, viewport in (("desk", DESK), ("phone", PHONE)):
        page = open_page(viewport)
        page.goto(f"{live}/planner/stations?lang=en")
        _ready(page)
        assert int(page.get_attribute("html", "data-wh-cov-pieces")) > 1000
        assert page.locator("#wh-cov-legend li").count() == 4
        assert page.locator("#wh-cov-table tbody tr").count() == 3
        assert page.locator("#wh-cov-gaps li").count() >= 1
        assert page.locator("#wh-cov-hours .wh-cell").count() == 168
        _shot(page, f"planner-stations-{name}")


def test_hour_control_changes_coverage(open_page: Callable[..., Any], live: str) -> None:
    """Choosing Saturday 03:00 asks for the stations open then and redraws."""
    page = open_page(DESK)
    page.goto(f"{live}/planner/stations?lang=zh")
    _ready(page)
    before = page.locator("#wh-cov-status").text_content()
    page.select_option("#wh-cov-day", "Sa")
    page.fill("#wh-cov-hour", "3")
    page.dispatch_event("#wh-cov-hour", "change")
    page.wait_for_function(
        "(b) => document.documentElement.hasAttribute('data-wh-ready') && "
        "document.getElementById('wh-cov-status').textContent !== b",
        arg=before,
    )
    _shot(page, "planner-stations-night-zh")


def test_propose_and_adopt_with_the_token(open_page: Callable[..., Any], live: str) -> None:
    """With the admin token a proposal lists sites with gains; adopting adds them."""
    page = open_page(DESK)
    page.goto(f"{live}/planner/stations?lang=en")
    _ready(page)
    page.fill("#wh-site-token", TOKEN)
    page.fill("#wh-site-add", "2")
    page.click("#wh-site-run")
    page.wait_for_selector("html[data-wh-sites]", state="attached")
    assert page.locator("#wh-site-table tr").count() == 2
    _shot(page, "planner-stations-proposal")
    page.click("#wh-site-adopt")
    page.wait_for_function(
        "() => document.getElementById('wh-site-status').textContent.includes('added')"
    )
    page.fill("#wh-site-token", "wrong-token")
    page.click("#wh-site-run")
    page.wait_for_function(
        "() => document.getElementById('wh-site-status').textContent.startsWith('Error')"
    )
