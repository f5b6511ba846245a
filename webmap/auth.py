"""Bearer-token authentication of station writes.

The token is ``WARMHEART_ADMIN_TOKEN`` (configuration or environment). A request must send
``Authorization: Bearer <token>``; the comparison is constant-time
(:func:`hmac.compare_digest`). No or a wrong token answers 401 with a JSON error and a
``WWW-Authenticate`` header; with no token configured, writes are disabled and answer 403.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

from .errors import error_response

__all__ = ["check_token", "require_token"]

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def check_token(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header value carries ``token`` (constant-time compare)."""
    if not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def require_token(view: F) -> F:
    """Decorate a view so that it runs only with the configured bearer token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = current_app.config.get("WARMHEART_ADMIN_TOKEN")
        if not token:
            return error_response(
                403,
                "Writes (station edits, planning jobs) are disabled: set "
                "WARMHEART_ADMIN_TOKEN on the server to enable them",
            )
        if not check_token(request.headers.get("Authorization"), str(token)):
            logger.warning(
                "Rejected %s %s from %s: missing or wrong token",
                request.method,
                request.path,
                request.remote_addr,
            )
            response: Response = error_response(
                401, "Expected 'Authorization: Bearer <token>' with the admin token"
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="warmheart"'
            return response
        return view(*args, **kwargs)

    return cast(F, wrapper)
