"""Is a check-in where the customer is? (server-derived visit fields).

Check-ins made offline are never refused for their location: they are only
flagged, so that a person can review the doubtful ones. Only a location a
manager set or approved can verify one (`sync.locations`): a rep cannot move a
customer, or create one at home, and then check in "verified" at 0 m. A fix
the phone reports as mocked, or less accurate than the radius, is unverified.
"""

from __future__ import annotations

from geopy.distance import geodesic

from domain.models import Customer, Visit

VERIFIED, OUT_OF_RANGE, UNVERIFIED = "verified", "out_of_range", "unverified"
#: A visit's check-in evidence: written once (`rules`), judged when written (`changes`).
CHECK_IN_FIELDS = (
    "check_in_at",
    "check_in_lat",
    "check_in_lon",
    "check_in_accuracy_m",
    "check_in_mocked",
)


def check_in_location(visit: Visit, customer: Customer | None, radius_m: float) -> None:
    """Set `check_in_distance_m` and `location_status` of `visit`."""
    if visit.check_in_lat is None or visit.check_in_lon is None:
        visit.check_in_distance_m = None
        visit.location_status = UNVERIFIED if visit.check_in_at else None
        return
    if customer is None or customer.lat is None or customer.lon is None:
        visit.check_in_distance_m = None
        visit.location_status = UNVERIFIED
        return
    distance = geodesic(
        (visit.check_in_lat, visit.check_in_lon), (customer.lat, customer.lon)
    ).meters
    visit.check_in_distance_m = round(distance, 1)
    accuracy = visit.check_in_accuracy_m
    weak = (accuracy is not None and accuracy > radius_m) or visit.check_in_mocked
    if weak or not customer.location_approved:
        visit.location_status = UNVERIFIED
    elif distance <= radius_m:
        visit.location_status = VERIFIED
    else:
        visit.location_status = OUT_OF_RANGE
