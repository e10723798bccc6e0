"""Validation and JSON shape of every record, shared by REST and sync push.

One schema per table. Loading with `partial=True` validates a patch; fields
marked `dump_only` are computed by the server and refused on input.

Whatever a schema accepts must fit its column on SQLite and PostgreSQL alike
(`domain.types`): a value PostgreSQL refuses only at commit would fail a push
on every retry and block the phone's outbox. So text refuses NUL and unpaired
surrogates, numbers are bounded by their columns, times by what both databases
hand back, and free JSON values must be finite and shallow.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from .geometry import GeometryError, validate_polygon
from .orders import order_total
from .passwords import LENGTH_MESSAGE, password_problem
from .passwords import MAX_LENGTH as MAX_PASSWORD
from .passwords import MIN_LENGTH as MIN_PASSWORD
from .passwords import POLICY as PASSWORD_POLICY
from .text import fold_email
from .times import FIRST_DAY, LAST_DAY, in_range, utc_iso
from .types import JSON_INT_MAX, MONEY_MAX

UUID_LIKE = fields.UUID
ROLES = ("rep", "manager", "admin")
CUSTOMER_STATUSES = ("lead", "prospect", "active", "inactive")
TIERS = ("A", "B", "C")
VISIT_STATUSES = ("planned", "in_progress", "completed", "cancelled", "missed")
VISIT_OUTCOMES = ("order", "no_order", "follow_up", "not_available", "closed")
ORDER_STATUSES = ("draft", "submitted", "cancelled")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")

#: Containers inside one field's value; a record needs 5 (a MultiPolygon's coordinates).
MAX_JSON_DEPTH = 32
NUL_MESSAGE = "Text may not contain NUL characters (U+0000)."
SURROGATE_MESSAGE = "Text may not contain unpaired UTF-16 surrogates (U+D800 to U+DFFF)."
NOT_FINITE_MESSAGE = "Numbers must be finite (no NaN or Infinity)."
BIG_INT_MESSAGE = f"Integers in JSON values must lie within ±{JSON_INT_MAX}."
DEEP_MESSAGE = f"Nested more than {MAX_JSON_DEPTH} levels deep."
#: PostgreSQL text cannot hold U+0000; a lone surrogate cannot be written as UTF-8 at
#: all (Python's `json` reads `"\ud800"` into one). A pair was already joined into one
#: character by the JSON parser, so every surrogate left in a `str` is unpaired.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored (NUL, unpaired surrogate), or None."""
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def printable(text: str) -> str:
    """The text with NUL and unpaired surrogates spelled as `\\uXXXX`: safe to echo and store."""
    return _BAD_TEXT.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def value_problem(value: Any) -> str | None:
    """The first reason a field's JSON value cannot be stored, or None.

    Text anywhere (keys included) must be storable; inside lists and objects, numbers
    must be finite (PostgreSQL's json has no NaN or Infinity) and integers within
    `JSON_INT_MAX`, and nesting is limited. Scalars at the top are their field's
    business. Walked with a stack, not recursion: a deep value must not exhaust it.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                return DEEP_MESSAGE
            if isinstance(item, dict):
                for key in item:
                    problem = text_problem(key) if isinstance(key, str) else None
                    if problem:
                        return problem
                items = item.values()
            else:
                items = item
            stack.extend((inner, depth + 1) for inner in items)
        elif depth and isinstance(item, float) and not math.isfinite(item):
            return NOT_FINITE_MESSAGE
        elif depth and isinstance(item, int) and abs(item) > JSON_INT_MAX:
            return BIG_INT_MESSAGE
    return None


def storable_fields(data: Any) -> dict[str, list[str]]:
    """Per field of an input object, why it cannot be stored (see `value_problem`)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return errors  # the schema itself answers "Invalid input type"
    for key, value in data.items():
        problem = text_problem(key) if isinstance(key, str) else None
        if problem:
            errors[printable(key)] = [problem]
            continue
        problem = value_problem(value)
        if problem:
            errors[str(key)] = [problem]
    return errors


class UTCDateTime(fields.DateTime):
    """ISO-8601 in, ISO-8601 UTC with a `Z` out; a time without offset is UTC.

    Refused unless it lies in `domain.times.EARLIEST`..`LATEST` (converting
    `9999-12-31T23:59:59-12:00` to UTC would overflow).
    """

    default_error_messages = {"range": f"Give a time from {FIRST_DAY} to {LAST_DAY} (UTC)."}

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return utc_iso(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        if not in_range(parsed):
            raise self.make_error("range")
        return parsed.astimezone(UTC)


class Day(fields.Date):
    """A calendar day (`YYYY-MM-DD`) whose midnight every time zone can spell.

    `last` is earlier for a day that starts a span (a week plan's first day).
    """

    def __init__(self, *, last: date = LAST_DAY, **kwargs: Any):
        super().__init__(**kwargs)
        self.last = last

    def _deserialize(self, value, attr, data, **kwargs):
        day: date = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= self.last:
            raise ValidationError(f"Give a day from {FIRST_DAY} to {self.last}.")
        return day


class Pattern(validate.Regexp):
    """`validate.Regexp` that must match the whole text.

    `re.match` lets `$` match before a final newline, so `"VND\\n"` passed
    `^[A-Z]{3}$` and then did not fit PostgreSQL's `varchar(3)` (SQLite stored it).
    The pattern stays as written for the OpenAPI document.
    """

    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def _text(max_len: int, *, required: bool = False, allow_none: bool = True) -> fields.String:
    return fields.String(
        required=required,
        allow_none=allow_none and not required,
        validate=validate.Length(min=1 if required else 0, max=max_len),
    )


def _latitude(**kw) -> fields.Float:
    return fields.Float(allow_none=True, validate=validate.Range(-90, 90), **kw)


def _longitude(**kw) -> fields.Float:
    return fields.Float(allow_none=True, validate=validate.Range(-180, 180), **kw)


class ExactDecimal(fields.Decimal):
    """A decimal that is refused, not silently rounded, when it has too many places.

    Exchanged as a string (`"33.75"`): the OpenAPI document says `type: string,
    format: decimal` (registered in `server.app`).
    """

    def _deserialize(self, value, attr, data, **kwargs):
        quantum, self.places = self.places, None
        try:
            number = super()._deserialize(value, attr, data, **kwargs)
        finally:
            self.places = quantum
        if number.as_tuple().exponent < quantum.as_tuple().exponent:
            raise ValidationError(f"Use at most {-quantum.as_tuple().exponent} decimal places.")
        try:
            return number.quantize(quantum)
        except InvalidOperation as exc:  # more digits than any column holds ("1e30")
            raise ValidationError("Number too large.") from exc


def _money(**kw) -> fields.Decimal:
    """An amount a `Money()` column holds (`domain.types.MONEY_MAX`)."""
    return ExactDecimal(as_string=True, places=2, validate=validate.Range(0, MONEY_MAX), **kw)


def _currency() -> fields.String:
    return fields.String(validate=Pattern(r"^[A-Z]{3}$", error="Use an ISO 4217 code."))


class RecordSchema(Schema):
    """The columns every synced record shares."""

    id = fields.UUID()
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)
    deleted_at = UTCDateTime(dump_only=True, allow_none=True)

    @pre_load
    def _storable(self, data: Any, **kwargs: Any) -> Any:
        """Text, numbers and nesting every field's column can store (see `value_problem`)."""
        errors = storable_fields(data)
        if errors:
            raise ValidationError(errors)
        return data


class TeamSchema(RecordSchema):
    name = _text(120, required=True)
    manager_ids = fields.List(fields.UUID(), validate=validate.Length(max=50))


def _folded_email_is_an_email(value: str) -> None:
    """What is stored and compared is the folded email (`fold_email`): it must still be an
    email that fits its column (NFKC turns `⑴` into `(1)` and can lengthen text)."""
    try:
        validate.Email()(value)
    except ValidationError:
        return  # the field's own check says so
    folded = fold_email(value)
    validate.Length(max=254)(folded)
    validate.Email()(folded)


class PasswordPolicy(validate.Validator):
    """`domain.passwords`: long enough, not only spaces, not a common password."""

    def __call__(self, value: str) -> str:
        problem = password_problem(value)
        if problem is not None and problem != LENGTH_MESSAGE:  # `validate.Length` says that
            raise ValidationError(problem)
        return value


def _password(*, required: bool = False) -> fields.String:
    return fields.String(
        load_only=True,
        required=required,
        validate=[
            validate.Length(min=MIN_PASSWORD, max=MAX_PASSWORD, error=LENGTH_MESSAGE),
            PasswordPolicy(),
        ],
        metadata={"description": PASSWORD_POLICY},
    )


class UserSchema(RecordSchema):
    email = fields.Email(
        required=True,
        validate=[validate.Length(max=254), _folded_email_is_an_email],
        metadata={
            "description": "Stored and compared folded (NFKC, case folded, Turkish ı and İ "
            "as i, trimmed): one account per folded email, deleted accounts included."
        },
    )
    name = _text(120, required=True)
    role = fields.String(validate=validate.OneOf(ROLES))
    team_id = fields.UUID(
        allow_none=True,
        metadata={
            "description": "Required for reps, never null for them (a manager chooses one of "
            "their teams). Managers lead teams through `teams.manager_ids`."
        },
    )
    territory_ids = fields.List(fields.UUID(), dump_only=True)
    home_lat = _latitude()
    home_lon = _longitude()
    locale = fields.String(
        validate=[validate.Length(max=35), Pattern(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
    )
    active = fields.Boolean()
    password = _password()


class UserCreateSchema(UserSchema):
    password = _password(required=True)


class GeometryField(fields.Dict):
    """A GeoJSON Polygon or MultiPolygon, checked by `domain.geometry.validate_polygon`."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = value_problem(value)
        if problem:  # before the polygon checks: `math.isfinite(10**400)` overflows
            raise ValidationError(problem)
        try:
            return validate_polygon(value)
        except GeometryError as exc:
            raise ValidationError(str(exc)) from exc


class TerritorySchema(RecordSchema):
    name = _text(120, required=True)
    team_id = fields.UUID(required=True)
    color = fields.String(validate=Pattern(r"^#[0-9a-fA-F]{6}$", error="Use #rrggbb."))
    geometry = GeometryField(allow_none=True)
    rep_ids = fields.List(fields.UUID(), validate=validate.Length(max=500))


class OpeningHoursField(fields.Dict):
    """`{"mon": [["08:00", "12:00"], ["13:30", "17:00"]], ...}`; absent day = closed."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        for day, windows in value.items():
            if day not in WEEKDAYS:
                raise ValidationError(f"Unknown weekday {day!r}; use {', '.join(WEEKDAYS)}.")
            if not isinstance(windows, list) or len(windows) > 6:
                raise ValidationError(f"{day}: give a list of at most 6 [open, close] windows.")
            for window in windows:
                if (
                    not isinstance(window, list)
                    or len(window) != 2
                    or not all(isinstance(t, str) and _HHMM.fullmatch(t) for t in window)
                ):
                    raise ValidationError(f'{day}: each window is ["HH:MM", "HH:MM"].')
                if window[0] >= window[1]:
                    raise ValidationError(f"{day}: a window must open before it closes.")
        return value


class CustomerSchema(RecordSchema):
    name = _text(200, required=True)
    address = _text(300)
    city = _text(120)
    postal_code = _text(20)
    country = fields.String(
        allow_none=True, validate=Pattern(r"^[A-Z]{2}$", error="Use ISO 3166-1 alpha-2.")
    )
    lat = _latitude()
    lon = _longitude()
    phone = _text(40)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    territory_id = fields.UUID(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    status = fields.String(validate=validate.OneOf(CUSTOMER_STATUSES))
    tier = fields.String(validate=validate.OneOf(TIERS))
    visit_every_days = fields.Integer(validate=validate.Range(1, 365))
    visit_minutes = fields.Integer(validate=validate.Range(1, 480))
    opening_hours = OpeningHoursField(allow_none=True)
    notes = _text(5000)
    last_visit_at = UTCDateTime(dump_only=True, allow_none=True)
    # A rep's lat/lon become a proposal a manager approves (sync.locations); the server
    # keeps these.
    location_approved = fields.Boolean(dump_only=True)
    proposed_lat = fields.Float(dump_only=True, allow_none=True)
    proposed_lon = fields.Float(dump_only=True, allow_none=True)
    proposed_by = fields.UUID(dump_only=True, allow_none=True)
    proposed_at = UTCDateTime(dump_only=True, allow_none=True)

    @validates_schema
    def _both_coordinates(self, data, **kwargs):
        if ("lat" in data) != ("lon" in data) or (data.get("lat") is None) != (
            data.get("lon") is None
        ):
            raise ValidationError("Give lat and lon together.", "lat")


class ContactSchema(RecordSchema):
    customer_id = fields.UUID(required=True)
    name = _text(200, required=True)
    role = _text(120)
    phone = _text(40)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    notes = _text(5000)


class ProductSchema(RecordSchema):
    sku = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=64), Pattern(r"^\S+$", error="No spaces.")],
    )
    name = _text(200, required=True)
    unit_price = _money(required=True)
    currency = _currency()
    active = fields.Boolean()


class VisitSchema(RecordSchema):
    customer_id = fields.UUID(required=True)
    rep_id = fields.UUID()
    planned_at = UTCDateTime(allow_none=True)
    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))
    check_in_at = UTCDateTime(allow_none=True)
    check_in_lat = _latitude()
    check_in_lon = _longitude()
    check_in_accuracy_m = fields.Float(allow_none=True, validate=validate.Range(0, 100_000))
    check_in_mocked = fields.Boolean(
        allow_none=True,
        metadata={"description": "The phone says the position came from a mock-location app."},
    )
    check_out_at = UTCDateTime(allow_none=True)
    check_out_lat = _latitude()
    check_out_lon = _longitude()
    check_out_accuracy_m = fields.Float(allow_none=True, validate=validate.Range(0, 100_000))
    outcome = fields.String(allow_none=True, validate=validate.OneOf(VISIT_OUTCOMES))
    notes = _text(5000)
    check_in_distance_m = fields.Float(dump_only=True, allow_none=True)
    location_status = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"enum": ["verified", "out_of_range", "unverified"]},
    )


class OrderLineSchema(Schema):
    product_id = fields.UUID(required=True)
    quantity = ExactDecimal(
        as_string=True, required=True, places=3, validate=validate.Range(min=0, max=10**9)
    )
    unit_price = _money()
    discount_pct = ExactDecimal(
        as_string=True, places=2, load_default=None, validate=validate.Range(0, 100)
    )


class OrderSchema(RecordSchema):
    customer_id = fields.UUID(required=True)
    visit_id = fields.UUID(allow_none=True)
    rep_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    lines = fields.List(fields.Nested(OrderLineSchema), validate=validate.Length(max=500))
    currency = _currency()
    total = ExactDecimal(as_string=True, places=2, dump_only=True)
    submitted_at = UTCDateTime(dump_only=True, allow_none=True)
    notes = _text(5000)

    @validates_schema
    def _total_fits(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Each line may be valid and their sum still beyond the `total` column."""
        check_order_total(data.get("lines"))


def check_order_total(lines: list[dict[str, Any]] | None) -> None:
    """Refuse, as an error of `lines`, lines whose total the `total` column cannot hold.

    Lines without a `unit_price` (the product's price is filled in later, by
    `sync.rules`) are counted when it is known: call this again then.
    """
    priced = [line for line in lines or () if line.get("unit_price") is not None]
    if priced and order_total(priced) > MONEY_MAX:
        raise ValidationError(f"The order total may not exceed {MONEY_MAX}.", "lines")


class TaskSchema(RecordSchema):
    customer_id = fields.UUID(required=True)
    assignee_id = fields.UUID()
    title = _text(200, required=True)
    due_at = UTCDateTime(allow_none=True)
    done = fields.Boolean()
    notes = _text(5000)


class RoutePlanSchema(RecordSchema):
    """Computed by the server (`POST /api/v1/route-plans`); read-only for clients."""

    rep_id = fields.UUID(dump_only=True)
    plan_date = fields.Date(dump_only=True)
    timezone = fields.String(dump_only=True)
    start_lat = fields.Float(dump_only=True)
    start_lon = fields.Float(dump_only=True)
    end_lat = fields.Float(dump_only=True)
    end_lon = fields.Float(dump_only=True)
    start_at = UTCDateTime(dump_only=True)
    end_at = UTCDateTime(dump_only=True)
    shift_end_at = UTCDateTime(dump_only=True)
    stops = fields.List(
        fields.Dict(),
        dump_only=True,
        metadata={
            "description": "The day's timeline in order. Each step has `kind`, `lat`, `lon`, "
            "`arrival_at`, `waiting_s`, `service_s`, `departure_at` (= arrival + waiting + "
            "service), `travel_s` and `distance_m` from the previous step (or the start), so "
            "each arrival is the previous departure plus travel. `kind` `visit`: also "
            "`customer_id`, `name`, `locked`, `completed`; `waiting_s` is time before the visit "
            "starts (never the lunch break). `kind` `lunch` (at most one): the break, taken at "
            "`lat`, `lon`, `service_s` long, starting at `arrival_at` (plus `waiting_s`, 0 "
            "unless the rep is free before the lunch window opens) and ending at `departure_at`; "
            "no `customer_id`. Plans stored before lunch became a step have no `kind`: read "
            "them as visits."
        },
    )
    lunch = fields.Dict(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "`start_at`, `end_at` of the lunch step (kept for older clients)."
        },
    )
    unassigned = fields.List(
        fields.Dict(),
        dump_only=True,
        metadata={
            "description": "`{customer_id, reason}`; reasons: `closed_that_day`, "
            "`outside_shift`, `shift_too_short`, `no_time_left`, `max_stops_reached`, "
            "`no_rep_allowed`, `no_location`, `over_candidate_limit`."
        },
    )
    needs_location = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Customers to visit that have no coordinates yet."},
    )
    total_travel_s = fields.Integer(dump_only=True)
    total_distance_m = fields.Integer(dump_only=True)
    total_service_s = fields.Integer(dump_only=True)
    total_waiting_s = fields.Integer(dump_only=True)
    geometry = fields.Dict(
        dump_only=True,
        metadata={"description": "GeoJSON LineString (lon, lat): start, stops, end."},
    )
    travel_provider = fields.String(dump_only=True)


#: Schema class per public table name.
RECORD_SCHEMAS: dict[str, type[RecordSchema]] = {
    "users": UserSchema,
    "teams": TeamSchema,
    "territories": TerritorySchema,
    "customers": CustomerSchema,
    "contacts": ContactSchema,
    "products": ProductSchema,
    "visits": VisitSchema,
    "orders": OrderSchema,
    "tasks": TaskSchema,
    "route_plans": RoutePlanSchema,
}
