"""Requests and answers of `/route-plans`: what a plan request may change, and plan sets."""

from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from domain.schemas import Day, Pattern, RoutePlanSchema, UTCDateTime
from domain.times import LAST_DAY

from ..records.service import MAX_LIMIT

HHMM = Pattern(r"^([01]\d|2[0-3]):[0-5]\d$", error='Use "HH:MM" (24-hour clock).')
#: A week plan covers five working days from its first: at most a week, and its end.
LAST_WEEK_START = LAST_DAY - timedelta(days=7)


class PlaceSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class LunchSchema(Schema):
    earliest = fields.String(required=True, validate=HHMM)
    latest = fields.String(required=True, validate=HHMM)
    minutes = fields.Integer(load_default=45, validate=validate.Range(5, 180))


class ShiftOptionsSchema(Schema):
    start_time = fields.String(validate=HHMM, metadata={"description": "Shift start, local."})
    end_time = fields.String(validate=HHMM)
    lunch = fields.Nested(
        LunchSchema,
        allow_none=True,
        metadata={"description": "The break's start window and length; null: no break."},
    )
    max_stops = fields.Integer(validate=validate.Range(1, 100))

    @validates_schema
    def _lunch_window(self, data, **kwargs):
        lunch = data.get("lunch")
        if lunch and lunch["latest"] < lunch["earliest"]:
            raise ValidationError("The latest start must not be before the earliest.", "lunch")


class DayOptionsSchema(ShiftOptionsSchema):
    start = fields.Nested(PlaceSchema, metadata={"description": "Default: the rep's home."})
    end = fields.Nested(PlaceSchema, metadata={"description": "Default: back to the start."})


class DayPlanRequestSchema(DayOptionsSchema):
    rep_id = fields.UUID(metadata={"description": "Default: yourself (reps plan only their own)."})
    date = Day(required=True)
    customer_ids = fields.List(
        fields.UUID(),
        metadata={"description": "Plan these customers instead of the due ones."},
    )
    locked_customer_ids = fields.List(
        fields.UUID(),
        validate=validate.Length(max=50),
        metadata={"description": "Visited first, in this order (appointments)."},
    )


class WeekPlanRequestSchema(DayOptionsSchema):
    rep_id = fields.UUID()
    week_start = Day(
        required=True,
        last=LAST_WEEK_START,
        metadata={"description": "First of five working days (weekends skipped)."},
    )


class TeamPlanRequestSchema(ShiftOptionsSchema):
    territory_id = fields.UUID(required=True)
    date = Day(required=True)


class ReoptimizeRequestSchema(PlaceSchema):
    at = UTCDateTime(metadata={"description": "Default: now."})
    completed_customer_ids = fields.List(
        fields.UUID(),
        metadata={
            "description": "Visits made but maybe not synced yet; completed visits count too."
        },
    )


class UnassignedSchema(Schema):
    customer_id = fields.String(required=True)
    reason = fields.String(required=True)


class SkippedRepSchema(Schema):
    rep_id = fields.String(required=True)
    reason = fields.String(required=True)


class BalanceSchema(Schema):
    stops_min = fields.Integer(required=True)
    stops_max = fields.Integer(required=True)
    work_s_min = fields.Integer(required=True)
    work_s_max = fields.Integer(required=True)
    imbalance = fields.Float(allow_none=True, required=True)


class PlanSetSchema(Schema):
    plans = fields.List(fields.Nested(RoutePlanSchema), required=True)
    unassigned = fields.List(fields.Nested(UnassignedSchema), required=True)
    skipped_reps = fields.List(fields.Nested(SkippedRepSchema), required=True)
    balance = fields.Nested(BalanceSchema, required=True)


class NavigationSchema(Schema):
    google = fields.List(fields.String(), required=True)
    apple = fields.List(fields.String(), required=True)


class RoutePlanQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(validate=validate.Length(max=1000))
    updated_since = UTCDateTime()
    include_deleted = fields.Boolean(load_default=False)
    rep_id = fields.UUID()
    plan_date = Day()
