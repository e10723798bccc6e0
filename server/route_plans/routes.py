"""`/api/v1/route-plans`: plan, re-plan, list and hand off reps' routes.

Thin HTTP around `service.Planner`: parse, call, serialise. Plans are
`route_plans` records, so they also reach the rep's phone by sync.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from domain.models import RoutePlan, User
from domain.schemas import RoutePlanSchema
from domain.timeline import visits
from domain.times import parse_iso, utc_now
from routing import Place, Waypoint, apple_maps_links, google_maps_links, gpx
from sync import delete_record

from ..auth.guard import current_user, store
from ..config import section
from ..errors import documented_errors
from ..extensions import db
from ..fairness import heavy_view
from ..records.schemas import page_schema
from ..records.service import list_records
from .schemas import (
    DayPlanRequestSchema,
    NavigationSchema,
    PlanSetSchema,
    ReoptimizeRequestSchema,
    RoutePlanQuerySchema,
    TeamPlanRequestSchema,
    WeekPlanRequestSchema,
)
from .service import DayOptions, Planner, PlanSet
from .settings import RoutingSettings

blp = Blueprint(
    "route_plans",
    __name__,
    url_prefix="/api/v1/route-plans",
    description="Daily and weekly visit routes for reps, planned by the server (VROOM).",
)

_errors = documented_errors(blp, 401, 403, 404, 422, 503)


def _planner() -> Planner:
    settings = section(RoutingSettings, current_app.config)
    return Planner(db.session, current_user(), settings, now=utc_now())


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

    @heavy_view(blp)
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
    @heavy_view(blp)
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
    @heavy_view(blp)
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
        delete_record(db.session, _planner().get(plan_id), now=utc_now())
        db.session.commit()


@blp.route("/<uuid:plan_id>/reoptimize")
class Reoptimize(MethodView):
    @heavy_view(blp)
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
    todo = [s for s in visits(record.stops) if not s.get("completed")]
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
        times = [parse_iso(s["arrival_at"]) for s in visits(record.stops) if not s.get("completed")]
        body = gpx(origin, stops, destination, name=f"{rep.name} {record.plan_date}", times=times)
        filename = f"route-{record.plan_date}.gpx"
        return Response(
            body,
            mimetype="application/gpx+xml",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
