"""The OpenAPI 3.1 document, generated from the declarations, served at ``/api/openapi.json``.

A view declares its contract once with :func:`operation`: the query model it is called with
(:mod:`webmap._params`), its body and response models (:mod:`webmap.schemas`), its errors.
:func:`operation` parses the query into the model before the view runs, and
:func:`build_openapi` walks the app's URL map and writes the document from the same
declarations, so the document cannot drift from what the server does; a test checks that
every route is declared and validates real responses against the document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from ._params import Query, parse_query
from .schemas import MODELS

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["GEOJSON", "HTML", "Operation", "build_openapi", "operation"]

F = TypeVar("F", bound=Callable[..., Any])

GEOJSON = "application/geo+json"
JSON = "application/json"
#: A response that is an HTML page (pages are documented too).
HTML = "text/html"

#: Error answers by status: what each means to the API's user.
ERRORS: dict[int, str] = {
    400: "Malformed or out-of-range parameters or body.",
    401: "Missing or wrong bearer token; nothing was changed.",
    403: "Writes are disabled (no WARMHEART_ADMIN_TOKEN configured).",
    404: "No such station, planning job (or path).",
    409: "A planning job is already running on this server; try again when it ends.",
    413: "The request body is larger than the server accepts.",
    415: "The body is not of the expected media type (JSON, or a multipart upload).",
    422: "The two points are not connected.",
    429: "Rate limit exceeded; see Retry-After.",
    500: "Unexpected server error.",
    501: "Format other than json.",
    503: "The station registry (a PostGIS database) is unavailable; retry after Retry-After.",
}
READ_ERRORS = (400, 429, 500, 503)
WRITE_ERRORS = (400, 401, 403, 413, 429, 500, 503)


@dataclass(frozen=True)
class Operation:
    """One operation's contract (see :func:`operation`)."""

    operation_id: str
    summary: str
    query: type[Query] | None = None
    body: type[BaseModel] | None = None
    body_media: str = JSON
    responses: Mapping[int, tuple[type[BaseModel] | None, str]] = field(default_factory=dict)
    media: str = JSON
    other_media: tuple[str, ...] = ()
    errors: tuple[int, ...] = READ_ERRORS
    path_params: Mapping[str, str] = field(default_factory=dict)
    secured: bool = False
    tag: str | None = None


def operation(
    operation_id: str,
    summary: str,
    *,
    query: type[Query] | None = None,
    body: type[BaseModel] | None = None,
    body_media: str = JSON,
    responses: Mapping[int, tuple[type[BaseModel] | None, str]] | None = None,
    media: str = JSON,
    other_media: tuple[str, ...] = (),
    errors: tuple[int, ...] = READ_ERRORS,
    path_params: Mapping[str, str] | None = None,
    secured: bool = False,
    tag: str | None = None,
) -> Callable[[F], F]:
    """Declare a view's contract; with ``query`` the view gets the parsed model as ``query=``.

    Parameters
    ----------
    operation_id, summary
        The OpenAPI ``operationId`` and ``summary``.
    query
        The :class:`~webmap._params.Query` model of the parameters.
    body
        The model of the request body (JSON, or the fields of a ``body_media`` upload such as
        ``multipart/form-data``).
    responses
        Successful answers: ``{status: (model or None, description)}``; ``media`` is their
        content type (``text/html`` for pages, ``None`` model for an empty body).
    other_media
        Further content types of a successful answer without a model (a download in several
        formats).
    errors
        Error statuses the operation may answer (each with the shared ``Error`` body).
    path_params
        Descriptions of the URL's variables.
    secured
        Needs the bearer token.
    tag
        OpenAPI tag (``"pages"`` for HTML pages).
    """
    spec = Operation(
        operation_id=operation_id,
        summary=summary,
        query=query,
        body=body,
        body_media=body_media,
        responses=dict(responses or {200: (None, summary)}),
        media=media,
        other_media=other_media,
        errors=errors,
        path_params=dict(path_params or {}),
        secured=secured,
        tag=tag,
    )

    def decorate(view: F) -> F:
        if query is None:
            view.__openapi__ = spec  # type: ignore[attr-defined]
            return view

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from flask import request

            return view(*args, query=parse_query(query, request.args), **kwargs)

        wrapper.__openapi__ = spec  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# --------------------------------------------------------------------------------- document


class _Schema(GenerateJsonSchema):
    """pydantic's JSON Schema (2020-12, the dialect of OpenAPI 3.1) without generated titles."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _strip_titles(v)
            for k, v in node.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def component_schemas() -> dict[str, Any]:
    """``components/schemas``: every body model and the models they use."""
    _, defs = models_json_schema(
        [(m, "validation") for m in MODELS],
        ref_template="#/components/schemas/{model}",
        schema_generator=_Schema,
    )
    return {name: _strip_titles(schema) for name, schema in defs.get("$defs", {}).items()}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_parameters(model: type[Query]) -> list[dict[str, Any]]:
    schema = _strip_titles(model.model_json_schema(schema_generator=_Schema))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        examples = prop.pop("examples", None)
        comma = prop.pop("x-comma-separated", False)
        branches = prop.get("anyOf")
        if branches and "enum" not in prop:  # an optional parameter: absent, never null
            kept = [b for b in branches if b.get("type") != "null"]
            rest = {k: v for k, v in prop.items() if k != "anyOf"}
            prop = {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}
        if isinstance(prop.get("enum"), list):
            prop["enum"] = [v for v in prop["enum"] if v is not None]
            prop.pop("anyOf", None)
            prop.setdefault("type", "string")
        if prop.get("default", 0) is None:
            del prop["default"]
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if description:
            param["description"] = description
        if prop.get("type") == "array":
            param["style"] = "form"
            param["explode"] = not comma
        param["schema"] = prop
        if examples:
            param["example"] = examples[0]
        params.append(param)
    return params


def _error_responses(statuses: tuple[int, ...], *, page: bool) -> dict[str, Any]:
    """The shared error answers; pages answer browsers (``Accept: text/html``) with HTML."""
    if not page:
        return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}
    return {
        str(s): {
            "description": ERRORS[s] + " An HTML page when the client prefers HTML.",
            "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/Error"}},
                HTML: {"schema": {"type": "string"}},
            },
        }
        for s in statuses
    }


def _operation_object(spec: Operation, path_vars: list[str]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary}
    if spec.tag:
        op["tags"] = [spec.tag]
    params = [
        {
            "name": var,
            "in": "path",
            "required": True,
            "description": spec.path_params.get(var, var),
            "schema": {"type": "string", "minLength": 1},
        }
        for var in path_vars
    ]
    if spec.query is not None:
        params += _query_parameters(spec.query)
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {spec.body_media: {"schema": _ref(spec.body)}},
        }
    responses: dict[str, Any] = {}
    for status, (model, description) in spec.responses.items():
        answer: dict[str, Any] = {"description": description}
        if model is not None:
            answer["content"] = {spec.media: {"schema": _ref(model)}}
        elif status != 204:
            answer["content"] = {
                media: {"schema": {"type": "object" if media.endswith("json") else "string"}}
                for media in (spec.media, *spec.other_media)
            }
        responses[str(status)] = answer
    responses.update(_error_responses(spec.errors, page=spec.media == HTML))
    op["responses"] = responses
    if spec.secured:
        op["security"] = [{"bearerAuth": []}]
    return op


_VARIABLE = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


def _openapi_path(rule: Any) -> tuple[str, list[str]]:
    """A werkzeug rule as an OpenAPI path (``<path:f>`` -> ``{f}``) and its variables."""
    return _VARIABLE.sub(r"{\1}", rule.rule), _VARIABLE.findall(rule.rule)


def declared_operations(app: Flask) -> list[tuple[str, str, Operation | None]]:
    """``(path, method, spec)`` of every route of ``app`` (``spec`` ``None`` if undeclared)."""
    out = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "__openapi__", None)
        path, _ = _openapi_path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((path, method.lower(), spec))
    return out


def build_openapi(app: Flask, *, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app`` (a fresh dict), with ``server_url`` as its server."""
    try:
        pkg_version = version("warmheart")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        pkg_version = "0"
    paths: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        spec: Operation | None = getattr(view, "__openapi__", None)
        if spec is None:
            continue
        path, path_vars = _openapi_path(rule)
        item = paths.setdefault(path, {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _operation_object(spec, path_vars)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "warmheart API",
            "version": pkg_version,
            "description": (
                "Warm-heart stations, nursing rooms and shuttle stops on an OpenStreetMap walk "
                "graph; shuttle lines. Every 4xx/5xx answer is "
                '`{"error": {"status": <int>, "message": <str>}}`. Public reads are '
                "rate-limited per client; station writes need `Authorization: Bearer <token>`."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": dict(sorted(paths.items())),
        "tags": [{"name": "pages", "description": "HTML pages (documented for completeness)."}],
        "components": {
            "schemas": component_schemas(),
            "responses": {
                f"E{status}": {
                    "description": text,
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                for status, text in ERRORS.items()
            },
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
