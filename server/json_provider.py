"""JSON responses written by orjson.

A full pull or a 10,000-customer map is megabytes of JSON; orjson writes it
about ten times faster than the standard library. Output is the same JSON:
UTF-8 as is, keys in insertion order, non-string keys (list
indexes in validation errors) as strings; values orjson does not know (Decimal,
…) go through Flask's own conversions. Parsing stays with the standard
library, so what requests may contain does not change.

What orjson refuses to write (an unpaired surrogate echoed from a request,
nesting deeper than 255, an integer beyond 64 bits) is written by the standard
library instead, with `\\uXXXX` escapes: an answer is never a 500 for that.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # indent, sort_keys…: the standard library's options
            return super().dumps(obj, **kwargs)
        return self._bytes(obj).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = self._bytes(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body, mimetype=self.mimetype)

    def _bytes(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=self.default, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            return json.dumps(obj, default=self.default, separators=(",", ":")).encode()
