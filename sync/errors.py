"""Errors a write can end with; the server maps them to HTTP, push to results."""

from __future__ import annotations


class RecordError(Exception):
    """A refused read or write, with a machine-readable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields


class NotFound(RecordError):
    """Missing or outside the caller's scope: the two are indistinguishable."""

    status = 404
    code = "not_found"


class Forbidden(RecordError):
    status = 403
    code = "forbidden"


class Conflict(RecordError):
    status = 409
    code = "conflict"


class EmailTaken(Conflict):
    """The folded email is another account's, current or deleted. The same answer whoever
    holds it, so that it tells nothing about accounts the caller cannot see."""

    code = "email_taken"
    MESSAGE = "This email cannot be used: it belongs to another account, current or deleted."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE, fields={"email": [self.MESSAGE]})


class Invalid(RecordError):
    status = 422
    code = "validation_failed"

    def __init__(self, fields: dict[str, list[str]], message: str = "Some fields are invalid."):
        super().__init__(message, fields=fields)


class InvalidCursor(RecordError):
    status = 400
    code = "invalid_cursor"


class UnsupportedSchemaVersion(RecordError):
    """The client app is older or newer than any schema this server speaks."""

    status = 426
    code = "unsupported_schema_version"


class PasswordNotSynced(RecordError):
    """A password is never a synced field: it is changed through REST only."""

    status = 422
    code = "password_not_synced"

    def __init__(self) -> None:
        message = "Passwords are not synced; change one with PATCH /api/v1/users/{id}."
        super().__init__(message, fields={"password": [message]})
