"""Routing settings: the reps' local time, shifts, travel estimates, solver and geocoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from routing import GreatCircleProvider, MatrixProvider, OsrmProvider


@dataclass(frozen=True)
class RoutingSettings:
    #: Config keys of these settings: `ROUTING_TIMEZONE`… (server/config.py).
    CONFIG_PREFIX: ClassVar[str] = "ROUTING_"

    #: Local time of the reps' days: opening hours and shifts are wall-clock times there.
    timezone: str = "Asia/Ho_Chi_Minh"
    shift_start: str = "08:00"
    shift_end: str = "17:30"
    lunch_earliest: str = "11:30"
    lunch_latest: str = "13:00"
    lunch_minutes: int = 45
    detour_factor: float = 1.3
    speed_kmh: float = 30.0
    #: An OSRM server for road times; none: great-circle estimates (works offline).
    osrm_url: str | None = None
    #: Seconds the solver may search per request (a rep's day; team and week get 2×).
    time_limit_s: float = 1.0
    #: The most urgent customers offered to the solver per rep-day (a day holds
    #: far fewer visits; more only slows the solver: 2,000 for a team takes 6 s).
    max_candidates: int = 60
    #: Explicit customer lists longer than this are refused.
    max_customers_per_request: int = 500
    #: A Nominatim server; none: customers without coordinates are `needs_location`.
    geocoder_url: str | None = None
    geocoder_user_agent: str = "fieldsync"
    #: Addresses geocoded while planning (the rest wait for `fieldsync geocode`);
    #: set 0 with the public Nominatim, which allows one request per second.
    geocode_per_request: int = 5

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def provider(self) -> MatrixProvider:
        if self.osrm_url:
            return OsrmProvider(self.osrm_url)
        return GreatCircleProvider(self.detour_factor, self.speed_kmh)

    @property
    def provider_name(self) -> str:
        return "osrm" if self.osrm_url else "great_circle"
