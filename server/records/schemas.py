"""The query, page and header shapes every record resource shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marshmallow import Schema, fields, validate

from domain.schemas import UTCDateTime

from .service import MAX_LIMIT

if TYPE_CHECKING:
    from .resources import Resource

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": 'Optional `"<version>"`: the update fails with 409 if the record moved on.',
}


def query_schema(resource: Resource) -> type[Schema]:
    sorts = ["updated_at", *(["name"] if resource.model.sort_field else [])]
    query_fields: dict[str, fields.Field] = {
        "limit": fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT)),
        "cursor": fields.String(validate=validate.Length(max=1000)),
        "updated_since": UTCDateTime(),
        "include_deleted": fields.Boolean(load_default=False),
        "sort": fields.String(validate=validate.OneOf(sorts)),
        **resource.filters,
    }
    if resource.model.search_fields:
        query_fields["q"] = fields.String(
            validate=validate.Length(max=200),
            metadata={"description": "Words that must all appear; case and accents ignored."},
        )
    return Schema.from_dict(query_fields, name=f"{resource.title}Query")


def page_schema(title: str, schema: type[Schema]) -> type[Schema]:
    """One page of a list: the items and the cursor of the next page."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
            "has_more": fields.Boolean(required=True),
        },
        name=f"{title}Page",
    )


class HistoryQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_LIMIT))
    before = fields.Integer(
        validate=validate.Range(1, 2**63 - 1),
        metadata={"description": "`next_before` of the previous page."},
    )


class FieldChangeSchema(Schema):
    field = fields.String(required=True)
    old = fields.Raw(allow_none=True, required=True)
    new = fields.Raw(allow_none=True, required=True)


class HistoryEntrySchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "Orders the entries."})
    version = fields.Integer(required=True, metadata={"description": "The version it made."})
    op = fields.String(required=True, metadata={"enum": ["create", "update", "delete"]})
    changed_at = UTCDateTime(required=True)
    user_id = fields.UUID(allow_none=True, metadata={"description": "Null: the server itself."})
    device_id = fields.String(allow_none=True)
    mutation_id = fields.UUID(allow_none=True, metadata={"description": "Set for pushes."})
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True)


class HistoryPageSchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema), required=True)
    next_before = fields.Integer(allow_none=True, required=True)
