"""Flask's JSON provider on orjson: every JSON answer (``jsonify``) is written by orjson.

The hot answers (``/api/nearest``: three stations with their walking routes) are mostly
floats, which orjson writes far cheaper than the standard library (see the API benchmark in
``docs/benchmarks.md``). Keys keep their insertion order; non-ASCII text is written as UTF-8.
A value orjson cannot write goes through Flask's own default conversion (dates, dataclasses,
``Decimal``, ...).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

__all__ = ["OrjsonProvider"]


class OrjsonProvider(DefaultJSONProvider):
    """:class:`~flask.json.provider.DefaultJSONProvider` with orjson doing the writing."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj`` to a JSON string (compact; indented when ``indent`` is given)."""
        option = orjson.OPT_INDENT_2 if kwargs.get("indent") else 0
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=self.default, option=option).decode("utf-8")

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """A JSON :class:`~flask.Response` of ``jsonify``'s arguments, bytes written once."""
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default)
        response: Response = self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type,assignment]
        return response
