"""The managers' pages as plain HTTP (the browser tests are in tests/e2e/browser/)."""

from __future__ import annotations

import pytest

from server.web import routes as web_routes
from tests.support.live_server import unavailable


@pytest.mark.parametrize("path", ["/map", "/dashboard"])
def test_pages_are_html_without_a_token(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in body
    assert 'data-testid="login-form"' in body
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_tile_url_reaches_the_page(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "© Example")
    body = client.get("/map").get_data(as_text=True)
    assert '"tileUrl": "https://tiles.example/{z}/{x}/{y}.png"' in body
    assert "Example" in body


def test_no_tile_url_by_default(client):
    assert '"tileUrl": ""' in client.get("/map").get_data(as_text=True)


@pytest.mark.parametrize(
    "name", ["common.js", "map.js", "dashboard.js", "style.css", "i18n/en.json", "i18n/ar.json"]
)
def test_app_assets(client, name):
    response = client.get(f"/static/app/{name}")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_app_assets_stay_in_their_folder(client):
    assert client.get("/static/app/../routes.py").status_code == 404
    assert client.get("/static/app/%2e%2e/routes.py").status_code == 404
    assert client.get("/static/app/missing.js").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "leaflet/images/layers.png",
        "geoman/leaflet-geoman.js",
        "chart/chart.umd.js",
    ],
)
def test_vendor_whitelist(client, name):
    if not web_routes.NODE_MODULES.is_dir():
        unavailable("web/node_modules is not installed (npm ci --prefix web)")
    response = client.get(f"/static/vendor/{name}")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name",
    [
        "leaflet/package.json",
        "leaflet/dist/leaflet.js",
        "lodash/lodash.js",
        "../package.json",
        "leaflet/../../package.json",
        "%2e%2e/%2e%2e/pyproject.toml",
    ],
)
def test_vendor_outside_the_whitelist_is_404(client, name):
    assert client.get(f"/static/vendor/{name}").status_code == 404


def test_vendor_without_node_modules_is_503(client, monkeypatch, tmp_path):
    monkeypatch.setattr(web_routes, "NODE_MODULES", tmp_path / "node_modules")
    response = client.get("/static/vendor/leaflet/leaflet.js")
    assert response.status_code == 503
    assert "./scripts/demo" in response.get_data(as_text=True)
    page = client.get("/map")
    assert page.status_code == 200
    assert 'data-testid="vendor-missing"' in page.get_data(as_text=True)


def test_api_still_needs_a_token(client):
    assert client.get("/api/v1/geo/customers").status_code == 401
