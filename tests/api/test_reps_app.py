"""`/app/`, the reps' progressive web app, as plain HTTP: what it is served with.

A stand-in build in a temporary folder, so these run without Node; the real build
is driven by the browser tests (tests/e2e/browser/test_reps_app.py).
"""

from __future__ import annotations

import pytest

from server.reps_app import service

INDEX = "<!doctype html><html><head><title>Field</title></head><body></body></html>"


@pytest.fixture
def dist(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (tmp_path / "manifest.webmanifest").write_text('{"name": "fieldsync Field"}')
    (tmp_path / "assets" / "index-ByU_6Gjp.js").write_text("export {}")
    monkeypatch.setattr(service, "DIST", tmp_path)
    return tmp_path


def test_the_start_page_carries_a_strict_policy_and_the_tile_settings(
    app, client, dist, monkeypatch
):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", '© "Example"')
    response = client.get("/app/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert (
        'name="fieldsync-tile-url" content="https://{s}.tile.example.org/{z}/{x}/{y}.png"' in body
    )
    assert "&quot;Example&quot;" in body  # escaped: a setting cannot inject markup
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "connect-src 'self'" in policy
    assert "img-src 'self' data: blob: https://*.tile.example.org;" in policy
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-cache"
    # What the service worker precaches is the same page.
    assert client.get("/app/index.html").get_data(as_text=True) == body


def test_no_tile_host_without_tiles(client, dist):
    policy = client.get("/app/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in policy


def test_the_service_worker_and_manifest_are_never_cached_stale(client, dist):
    worker = client.get("/app/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Service-Worker-Allowed"] == "/app/"
    assert worker.headers["Cache-Control"] == "no-cache"
    manifest = client.get("/app/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.headers["Cache-Control"] == "no-cache"


def test_hashed_files_are_cached_for_good(client, dist):
    response = client.get("/app/assets/index-ByU_6Gjp.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_addresses(client, dist):
    assert client.get("/app").status_code == 308
    assert "<title>Field</title>" in client.get("/app/customers").get_data(as_text=True)
    assert client.get("/app/assets/missing.js").status_code == 404
    assert client.get("/app/../server/app.py").status_code == 404


def test_a_path_out_of_the_build_tells_nothing_of_what_is_there(client, dist):
    """An address that climbs out of the app's folder is a 404 whether or not a file is
    there (an outsider could map the server's files by the difference)."""
    (dist.parent / "secret").write_text("x")
    there = client.get("/app/%2e%2e/secret")
    absent = client.get("/app/%2e%2e/no-such-file")
    assert there.status_code == absent.status_code == 404


def test_a_missing_build_says_how_to_build(client, tmp_path, monkeypatch):
    monkeypatch.setattr(service, "DIST", tmp_path / "nothing")
    response = client.get("/app/")
    assert response.status_code == 503
    assert "npm run build --prefix clients/app" in response.get_data(as_text=True)
    assert client.get("/app/sw.js").status_code == 503


@pytest.mark.parametrize(
    "url, source",
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.com/{z}/{x}/{y}.png?key=1", "https://tiles.example.com"),
        ("http://127.0.0.1:8080/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
        ("https://a.{s}.example.com/{z}.png", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_tile_source(url, source):
    assert service.tile_source(url) == source
