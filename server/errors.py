"""One JSON error shape for every failure (protocol section "Errors").

`{"error": {"code": "snake_case", "message": "human text", "fields": {...}}}`
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from limits.errors import StorageError
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from sync import EmailTaken, RecordError

from . import i18n
from .extensions import db

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    426: "unsupported_schema_version",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


#: flask-smorest's names of the documented error responses.
RESPONSE_NAMES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}


def documented_errors(blueprint, *statuses: int):
    """A view decorator adding these error responses to the OpenAPI document."""

    def decorate(view):
        for status in statuses:
            view = blueprint.alt_response(status, response=RESPONSE_NAMES[status])(view)
        return view

    return decorate


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields", metadata={"description": "Per-field messages, for 422."}
    )


class ErrorSchema(Schema):
    """The error envelope; `wipe` is set on `device_revoked`, `reason` on the answers of
    an ended device session."""

    error = fields.Nested(ErrorBodySchema, required=True)
    wipe = fields.Boolean()
    reason = fields.String(
        metadata={
            "description": "Why the device session ended: logout, replaced, revoked, "
            "refresh_reuse, password_changed, disabled, deleted.",
            "example": "password_changed",
        }
    )


class ApiError(HTTPException):
    """Raised by views for errors that are not record rules (auth, cursors)."""

    def __init__(
        self, status: int, code: str, message: str, *, fields=None, extra=None, headers=None
    ):
        super().__init__(message)
        self.code = status
        self.error_code = code
        self.message = message
        self.fields = fields
        self.extra = extra or {}
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, fields=None, extra=None, headers=None):
    language = i18n.negotiate()
    body = {"error": {"code": code, "message": i18n.translate(language, code, message)}}
    if fields:
        body["error"]["fields"] = i18n.translate_fields(language, fields)
    body.update(extra or {})
    response = jsonify(body)
    response.status_code = status
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException):
    if isinstance(error, ApiError):
        return error_response(
            error.code, error.error_code, error.message, error.fields, error.extra, error.headers
        )
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or {}
    headers = dict(data.get("headers") or {})
    if status == 429 and getattr(error, "retry_after", None):
        headers.setdefault("Retry-After", str(error.retry_after))
    if status == 400 and messages.get("json") == ["Invalid JSON body."]:
        return error_response(400, "malformed_json", "The request body is not valid JSON.")
    if status == 422 and messages:
        field_errors: dict = {}
        for location in ("query", "json", "view_args", "headers"):
            if isinstance(messages.get(location), dict):
                field_errors.update(messages[location])
        return error_response(422, "validation_failed", "Some fields are invalid.", field_errors)
    message = data.get("message") or error.description or error.name
    return error_response(status, CODES.get(status, "error"), message, headers=headers)


def handle_record_error(error: RecordError):
    db.session.rollback()
    return error_response(error.status, error.code, error.message, error.fields)


def handle_integrity_error(error: IntegrityError):
    """A unique key raced past the pre-checks: a conflict, not a crash. A taken email gets
    the pre-check's own answer (`EmailTaken`), so a race tells no more than it does."""
    db.session.rollback()
    log.info("integrity error: %s", error.orig)
    if _violates_unique_email(error):
        taken = EmailTaken()
        return error_response(taken.status, taken.code, taken.message, taken.fields)
    return error_response(409, "conflict", "This change conflicts with a stored record.")


def _violates_unique_email(error: IntegrityError) -> bool:
    """PostgreSQL names the constraint; SQLite names the column."""
    text = str(error.orig)
    return "uq_users_email" in text or "UNIQUE constraint failed: users.email" in text


def handle_recursion_error(error: RecursionError):
    """Input nested deeper than Python's stack (JSON text inside a field or parameter,
    parsed by a view) is the caller's error: 400, never a 500. Logged with its place,
    since the view should have refused it first."""
    log.error("recursion while handling a request: answered 400", exc_info=error)
    db.session.rollback()
    return error_response(400, "malformed_json", "The request is nested too deeply to read.")


def handle_storage_error(error: StorageError):
    """The sign-in counters (Redis) cannot be reached: refuse for now rather than sign in
    unthrottled."""
    log.warning("rate-limit storage unavailable: %s", error)
    db.session.rollback()
    return error_response(
        503,
        "unavailable",
        "Sign-in is unavailable for a moment; try again after the Retry-After delay.",
        headers={"Retry-After": "2"},
    )


def handle_unexpected(error: Exception):
    log.exception("unhandled error")
    db.session.rollback()
    return error_response(500, "internal_error", "Something went wrong on the server.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(RecordError, handle_record_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(RecursionError, handle_recursion_error)
    app.register_error_handler(StorageError, handle_storage_error)
    app.register_error_handler(Exception, handle_unexpected)
