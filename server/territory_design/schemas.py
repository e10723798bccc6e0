"""Requests and answers of assignment by polygon, bulk reassignment and the balancer."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from domain.schemas import GeometryField

from . import service


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
