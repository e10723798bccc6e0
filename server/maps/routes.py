"""`/api/v1/geo/*`: GeoJSON FeatureCollections for the manager map, scoped like everything else."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from domain.schemas import CUSTOMER_STATUSES
from sync.errors import NotFound

from ..auth.guard import store
from ..auth.sessions import now_utc
from ..extensions import db
from . import geojson

blp = Blueprint(
    "geo",
    __name__,
    url_prefix="/api/v1/geo",
    description="GeoJSON for maps: territories, customers, rep positions and routes.",
)


class FeatureCollectionSchema(Schema):
    type = fields.String(required=True, metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Dict(), required=True)


class BoundingBox(fields.String):
    """`west,south,east,north` in degrees."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            west, south, east, north = (float(v) for v in value.split(","))
        except ValueError as exc:
            raise ValidationError("Use bbox=west,south,east,north in degrees.") from exc
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise ValidationError("bbox is out of range or inverted (west,south,east,north).")
        return west, south, east, north


class CustomerGeoQuerySchema(Schema):
    territory_id = fields.UUID()
    rep_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(CUSTOMER_STATUSES))
    overdue = fields.Boolean()
    bbox = BoundingBox(metadata={"description": "west,south,east,north"})


class RouteGeoQuerySchema(Schema):
    rep_id = fields.UUID(required=True)
    date = fields.Date(required=True)


@blp.route("/territories")
class Territories(MethodView):
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        """Territory polygons with name, colour, reps and customer counts."""
        return geojson.territories(db.session, store().scope)


@blp.route("/customers")
class Customers(MethodView):
    @blp.arguments(CustomerGeoQuerySchema, location="query")
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args):
        """Customer points; `overdue`: not seen within `visit_every_days` (active and
        prospect customers); customers without coordinates have a null geometry and
        `needs_location: true`."""
        where = geojson.CustomerFilter(**args)
        # jsonify directly: dumping 10,000 features through the schema doubles the time.
        return jsonify(geojson.customers(db.session, store().scope, where, now_utc()))


@blp.route("/reps")
class Reps(MethodView):
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def get(self):
        """Each rep you may see at their latest verified check-in."""
        return geojson.rep_positions(db.session, store().scope)


@blp.route("/route")
class Route(MethodView):
    @blp.arguments(RouteGeoQuerySchema, location="query")
    @blp.response(200, FeatureCollectionSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, args):
        """A rep's route plan for a date: the line and its numbered stops."""
        plan = geojson.route_of(db.session, store().scope, args["rep_id"], args["date"])
        if plan is None:
            raise NotFound("No route plan for this rep and date.")
        return geojson.route(plan)
