"""Addresses to coordinates through a geopy geocoder (Nominatim by default).

Geocoding is optional: with no geocoder configured, customers without
coordinates are reported as `needs_location` for a rep to fix in the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder


class GeocodeError(RuntimeError):
    """The geocoding service failed (not: the address was not found)."""


def nominatim(url: str, user_agent: str, timeout_s: float = 5.0) -> Geocoder:
    """A Nominatim client for `url` (e.g. https://nominatim.openstreetmap.org or a local one).

    Nominatim's usage policy requires an identifying user agent, hence no default.
    """
    parts = urlsplit(url if "://" in url else f"https://{url}")
    domain = parts.netloc + parts.path.rstrip("/")
    return Nominatim(
        domain=domain, scheme=parts.scheme or "https", user_agent=user_agent, timeout=timeout_s
    )


def address_query(parts: Iterable[str | None]) -> str:
    """One search string from address, city, postal code and country, skipping blanks."""
    return ", ".join(p.strip() for p in parts if p and p.strip())


def geocode(geocoder: Geocoder, query: str) -> tuple[float, float] | None:
    """(lat, lon) of the best match, None when the service knows no such place."""
    if not query:
        return None
    try:
        found = geocoder.geocode(query, exactly_one=True)
    except GeopyError as exc:
        raise GeocodeError(f"Geocoding failed: {exc}") from exc
    if found is None:
        return None
    return float(found.latitude), float(found.longitude)
