"""Validate real responses against the app's generated OpenAPI document.

:class:`ContractClient` is the test client of every web test app: each response it returns
has been checked against the document — its status must be declared for the operation (or
be a generic 304/404/405), and a JSON body must validate against the declared schema. So a
renamed, missing or extra field fails whichever test made the request.
"""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.exceptions import MethodNotAllowed, NotFound

from webmap.openapi import build_openapi

#: Answers any route may give without declaring them.
GENERIC = {304, 405}


class ContractViolationError(AssertionError):
    """A response that the OpenAPI document does not allow."""


def _document(app: Any) -> dict[str, Any]:
    doc = app.extensions.get("test_contract_doc")
    if doc is None:
        doc = app.extensions["test_contract_doc"] = build_openapi(app)
    return doc


def check_response(app: Any, method: str, path: str, response: Any) -> None:
    """Raise :class:`ContractViolationError` if ``response`` breaks the document."""
    status = response.status_code
    if method in ("HEAD", "OPTIONS") or status in GENERIC:
        return
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except (NotFound, MethodNotAllowed):
        rule = None
    doc = _document(app)
    if rule is None:
        operation = None
    else:
        import re

        key = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        operation = doc["paths"].get(key, {}).get(method.lower())
    if operation is None:
        if status >= 400 and response.mimetype == "application/json":
            _validate(doc, {"$ref": "#/components/schemas/Error"}, response, method, path)
            return
        msg = f"{method} {path} answered {status} but is not in the OpenAPI document"
        raise ContractViolationError(msg)
    answer = operation["responses"].get(str(status))
    if answer is None:
        declared = ", ".join(operation["responses"])
        msg = f"{method} {path} answered {status}; the document declares only {declared}"
        raise ContractViolationError(msg)
    if "$ref" in answer:
        answer = doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    content = answer.get("content", {})
    if not content:
        if response.get_data():
            raise ContractViolationError(f"{method} {path} {status}: body where none is declared")
        return
    media = response.mimetype if response.mimetype in content else "*/*"
    if media not in content:
        msg = (
            f"{method} {path} {status}: content type {response.mimetype!r}, "
            f"declared {sorted(content)}"
        )
        raise ContractViolationError(msg)
    schema = content[media].get("schema")
    if schema and response.mimetype.endswith("json"):
        _validate(doc, schema, response, method, path)


def _validate(
    doc: dict[str, Any], schema: dict[str, Any], response: Any, method: str, path: str
) -> None:
    body = json.loads(response.get_data(as_text=True))
    root = {**schema, "components": doc["components"]}
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        msg = (
            f"{method} {path} {response.status_code}: {len(errors)} schema violation(s); "
            f"first at {where}: {first.message}"
        )
        raise ContractViolationError(msg)


class ContractClient(FlaskClient):
    """A Flask test client that checks every response against the OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        request = response.request
        check_response(self.application, request.method, request.path, response)
        return response
