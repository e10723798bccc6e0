"""GeoJSON answers and the map's query parameters."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from domain.schemas import CUSTOMER_STATUSES, Day


class FeatureCollectionSchema(Schema):
    type = fields.String(required=True, metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Dict(), required=True)


class BoundingBox(fields.String):
    """`west,south,east,north` in degrees."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > 200:
            raise ValidationError("Use bbox=west,south,east,north in degrees.")
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
    bbox = BoundingBox(metadata={"description": "west,south,east,north", "maxLength": 200})


class RouteGeoQuerySchema(Schema):
    rep_id = fields.UUID(required=True)
    date = Day(required=True)
