"""One blueprint factory for every record resource.

The nine record resources differ only in table, schema and filters, so they
share their views: parse (marshmallow via flask-smorest), authorise and write
(`sync.store.RecordStore`), serialise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from domain.models import SyncedRecord
from domain.schemas import RecordSchema, UTCDateTime

from ..auth.guard import store
from ..auth.sessions import hash_password
from ..errors import ApiError
from ..extensions import db
from .listing import MAX_LIMIT, list_records

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": 'Optional `"<version>"`: the update fails with 409 if the record moved on.',
}


@dataclass(frozen=True)
class Resource:
    name: str
    model: type[SyncedRecord]
    schema: type[RecordSchema]
    #: Columns that can be filtered on by equality, with their query field.
    filters: dict[str, fields.Field] = field(default_factory=dict)
    #: Input schema for create when it differs from `schema` (users need a password).
    create_schema: type[RecordSchema] | None = None
    description: str = ""

    @property
    def title(self) -> str:
        return "".join(part.title() for part in self.name.split("_"))


def _query_schema(resource: Resource) -> type[Schema]:
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


def _expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,18})"?\s*', header)
    if not match:
        raise ApiError(400, "bad_request", 'If-Match must be a record version, e.g. "3".')
    return int(match.group(1))


def _prepare(values: dict) -> dict:
    """Turn API-only inputs into stored columns."""
    if "password" in values:
        values = dict(values)
        values["password_hash"] = hash_password(values.pop("password"))
    if values.get("email"):
        values["email"] = values["email"].strip().lower()
    return values


def record_blueprint(resource: Resource) -> Blueprint:
    blp = Blueprint(
        resource.name,
        f"{__name__}.{resource.name}",
        url_prefix=f"/api/v1/{resource.name}",
        description=resource.description,
    )
    model = resource.model
    create_schema = resource.create_schema or resource.schema
    patch_schema = resource.schema(partial=True, exclude=("id",))
    filters = tuple(resource.filters)
    singular = resource.name[:-1]

    @blp.route("")
    class Collection(MethodView):
        @blp.arguments(_query_schema(resource), location="query")
        @blp.response(200, page_schema(resource.title, resource.schema))
        @blp.alt_response(400, response="BAD_REQUEST")
        @blp.alt_response(401, response="UNAUTHORIZED")
        def get(self, args):
            """List the records you may see, a page at a time."""
            return list_records(db.session, model, store().scope.where(model), args, filters)

        @blp.arguments(create_schema)
        @blp.response(201, resource.schema)
        @blp.alt_response(400, response="BAD_REQUEST")
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(403, response="FORBIDDEN")
        @blp.alt_response(409, response="CONFLICT")
        def post(self, values):
            """Create a record; `id` may be chosen by the client (offline creation)."""
            record = store().create(model, _prepare(values))
            db.session.commit()
            return record

    Collection.__doc__ = f"{resource.title} collection"

    @blp.route("/<uuid:record_id>")
    class Item(MethodView):
        @blp.response(200, resource.schema)
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(404, response="NOT_FOUND")
        def get(self, record_id):
            """Fetch one record (404 when missing or outside your scope)."""
            return store().get(model, record_id)

        @blp.arguments(patch_schema)
        @blp.response(200, resource.schema)
        @blp.alt_response(400, response="BAD_REQUEST")
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(403, response="FORBIDDEN")
        @blp.alt_response(404, response="NOT_FOUND")
        @blp.alt_response(409, response="CONFLICT")
        @blp.doc(parameters=[IF_MATCH])
        def patch(self, values, record_id):
            """Change some fields; the version grows only if something changed."""
            record = store().update(
                model, record_id, _prepare(values), expected_version=_expected_version()
            )
            db.session.commit()
            return record

        @blp.response(204)
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(403, response="FORBIDDEN")
        @blp.alt_response(404, response="NOT_FOUND")
        @blp.alt_response(409, response="CONFLICT")
        def delete(self, record_id):
            """Delete (a tombstone that devices learn of on their next pull)."""
            store().delete(model, record_id)
            db.session.commit()

    Item.__doc__ = f"One {singular}"
    return blp
