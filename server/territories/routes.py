"""Territory management endpoints: assignment by polygon, bulk reassignment, the balancer.

Thin HTTP around `server.territories.service`: parse, call, commit once, serialise.
Only managers (for their own teams) and admins; reps get 403, a team outside
the caller's scope is 404.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from domain.schemas import GeometryField

from ..auth.guard import store
from ..errors import documented_errors
from ..extensions import db
from . import service

blp = Blueprint(
    "territory_management",
    __name__,
    url_prefix="/api/v1",
    description="Territory design for managers: assign customers by polygon (preview, then "
    "apply), reassign in bulk, and balance workload across k compact territories.",
)

_errors = documented_errors(blp, 401, 403, 404, 422)


# -- schemas ----------------------------------------------------------------------


class TeamRequestSchema(Schema):
    team_id = fields.UUID(required=True)


class AssignmentApplyRequestSchema(TeamRequestSchema):
    digest = fields.String(
        validate=validate.Length(max=128),
        metadata={"description": "The preview's `digest`: refuse (409) if the moves changed."},
    )


class CustomerRefSchema(Schema):
    customer_id = fields.UUID(required=True)
    name = fields.String(required=True)


class MoveSchema(CustomerRefSchema):
    from_territory_id = fields.UUID(allow_none=True, required=True)
    to_territory_id = fields.UUID(required=True)


class AssignmentPreviewSchema(Schema):
    moves = fields.List(fields.Nested(MoveSchema), required=True)
    unchanged = fields.Integer(required=True)
    outside = fields.List(
        fields.Nested(CustomerRefSchema),
        required=True,
        metadata={"description": "Located customers in no polygon: they keep their territory."},
    )
    no_location = fields.Integer(
        required=True, metadata={"description": "Customers without coordinates (not placed)."}
    )
    digest = fields.String(required=True)


class AssignmentAppliedSchema(AssignmentPreviewSchema):
    applied = fields.Integer(required=True)


class ReassignRequestSchema(Schema):
    customer_ids = fields.List(
        fields.UUID(), required=True, validate=validate.Length(min=1, max=1000)
    )
    territory_id = fields.UUID()
    owner_id = fields.UUID(allow_none=True)

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if "territory_id" not in data and "owner_id" not in data:
            raise ValidationError("Give territory_id, owner_id or both.", "territory_id")


class ReassignResultSchema(Schema):
    updated = fields.Integer(required=True)
    customer_ids = fields.List(
        fields.UUID(),
        required=True,
        metadata={"description": "The customers that really changed."},
    )


class ProposalRequestSchema(TeamRequestSchema):
    k = fields.Integer(
        validate=validate.Range(service.MIN_K, service.MAX_K),
        metadata={"description": "Territories to propose; default: the team's reps (2..50)."},
    )


class CurrentTerritorySchema(Schema):
    territory_id = fields.UUID(required=True)
    name = fields.String(required=True)
    customers = fields.Integer(required=True)
    workload_minutes = fields.Float(required=True)
    compactness = fields.Float(required=True)
    mean_distance_km = fields.Float(required=True)


class ProposedTerritorySchema(Schema):
    index = fields.Integer(required=True)
    customers = fields.Integer(required=True)
    workload_minutes = fields.Float(required=True)
    compactness = fields.Float(required=True)
    mean_distance_km = fields.Float(required=True)
    geometry = fields.Dict(
        allow_none=True, required=True, metadata={"description": "GeoJSON Polygon (lon, lat)."}
    )
    customer_ids = fields.List(fields.UUID(), required=True)


class CurrentSchema(Schema):
    imbalance = fields.Float(
        allow_none=True, required=True, metadata={"description": "max / min workload."}
    )
    compactness = fields.Float(required=True)
    territories = fields.List(fields.Nested(CurrentTerritorySchema), required=True)


class ProposalPartSchema(Schema):
    imbalance = fields.Float(allow_none=True, required=True)
    compactness = fields.Float(required=True)
    seconds = fields.Float(required=True)
    territories = fields.List(fields.Nested(ProposedTerritorySchema), required=True)


class ProposalSchema(Schema):
    k = fields.Integer(required=True)
    current = fields.Nested(CurrentSchema, required=True)
    proposal = fields.Nested(ProposalPartSchema, required=True)


class ApplyTerritorySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the proposal as returned carries figures we ignore

    territory_id = fields.UUID(allow_none=True)
    name = fields.String(allow_none=True, validate=validate.Length(min=1, max=120))
    geometry = GeometryField(required=True, allow_none=True)
    customer_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=100_000))


class ApplyProposalRequestSchema(TeamRequestSchema):
    territories = fields.List(
        fields.Nested(ApplyTerritorySchema),
        required=True,
        validate=validate.Length(min=1, max=service.MAX_K),
    )


class AppliedTerritorySchema(Schema):
    territory_id = fields.UUID(required=True)
    name = fields.String(required=True)
    created = fields.Boolean(required=True)
    customers = fields.Integer(required=True)


class ProposalAppliedSchema(Schema):
    territories = fields.List(fields.Nested(AppliedTerritorySchema), required=True)
    moved = fields.Integer(required=True)


# -- views --------------------------------------------------------------------------


@blp.route("/territory-assignments/preview")
class AssignmentPreview(MethodView):
    @blp.arguments(TeamRequestSchema)
    @blp.response(200, AssignmentPreviewSchema)
    @_errors
    def post(self, args):
        """Which customers of the team would move to the territory whose polygon holds them.

        Nothing is written. A point on an edge shared by several polygons goes to the
        territory with the smallest id (as text); located customers in no polygon are
        listed in `outside` and keep their territory; `digest` names this set of moves.
        """
        return service.preview_assignment(db.session, store().scope, args["team_id"])


@blp.route("/territory-assignments")
class AssignmentApply(MethodView):
    @blp.arguments(AssignmentApplyRequestSchema)
    @blp.response(200, AssignmentAppliedSchema)
    @blp.alt_response(409, response="CONFLICT")
    @_errors
    def post(self, args):
        """Apply exactly the moves of the preview, in one transaction.

        With `digest`, 409 `preview_outdated` if the preview is no longer the one
        seen. Phones of reps who lose a customer get `remove` on their next pull.
        """
        result = service.apply_assignment(store(), args["team_id"], args.get("digest"))
        db.session.commit()
        return result


@blp.route("/customers/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignRequestSchema)
    @blp.response(200, ReassignResultSchema)
    @_errors
    def post(self, args):
        """Move up to 1,000 customers to a territory and/or owner: all of them or none.

        404 if any customer is missing or not visible to you (none is named); the
        territory must be one of your teams'.
        """
        values = {f: args[f] for f in ("territory_id", "owner_id") if f in args}
        result = service.reassign(store(), args["customer_ids"], values)
        db.session.commit()
        return result


@blp.route("/territory-balancer/proposals")
class BalancerProposals(MethodView):
    @blp.arguments(ProposalRequestSchema)
    @blp.response(200, ProposalSchema)
    @_errors
    def post(self, args):
        """Today's territories and k proposed compact ones of balanced workload, side by side.

        Workload (minutes a month) = Σ visits a month × (visit minutes + drive from the
        nearest other customer); imbalance = max / min workload; compactness =
        Polsby–Popper score of the convex hull of the customers (1 = circle). Nothing
        is written; send the proposal (optionally edited) to `/territory-balancer/apply`.
        """
        return service.propose(db.session, store().scope, args["team_id"], args.get("k"))


@blp.route("/territory-balancer/apply")
class BalancerApply(MethodView):
    @blp.arguments(ApplyProposalRequestSchema)
    @blp.response(200, ProposalAppliedSchema)
    @_errors
    def post(self, args):
        """Write a proposal: polygons and customer moves, in one transaction.

        Territories given by `territory_id` are reused (polygon, and name if given), the
        others are created. Every customer of the team must appear exactly once.
        Territories not named keep their polygon; new territories have no reps until you
        assign them.
        """
        result = service.apply_proposal(store(), args["team_id"], args["territories"])
        db.session.commit()
        return result
