"""Schemathesis against /api/openapi.json: generated requests to every operation, bounded.

Every operation of the document — pages, tiles and writes (with the admin token) included —
gets :data:`EXAMPLES` generated requests; each answer must not be a server error, must have
a status the document declares for it, its declared content type, and a body that validates
against the declared schema. The test client's own contract check (``ContractClient``) is
the same idea on hand-written requests; this one lets Hypothesis write them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from conftest import ADMIN_TOKEN  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Generated requests per operation (bounded: CI runs this on every submission).
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_app(
    tmp_path_factory: pytest.TempPathFactory,
    helsinki_area: Any,
    webmap_store: Path,
    webmap_plan_dir: Path,
) -> Any:
    """The app with the test data, writes on, tiles drawn, limits off (the fuzzer is busy)."""
    from conftest import build_app

    folder = tmp_path_factory.mktemp("fuzz-store")
    return build_app(folder, helsinki_area, webmap_store, webmap_plan_dir, WARMHEART_TILES="local")


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Any) -> Any:
    """The app's own OpenAPI document, loaded by schemathesis over WSGI."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)


def _runner(operation: Any, calls: dict[str, int]) -> Any:
    """A Hypothesis test sending ``EXAMPLES`` generated requests to ``operation``."""
    from hypothesis import given

    key = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        calls[key] = calls.get(key, 0) + 1
        case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS)

    return run


def test_every_operation_conforms(api_schema: Any) -> None:
    """No server error, and status, content type and body as the document declares."""
    failures: list[str] = []
    calls: dict[str, int] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        try:
            _runner(operation, calls)()
        except Exception as exc:  # one report for every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) == len(operations) and min(calls.values()) >= 1, calls
    print(f"{sum(calls.values())} generated requests over {len(calls)} operations")
