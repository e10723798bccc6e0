"""One blueprint factory for every record resource.

The record resources differ only in table, schema and filters (`resources.py`),
so they share their views: parse (marshmallow via flask-smorest), authorise and
write (`sync.store.RecordStore`), serialise.
"""

from __future__ import annotations

import re

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from sync.history import read_history

from ..auth.accounts import account_columns
from ..auth.guard import store
from ..errors import ApiError
from ..extensions import db
from .resources import RESOURCES, Resource
from .schemas import (
    IF_MATCH,
    HistoryPageSchema,
    HistoryQuerySchema,
    page_schema,
    query_schema,
)
from .service import list_records, shown


def blueprints() -> list[Blueprint]:
    """One blueprint per record resource, in the order of `RESOURCES`."""
    return [record_blueprint(resource) for resource in RESOURCES]


def _expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,18})"?\s*', header)
    if not match:
        raise ApiError(400, "bad_request", 'If-Match must be a record version, e.g. "3".')
    return int(match.group(1))


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
        @blp.arguments(query_schema(resource), location="query")
        @blp.response(200, page_schema(resource.title, resource.schema))
        @blp.alt_response(400, response="BAD_REQUEST")
        @blp.alt_response(401, response="UNAUTHORIZED")
        def get(self, args):
            """List the records you may see, a page at a time."""
            scope = store().scope
            page = list_records(db.session, model, scope.where(model), args, filters)
            return {**page, "items": [shown(record, scope) for record in page["items"]]}

        @blp.arguments(create_schema)
        @blp.response(201, resource.schema)
        @blp.alt_response(400, response="BAD_REQUEST")
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(403, response="FORBIDDEN")
        @blp.alt_response(409, response="CONFLICT")
        def post(self, values):
            """Create a record; `id` may be chosen by the client (offline creation)."""
            record = store().create(model, account_columns(values))
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
            return shown(store().get(model, record_id), store().scope)

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
                model, record_id, account_columns(values), expected_version=_expected_version()
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

    @blp.route("/<uuid:record_id>/history")
    class History(MethodView):
        @blp.arguments(HistoryQuerySchema, location="query")
        @blp.response(200, HistoryPageSchema)
        @blp.alt_response(401, response="UNAUTHORIZED")
        @blp.alt_response(404, response="NOT_FOUND")
        def get(self, args, record_id):
            """Every change of this record, newest first: each changed field's old and new
            value, who (user, device, pushed mutation) and when. Whoever may see the record
            may read it."""
            return read_history(store(), model, record_id, **args)

    History.__doc__ = f"History of one {singular}"
    return blp
