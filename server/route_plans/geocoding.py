"""Fill customers' missing coordinates from their addresses (geopy, e.g. Nominatim).

Geocoded coordinates are stamped as edited long ago, so that a location a rep
corrects in the field always wins the per-field merge, even a correction made
offline before the geocoder ran and synced after. Customers that already have
coordinates are never geocoded, so a correction is never overwritten either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from domain.models import Customer
from routing import GeocodeError, address_query, geocode, nominatim
from sync import Actor, update_record

from .settings import RoutingSettings

log = logging.getLogger(__name__)

GEOCODED_AT = datetime(2000, 1, 1, tzinfo=UTC)
GEOCODER = Actor(device_id="geocoder")


@dataclass
class GeocodeReport:
    located: int = 0
    not_found: int = 0
    #: The service failed; the rest was left for another run.
    error: str | None = None


def geocode_missing(
    session: Session,
    customers: Sequence[Customer],
    settings: RoutingSettings,
    *,
    now: datetime,
    limit: int | None = None,
    delay_s: float = 0.0,
) -> GeocodeReport:
    """Geocode customers that have an address but no coordinates (at most `limit`).

    `delay_s` between requests: the public Nominatim allows one per second.
    """
    report = GeocodeReport()
    if not settings.geocoder_url:
        return report
    geocoder = nominatim(settings.geocoder_url, settings.geocoder_user_agent)
    todo = [c for c in customers if c.lat is None and c.address]
    for number, customer in enumerate(todo[:limit]):
        if number and delay_s:
            time.sleep(delay_s)
        query = address_query(
            [customer.address, customer.city, customer.postal_code, customer.country]
        )
        try:
            found = geocode(geocoder, query)
        except GeocodeError as exc:
            log.warning("geocoding stopped: %s", exc)
            report.error = str(exc)
            return report
        if found is None:
            report.not_found += 1
            continue
        update_record(
            session,
            customer,
            {"lat": found[0], "lon": found[1]},
            now=now,
            edited_at=GEOCODED_AT,
            actor=GEOCODER,
        )
        report.located += 1
    return report
