"""Error messages in the caller's language (`Accept-Language`).

The `code` of an error never changes; only the human `message` (and the
common per-field messages) are translated. A message is looked up as written
first, then by its code; anything without a translation stays in English, so a
new error is never hidden behind a wrong translation. Catalogs are the JSON
files in `server/locales/`, one per language, easy for translators to edit.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import has_request_context, request

LANGUAGES = ("en", "vi", "ar", "fa", "ru")
LOCALES = Path(__file__).parent / "locales"


@cache
def _catalog(language: str) -> dict[str, dict[str, str]]:
    if language == "en":
        return {"codes": {}, "messages": {}}
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


def negotiate() -> str:
    """The caller's most preferred language that we have, by primary subtag.

    Not `best_match`: it prefers an exact `ar` at q=0.9 over `en-US` at q=1.
    """
    if not has_request_context():
        return "en"
    for tag, _quality in request.accept_languages:  # most preferred first
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "en"


def translate(language: str, code: str, message: str) -> str:
    catalog = _catalog(language)
    return catalog["messages"].get(message) or catalog["codes"].get(code) or message


def translate_fields(language: str, fields: Any) -> Any:
    """Per-field messages, nested as marshmallow gives them (dicts of lists)."""
    if language == "en":
        return fields
    if isinstance(fields, dict):
        return {key: translate_fields(language, value) for key, value in fields.items()}
    if isinstance(fields, list):
        return [translate_fields(language, value) for value in fields]
    if isinstance(fields, str):
        return _catalog(language)["messages"].get(fields, fields)
    return fields
