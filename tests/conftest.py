"""Shared test helpers: the ../shared/osm extracts, a per-session area cache, the sample area.

- ``SHARED_OSM``: the folder of real OSM extracts beside the project (absent on some
  machines); ``shared_osm(filename)`` returns a path in it or skips the test.
- ``WARMHEART_HOME`` is pointed at one cache folder per test session, shared by the
  pytest-xdist workers (the area cache builds under a file lock and writes atomically, so
  two workers never build the same area twice or read a half-written entry). Set
  ``WARMHEART_TEST_HOME`` to reuse a cache folder across sessions.
- ``helsinki_area``: the embedded sample Area (session scope, through ``load_area``).
- ``pg_cluster``: a throwaway PostgreSQL + PostGIS cluster (session scope, started on first
  use, see ``tests/pgcluster.py``; skips without the server, fails under ``CI=true``), and
  ``pg_url``: its store URL with a fresh schema per test.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from routing import Area
    from tests.pgcluster import Cluster

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = PROJECT_ROOT.parent / "shared" / "osm"
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_osm(filename: str) -> Path:
    """Path of ``../shared/osm/<filename>``, or skip the calling test when it is absent."""
    path = SHARED_OSM / filename
    if not path.is_file():
        pytest.skip(f"shared OSM extract {filename} not available at {SHARED_OSM}")
    return path


def _session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    override = os.environ.get("WARMHEART_TEST_HOME")
    if override:
        return Path(override)
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker has basetemp <session>/popen-gwN: share <session>.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return root / "warmheart-home"


@pytest.fixture(scope="session", autouse=True)
def warmheart_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``WARMHEART_HOME`` at the session's shared area cache."""
    home = _session_home(tmp_path_factory)
    home.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("WARMHEART_HOME")
    os.environ["WARMHEART_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("WARMHEART_HOME", None)
    else:
        os.environ["WARMHEART_HOME"] = previous


@pytest.fixture(scope="session")
def helsinki_area(warmheart_home: Path) -> Area:
    """The embedded central-Helsinki sample Area (built once per session, then cached)."""
    from routing import load_area

    return load_area("helsinki")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL + PostGIS cluster for this session (worker), removed at the end."""
    from tests.pgcluster import cluster_or_skip

    cluster = cluster_or_skip()
    yield cluster
    cluster.remove()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A ``postgresql://`` store URL with a schema of its own (an empty registry)."""
    return f"{pg_cluster.url}?schema=t_{secrets.token_hex(6)}"
