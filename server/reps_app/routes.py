"""`/app/`: the reps' progressive web app, its files and its service worker.

Public files (like the managers' pages): the app signs in with the API and sends its
token in the Authorization header only, never in a URL. Outside the OpenAPI document.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response, abort, current_app, redirect, send_from_directory
from werkzeug.security import safe_join

from ..markers import public, unmetered
from . import service

blp = Blueprint("reps_app", __name__)


def _tiles() -> tuple[str | None, str | None]:
    config = current_app.config
    return config.get("MAP_TILE_URL"), config.get("MAP_TILE_ATTRIBUTION")


def _secured(response: Response, name: str) -> Response:
    response.headers.update(service.headers(_tiles()[0]))
    response.headers["Cache-Control"] = service.cache_control(name)
    return response


def _missing() -> Response:
    return Response(service.MISSING_BUILD, status=503, mimetype="text/html")


@blp.route("/app")
@public
@unmetered
def app_root():
    return redirect("/app/", code=308)


@blp.route("/app/")
@public
@unmetered
def start_page():
    if not service.built():
        return _missing()
    response = Response(service.start_page(*_tiles()), mimetype="text/html")
    return _secured(response, "index.html")


@blp.route("/app/<path:name>")
@public
@unmetered
def app_file(name: str):
    if not service.built():
        return _missing()
    if name == "index.html":
        return start_page()  # what the service worker precaches: with the map settings
    path = safe_join(str(service.DIST), name)  # None outside the app: nothing to learn there
    if path is None or not os.path.isfile(path):
        if path is None or "." in name.rsplit("/", 1)[-1]:
            abort(404)
        return start_page()  # a screen's address opened directly: the app routes it
    response = send_from_directory(service.DIST, name, max_age=0)
    if name == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/app/"
    if name.endswith(".webmanifest"):
        response.mimetype = "application/manifest+json"
    return _secured(response, name)
