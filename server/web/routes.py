"""`/map`, `/dashboard` and their static files.

A plain Flask blueprint, outside the OpenAPI document. The pages are public
HTML; they sign in with the API (`POST /api/v1/auth/login`) and call it with a
bearer token, so every datum stays behind the API's authorisation.

The browser libraries (Leaflet, Geoman, Chart.js) come from the npm registry
into `web/node_modules/` (`npm ci --prefix web`, run by `./scripts/demo`) and
are served from a whitelist, never as a directory.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    send_file,
    send_from_directory,
)

from ..i18n import LANGUAGES
from ..markers import public, unmetered

PACKAGE = Path(__file__).resolve().parent
STATIC = PACKAGE / "static"
#: `web/node_modules` of the repository (tests monkeypatch it).
NODE_MODULES = PACKAGE.parents[1] / "web" / "node_modules"

#: URL name under /static/vendor/ -> file under web/node_modules/.
VENDOR_FILES = {
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    **{
        f"leaflet/images/{name}": f"leaflet/dist/images/{name}"
        for name in (
            "layers.png",
            "layers-2x.png",
            "marker-icon.png",
            "marker-icon-2x.png",
            "marker-shadow.png",
        )
    },
    "geoman/leaflet-geoman.js": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
    "geoman/leaflet-geoman.css": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
    "chart/chart.umd.js": "chart.js/dist/chart.umd.min.js",
}

MISSING_VENDOR = (
    "The map's browser libraries are not installed (web/node_modules is missing).\n"
    "Run ./scripts/demo, or: npm ci --prefix web\n"
)

#: Leaflet and Chart.js set inline styles; tiles may come from any configured host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https: http:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

blp = Blueprint("web", __name__, template_folder="templates")


def vendor_installed() -> bool:
    return NODE_MODULES.is_dir()


@lru_cache(maxsize=64)
def _fingerprint(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def asset_version(name: str) -> str:
    """A short content hash of one of our static files, for cache busting."""
    path = STATIC / name
    try:
        return _fingerprint(str(path), path.stat().st_mtime_ns)
    except OSError:
        return "0"


def _page(template: str, page: str) -> Response:
    config = current_app.config
    body = render_template(
        template,
        page=page,
        tile_url=config.get("MAP_TILE_URL") or "",
        tile_attribution=config.get("MAP_TILE_ATTRIBUTION") or "",
        vendor_ok=vendor_installed(),
        version=asset_version,
        languages=LANGUAGES,  # the page offers the languages the API speaks
    )
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.route("/map")
@public
def map_page():
    return _page("map.html", "map")


@blp.route("/dashboard")
@public
def dashboard_page():
    return _page("dashboard.html", "dashboard")


@blp.route("/static/app/<path:filename>")
@public
@unmetered
def app_asset(filename: str):
    response = send_from_directory(STATIC, filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.route("/static/vendor/<path:filename>")
@public
@unmetered
def vendor_asset(filename: str):
    relative = VENDOR_FILES.get(filename)
    if relative is None:
        abort(404)
    path = NODE_MODULES / relative
    if not path.is_file():
        return Response(MISSING_VENDOR, status=503, mimetype="text/plain")
    response = send_file(path, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
