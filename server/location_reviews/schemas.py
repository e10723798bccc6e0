"""Answers of the location reviews: customers, with their current and proposed location."""

from __future__ import annotations

from marshmallow import Schema, fields

from domain.schemas import CustomerSchema


class WaitingSchema(Schema):
    items = fields.List(fields.Nested(CustomerSchema), required=True)
