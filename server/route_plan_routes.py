"""`/api/v1/route-plans`: plan, re-plan, list and hand off reps' routes.

Thin HTTP around `server.planning`: parse, call, serialise. Plans are
`route_plans` records, so they also reach the rep's phone by sync.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from domain.models import RoutePlan, User
from domain.schemas import RoutePlanSchema, UTCDateTime
from routing.navigation import Waypoint, apple_maps_links, google_maps_links, gpx
from routing.planner import Place
from sync.changes import delete_record

from .api.listing import MAX_LIMIT, list_records
from .api.records import page_schema
from .auth.guard import current_user, store
from .auth.sessions import now_utc
from .errors import documented_errors
from .extensions import db
from .planning.service import DayOptions, Planner, PlanSet, parse_time
from .planning.settings import RoutingSettings

blp = Blueprint(
    "route_plans",
    __name__,
    url_prefix="/api/v1/route-plans",
    description="Daily and weekly visit routes for reps, planned by the server (VROOM).",
)

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error='Use "HH:MM" (24-hour clock).')
_errors = documented_errors(blp, 401, 403, 404, 422, 503)


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
    date = fields.Date(required=True)
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
    week_start = fields.Date(
        required=True, metadata={"description": "First of five working days (weekends skipped)."}
    )


class TeamPlanRequestSchema(ShiftOptionsSchema):
    territory_id = fields.UUID(required=True)
    date = fields.Date(required=True)


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
    plan_date = fields.Date()


def _planner() -> Planner:
    settings = RoutingSettings.from_config(current_app.config)
    return Planner(db.session, current_user(), settings, now=now_utc())


def _options(args: dict) -> DayOptions:
    lunch = args.get("lunch", {})
    place = {k: Place(**args[k]) for k in ("start", "end") if args.get(k)}
    return DayOptions(
        start_time=args.get("start_time"),
        end_time=args.get("end_time"),
        lunch=lunch is not None,
        lunch_earliest=(lunch or {}).get("earliest"),
        lunch_latest=(lunch or {}).get("latest"),
        lunch_minutes=(lunch or {}).get("minutes"),
        max_stops=args.get("max_stops"),
        **place,
    )


def _plan_set(result: PlanSet) -> dict:
    return {
        "plans": result.plans,
        "unassigned": result.unassigned,
        "skipped_reps": result.skipped_reps,
        "balance": result.balance(),
    }


@blp.route("")
class RoutePlans(MethodView):
    @blp.arguments(RoutePlanQuerySchema, location="query")
    @blp.response(200, page_schema("RoutePlans", RoutePlanSchema))
    @documented_errors(blp, 400, 401, 422)
    def get(self, args):
        """List the route plans you may see (your own; a manager: the team's)."""
        return list_records(
            db.session, RoutePlan, store().scope.where(RoutePlan), args, ("rep_id", "plan_date")
        )

    @blp.arguments(DayPlanRequestSchema)
    @blp.response(201, RoutePlanSchema)
    @_errors
    def post(self, args):
        """Plan a rep's day: the due customers (or the given ones), in the best order.

        Planning the same rep and day again replaces that plan (a new version of
        the same record). Customers that do not fit are listed in `unassigned`
        with a reason: `closed_that_day`, `outside_shift`, `shift_too_short`,
        `no_time_left`, `max_stops_reached`, `no_location`, `over_candidate_limit`.
        """
        record = _planner().plan_day(
            args.get("rep_id"),
            args["date"],
            _options(args),
            customer_ids=args.get("customer_ids"),
            locked_ids=args.get("locked_customer_ids") or (),
        )
        db.session.commit()
        return record


@blp.route("/team")
class TeamPlans(MethodView):
    @blp.arguments(TeamPlanRequestSchema)
    @blp.response(201, PlanSetSchema)
    @_errors
    def post(self, args):
        """Share a territory's due customers for a day among its reps, balancing the work."""
        result = _planner().plan_team(args["territory_id"], args["date"], _options(args))
        db.session.commit()
        return _plan_set(result)


@blp.route("/week")
class WeekPlans(MethodView):
    @blp.arguments(WeekPlanRequestSchema)
    @blp.response(201, PlanSetSchema)
    @_errors
    def post(self, args):
        """Spread a rep's due customers over five working days, each seen by its due date."""
        result = _planner().plan_week(args.get("rep_id"), args["week_start"], _options(args))
        db.session.commit()
        return _plan_set(result)


@blp.route("/<uuid:plan_id>")
class OnePlan(MethodView):
    @blp.response(200, RoutePlanSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id):
        """Fetch one plan."""
        return _planner().get(plan_id)

    @blp.response(204)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, plan_id):
        """Drop a plan (phones learn of it on their next pull)."""
        delete_record(db.session, _planner().get(plan_id), now=now_utc())
        db.session.commit()


@blp.route("/<uuid:plan_id>/reoptimize")
class Reoptimize(MethodView):
    @blp.arguments(ReoptimizeRequestSchema)
    @blp.response(200, RoutePlanSchema)
    @_errors
    def post(self, args, plan_id):
        """Re-plan the rest of the day from where the rep is now, keeping visits made."""
        record = _planner().reoptimize(
            plan_id,
            Place(args["lat"], args["lon"]),
            args.get("at"),
            args.get("completed_customer_ids") or (),
        )
        db.session.commit()
        return record


def _waypoints(record: RoutePlan) -> tuple[Waypoint, list[Waypoint], Waypoint]:
    todo = [s for s in record.stops if not s.get("completed")]
    return (
        Waypoint(record.start_lat, record.start_lon),
        [Waypoint(s["lat"], s["lon"], s.get("name", "")) for s in todo],
        Waypoint(record.end_lat, record.end_lon),
    )


@blp.route("/<uuid:plan_id>/navigation")
class Navigation(MethodView):
    @blp.response(200, NavigationSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id):
        """Open the stops still to make in Google Maps or Apple Maps (split over several links
        when there are more stops than a link can hold)."""
        origin, stops, destination = _waypoints(_planner().get(plan_id))
        return {
            "google": google_maps_links(origin, stops, destination),
            "apple": apple_maps_links(origin, stops, destination),
        }


@blp.route("/<uuid:plan_id>/gpx")
class Gpx(MethodView):
    @blp.response(200, {"type": "string"}, content_type="application/gpx+xml")
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, plan_id):
        """The plan as a GPX 1.1 file (waypoints and a route) for any navigation app."""
        record = _planner().get(plan_id)
        origin, stops, destination = _waypoints(record)
        rep = db.session.get(User, record.rep_id)
        times = [parse_time(s["arrival_at"]) for s in record.stops if not s.get("completed")]
        body = gpx(origin, stops, destination, name=f"{rep.name} {record.plan_date}", times=times)
        filename = f"route-{record.plan_date}.gpx"
        return Response(
            body,
            mimetype="application/gpx+xml",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
