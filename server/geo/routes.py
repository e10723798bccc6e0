"""`/api/v1/geo/*`: GeoJSON FeatureCollections for the manager map, scoped like everything else."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from domain.times import utc_now
from sync import NotFound

from ..auth.guard import store
from ..extensions import db
from ..fairness import heavy_view
from . import service
from .schemas import CustomerGeoQuerySchema, FeatureCollectionSchema, RouteGeoQuerySchema

blp = Blueprint(
    "geo",
    __name__,
    url_prefix="/api/v1/geo",
    description="GeoJSON for maps: territories, customers, rep positions and routes.",
)


@blp.route("/territories")
class Territories(MethodView):
    @heavy_view(blp)
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        """Territory polygons with name, colour, reps and customer counts."""
        return service.territories(db.session, store().scope)


@blp.route("/customers")
class Customers(MethodView):
    @heavy_view(blp)
    @blp.arguments(CustomerGeoQuerySchema, location="query")
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args):
        """Customer points; `overdue`: not seen within `visit_every_days` (active and
        prospect customers); customers without coordinates have a null geometry and
        `needs_location: true`."""
        where = service.CustomerFilter(**args)
        # jsonify directly: dumping 10,000 features through the schema doubles the time.
        return jsonify(service.customers(db.session, store().scope, where, utc_now()))


@blp.route("/reps")
class Reps(MethodView):
    @heavy_view(blp)
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        """Each rep you may see at their latest verified check-in."""
        return service.rep_positions(db.session, store().scope)


@blp.route("/route")
class Route(MethodView):
    @blp.arguments(RouteGeoQuerySchema, location="query")
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args):
        """A rep's route plan for a date: the line and its numbered stops."""
        plan = service.route_of(db.session, store().scope, args["rep_id"], args["date"])
        if plan is None:
            raise NotFound("No route plan for this rep and date.")
        return service.route(plan)
