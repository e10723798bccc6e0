"""Swagger UI assets served locally, so `/api/docs` works without internet."""

from __future__ import annotations

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from ..markers import public, unmetered

blp = Blueprint("api_docs", __name__)


@blp.route("/api/docs/static/<path:filename>")
@public
@unmetered
def swagger_asset(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=3600)
