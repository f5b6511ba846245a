"""Error answers of the web app: one JSON shape, one place that registers the handlers.

Every 4xx/5xx answer of the API is ``{"error": {"status": <int>, "message": <str>}}``
(:class:`webmap.schemas.Error`); the message is written for the API's user and never
carries Python internals. Blueprints import :func:`error_response` from here, never from the
app factory; :func:`register_error_handlers` is called once by ``create_app``. Pages answer
browsers with an HTML page instead (see :mod:`webmap.pages`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from stations._errors import StoreUnavailableError

from ._errors import ParameterError, StationNotFound

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["error_response", "register_error_handlers"]

logger = logging.getLogger(__name__)

#: Headers of an HTTP exception that the JSON answer keeps.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def error_response(status: int, message: str) -> Response:
    """The JSON body every 4xx/5xx answer carries, with ``status``."""
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


def http_error_message(exc: HTTPException) -> str:
    """The user-facing message of a werkzeug HTTP exception (404 and 405 made specific)."""
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 404 and message.startswith("The requested URL was not found"):
        return f"Expected a known path, got {request.path!r} (see /api/openapi.json)"
    if status == 405:
        allowed = getattr(exc, "valid_methods", None)
        return f"Expected one of {', '.join(allowed or [])} on {request.path}, got {request.method}"
    if status == 413:
        # The request's own cap: the planner's uploads have a larger one than the app's.
        limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH")
        return f"Expected a request body of at most {limit} bytes, got a larger one"
    return message


def register_error_handlers(app: Flask) -> None:
    """JSON answers for HTTP errors, bad parameters, unknown stations and unexpected errors."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        response = error_response(exc.code or 500, http_error_message(exc))
        for key, value in exc.get_headers():
            if key in _KEPT_HEADERS:
                response.headers[key] = value
        return response

    @app.errorhandler(ParameterError)
    def _bad_parameter(exc: ParameterError) -> Response:
        return error_response(400, str(exc))

    @app.errorhandler(StationNotFound)
    def _not_found(exc: StationNotFound) -> Response:
        return error_response(404, str(exc.args[0]))

    @app.errorhandler(StoreUnavailableError)
    def _store_unavailable(exc: StoreUnavailableError) -> Response:
        # The message names the store without its password; the API's user gets less.
        logger.warning("Station store unavailable on %s %s: %s", request.method, request.path, exc)
        response = error_response(
            503, "The station registry is unavailable at the moment; try again in a few seconds"
        )
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def _unexpected_error(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http_error(exc)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, InternalServerError.description)
