"""Text with NUL characters is refused before it reaches a view.

PostgreSQL cannot store U+0000 in text, so such a value used to end in a 500
from the driver (found by fuzzing `POST /auth/login` on PostgreSQL). It is
refused on every database alike, for JSON strings (keys included) and query
parameters, with 422 `validation_failed` naming where it was found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import request

from .errors import ApiError

NUL = "\x00"
#: `\u0000` not itself escaped (`\\u0000` is a backslash, then the text "u0000").
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
MESSAGE = "Text may not contain NUL characters (U+0000)."


def reject_nul_characters() -> None:
    where = [name for name, value in request.args.items(multi=True) if NUL in name + value]
    # JSON carries NUL only as the escape \u0000: a scan of the bytes, and the body is
    # parsed here (to name the fields) only when one is there, not on every request.
    if request.is_json and _ESCAPED_NUL.search(request.get_data(cache=True)):
        where += _nul_paths(request.get_json(silent=True), "")
    if where:
        raise ApiError(
            422, "validation_failed", MESSAGE, fields={path or "body": [MESSAGE] for path in where}
        )


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield inner
            else:
                yield from _nul_paths(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}" if path else str(index))
