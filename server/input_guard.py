"""Request input that could only end in a 500 is refused before it reaches a view.

- Text with NUL (PostgreSQL cannot store U+0000: found by fuzzing `POST
  /auth/login`) or an unpaired UTF-16 surrogate (Python's `json` reads
  `"\\ud800"`, but it cannot be written as UTF-8, by orjson or a database):
  422 `validation_failed` naming where, for JSON strings (keys included) and
  query parameters, on every database alike.
- A JSON body Python's parser cannot read: nested deeper than
  `MAX_BODY_DEPTH` (the parser raises `RecursionError` near 1,000 levels) or
  with an integer of more than 4,300 digits (`ValueError`): 400
  `malformed_json`, like any other body that is not JSON.

The pushes (`@checks_values_per_mutation`) judge their values mutation by
mutation (`domain.schemas.RecordSchema`), so one bad text rejects one mutation
instead of the whole push on every retry; there only the query string is
checked for text here.

The body is scanned as bytes with C-speed regular expressions and `bytes`
methods (nothing for a small body; about as long as parsing it for a 2 MB
push) and parsed here only when the scan finds an escaped NUL or surrogate.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

from flask import request

from domain.schemas import printable, text_problem

from .errors import ApiError
from .markers import PER_MUTATION, marker

#: Levels of arrays and objects in a body; a push needs about 10.
MAX_BODY_DEPTH = 100
MESSAGE = "Text may not contain NUL characters or unpaired surrogates."
#: `\u0000` or `\uD800`-`\uDFFF` not themselves escaped (`\\u0000` is a backslash, then
#: the text "u0000"). A surrogate escape may be half of a valid pair: parsing tells.
_SUSPECT_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89abAB][0-9a-fA-F]{2})")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_LEAF_PAIR = re.compile(rb"\[\]|\{\}")
_INT_DIGITS = sys.get_int_max_str_digits()
#: An integer literal (no fraction, no exponent) longer than Python will convert; looked
#: for only where a long enough run of digits is (digits as "0", the rest as " ").
_HUGE_INT = re.compile(rb"(?<![0-9.eE+-])-?[0-9]{%d,}(?![0-9.eE])" % (_INT_DIGITS + 1))
_DIGITS_AS_ZEROS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_DIGIT_RUN = b"0" * (_INT_DIGITS + 1)


def reject_unusable_input() -> None:
    """`before_request` hook: 400 for an unreadable body, 422 for unstorable text."""
    where = {
        name: problem
        for name, value in request.args.items(multi=True)
        if (problem := text_problem(name + value))
    }
    if request.is_json:
        body = request.get_data(cache=True)
        _refuse_unreadable(body)
        if not marker(PER_MUTATION, False) and _SUSPECT_ESCAPE.search(body):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None  # not JSON: the view's parser answers 400
            where.update(_bad_text_paths(parsed, ""))
    if where:
        raise ApiError(
            422,
            "validation_failed",
            MESSAGE,
            fields={printable(path) or "body": [problem] for path, problem in where.items()},
        )


#: The name `server/app.py` registers the hook under (it began with NUL alone).
reject_nul_characters = reject_unusable_input


def _refuse_unreadable(body: bytes) -> None:
    """400 for a body the JSON parser would crash on (not merely refuse)."""
    outside_strings = None
    if body.count(b"[") + body.count(b"{") > MAX_BODY_DEPTH:  # else it cannot nest that deep
        outside_strings = _STRING.sub(b'""', body)
        _refuse_too_deep(outside_strings.translate(None, _NOT_BRACKETS))
    if _INT_DIGITS and _DIGIT_RUN in body.translate(_DIGITS_AS_ZEROS):
        if outside_strings is None:
            outside_strings = _STRING.sub(b'""', body)
        if _HUGE_INT.search(outside_strings):
            raise ApiError(
                400,
                "malformed_json",
                f"The request body has an integer of more than {_INT_DIGITS} digits.",
            )


def _refuse_too_deep(brackets: bytes) -> None:
    """Each pass removes the innermost level: a balanced body is empty after depth passes."""
    for _ in range(MAX_BODY_DEPTH):
        if not brackets:
            return
        shorter = _LEAF_PAIR.sub(b"", brackets)
        if len(shorter) == len(brackets):  # unbalanced: not JSON at all
            raise ApiError(400, "malformed_json", "The request body is not valid JSON.")
        brackets = shorter
    if brackets:
        raise ApiError(
            400,
            "malformed_json",
            f"The request body is nested more than {MAX_BODY_DEPTH} levels deep.",
        )


def _bad_text_paths(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) of every unstorable text; the body is at most `MAX_BODY_DEPTH` deep."""
    if isinstance(value, str):
        if problem := text_problem(value):
            yield path, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if problem := text_problem(str(key)):
                yield inner, problem
            else:
                yield from _bad_text_paths(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_text_paths(item, f"{path}.{index}" if path else str(index))
