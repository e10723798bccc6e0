"""What the reps' app is served with: its security policy, caching and start page.

No Flask here: the headers are plain data from the settings, tested without HTTP.
The app is built by Vite into `clients/app/dist/` (`scripts/_venv.sh` builds it);
Workbox precaches its files, so after the first visit the phone starts it with no
network, and only `index.html`, `sw.js` and the manifest must never be cached stale.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

#: `clients/app/dist` of the repository (tests monkeypatch it).
DIST = Path(__file__).resolve().parents[2] / "clients" / "app" / "dist"

#: Hashed by Vite or Workbox (`assets/index-ByU_6Gjp.js`, `workbox-2fbc6a65.js`): cached for good.
_HASHED = re.compile(r"^(assets/.+-[A-Za-z0-9_-]{8,}\.\w+|workbox-[0-9a-f]{8}\.js)$")
#: Read by the browser to find a new version: always asked again.
NO_CACHE = ("index.html", "sw.js", "manifest.webmanifest", "registerSW.js")
YEAR = 365 * 24 * 3600

MISSING_BUILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fieldsync Field is not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>The reps' app is not built</h1>
<p>This server has no <code>clients/app/dist/</code>. Build it once with
<code>./scripts/demo</code> (or <code>./scripts/test</code>), or by hand:</p>
<pre>npm ci --prefix clients/js
npm ci --prefix clients/app
npm run build --prefix clients/app</pre></body></html>
"""


def built() -> bool:
    return (DIST / "index.html").is_file()


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source of the configured tile host: `https://{s}.tile.osm.org/…` ->
    `https://*.tile.osm.org`. None when no tiles are configured or the URL is unusable."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or (not parts.hostname and "{" not in parts.netloc):
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    labels = ["*" if "{" in label else label for label in host.split(".")]
    if "*" in labels[1:]:  # a placeholder in the middle of the name: only a leading * is valid
        return None
    return f"{parts.scheme}://{'.'.join(labels)}"


def content_security_policy(tile_url: str | None) -> str:
    """Strict: our scripts only, no inline script, the API only, images from us and the tiles."""
    images = " ".join(filter(None, ("'self' data: blob:", tile_source(tile_url))))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def headers(tile_url: str | None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(tile_url),
        "X-Content-Type-Options": "nosniff",
        # Tile servers (OpenStreetMap's policy) want to know which site asks: send the origin.
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def cache_control(name: str) -> str:
    if name in NO_CACHE:
        return "no-cache"
    if _HASHED.match(name):
        return f"public, max-age={YEAR}, immutable"
    return "public, max-age=86400"


def start_page(tile_url: str | None, attribution: str | None) -> str:
    """`index.html` with the map settings as meta tags (the CSP allows no inline script)."""
    page = (DIST / "index.html").read_text(encoding="utf-8")
    tags = (
        f'<meta name="fieldsync-tile-url" content="{html.escape(tile_url or "")}">\n'
        f'  <meta name="fieldsync-tile-attribution" content="{html.escape(attribution or "")}">\n'
    )
    return page.replace("</head>", f"  {tags}</head>", 1)
